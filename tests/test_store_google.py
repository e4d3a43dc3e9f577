"""GoogleStore against the local Sheets API server, with the real google-auth signed-JWT flow."""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
import requests
import urllib3

from journaldesk.errors import OutsideFailure, SettingsError, StoreUnavailable
from journaldesk.jobs.init import plan_init
from journaldesk.sheet.schema import load_schema
from journaldesk.store.base import DATETIME_FORMAT, CellWrite, Store
from journaldesk.store.google import (
    GoogleStore,
    load_service_account,
    merge_ranges,
    spreadsheet_key,
    to_serial,
)
from journaldesk.store.retry import RetryPolicy, call_with_retry
from tests.helpers import SEED_DAY, refused_port
from tests.sheets_api.fixtures import InProcessAdapter, in_process
from tests.sheets_api.server import SheetsApiServer

SCHEMA = load_schema()
REQUESTS = SCHEMA["requests"]
TITLE = REQUESTS.title
HEADERS = REQUESTS.headers
ROLE = SCHEMA.enums["role"][0]
STATUS_NEW = SCHEMA.enums["status"][0]


def request_rows(n: int) -> list[list[Any]]:
    """A header row and n request rows, every column filled the way staff fill them."""
    rows: list[list[Any]] = [list(HEADERS)]
    for i in range(1, n + 1):
        received = dt.datetime(2026, 1, 12, 9, 0) + dt.timedelta(minutes=37 * i)
        row = [i, received, f"Иванова А.{i}", ROLE, "5А", "Лично", "Текущие отметки"]
        row += [f"Не видно отметки {i}", "Петров", STATUS_NEW, None, None, None, None, None]
        rows.append(row)
    return rows


def body_of(server: SheetsApiServer, fragment: str) -> list[Any]:
    """Capture the JSON body of each later request whose path contains `fragment`."""
    bodies: list[Any] = []

    def predicate(method: str, path: str, query: Any, body: Any) -> bool:
        if fragment in path:
            bodies.append(body)
        return False

    server.before_next(predicate, lambda srv: None)
    return bodies


@pytest.fixture
def sheet(sheets_server: SheetsApiServer) -> str:
    return sheets_server.create_spreadsheet("Журнал", {TITLE: request_rows(3), "Журнал": []})


# ---------------------------------------------------------------------------- API budget


@pytest.mark.parametrize("n_rows", [10, 10_000])
def test_read_is_exactly_two_calls_whatever_the_row_count(
    sheets_server: SheetsApiServer, google_store: Any, n_rows: int
) -> None:
    sid = sheets_server.create_spreadsheet("Журнал", {TITLE: request_rows(n_rows), "Пусто": []})
    store = google_store(sid)
    snap = store.read()
    assert len(sheets_server.calls) == 2
    assert store.api_calls == 2
    (meta_method, meta_path, _), (_, get_path, query) = sheets_server.calls
    assert (meta_method, meta_path) == ("GET", f"/v4/spreadsheets/{sid}")
    assert get_path.endswith("/values:batchGet")
    assert query["valueRenderOption"] == ["UNFORMATTED_VALUE"]
    assert query["dateTimeRenderOption"] == ["SERIAL_NUMBER"]
    assert snap.time_zone == "Europe/Simferopol"
    tab = snap.tabs[TITLE]
    assert len(tab.rows) == n_rows + 1
    assert tab.rows[0] == HEADERS
    assert tab.cell(n_rows + 1, 1) == n_rows
    assert tab.sheet_id == 0
    assert snap.tabs["Пусто"].rows == []
    assert sheets_server.token_requests == 1


def test_read_columns_is_one_call_and_sees_rows_moved_since_the_read(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str
) -> None:
    store = google_store(sheet)
    store.read()
    sheets_server.reset_calls()
    # Staff insert a row at the top between the job's read and its narrow re-read.
    sheets_server.before_next(
        lambda method, path, query, body: "batchGet" in path,
        lambda srv: srv.insert_rows(sheet, TITLE, 2, [[None, None, "Новая строка"]]),
    )
    rows = store.read_columns(TITLE, [1, 3])
    assert len(sheets_server.calls) == 1
    assert rows[0] == [HEADERS[0], HEADERS[2]]
    assert rows[1] == [None, "Новая строка"]
    assert [r[0] for r in rows[2:]] == [1, 2, 3]


def test_write_is_one_call_and_merges_contiguous_cells(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str
) -> None:
    store = google_store(sheet)
    bodies = body_of(sheets_server, "values:batchUpdate")
    cells = [CellWrite(TITLE, row, col, f"r{row}c{col}") for row in (2, 3, 4) for col in (13, 14)]
    cells.append(CellWrite(TITLE, 2, 15, "одна"))
    store.write(cells)
    assert len(sheets_server.calls) == 1
    assert store.api_calls == 1
    (body,) = bodies
    assert body["valueInputOption"] == "RAW"
    assert sorted(d["range"] for d in body["data"]) == [f"'{TITLE}'!M2:O2", f"'{TITLE}'!M3:N4"]
    values = sheets_server.values(sheet, TITLE)
    assert values[3][12:14] == ["r4c13", "r4c14"]
    assert values[1][14] == "одна"


def test_nothing_to_write_sends_nothing(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str
) -> None:
    google_store(sheet).write([])
    assert sheets_server.calls == []


def test_merge_ranges_keeps_every_cell_once() -> None:
    cells = {(2, 1): "a", (2, 2): "b", (3, 1): "c", (3, 2): "d", (3, 4): "e", (9, 4): "f"}
    blocks = merge_ranges(cells)
    assert (2, 1, 3, 2, [["a", "b"], ["c", "d"]]) in blocks
    seen = {
        (r1 + i, c1 + j): v
        for r1, c1, _, _, rows in blocks
        for i, row in enumerate(rows)
        for j, v in enumerate(row)
    }
    assert seen == cells


# ---------------------------------------------------------------------------- values


def test_text_that_looks_like_a_formula_or_a_number_stays_text(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str
) -> None:
    store = google_store(sheet)
    link = '=HYPERLINK("http://x","y")'
    store.write(
        [
            CellWrite(TITLE, 2, 14, link),
            CellWrite(TITLE, 3, 14, "=1+1"),
            CellWrite(TITLE, 4, 14, "00123"),
        ]
    )
    assert sheets_server.cell(sheet, TITLE, 2, 14).formula is None
    assert sheets_server.cell(sheet, TITLE, 3, 14).formula is None
    tab = store.read().tabs[TITLE]
    assert (tab.cell(2, 14), tab.cell(3, 14), tab.cell(4, 14)) == (link, "=1+1", "00123")


def test_a_formula_staff_typed_reads_as_its_value_not_as_text(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str
) -> None:
    # The counterpart of the test above: the server does compute typed formulas, so a store
    # that wrote USER_ENTERED would read "=1+1" back as 2 there.
    sheets_server.set_cell(sheet, TITLE, 2, 14, "=1+1", user_entered=True)
    assert google_store(sheet).read().tabs[TITLE].cell(2, 14) == 2


def test_dates_staff_type_in_a_russian_sheet_read_as_serials(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str
) -> None:
    sheets_server.set_cell(sheet, TITLE, 2, 11, "12.01.2026 14:30", user_entered=True)
    sheets_server.set_cell(sheet, TITLE, 3, 11, "13.01.2026", user_entered=True)
    tab = google_store(sheet).read().tabs[TITLE]
    assert tab.cell(2, 11) == pytest.approx(46034 + 14.5 / 24)
    assert isinstance(tab.cell(2, 11), float)
    assert tab.cell(3, 11) == 46035
    assert tab.cell(2, 2) == pytest.approx(to_serial(dt.datetime(2026, 1, 12, 9, 37)))


def test_dates_times_and_numpy_values_are_written_as_plain_json(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str
) -> None:
    store = google_store(sheet)
    store.read()  # learns the sheet's time zone
    bodies = body_of(sheets_server, "values:batchUpdate")
    aware = dt.datetime(2026, 1, 12, 11, 30, tzinfo=dt.UTC)
    store.write(
        [
            CellWrite(TITLE, 2, 12, dt.datetime(2026, 1, 12, 14, 30), DATETIME_FORMAT),
            CellWrite(TITLE, 3, 12, dt.date(2026, 1, 12)),
            CellWrite(TITLE, 4, 12, dt.time(15, 20)),
            CellWrite(TITLE, 2, 13, aware),
            CellWrite(TITLE, 3, 13, np.int64(7)),
            CellWrite(TITLE, 4, 13, np.float64("nan")),
            CellWrite(TITLE, 2, 14, pd.NaT),
            CellWrite(TITLE, 3, 14, None),
            CellWrite(TITLE, 4, 14, np.bool_(True)),
        ]
    )
    json.dumps(bodies[0], allow_nan=False)  # plain JSON, no NaN
    tab = store.read().tabs[TITLE]
    assert tab.cell(2, 12) == pytest.approx(46034 + 14.5 / 24)
    assert tab.cell(3, 12) == 46034
    assert tab.cell(4, 12) == pytest.approx((15 * 60 + 20) / 1440)
    # 11:30 UTC is 14:30 in Simferopol (UTC+3), the sheet's own zone.
    assert tab.cell(2, 13) == pytest.approx(46034 + 14.5 / 24)
    assert tab.cell(3, 13) == 7
    assert tab.cell(4, 13) is None and tab.cell(2, 14) is None and tab.cell(3, 14) is None
    assert tab.cell(4, 14) is True


def test_serials_match_the_spreadsheet_epoch() -> None:
    assert to_serial(dt.date(1899, 12, 31)) == 1
    assert to_serial(dt.datetime(2026, 1, 12, 6, 0)) == 46034.25
    assert to_serial(dt.time(12, 0)) == 0.5
    assert math.isclose(
        to_serial(dt.datetime(2026, 1, 12, 9, 0, tzinfo=ZoneInfo("Europe/Simferopol"))),
        46034.375,
    )


# ---------------------------------------------------------------------------- failures


def test_429_twice_then_success(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str
) -> None:
    sleeps: list[float] = []
    store = google_store(sheet, retry=RetryPolicy(sleep=sleeps.append))
    sheets_server.fail_next(2, status=429)
    snap = store.read()
    assert snap.tabs[TITLE].cell(2, 1) == 1
    assert len(sheets_server.calls) == 4  # two refused metadata reads, then 2 good calls
    assert store.api_calls == 4
    assert len(sleeps) == 2 and all(0 <= s <= 16 for s in sleeps)


def test_a_persisting_500_gives_up_and_leaves_the_sheet_unchanged(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str
) -> None:
    store = google_store(sheet)
    before = sheets_server.values(sheet, TITLE)
    sheets_server.fail_next(50, status=500)
    with pytest.raises(OutsideFailure) as caught:
        store.write([CellWrite(TITLE, 2, 15, "проверка")])
    assert str(caught.value) == (
        "Не удалось выполнить «запись в таблицу»: сервер Google ответил ошибкой (код 500). "
        "Попыток: 5. Повторите позже; если ошибка не проходит, проверьте подключение к интернету."
    )
    assert len(sheets_server.calls) == 5
    assert sheets_server.values(sheet, TITLE) == before


@pytest.mark.parametrize("status", [408, 503])
def test_other_transient_statuses_are_retried(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str, status: int
) -> None:
    sheets_server.fail_next(1, status=status)
    assert google_store(sheet).read().tabs[TITLE].cell(1, 1) == HEADERS[0]
    assert len(sheets_server.calls) == 3


def test_retries_stop_at_the_time_budget_too() -> None:
    clock = [0.0]

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    policy = RetryPolicy(
        max_attempts=100,
        max_seconds=10,
        base=1,
        cap=4,
        jitter=False,
        sleep=sleep,
        clock=lambda: clock[0],
    )
    attempts: list[int] = []

    def always_refused() -> None:
        attempts.append(1)
        raise requests.ConnectionError("refused")

    with pytest.raises(OutsideFailure, match="Попыток: 4"):
        call_with_retry(always_refused, what="проверка", policy=policy)
    # Waits of 1, 2, 4 s; the next 4 s would end past the 10 s budget, so no 5th try.
    assert clock[0] == 7 and len(attempts) == 4


def test_errors_that_retrying_cannot_fix_pass_through_at_once() -> None:
    attempts: list[int] = []

    def broken() -> None:
        attempts.append(1)
        raise KeyError("bug")

    with pytest.raises(KeyError):
        call_with_retry(broken, what="проверка", policy=RetryPolicy.no_sleep())
    assert attempts == [1]


def test_connection_refused_is_an_outside_failure(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str
) -> None:
    store = google_store(sheet)
    store.read()
    sheets_server.stop()
    with pytest.raises(OutsideFailure, match="нет соединения с сервером Google"):
        store.read()


def test_no_token_because_nothing_listens_is_an_outside_failure(
    google_store: Any, sheet: str, service_account_info: dict
) -> None:
    with refused_port() as port:  # nothing listens there
        info = service_account_info | {"token_uri": f"http://127.0.0.1:{port}/token"}
        store = google_store(sheet, service_account_info=info)
        with pytest.raises(OutsideFailure, match="нет соединения с сервером Google"):
            store.read()


def test_a_reply_that_is_not_json_is_retried_then_reported(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str
) -> None:
    store = google_store(sheet)
    sheets_server.not_json_next()
    assert store.read().tabs[TITLE].cell(1, 1) == HEADERS[0]
    assert len(sheets_server.calls) == 3
    sheets_server.not_json_next(10)
    with pytest.raises(OutsideFailure, match="не JSON"):
        store.read()


def test_a_slow_reply_past_the_timeout_is_retried(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str
) -> None:
    store = google_store(sheet, timeout=0.2, retry=RetryPolicy.no_sleep(max_attempts=2))
    sheets_server.slow_next(3.0)
    assert store.read().tabs[TITLE].cell(1, 1) == HEADERS[0]
    assert len(sheets_server.calls) == 3
    sheets_server.slow_next(3.0, n=2)
    with pytest.raises(OutsideFailure, match="не ответил вовремя"):
        store.read_columns(TITLE, [1])
    assert len(sheets_server.calls) == 5


def test_403_asks_to_share_the_sheet_with_the_service_account(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str, service_account_info: dict
) -> None:
    sheets_server.deny(sheet)
    store = google_store(sheet)
    with pytest.raises(StoreUnavailable) as caught:
        store.read()
    email = service_account_info["client_email"]
    assert str(caught.value) == (
        f"Нет доступа к таблице Google https://docs.google.com/spreadsheets/d/{sheet}. "
        f"Откройте таблицу → Настройки доступа → добавьте {email} как редактора."
    )
    assert len(sheets_server.calls) == 1  # not retried


def test_404_says_the_spreadsheet_is_not_found(
    sheets_server: SheetsApiServer, google_store: Any
) -> None:
    store = google_store("1" + "x" * 43)
    with pytest.raises(StoreUnavailable, match="Таблица Google не найдена") as caught:
        store.read()
    assert "google.spreadsheet" in str(caught.value)


def test_a_key_google_does_not_know_is_a_user_error(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str, service_account_info: dict
) -> None:
    sheets_server.public_keys.clear()
    with pytest.raises(StoreUnavailable, match=service_account_info["client_email"]):
        google_store(sheet).read()


def test_the_key_never_appears_in_errors_or_logs(
    sheets_server: SheetsApiServer,
    google_store: Any,
    sheet: str,
    service_account_info: dict,
    caplog: pytest.LogCaptureFixture,
    tmp_path: Path,
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets_ = [
        service_account_info["private_key_id"],
        service_account_info["private_key"].splitlines()[5],
    ]
    messages: list[str] = []
    store = google_store(sheet)
    for fault in (
        lambda: sheets_server.fail_next(10, 500),
        lambda: sheets_server.not_json_next(10),
        lambda: sheets_server.deny(sheet),
    ):
        fault()
        with pytest.raises((OutsideFailure, StoreUnavailable)) as caught:
            store.read()
        messages.append(str(caught.value))
        messages.append(repr(caught.value.__cause__))
    broken = tmp_path / "key.json"
    broken.write_text(json.dumps(service_account_info)[:-10])
    for bad in (
        lambda: load_service_account(str(broken), {}),
        lambda: load_service_account(None, {"JOURNALDESK_CREDENTIALS_JSON": broken.read_text()}),
        lambda: GoogleStore(
            sheet, service_account_info={**service_account_info, "private_key": "x"}
        ),
    ):
        with pytest.raises(SettingsError) as caught:
            bad()
        messages.append(str(caught.value))
        assert caught.value.__cause__ is None and caught.value.__suppress_context__
    logged = [r.getMessage() for r in caplog.records]
    assert logged, "the retries should have been logged"
    for text in messages + logged:
        for secret in secrets_:
            assert secret not in text


# ---------------------------------------------------------------------------- settings


def test_load_service_account_from_settings_env_path_or_env_json(
    tmp_path: Path, service_account_info: dict
) -> None:
    path = tmp_path / "key.json"
    path.write_text(json.dumps(service_account_info))
    text = path.read_text()
    assert load_service_account(str(path), {}) == service_account_info
    assert load_service_account(None, {"JOURNALDESK_CREDENTIALS": str(path)}) == (
        service_account_info
    )
    assert load_service_account(None, {"JOURNALDESK_CREDENTIALS_JSON": text}) == (
        service_account_info
    )


def test_load_service_account_explains_each_problem_in_russian(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="Не указан ключ сервисного аккаунта Google"):
        load_service_account(None, {})
    missing = tmp_path / "нет.json"
    with pytest.raises(SettingsError) as caught:
        load_service_account(str(missing), {})
    assert str(caught.value) == f"Файл ключа сервисного аккаунта не найден: {missing}"
    garbage = tmp_path / "garbage.json"
    garbage.write_text("not json")
    with pytest.raises(SettingsError, match="это не JSON"):
        load_service_account(str(garbage), {})
    oauth = tmp_path / "client.json"
    oauth.write_text(json.dumps({"installed": {"client_id": "x"}}))
    with pytest.raises(SettingsError, match="это не ключ сервисного аккаунта"):
        load_service_account(str(oauth), {})


def test_spreadsheet_key_from_a_url_or_a_bare_key() -> None:
    key = "1Mt7PAP53WxrZzHTL49wbg_EOQy18omB4PD2aJLMBs2o"
    assert spreadsheet_key(key) == key
    assert spreadsheet_key(f"https://docs.google.com/spreadsheets/d/{key}/edit#gid=0") == key
    with pytest.raises(SettingsError, match="Не удалось понять, какая это таблица Google"):
        spreadsheet_key("моя таблица")


def test_building_a_store_does_no_network_io(
    sheets_server: SheetsApiServer, service_account_info: dict
) -> None:
    store = GoogleStore(
        "https://docs.google.com/spreadsheets/d/1abcdefghijklmnopqrstuvwxyz/edit",
        service_account_info=service_account_info,
        api_url=sheets_server.url,
    )
    assert isinstance(store, Store)
    assert store.api_calls == 0
    assert sheets_server.calls == [] and sheets_server.token_requests == 0
    assert store.service_account_email == service_account_info["client_email"]
    assert store.location() == "https://docs.google.com/spreadsheets/d/1abcdefghijklmnopqrstuvwxyz"


# ---------------------------------------------------------------------------- lock


def test_a_second_job_on_this_machine_cannot_take_the_lock(google_store: Any, sheet: str) -> None:
    first, second = google_store(sheet), google_store(sheet)
    refused = pytest.raises(StoreUnavailable, match="уже работает другая задача")
    with first.lock(), refused, second.lock():
        pass
    with second.lock():
        pass


# ---------------------------------------------------------------------------- init


def test_apply_init_on_an_empty_spreadsheet_then_describe_shows_everything(
    sheets_server: SheetsApiServer, google_store: Any
) -> None:
    sid = sheets_server.create_spreadsheet("Новая", {})
    store = google_store(sid)
    snap = store.read()
    plan = plan_init(snap, store.describe(), today=SEED_DAY)
    assert len(plan.new_tabs) == len(SCHEMA.tabs)
    sheets_server.reset_calls()
    store.apply_init(plan)
    methods = [(m, p.rsplit(sid, 1)[1]) for m, p, _ in sheets_server.calls]
    assert methods == [("POST", ":batchUpdate"), ("POST", "/values:batchUpdate")]

    sheets_server.reset_calls()
    described = store.describe()
    assert len(sheets_server.calls) == 1
    assert described["__sheet__"] == {
        "time_zone": "Europe/Simferopol",
        "locale": "ru_RU",
        "title": "Новая",
    }
    info = described[TITLE]
    assert info["frozen"] is True
    enum_cols = {
        i for i, c in enumerate(REQUESTS.columns, 1) if c.type == "enum" and c.owner != "derived"
    }
    assert info["dropdown_cols"] == enum_cols
    assert info["format_cols"] == {2: DATETIME_FORMAT, 11: DATETIME_FORMAT, 12: DATETIME_FORMAT}
    assert info["highlight_cols"] == {REQUESTS.fields.index("due_state") + 1}
    derived = {i for i, c in enumerate(REQUESTS.columns, 1) if c.owner == "derived"}
    assert info["protected_cols"] == derived
    assert info["max_row"] == 1000

    snap = store.read()
    assert snap.tabs[TITLE].rows == [HEADERS]
    schedule = snap.tabs[SCHEMA["schedule"].title]
    assert len(schedule.rows) > 1 and schedule.rows[0] == SCHEMA["schedule"].headers
    # The seeded hours are times, written as serial fractions of a day.
    assert 0 < schedule.cell(2, 2) < 1
    again = plan_init(snap, store.describe(), today=SEED_DAY)
    assert again.is_empty(), again


def test_describe_on_a_cold_store_first_learns_the_tab_titles(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str
) -> None:
    described = google_store(sheet).describe()
    assert set(described) == {"__sheet__", TITLE, "Журнал"}
    assert len(sheets_server.calls) == 2


def test_seed_rows_go_after_existing_data(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str
) -> None:
    from journaldesk.store.base import InitPlan

    store = google_store(sheet)
    store.read()
    store.apply_init(InitPlan(seed_rows=[(TITLE, [[99, None, "Засеяно"]])]))
    values = sheets_server.values(sheet, TITLE)
    assert len(values) == 5 and values[4][:3] == [99, None, "Засеяно"]
    assert values[1][0] == 1


def test_a_write_past_the_last_row_grows_the_tab_in_the_same_call(
    sheets_server: SheetsApiServer, google_store: Any
) -> None:
    sid = sheets_server.create_spreadsheet("Журнал", {TITLE: request_rows(999)})
    store = google_store(sid)
    store.read()
    sheets_server.reset_calls()
    store.write(
        [
            CellWrite(TITLE, 1001, 3, "за краем"),
            CellWrite(TITLE, 1001, 4, "=1+1"),
            CellWrite(TITLE, 1001, 5, 7),
        ]
    )
    # One spreadsheets:batchUpdate: the rows added, then the cells as typed values.
    assert [p.rsplit(sid, 1)[1] for _, p, _ in sheets_server.calls] == [":batchUpdate"]
    assert sheets_server.values(sid, TITLE)[1000][2:5] == ["за краем", "=1+1", 7]
    assert sheets_server.cell(sid, TITLE, 1001, 4).formula is None
    sheets_server.reset_calls()
    store.write([CellWrite(TITLE, 1002, 3, "ещё одна")])
    assert len(sheets_server.calls) == 1  # the headroom holds it
    values = sheets_server.values(sid, TITLE)
    assert values[1000][2] == "за краем" and values[1001][2] == "ещё одна"


# ------------------------------------------------------------------ appending rows, a reply lost


class _ReplyLost(InProcessAdapter):
    """Serves every request in-process; the first one whose path ends with `suffix` is served
    (it takes effect) and then its reply is lost: the connection reset, or a read timeout."""

    def __init__(self, server: SheetsApiServer, suffix: str, error: Exception) -> None:
        super().__init__(server)
        self.suffix, self.error, self.lost = suffix, error, 0

    def send(self, request: Any, **kwargs: Any) -> requests.Response:
        response = super().send(request, **kwargs)
        if not self.lost and request.url.split("?")[0].endswith(self.suffix):
            self.lost += 1
            raise self.error
        return response


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.ConnectionError(ConnectionResetError(104, "Connection reset by peer")),
        requests.exceptions.ReadTimeout("Read timed out. (read timeout=30)"),
    ],
    ids=["reset", "read_timeout"],
)
def test_rows_appended_whose_reply_was_lost_are_not_appended_twice(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str, error: Exception
) -> None:
    store = in_process(google_store(sheet), sheets_server)
    lost = _ReplyLost(sheets_server, ":batchUpdate", error)
    store._http.session.mount(sheets_server.url, lost)
    before = sheets_server.values(sheet, TITLE)
    new = [[7, None, "Сидорова", ROLE, "5А", "Форма", "Текущие отметки", "Нет отметок"]]
    # The rows landed, the reply did not: trying again would add them a second time. The call
    # fails instead; whoever appends finds next time what landed (the form's import does).
    with pytest.raises(OutsideFailure, match=r"нет соединения|не ответил вовремя"):
        store.append_rows(TITLE, new)
    assert lost.lost == 1
    assert sheets_server.values(sheet, TITLE) == before + new


def test_rows_appended_after_a_refused_connection_or_a_429_are_appended_once(
    sheets_server: SheetsApiServer, google_store: Any, sheet: str
) -> None:
    store = in_process(google_store(sheet), sheets_server)
    refused = requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(
            None, "/", urllib3.exceptions.NewConnectionError(None, "Connection refused")
        )
    )

    class _Refused(InProcessAdapter):
        def send(self, request: Any, **kwargs: Any) -> requests.Response:
            if request.url.split("?")[0].endswith(":batchUpdate") and not self.refused:
                self.refused = True
                raise refused  # never reached the server
            return super().send(request, **kwargs)

    adapter = _Refused(sheets_server)
    adapter.refused = False
    store._http.session.mount(sheets_server.url, adapter)
    before = sheets_server.values(sheet, TITLE)
    new = [[7, None, "Сидорова", ROLE, "5А", "Форма", "Текущие отметки", "Нет отметок"]]
    store.append_rows(TITLE, new)  # the refused connection is tried again
    sheets_server.fail_next(2, status=429)  # Google applies a batch whole or not at all
    store.append_rows(TITLE, new)
    assert adapter.refused
    assert sheets_server.values(sheet, TITLE) == before + new + new
