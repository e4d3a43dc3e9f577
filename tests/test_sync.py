"""The sync on the workbook store: the invariants of design.md by name."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from journaldesk.errors import StructureError
from journaldesk.jobs.sync import remap_rows, sync
from journaldesk.store.base import CellWrite
from tests.helpers import REQ, SCHEMA, at, field_values, local, make_workbook, request, tab_rows

NOW = at("01.12.2026 15:10")  # a Tuesday, inside the consultation hours 15:00-17:00


def test_new_rows_get_numbers_date_assignee_status_and_deadline(tmp_path: Path) -> None:
    store, settings = make_workbook(
        tmp_path,
        {
            "requests": [
                request(received_at=local("30.11.2026 14:30")),  # Mon, inside hours
                request(topic="Утерян логин или пароль"),  # no date: the moment first seen
            ]
        },
    )
    report = sync(store, settings, now=NOW)
    assert report.wrote and report.new_numbers == 2
    assert field_values(store, "requests", "number") == [1, 2]
    received = field_values(store, "requests", "received_at")
    assert received[1] == local("01.12.2026 15:10")
    assert field_values(store, "requests", "status") == ["Новое", "Новое"]
    assert field_values(store, "requests", "assignee") == ["Администратор ЭЖ"] * 2
    # Technical fault: 2 working hours from Mon 14:30 -> Mon 16:00 used 90 min, 30 more on Tue.
    # Lost login: 1 working hour from Tue 15:10 -> Tue 16:10.
    assert field_values(store, "requests", "due_at") == [
        local("01.12.2026 15:30"),
        local("01.12.2026 16:10"),
    ]
    assert field_values(store, "requests", "due_state") == ["Под угрозой", "В срок"]


def test_idempotent_second_sync_writes_nothing(tmp_path: Path) -> None:
    store, settings = make_workbook(
        tmp_path,
        {"requests": [request(), request(status="Решено"), request(class_name="12Б")]},
    )
    first = sync(store, settings, now=NOW)
    assert first.wrote
    path = settings.workbook_path
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    second = sync(store, settings, now=NOW)
    assert not second.wrote and second.cells == 0
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_nothing_to_change_costs_one_read_and_no_journal_row(tmp_path: Path) -> None:
    store, settings = make_workbook(tmp_path, {"requests": [request()]})
    sync(store, settings, now=NOW)
    journal = len(tab_rows(store, "log"))
    report = sync(store, settings, now=NOW)
    assert report.api_calls == 1
    assert len(tab_rows(store, "log")) == journal


def test_journal_row_records_a_run_that_changed_something(tmp_path: Path) -> None:
    store, settings = make_workbook(tmp_path, {"requests": [request(), request()]})
    report = sync(store, settings, now=NOW)
    rows = tab_rows(store, "log")
    assert len(rows) == 2
    log_tab = SCHEMA["log"]
    row = dict(zip(rows[0], rows[1], strict=False))
    assert row[log_tab.header("cells")] == report.cells
    assert row[log_tab.header("new_numbers")] == 2
    assert row[log_tab.header("job")] == "Синхронизация"


def test_number_never_reused_after_the_last_row_is_deleted(tmp_path: Path) -> None:
    store, settings = make_workbook(tmp_path, {"requests": [request(), request(), request()]})
    sync(store, settings, now=NOW)
    assert field_values(store, "requests", "number") == [1, 2, 3]
    # Staff delete request 3 (the highest) and type a new one in its place.
    book = openpyxl.load_workbook(settings.workbook_path)
    ws = book[REQ.title]
    ws.delete_rows(4)
    ws.cell(row=4, column=3, value="Петров Пётр")
    ws.cell(row=4, column=7, value="Текущие отметки")
    book.save(settings.workbook_path)
    sync(store, settings, now=NOW + dt.timedelta(minutes=5))
    assert field_values(store, "requests", "number") == [1, 2, 4]


def test_staff_cells_are_sacred_and_auto_cells_filled_only_when_empty(tmp_path: Path) -> None:
    typed = request(
        number=7,
        received_at="19.08.21 14:30",
        assignee="Сорокина И.В.",
        status="Peшено",  # Latin P and e
        resolved_at="вчера",
        description='=HYPERLINK("http://example.com","ссылка")',
        class_name="5a",
    )
    store, settings = make_workbook(tmp_path, {"requests": [typed]})
    before = tab_rows(store, "requests")[1]
    sync(store, settings, now=NOW)
    after = tab_rows(store, "requests")[1]
    for column in REQ.columns:
        i = REQ.fields.index(column.field)
        if column.owner != "derived":
            assert after[i] == before[i], column.header
    book = openpyxl.load_workbook(settings.workbook_path)
    cell = book[REQ.title].cell(row=2, column=REQ.fields.index("description") + 1)
    assert cell.data_type == "s"
    check = after[REQ.fields.index("check")]
    assert "латинские буквы" in check and "вчера" in check


def test_every_kind_of_bad_cell_gets_its_note(tmp_path: Path) -> None:
    rows = [
        request(received_at="31.02.2026"),
        request(status="Решен"),
        request(class_name="12Б"),
        request(topic="Текущие отметкы"),
        request(number="abc"),
        request(requester=None),
    ]
    store, settings = make_workbook(tmp_path, {"requests": rows})
    sync(store, settings, now=NOW)
    checks = field_values(store, "requests", "check")
    assert "такой даты нет" in checks[0]
    assert "Возможно, «Решено»" in checks[1]
    assert "12" in checks[2]
    assert "«Текущие отметки»" in checks[3]
    assert "«abc»" in checks[4]
    assert REQ.header("requester") in checks[5]


def test_duplicate_numbers_are_flagged_not_changed(tmp_path: Path) -> None:
    store, settings = make_workbook(tmp_path, {"requests": [request(number=5), request(number=5)]})
    sync(store, settings, now=NOW)
    assert field_values(store, "requests", "number") == [5, 5]
    checks = field_values(store, "requests", "check")
    assert all("повторяется в строках 2, 3" in c for c in checks)


def test_missing_tab_stops_before_any_write(tmp_path: Path) -> None:
    store, settings = make_workbook(tmp_path, {"requests": [request()]})
    book = openpyxl.load_workbook(settings.workbook_path)
    del book[SCHEMA["consent"].title]
    book.save(settings.workbook_path)
    before = settings.workbook_path.read_bytes()
    with pytest.raises(StructureError, match=SCHEMA["consent"].title):
        sync(store, settings, now=NOW)
    assert settings.workbook_path.read_bytes() == before


def test_missing_header_stops_before_any_write_and_names_it(tmp_path: Path) -> None:
    store, settings = make_workbook(tmp_path, {"requests": [request()]})
    book = openpyxl.load_workbook(settings.workbook_path)
    book[REQ.title].cell(row=1, column=REQ.fields.index("topic") + 1, value="Темa")
    book.save(settings.workbook_path)
    before = settings.workbook_path.read_bytes()
    with pytest.raises(StructureError) as err:
        sync(store, settings, now=NOW)
    assert REQ.title in str(err.value) and REQ.header("topic") in str(err.value)
    assert settings.workbook_path.read_bytes() == before


class EditBeforeWrite:
    """A store wrapper that lets staff edit the workbook between the job's read and its write."""

    def __init__(self, store, edit) -> None:
        self.store, self.edit, self.done = store, edit, False

    def __getattr__(self, name):
        return getattr(self.store, name)

    def locate(self, spec, **kwargs):
        if not self.done:
            self.done = True
            self.edit()
        return self.store.locate(spec, **kwargs)


def test_rows_inserted_above_between_read_and_write_keep_values_on_their_rows(
    tmp_path: Path,
) -> None:
    store, settings = make_workbook(
        tmp_path,
        {
            "requests": [
                request(requester="Первый", topic="Утерян логин или пароль"),
                request(requester="Второй", topic="Вопросы и предложения"),
            ]
        },
    )

    def insert_two_rows_at_top() -> None:
        book = openpyxl.load_workbook(settings.workbook_path)
        ws = book[REQ.title]
        ws.insert_rows(2, amount=2)
        ws.cell(row=2, column=3, value="Вставлен")
        ws.cell(row=2, column=7, value="Текущие отметки")
        book.save(settings.workbook_path)

    sync(EditBeforeWrite(store, insert_two_rows_at_top), settings, now=NOW)
    rows = tab_rows(store, "requests")[1:]
    by_name = {r[REQ.fields.index("requester")]: r for r in rows if len(r) > 2}
    first, second = by_name["Первый"], by_name["Второй"]
    assert first[REQ.fields.index("number")] == 1
    assert second[REQ.fields.index("number")] == 2
    assert first[REQ.fields.index("due_at")] == local("01.12.2026 16:10")
    # The row inserted meanwhile was not seen by this run: untouched until the next one.
    assert by_name["Вставлен"][REQ.fields.index("number")] in (None, "")
    sync(store, settings, now=NOW)
    numbers = [n for n in field_values(store, "requests", "number") if n is not None]
    assert sorted(numbers) == [1, 2, 3]


def test_auto_cell_typed_by_staff_meanwhile_is_not_overwritten(tmp_path: Path) -> None:
    store, settings = make_workbook(tmp_path, {"requests": [request()]})
    col = REQ.fields.index("assignee") + 1

    def type_assignee() -> None:
        book = openpyxl.load_workbook(settings.workbook_path)
        book[REQ.title].cell(row=2, column=col, value="Учитель информатики")
        book.save(settings.workbook_path)

    sync(EditBeforeWrite(store, type_assignee), settings, now=NOW)
    assert field_values(store, "requests", "assignee") == ["Учитель информатики"]


def test_remap_pairs_identical_rows_in_order_and_skips_ambiguous_ones() -> None:
    a, b = ("1", "x"), ("", "same")
    assert remap_rows([a, b, b], [b, a, b]) == {0: 1, 1: 0, 2: 2}
    assert remap_rows([b, b], [b]) == {}
    assert remap_rows([("", "")], [("", "")]) == {}


def test_waiting_for_the_requester_pauses_the_clock(tmp_path: Path) -> None:
    # A 2-hour request from Mon 30.11 14:00; it waited Mon 15:00 -> Tue 16:00, which is
    # 1 h on Monday plus 1 h on Tuesday = 2 working hours, so Срок moves by 2 h.
    changes = [
        {
            "number": 1,
            "field": "Статус",
            "old": "",
            "new": "Новое",
            "at": local("30.11.2026 14:00"),
        },
        {
            "number": 1,
            "field": "Статус",
            "old": "Новое",
            "new": "Ждём заявителя",
            "at": local("30.11.2026 15:00"),
        },
        {
            "number": 1,
            "field": "Статус",
            "old": "Ждём заявителя",
            "new": "В работе",
            "at": local("01.12.2026 16:00"),
        },
    ]
    store, settings = make_workbook(
        tmp_path,
        {
            "requests": [
                request(number=1, received_at=local("30.11.2026 14:00"), status="В работе"),
                request(number=2, received_at=local("30.11.2026 14:00"), status="В работе"),
            ],
            "changes": changes,
        },
    )
    sync(store, settings, now=at("01.12.2026 16:05"))
    due = field_values(store, "requests", "due_at")
    assert due[1] == local("30.11.2026 16:00")  # no pause: Mon 14-16
    assert due[0] == local("01.12.2026 17:00")  # 2 working hours later: Tue 15-17


def test_waiting_request_shows_paused_and_keeps_its_deadline_steady(tmp_path: Path) -> None:
    store, settings = make_workbook(
        tmp_path,
        {"requests": [request(received_at=local("30.11.2026 14:00"), status="Ждём заявителя")]},
    )
    sync(store, settings, now=at("30.11.2026 14:30"))
    assert field_values(store, "requests", "due_state") == ["Приостановлено"]
    later = sync(store, settings, now=at("30.11.2026 15:30"))
    assert not later.wrote


def test_resolved_at_is_filled_when_status_becomes_resolved(tmp_path: Path) -> None:
    store, settings = make_workbook(
        tmp_path, {"requests": [request(received_at=local("01.12.2026 15:00"))]}
    )
    sync(store, settings, now=NOW)
    col = REQ.fields.index("status") + 1
    store.write([CellWrite(REQ.title, 2, col, "Решено")])
    sync(store, settings, now=at("01.12.2026 15:40"))
    assert field_values(store, "requests", "resolved_at") == [local("01.12.2026 15:40")]
    assert field_values(store, "requests", "due_state") == ["Решено в срок"]
    history = tab_rows(store, "changes")[1:]
    assert ["Новое", "Решено"] in [[r[2], r[3]] for r in history]


def test_a_number_that_is_no_date_in_a_date_column_survives_the_save(tmp_path: Path) -> None:
    store, settings = make_workbook(tmp_path, {"requests": [request(resolved_at=-989278.0)]})
    sync(store, settings, now=NOW)
    # openpyxl itself would read the cell as #VALUE!: look at the saved XML instead.
    letter = chr(ord("A") + REQ.fields.index("resolved_at"))
    with zipfile.ZipFile(settings.workbook_path) as z:
        xml = "".join(
            z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")
        )
    assert re.search(rf'<c r="{letter}2"[^>]*>\s*<v>-989278</v>', xml)


def test_leaving_the_pause_moves_the_deadline_in_the_same_sync(tmp_path: Path) -> None:
    store, settings = make_workbook(
        tmp_path,
        {"requests": [request(received_at=local("30.11.2026 14:00"), status="Ждём заявителя")]},
    )
    sync(store, settings, now=at("30.11.2026 14:30"))  # the pause is seen starting at 14:30
    col = REQ.fields.index("status") + 1
    store.write([CellWrite(REQ.title, 2, col, "В работе")])
    sync(store, settings, now=at("30.11.2026 15:00"))  # 30 working minutes of pause
    assert field_values(store, "requests", "due_at") == [local("01.12.2026 15:30")]
    assert not sync(store, settings, now=at("30.11.2026 15:00")).wrote


def test_calendar_rows_get_notes_for_inverted_overlapping_and_out_of_year_dates(
    tmp_path: Path,
) -> None:
    rows = [
        {"date_from": dt.date(2026, 12, 10), "date_to": dt.date(2026, 12, 8), "kind": "Каникулы"},
        {
            "date_from": dt.date(2026, 12, 14),
            "date_to": dt.date(2026, 12, 16),
            "kind": "Нет консультаций",
        },
        {"date_from": dt.date(2026, 12, 16), "kind": "Нет консультаций"},
        {"date_from": dt.date(2025, 12, 16), "kind": "Нет консультаций"},
    ]
    store, settings = make_workbook(tmp_path, {"calendar": rows}, seed=False)
    sync(store, settings, now=NOW)
    checks = field_values(store, "calendar", "check")[-4:]
    assert "поменяйте даты местами" in checks[0]
    assert "Пересекается со строкой" in checks[1] and "Пересекается со строкой" in checks[2]
    assert "вне учебного года" in checks[3]


def test_the_audit_tab_only_grows(tmp_path: Path) -> None:
    store, settings = make_workbook(tmp_path, {"requests": [request(), request()]})
    sync(store, settings, now=NOW)
    first = tab_rows(store, "changes")
    col = REQ.fields.index("status") + 1
    store.write([CellWrite(REQ.title, 2, col, "В работе"), CellWrite(REQ.title, 3, col, "Решено")])
    sync(store, settings, now=at("01.12.2026 15:30"))
    second = tab_rows(store, "changes")
    assert second[: len(first)] == first  # nothing rewritten
    added = [r[:4] for r in second[len(first) :]]
    assert [1, "Статус", "Новое", "В работе"] in added
    assert [2, "Статус", "Новое", "Решено"] in added


def test_an_error_cell_left_in_an_auto_column_is_not_filled_over(tmp_path: Path) -> None:
    store, settings = make_workbook(tmp_path, {"requests": [request(), request()]})
    book = openpyxl.load_workbook(settings.workbook_path)
    cell = book[REQ.title].cell(row=2, column=REQ.fields.index("number") + 1)
    cell.value, cell.data_type = "#N/A", "e"  # e.g. a broken lookup a person put there
    book.save(settings.workbook_path)
    sync(store, settings, now=NOW)
    book = openpyxl.load_workbook(settings.workbook_path)
    cell = book[REQ.title].cell(row=2, column=REQ.fields.index("number") + 1)
    assert (cell.value, cell.data_type) == ("#N/A", "e")
    assert field_values(store, "requests", "number")[1] == 1  # the other row got its №
    assert "#N/A" in field_values(store, "requests", "check")[0]


def test_the_history_says_new_request_for_a_first_sight(tmp_path: Path) -> None:
    store, settings = make_workbook(tmp_path, {"requests": [request()]})
    sync(store, settings, now=NOW)
    rows = tab_rows(store, "changes")
    header = rows[0]
    was = header.index(SCHEMA["changes"].header("old"))
    field = header.index(SCHEMA["changes"].header("field"))
    first = [r for r in rows[1:] if r[field] == "Тема"]
    assert first and all(r[was] == "новое обращение" for r in first)
    # A field first filled later on a known request is not a new request.
    book = openpyxl.load_workbook(settings.workbook_path)
    status_col = REQ.fields.index("status") + 1
    book[REQ.title].cell(row=2, column=status_col, value="В работе")
    book.save(settings.workbook_path)
    sync(store, settings, now=NOW)
    later = [r for r in tab_rows(store, "changes")[1:] if r[field] == "Статус"]
    assert later[-1][was] == "Новое"
