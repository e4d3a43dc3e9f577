"""Row tags (developer metadata) on the local Sheets API server, as Google documents them, and the
sync's write aimed at them: moving with inserted, deleted and moved rows, deleted with their
row, DataFilter reads and writes (null leaves a cell), the 400 for a filter matching nothing;
a sort or a delete landing just before the write."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from journaldesk.jobs.sync import sync
from journaldesk.store.google import TAG_KEY
from tests.helpers import REQ, at, request
from tests.sheets_api.fixtures import is_write

NOW = at("01.12.2026 15:10")
LATER = at("01.12.2026 15:40")


class Api:
    """Plain HTTP calls to the local server with a valid token (the wire format itself)."""

    def __init__(self, server: Any, store: Any, sid: str) -> None:
        store.read()  # fetches a token
        self.base = f"{server.url}/v4/spreadsheets/{sid}"
        self.headers = {"Authorization": f"Bearer {store._http.session.credentials.token}"}

    def post(self, tail: str, body: dict, **params: Any) -> requests.Response:
        return requests.post(f"{self.base}{tail}", json=body, headers=self.headers, params=params)

    def get(self, tail: str = "", **params: Any) -> requests.Response:
        return requests.get(f"{self.base}{tail}", headers=self.headers, params=params)


def tag_request(sheet_id: int, row0: int, value: str) -> dict:
    return {
        "createDeveloperMetadata": {
            "developerMetadata": {
                "metadataKey": TAG_KEY,
                "metadataValue": value,
                "location": {
                    "dimensionRange": {
                        "sheetId": sheet_id,
                        "dimension": "ROWS",
                        "startIndex": row0,
                        "endIndex": row0 + 1,
                    }
                },
                "visibility": "DOCUMENT",
            }
        }
    }


def by_tag(value: str) -> dict:
    return {"developerMetadataLookup": {"metadataKey": TAG_KEY, "metadataValue": value}}


@pytest.fixture
def tagged(sheets_server, google_store):
    """A sheet «Лист» with rows a..e in column A and rows 2 and 4 (b, d) tagged "b" and "d"."""
    sid = sheets_server.create_spreadsheet(
        sheets={"Лист": [["имя", "x"], ["a"], ["b"], ["c"], ["d"], ["e"]]}
    )
    api = Api(sheets_server, google_store(sid), sid)
    reply = api.post(":batchUpdate", {"requests": [tag_request(0, 2, "b"), tag_request(0, 4, "d")]})
    assert reply.status_code == 200, reply.text
    created = reply.json()["replies"][0]["createDeveloperMetadata"]["developerMetadata"]
    assert created["metadataKey"] == TAG_KEY and created["metadataId"] > 0
    assert created["location"] == {
        "locationType": "ROW",
        "dimensionRange": {"dimension": "ROWS", "startIndex": 2, "endIndex": 3},
    }
    return sheets_server, sid, api


def where(api: Api, value: str) -> int | None:
    """The 0-based row a tag is on now, through developerMetadata:search."""
    found = api.post("/developerMetadata:search", {"dataFilters": [by_tag(value)]}).json()
    items = found.get("matchedDeveloperMetadata", [])
    if not items:
        return None
    assert len(items) == 1
    return items[0]["developerMetadata"]["location"]["dimensionRange"].get("startIndex", 0)


def test_a_tag_moves_with_rows_inserted_deleted_and_moved_above_it(tagged) -> None:
    server, sid, api = tagged
    server.insert_rows(sid, "Лист", 2, [["new"]])  # above b
    assert (where(api, "b"), where(api, "d")) == (3, 5)
    server.delete_row(sid, "Лист", 2)  # the row just inserted
    assert (where(api, "b"), where(api, "d")) == (2, 4)
    server.move_row(sid, "Лист", 5, 2)  # d dragged above a
    assert (where(api, "b"), where(api, "d")) == (3, 1)
    assert [r[0] for r in server.values(sid, "Лист")] == ["имя", "d", "a", "b", "c", "e"]
    # Through the API: insertDimension, moveDimension, deleteDimension.
    rows = {"sheetId": 0, "dimension": "ROWS"}
    api.post(
        ":batchUpdate",
        {"requests": [{"insertDimension": {"range": rows | {"startIndex": 1, "endIndex": 3}}}]},
    )
    assert (where(api, "b"), where(api, "d")) == (5, 3)
    api.post(
        ":batchUpdate",
        {
            "requests": [
                {
                    "moveDimension": {
                        "source": rows | {"startIndex": 5, "endIndex": 6},
                        "destinationIndex": 1,
                    }
                }
            ]
        },
    )
    assert where(api, "b") == 1 and server.values(sid, "Лист")[1] == ["b"]


def test_a_tag_is_deleted_with_its_row(tagged) -> None:
    server, sid, api = tagged
    server.delete_row(sid, "Лист", 3)  # b
    assert where(api, "b") is None and where(api, "d") == 3
    rows = {"sheetId": 0, "dimension": "ROWS", "startIndex": 3, "endIndex": 4}
    assert api.post(":batchUpdate", {"requests": [{"deleteDimension": {"range": rows}}]}).ok
    assert where(api, "d") is None
    assert api.post("/developerMetadata:search", {"dataFilters": [by_tag("d")]}).json() == {}


def test_row_metadata_shows_in_the_grid_data(tagged) -> None:
    _, _, api = tagged
    reply = api.get(
        ranges="'Лист'!A1:B4", fields="sheets(data(rowMetadata.developerMetadata(metadataValue)))"
    ).json()
    rows = reply["sheets"][0]["data"][0]["rowMetadata"]
    assert rows == [{}, {}, {"developerMetadata": [{"metadataValue": "b"}]}, {}]


def test_a_data_filter_write_lands_on_the_tagged_row_and_nulls_leave_cells(tagged) -> None:
    server, sid, api = tagged
    server.sort_rows(sid, "Лист", 1, reverse=True, metadata_follows=True)
    body = {
        "valueInputOption": "RAW",
        "data": [{"dataFilter": by_tag("b"), "majorDimension": "ROWS", "values": [[None, "до b"]]}],
        "includeValuesInResponse": True,
        "responseValueRenderOption": "UNFORMATTED_VALUE",
    }
    reply = api.post("/values:batchUpdateByDataFilter", body)
    assert reply.status_code == 200, reply.text
    data = reply.json()
    assert data["totalUpdatedRows"] == 1
    assert data["responses"][0]["dataFilter"] == by_tag("b")
    assert data["responses"][0]["updatedData"]["values"] == [["b", "до b"]]
    assert ["b", "до b"] in server.values(sid, "Лист")  # column A untouched (null)
    read = api.post(
        "/values:batchGetByDataFilter",
        {"dataFilters": [by_tag("b"), by_tag("nothing")], "valueRenderOption": "UNFORMATTED_VALUE"},
    ).json()
    assert [r["valueRange"]["values"] for r in read["valueRanges"]] == [[["b", "до b"]]]
    assert read["valueRanges"][0]["dataFilters"] == [by_tag("b")]


def test_a_write_with_a_filter_matching_nothing_is_refused_whole(tagged) -> None:
    server, sid, api = tagged
    before = server.values(sid, "Лист")
    body = {
        "valueInputOption": "RAW",
        "data": [
            {"dataFilter": by_tag("d"), "values": [[None, "до d"]]},
            {"dataFilter": by_tag("gone"), "values": [[None, "никуда"]]},
        ],
    }
    reply = api.post("/values:batchUpdateByDataFilter", body)
    assert reply.status_code == 400
    error = reply.json()["error"]
    assert error["status"] == "INVALID_ARGUMENT" and "data[1]" in error["message"]
    assert server.values(sid, "Лист") == before


def test_append_cells_goes_after_the_last_row_holding_data(tagged) -> None:
    server, sid, api = tagged
    server.insert_rows(sid, "Лист", 7, [["f"]])  # typed after the job last looked
    reply = api.post(
        ":batchUpdate",
        {
            "requests": [
                {
                    "appendCells": {
                        "sheetId": 0,
                        "rows": [{"values": [{"userEnteredValue": {"stringValue": "=1+1"}}]}],
                        "fields": "userEnteredValue",
                    }
                }
            ]
        },
    )
    assert reply.ok, reply.text
    assert [r[0] for r in server.values(sid, "Лист")][-2:] == ["f", "=1+1"]
    assert server.cell(sid, "Лист", 8, 1).formula is None  # a string, never a formula


def test_store_append_rows_is_one_call_on_both_stores(make_sheet) -> None:
    sheet = make_sheet({"requests": [request()]})
    store = sheet.reopen()
    store.read()
    calls = store.api_calls
    store.append_rows(REQ.title, [[None, None, "Добавлено формой", None, None, None, "=2+2"]])
    assert store.api_calls == calls + 1
    rows = sheet.reopen().read().tabs[REQ.title].rows
    assert rows[-1][2] == "Добавлено формой" and rows[-1][6] == "=2+2"
    assert len(rows) == 3


# --- the sync when the edit lands just before its write -----------------------------------------


def test_a_sort_that_leaves_tags_in_place_just_before_the_write_costs_no_auto_cell(
    make_google_sheet,
) -> None:
    sheet = make_google_sheet(
        {"requests": [request(requester=f"Заявитель {i}", description=f"о{i}") for i in range(4)]}
    )
    server, sid = sheet.server, sheet.spreadsheet_id
    sync(sheet.reopen(), sheet.settings, now=NOW)  # numbers 1-4, rows tagged
    col = {f: i for i, f in enumerate(REQ.fields)}
    # Two new requests; a person sorts by requester, descending, just before the job writes:
    # cell contents move, the tags stay where they were (the case Google does not document).
    server.insert_rows(
        sid,
        REQ.title,
        6,
        [[None, None, "Заявитель 9", "Учитель", None, None, "Техническая неисправность", "о9"]],
    )
    server.insert_rows(
        sid,
        REQ.title,
        7,
        [[None, None, "Заявитель 8", "Учитель", None, None, "Техническая неисправность", "о8"]],
    )
    before = {r[col["description"]]: list(r) for r in server.values(sid, REQ.title)[1:]}
    server.before_next(
        is_write,
        lambda srv: srv.sort_rows(sid, REQ.title, col["requester"] + 1, reverse=True),
    )
    report = sync(sheet.reopen(), sheet.settings, now=NOW)
    assert report.moved > 0  # fills that landed on other requests were put back
    after = {r[col["description"]]: r for r in server.values(sid, REQ.title)[1:]}
    for d, old in before.items():
        row = after[d]
        for c in REQ.columns:
            i = col[c.field]
            was, now = (old[i] if i < len(old) else None), (row[i] if i < len(row) else None)
            if c.owner == "staff" or (c.owner == "auto" and was is not None):
                assert now == was, (d, c.field)
    numbers = [r[col["number"]] for r in after.values() if r[col["number"]] is not None]
    assert len(numbers) == len(set(numbers))
    # The next run puts every value on its request and numbers the two new ones.
    sync(sheet.reopen(), sheet.settings, now=LATER)
    final = {r[col["description"]]: r for r in server.values(sid, REQ.title)[1:]}
    assert {d: final[d][col["number"]] for d in ("о0", "о1", "о2", "о3")} == {
        "о0": 1,
        "о1": 2,
        "о2": 3,
        "о3": 4,
    }
    assert {final["о9"][col["number"]], final["о8"][col["number"]]} <= {5, 6, 7, 8}
    assert not sync(sheet.reopen(), sheet.settings, now=LATER).wrote


def test_a_row_deleted_just_before_the_write_postpones_the_whole_write(make_google_sheet) -> None:
    sheet = make_google_sheet({"requests": [request(description=f"о{i}") for i in range(3)]})
    server, sid = sheet.server, sheet.spreadsheet_id
    sync(sheet.reopen(), sheet.settings, now=NOW)
    status = REQ.fields.index("status") + 1
    server.set_cell(sid, REQ.title, 2, status, "Решено")
    server.set_cell(sid, REQ.title, 3, status, "Решено")
    server.before_next(is_write, lambda srv: srv.delete_row(sid, REQ.title, 3))
    before = server.values(sid, REQ.title)
    report = sync(sheet.reopen(), sheet.settings, now=NOW)
    assert not report.wrote and report.moved > 0
    expected = [row for i, row in enumerate(before) if i != 2]
    assert server.values(sid, REQ.title) == expected
    assert sync(sheet.reopen(), sheet.settings, now=NOW).wrote
