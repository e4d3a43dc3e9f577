"""The local Sheets API server speaks Google's wire format.

Each recorded cassette (real Sheets API traffic from gspread's own test suite) is replayed in
order against the server, and the structure of every JSON reply is compared with the recorded
one: same keys recursively, same value types, same list lengths. Ids may differ.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
from pathlib import Path
from typing import Any

import pytest
import requests
from google.auth.transport.requests import Request
from google.oauth2.service_account import Credentials

from tests.sheets_api.keys import make_service_account_key
from tests.sheets_api.server import (
    SheetsApiServer,
    format_serial,
    parse_field_mask,
    parse_user_entered,
    quote_title,
    resolve_range,
)

# Recorded real Sheets API traffic (MIT-licensed, LICENSE-gspread.txt beside it), kept in the repo.
CASSETTE_DIR = Path(__file__).resolve().parent / "sheets_api" / "cassettes"
CASSETTES = sorted(CASSETTE_DIR.glob("*.json"))


def test_the_recordings_are_in_the_repository() -> None:
    assert len(CASSETTES) >= 10
    assert (CASSETTE_DIR / "LICENSE-gspread.txt").is_file()


SCOPES = ["https://www.googleapis.com/auth/spreadsheets"]
ID_KEYS = {"sheetId", "protectedRangeId"}
# Keys whose values must match the recording exactly, not just in type.
EXACT_KEYS = {
    "range",
    "updatedRange",
    "clearedRange",
    "tableRange",
    "majorDimension",
    "values",
    "updatedRows",
    "updatedColumns",
    "updatedCells",
    "totalUpdatedRows",
    "totalUpdatedColumns",
    "totalUpdatedCells",
    "totalUpdatedSheets",
    "gridProperties",
    "index",
    "title",
}

# Interactions the server answers with a different structure than Google did, and why.
# Empty: every recorded interaction matches. A new entry here must come with its reason.
KNOWN_GAPS: dict[str, str] = {}


def _token(server: SheetsApiServer) -> str:
    info, public_pem = make_service_account_key(server.token_uri)
    server.register_key(info["client_email"], public_pem)
    credentials = Credentials.from_service_account_info(info, scopes=SCOPES)
    credentials.refresh(Request())
    return credentials.token


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if value is None:
        return "null"
    return type(value).__name__


def structure_diff(recorded: Any, actual: Any, path: str = "$") -> list[str]:
    """Where two JSON documents differ in structure (keys, value types, list lengths), and
    where the values of EXACT_KEYS (ranges, values, counts, grid sizes) differ."""
    if _kind(recorded) != _kind(actual):
        return [f"{path}: {_kind(recorded)} recorded, {_kind(actual)} served"]
    diffs: list[str] = []
    if isinstance(recorded, dict):
        for key in recorded.keys() - actual.keys():
            diffs.append(f"{path}.{key}: missing")
        for key in actual.keys() - recorded.keys():
            diffs.append(f"{path}.{key}: not in the recording")
        for key in recorded.keys() & actual.keys():
            diffs.extend(structure_diff(recorded[key], actual[key], f"{path}.{key}"))
            if key in EXACT_KEYS and recorded[key] != actual[key]:
                diffs.append(f"{path}.{key}: {recorded[key]!r} recorded, {actual[key]!r} served")
    elif isinstance(recorded, list):
        if len(recorded) != len(actual):
            diffs.append(f"{path}: {len(recorded)} items recorded, {len(actual)} served")
        for i, (a, b) in enumerate(zip(recorded, actual, strict=False)):
            diffs.extend(structure_diff(a, b, f"{path}[{i}]"))
    return diffs


def _learn_ids(recorded: Any, actual: Any, ids: dict[str, str]) -> None:
    """Map recorded ids to the server's, from two replies of the same shape."""
    if isinstance(recorded, dict) and isinstance(actual, dict):
        for key, value in recorded.items():
            if key in actual:
                if key in ID_KEYS or key in ("id", "spreadsheetId"):
                    ids[str(value)] = str(actual[key])
                else:
                    _learn_ids(value, actual[key], ids)
    elif isinstance(recorded, list) and isinstance(actual, list):
        for a, b in zip(recorded, actual, strict=False):
            _learn_ids(a, b, ids)


def _swap_ids(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key in ID_KEYS and str(item) in ids:
                out[key] = int(ids[str(item)])
            else:
                out[key] = _swap_ids(item, ids)
        return out
    if isinstance(value, list):
        return [_swap_ids(item, ids) for item in value]
    return value


def replay(path: Path) -> tuple[int, list[str]]:
    """Replay one cassette against a fresh server: (interactions compared, mismatches)."""
    cassette = json.loads(path.read_text(encoding="utf-8"))
    mismatches: list[str] = []
    compared = 0
    with SheetsApiServer() as server:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {_token(server)}"
        ids: dict[str, str] = {}
        for number, interaction in enumerate(cassette["interactions"]):
            request, response = interaction["request"], interaction["response"]
            uri = re.sub(r"^https://(sheets|www)\.googleapis\.com", server.url, request["uri"])
            for recorded_id, local_id in ids.items():
                if len(recorded_id) > 20:  # spreadsheet ids in URLs
                    uri = uri.replace(recorded_id, local_id)
            body = request.get("body")
            if isinstance(body, str) and body:
                body = json.dumps(_swap_ids(json.loads(body), ids)).encode()
            reply = session.request(
                request["method"],
                uri,
                data=body,
                headers={"Content-Type": "application/json"} if body else {},
                timeout=10,
            )
            label = f"{path.stem}#{number} {request['method']} {urllib.parse.unquote(uri)}"
            expected_status = response["status"]["code"]
            if reply.status_code != expected_status:
                mismatches.append(f"{label}: status {reply.status_code}, not {expected_status}")
                continue
            recorded_text = response["body"]["string"]
            if not recorded_text:
                continue
            recorded = json.loads(recorded_text)
            actual = reply.json()
            _learn_ids(recorded, actual, ids)
            compared += 1
            mismatches.extend(f"{label}: {d}" for d in structure_diff(recorded, actual))
    return compared, mismatches


@pytest.mark.parametrize("path", CASSETTES, ids=[p.stem for p in CASSETTES])
def test_cassette_replays_with_the_recorded_structure(path: Path) -> None:
    compared, mismatches = replay(path)
    assert compared > 0
    unexplained = [m for m in mismatches if not any(m.startswith(k) for k in KNOWN_GAPS)]
    assert unexplained == []


def test_every_cassette_is_found() -> None:
    assert len(CASSETTES) >= 10, f"cassettes missing in {CASSETTE_DIR}"


def test_structure_diff_sees_a_missing_key_a_type_and_a_length() -> None:
    recorded = {"range": "A1", "values": [["a"], ["b"]], "n": 1}
    served = {"range": 1, "values": [["a"]]}
    diffs = structure_diff(recorded, served)
    assert any("$.n: missing" in d for d in diffs)
    assert any("$.range: str recorded, number served" in d for d in diffs)
    assert any("$.values: 2 items recorded, 1 served" in d for d in diffs)


# ------------------------------------------------------------------------ the server's own rules


@pytest.fixture
def api(sheets_server: SheetsApiServer) -> tuple[SheetsApiServer, requests.Session]:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {_token(sheets_server)}"
    return sheets_server, session


def _get(api: tuple[SheetsApiServer, requests.Session], path: str, **params: Any) -> Any:
    server, session = api
    return session.get(f"{server.url}/v4/spreadsheets/{path}", params=params, timeout=5)


def test_a_request_without_a_token_gets_googles_401(sheets_server: SheetsApiServer) -> None:
    sid = sheets_server.create_spreadsheet("x", {"Лист1": [["a"]]})
    reply = requests.get(f"{sheets_server.url}/v4/spreadsheets/{sid}", timeout=5)
    assert reply.status_code == 401
    assert reply.json()["error"]["status"] == "UNAUTHENTICATED"


def test_token_endpoint_refuses_a_drive_scope_and_a_foreign_key(
    sheets_server: SheetsApiServer,
) -> None:
    info, public_pem = make_service_account_key(sheets_server.token_uri)
    sheets_server.register_key(info["client_email"], public_pem)
    drive = Credentials.from_service_account_info(
        info, scopes=[*SCOPES, "https://www.googleapis.com/auth/drive"]
    )
    with pytest.raises(Exception, match="invalid_scope"):
        drive.refresh(Request())
    other, _ = make_service_account_key(sheets_server.token_uri, seed="other")
    stranger = Credentials.from_service_account_info(other, scopes=SCOPES)
    with pytest.raises(Exception, match="Invalid JWT Signature"):
        stranger.refresh(Request())


def test_unknown_and_unshared_spreadsheets(api: Any) -> None:
    server, _ = api
    sid = server.create_spreadsheet("x", {"Лист1": []})
    server.deny(sid)
    assert _get(api, sid).json()["error"] == {
        "code": 403,
        "message": "The caller does not have permission",
        "status": "PERMISSION_DENIED",
    }
    assert _get(api, "nope").status_code == 404


def test_values_get_trims_trailing_blanks_and_echoes_the_range(api: Any) -> None:
    server, _ = api
    sid = server.create_spreadsheet(
        "x", {"Мой лист 🌵": [["a", None, "c", None], [None], [1, 2.5], [None, None]]}
    )
    title = quote_title("Мой лист 🌵")
    reply = _get(api, f"{sid}/values/{urllib.parse.quote(title)}").json()
    assert reply == {
        "range": "'Мой лист 🌵'!A1:C3",
        "majorDimension": "ROWS",
        "values": [["a", "", "c"], [], ["1", "2,5"]],
    }
    column = _get(api, f"{sid}/values/{urllib.parse.quote(title + '!B:B')}").json()
    assert column["range"] == "'Мой лист 🌵'!B1:B1000"
    assert column["values"] == [[], [], ["2,5"]]
    empty = _get(api, f"{sid}/values/{urllib.parse.quote(title + '!D5:E6')}").json()
    assert "values" not in empty


def test_render_options_for_dates_numbers_and_formulas(api: Any) -> None:
    server, _ = api
    sid = server.create_spreadsheet("x", {"Лист1": [[dt.datetime(2026, 1, 12, 14, 30), 5]]})
    server.set_cell(sid, "Лист1", 1, 3, "=1+1", user_entered=True)
    a1 = urllib.parse.quote("Лист1!A1:C1")
    unformatted = _get(api, f"{sid}/values/{a1}", valueRenderOption="UNFORMATTED_VALUE").json()[
        "values"
    ]
    assert unformatted == [[46034.604166666664, 5, 2]]
    as_text = _get(
        api,
        f"{sid}/values/{a1}",
        valueRenderOption="UNFORMATTED_VALUE",
        dateTimeRenderOption="FORMATTED_STRING",
    ).json()["values"]
    assert as_text == [["12.01.2026 14:30", 5, 2]]
    formulas = _get(api, f"{sid}/values/{a1}", valueRenderOption="FORMULA").json()["values"]
    assert formulas[0][2] == "=1+1"


def test_user_entered_parses_like_a_russian_sheet_and_raw_keeps_text(api: Any) -> None:
    server, session = api
    sid = server.create_spreadsheet("x", {"Лист1": []})
    url = f"{server.url}/v4/spreadsheets/{sid}/values:batchUpdate"
    row = ["=1+1", "00123", "12.01.2026", "1,5", "'=text"]
    for option, target in (("USER_ENTERED", "A1:E1"), ("RAW", "A2:E2")):
        body = {"valueInputOption": option, "data": [{"range": f"Лист1!{target}", "values": [row]}]}
        reply = session.post(url, json=body, timeout=5).json()
        assert reply["totalUpdatedCells"] == 5
    values = server.values(sid, "Лист1")
    assert values[0] == ["=1+1", 123, 46034, 1.5, "=text"]
    assert server.cell(sid, "Лист1", 1, 1).formula == "=1+1"
    assert server.cell(sid, "Лист1", 1, 3).number_format["type"] == "DATE"
    assert values[1] == row
    assert server.cell(sid, "Лист1", 2, 1).formula is None


def test_batch_update_is_all_or_nothing(api: Any) -> None:
    server, session = api
    sid = server.create_spreadsheet("x", {"Лист1": []})
    body = {
        "requests": [
            {"addSheet": {"properties": {"title": "Новый"}}},
            {"deleteSheet": {"sheetId": 424242}},
        ]
    }
    reply = session.post(f"{server.url}/v4/spreadsheets/{sid}:batchUpdate", json=body, timeout=5)
    assert reply.status_code == 400
    assert [s.title for s in server.book(sid).sheets] == ["Лист1"]


def test_metadata_ranges_and_fields_select_row_two_data(api: Any) -> None:
    server, session = api
    sid = server.create_spreadsheet("x", {"Лист1": [["h1", "h2"]], "Другой": [["x"]]})
    rule = {"condition": {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": "да"}]}}
    body = {
        "requests": [
            {
                "setDataValidation": {
                    "range": {
                        "sheetId": 0,
                        "startRowIndex": 1,
                        "startColumnIndex": 1,
                        "endColumnIndex": 2,
                    },
                    "rule": {**rule, "showCustomUi": True},
                }
            }
        ]
    }
    session.post(f"{server.url}/v4/spreadsheets/{sid}:batchUpdate", json=body, timeout=5)
    reply = _get(
        api,
        sid,
        ranges="Лист1!2:2",
        fields="sheets(properties.title,data.rowData.values.dataValidation)",
    ).json()
    assert reply == {
        "sheets": [
            {
                "properties": {"title": "Лист1"},
                "data": [
                    {
                        "rowData": [
                            {"values": [{}, {"dataValidation": rule | {"showCustomUi": True}}]}
                        ]
                    }
                ],
            }
        ]
    }


def test_staff_edits_run_before_the_matching_request(api: Any) -> None:
    server, session = api
    sid = server.create_spreadsheet("x", {"Лист1": [["№"], [1], [2]]})
    server.before_next(
        lambda method, path, query, body: path.endswith("values:batchUpdate"),
        lambda srv: srv.insert_rows(sid, "Лист1", 2, [[99]]),
    )
    _get(api, f"{sid}/values/{urllib.parse.quote('Лист1')}")
    assert server.values(sid, "Лист1") == [["№"], [1], [2]]
    body = {"valueInputOption": "RAW", "data": [{"range": "Лист1!B2", "values": [["x"]]}]}
    session.post(f"{server.url}/v4/spreadsheets/{sid}/values:batchUpdate", json=body, timeout=5)
    assert server.values(sid, "Лист1") == [["№"], [99, "x"], [1], [2]]
    server.sort_rows(sid, "Лист1", 1, reverse=True)
    assert [r[0] for r in server.values(sid, "Лист1")] == ["№", 99, 2, 1]
    server.delete_row(sid, "Лист1", 2)
    assert [r[0] for r in server.values(sid, "Лист1")] == ["№", 2, 1]


def test_faults_answer_in_googles_shape_and_calls_are_counted(api: Any) -> None:
    server, _ = api
    sid = server.create_spreadsheet("x", {"Лист1": []})
    server.fail_next(2, status=429)
    server.not_json_next()
    first, second, third, fourth = (_get(api, sid) for _ in range(4))
    assert (first.status_code, second.status_code) == (429, 429)
    assert first.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert third.status_code == 200 and third.text.startswith("<html>")
    assert fourth.status_code == 200 and fourth.json()["spreadsheetId"] == sid
    assert server.count("GET") == 4
    server.reset_calls()
    assert server.calls == []


def test_helpers_parse_ranges_masks_and_formats() -> None:
    server = SheetsApiServer()
    sid = server.create_spreadsheet("x", {"It's": [], "Sheet1": []})
    box = resolve_range(server.book(sid), "'It''s'!B2:C")
    assert (box.sheet.title, box.r1, box.c1, box.r2, box.c2) == ("It's", 2, 2, None, 3)
    assert resolve_range(server.book(sid), "A1:1").r2 == 1
    assert parse_field_mask("a.b,a(c,d/e)") == {"a": {"b": None, "c": None, "d": {"e": None}}}
    assert format_serial(46034.604166666664, "dd.mm.yyyy hh:mm") == "12.01.2026 14:30"
    assert parse_user_entered("12.01.2026 14:30", "ru_RU").value == pytest.approx(46034.6041666)
    assert parse_user_entered("1/12/2026", "en_US").value == 46034


def test_a_values_write_past_the_grid_is_refused_but_append_grows_it(api: Any) -> None:
    server, session = api
    sid = server.create_spreadsheet("x", {"Лист1": [["a"]]})
    url = f"{server.url}/v4/spreadsheets/{sid}/values"
    put = session.put(
        f"{url}/{urllib.parse.quote('Лист1!A1001')}",
        params={"valueInputOption": "RAW"},
        json={"values": [["x"]]},
        timeout=5,
    )
    assert put.status_code == 400
    assert put.json()["error"]["message"] == (
        "Range ('Лист1'!A1001) exceeds grid limits. Max rows: 1000, max columns: 26"
    )
    server.book(sid).sheet("Лист1").rows.extend([[None]] * 999)
    server.set_cell(sid, "Лист1", 1000, 1, "last")
    append = session.post(
        f"{url}/{urllib.parse.quote('Лист1')}:append",
        params={"valueInputOption": "RAW"},
        json={"values": [["x"]]},
        timeout=5,
    )
    assert append.json()["updates"]["updatedRange"] == "'Лист1'!A1001"
    assert server.book(sid).sheet("Лист1").row_count == 1001
