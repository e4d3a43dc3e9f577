"""The sync's behaviour on both stores (workbook and Google through the local Sheets API)."""

from __future__ import annotations

import pytest

from journaldesk.errors import OutsideFailure
from journaldesk.jobs.sync import sync
from journaldesk.sheet.cells import parse_cell
from tests.helpers import REQ, at, field_values, local, request, tab_rows
from tests.sheets_api.fixtures import is_reread

NOW = at("01.12.2026 15:10")


def test_first_sync_fills_and_second_writes_nothing(make_sheet) -> None:
    sheet = make_sheet({"requests": [request(), request(topic="Утерян логин или пароль")]})
    first = sync(sheet.reopen(), sheet.settings, now=NOW)
    assert first.wrote and first.new_numbers == 2
    store = sheet.reopen()
    assert field_values(store, "requests", "number") == [1, 2]
    due = parse_cell(field_values(store, "requests", "due_at")[1], REQ.col("due_at"))
    assert due.value == local("01.12.2026 16:10")  # a serial on Google, a date in a workbook
    second_store = sheet.reopen()
    second = sync(second_store, sheet.settings, now=NOW)
    assert not second.wrote and second.cells == 0


def test_formula_typed_as_a_description_stays_text(make_sheet) -> None:
    text = '=HYPERLINK("http://example.com","ссылка")'
    sheet = make_sheet({"requests": [request(description=text)]})
    sync(sheet.reopen(), sheet.settings, now=NOW)
    assert field_values(sheet.reopen(), "requests", "description") == [text]
    if sheet.kind == "google":
        cell = sheet.server.values(sheet.spreadsheet_id, REQ.title)[1][
            REQ.fields.index("description")
        ]
        assert cell == text


@pytest.mark.parametrize("rows", [10, 10_000])
def test_api_budget_of_a_google_sync(make_google_sheet, google_store, rows: int) -> None:
    sheet = make_google_sheet(
        {"requests": [request(description=f"обращение {i}") for i in range(rows)]}
    )
    server = sheet.server
    # The count is the point, not the local server's speed at tagging 10,000 rows at once.
    sheet.reopen = lambda: google_store(sheet.spreadsheet_id, timeout=300.0)
    server.reset_calls()
    # The first sync tags the rows it writes to: read, read, re-read, tag, write.
    first = sync(sheet.reopen(), sheet.settings, now=NOW)
    assert first.wrote and first.new_numbers == rows
    # (The re-read is a batch update too when «Изменения» must grow for 10,000 first sights.)
    assert len(server.calls) == 5, server.calls
    assert [m for m, _, _ in server.calls[:2]] == ["GET", "GET"]
    assert server.calls[3][1].endswith(":batchUpdate")
    assert server.calls[4][1].endswith("values:batchUpdateByDataFilter")
    server.reset_calls()
    report = sync(sheet.reopen(), sheet.settings, now=NOW)
    assert not report.wrote
    assert len(server.calls) == 2 and all(m == "GET" for m, _, _ in server.calls)
    # Solved by hand (the job fills «Решено» and the state): the rows are tagged already, so
    # read, read, re-read, write.
    status = REQ.fields.index("status") + 1
    server.set_cell(sheet.spreadsheet_id, REQ.title, 2, status, "Решено")
    server.reset_calls()
    third = sync(sheet.reopen(), sheet.settings, now=NOW)
    assert third.wrote
    assert [m for m, _, _ in server.calls] == ["GET", "GET", "GET", "POST"], server.calls
    assert server.calls[3][1].endswith("values:batchUpdateByDataFilter")


def test_google_edit_between_read_and_write_lands_on_the_right_rows(make_google_sheet) -> None:
    sheet = make_google_sheet(
        {
            "requests": [
                request(requester="Первый", topic="Утерян логин или пароль"),
                request(requester="Второй", topic="Вопросы и предложения"),
            ]
        }
    )
    server, sid = sheet.server, sheet.spreadsheet_id
    before = [list(r) for r in server.values(sid, REQ.title)]

    def staff_sort_by_requester_descending(srv) -> None:
        srv.sort_rows(sid, REQ.title, REQ.fields.index("requester") + 1, reverse=True)

    # Just before the re-read of rows with their tags: after the job's read.
    server.before_next(is_reread, staff_sort_by_requester_descending)
    sync(sheet.reopen(), sheet.settings, now=NOW)
    rows = server.values(sid, REQ.title)[1:]
    by_name = {r[REQ.fields.index("requester")]: r for r in rows}
    assert by_name["Первый"][REQ.fields.index("number")] == 1
    assert by_name["Второй"][REQ.fields.index("number")] == 2
    # Staff cells unchanged (compared by requester, whatever the order).
    old = {r[REQ.fields.index("requester")]: r for r in before[1:]}
    for name, row in by_name.items():
        for column in REQ.columns:
            if column.owner == "staff":
                i = REQ.fields.index(column.field)
                assert (row[i] if i < len(row) else None) == (
                    old[name][i] if i < len(old[name]) else None
                )


def test_google_persistent_500_on_the_write_leaves_the_sheet_unchanged(make_google_sheet) -> None:
    sheet = make_google_sheet({"requests": [request()]})
    server, sid = sheet.server, sheet.spreadsheet_id
    before = {t: server.values(sid, t) for t in ("Обращения", "Журнал", "Изменения")}
    # Faults are taken before hooks run: armed at the re-read, they hit every write attempt.
    server.before_next(is_reread, lambda srv: srv.fail_next(50, status=500))
    with pytest.raises(OutsideFailure):
        sync(sheet.reopen(), sheet.settings, now=NOW)
    assert {t: server.values(sid, t) for t in before} == before


def test_journal_row_on_both_stores(make_sheet) -> None:
    sheet = make_sheet({"requests": [request()]})
    report = sync(sheet.reopen(), sheet.settings, now=NOW)
    rows = tab_rows(sheet.reopen(), "log")
    assert len(rows) == 2 and rows[1][4] == report.cells
