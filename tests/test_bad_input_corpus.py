"""A corpus of bad input, each case run through a real sync on BOTH stores.

Cell cases (a value where something else is expected) are grouped into one small sheet per group,
so a group costs one sheet and one sync per store. For every case: the sync finishes, every cell
a job may not change is stored exactly as before (compared as stored: openpyxl's value and type,
the Sheets API server's value and formula), and the problem is named where a person looks — the
row's «Проверка», or for tabs without one, the run's notes (console and log). Sheet-shape cases
either sync normally or stop before any write with a Russian message naming the tab and header.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest

from journaldesk.errors import StructureError
from journaldesk.jobs.init import plan_init
from journaldesk.jobs.sync import sync
from journaldesk.store.base import Snapshot
from tests.corpus.grids import column_values, forbidden_changes, grid_of
from tests.helpers import SCHEMA, SEED_DAY, at, request

NOW = at("01.12.2026 15:10")
LONG = "Очень длинное описание. " * 417  # 10,008 characters
assert len(LONG) >= 10_000
_SEEDED = {
    key: len(rows)
    for key in ("schedule", "calendar")
    for title, rows in plan_init(Snapshot(tabs={}), {}, today=SEED_DAY).seed_rows
    if title == SCHEMA[key].title
}


@dataclass(frozen=True)
class Case:
    """One bad cell (or bad row): the row's fields, and a word of the note it must get.

    `note=None` means the value is acceptable: the row must get no note at all.
    """

    id: str
    fields: dict[str, Any]
    note: str | None


def req(case_id: str, note: str | None, **fields: Any) -> Case:
    """A requests-tab case: a sensible request with these fields overridden (None = blank)."""
    return Case(case_id, request(**fields), note)


GROUPS: dict[str, tuple[str, list[Case]]] = {
    "dates": (
        "requests",
        [
            req("impossible_date", "такой даты нет", received_at="31.02.2026"),
            req("word_yesterday", "нужна сама дата", received_at="вчера"),
            req("word_phrase", "нужна сама дата", resolved_at="позавчера вечером"),
            req("month_13", "такой даты нет", received_at="12.13.2026"),
            req("no_year", "не указан год", received_at="1.12"),
            req("year_1995", "год 1995", received_at="01.12.1995"),
            req("hour_25", "такого времени нет", received_at="01.12.2026 25:00"),
            req("bool_as_date", "это не дата", received_at=True),
            # A number in a date column: read as a number, or (workbook: the column has the
            # date format init gives it) as a date in 1900 — either way the person is asked
            # for a real date.
            req("small_number_as_date", "Введите дату как", received_at=42),
            req("negative_number_as_date", "Введите дату как", resolved_at=-5),
            req("misspelt_month", "не удалось понять месяц", received_at="1 дикабря 2026"),
            req("resolved_today_word", "нужна сама дата", status="Решено", resolved_at="сегодня"),
            req("iso_date_ok", None, received_at="2026-11-30 14:30"),
            req("word_month_ok", None, received_at="30 ноября 2026 14:30"),
            req("spaces_around_date_ok", None, received_at="  30.11.2026 14:30\u00a0"),
            req("slashes_ok", None, received_at="30/11/2026"),
        ],
    ),
    "enums": (
        "requests",
        [
            req("status_misspelt", "Возможно, «Решено»", status="Решен"),
            req("status_latin_lookalikes", "латинские буквы", status="Peшено"),
            req("status_spaces_ok", None, status="  в работе "),
            req("status_nbsp_ok", None, status="\u00a0Новое\u00a0"),
            req("status_upper_ok", None, status="В РАБОТЕ"),
            req("role_latin_e", "латинские буквы", role="Учитeль"),
            req("role_lower_ok", None, role="учитель"),
            req("role_number", "нет такого значения", role=5),
            req("topic_misspelt", "«Текущие отметки»", topic="Текущие отметкы"),
            req("topic_latin_o", "латинские буквы", topic="Текущие oтметки"),
            req("topic_number", "нет такого значения", topic=123),
            req("topic_boolean", "нет такого значения", topic=True),
            req("topic_blank", "Не заполнено: Тема", topic=None),
            req("channel_foreign", "нет такого значения", channel="Telegram"),
        ],
    ),
    "text": (
        "requests",
        [
            req("number_as_requester", None, requester=12345),
            req("boolean_as_requester", None, requester=False),
            req("float_as_description", None, description=3.14),
            req("ten_thousand_chars", None, description=LONG),
            req("emoji_description", None, description="Не открывается 😀🔥👩‍🏫"),
            req("emoji_requester", None, requester="Иванова 👩‍🏫"),
            req("formula_sum", None, description="=1+1"),
            req("formula_link", None, description='=HYPERLINK("http://example.com","ссылка")'),
            req("formula_import", None, description='=IMPORTXML("http://x.ru","//a")'),
            req("formula_dde", None, requester="=cmd|' /C calc'!A0"),
            req("phone_plus", None, description="+7 999 123-45-67"),
            req("minus_number_text", None, description="-5"),
            req("at_function", None, description="@SUM(A1:A3)"),
            req("error_literal", None, description="#N/A"),
            req("leading_zeros_text", None, description="0012"),
            req("spaces_around", None, requester="  Иванова Мария  "),
            req("nbsp_only_requester", "Не заполнено: Заявитель", requester="\u00a0"),
            req("blank_requester", "Не заполнено: Заявитель", requester=None),
            req("latin_a_in_name", None, requester="Ивaнова Мария"),
            req("line_breaks", None, description="строка 1\nстрока 2\tи таб"),
            req("number_as_assignee", None, assignee=7),
        ],
    ),
    "classes": (
        "requests",
        [
            req("class_12", "класса с номером 12", class_name="12Б"),
            req("class_number_only", "не хватает буквы", class_name=5),
            req("class_latin_a", "латинские буквы", class_name="5a"),
            req("class_boolean", "не похоже", class_name=True),
            req("class_quoted_ok", None, class_name="5 «А»"),
            req("class_dash_ok", None, class_name="11-Б"),
        ],
    ),
    "numbers": (
        "requests",
        [
            req("number_word", "«abc»", number="abc"),
            req("number_fraction", "нужно целое число", number=5.5),
            req("number_negative", "больше нуля", number=-3),
            req("number_boolean", "это не число", number=True),
            req("number_huge", "число", number=1e20),
            req("number_typed_with_sign", None, number="№12"),
            req("number_typed_by_hand", None, number=40),
            req("number_leading_zeros", None, number="00123"),
            req("number_duplicate_a", "повторяется", number=50),
            req("number_duplicate_b", "повторяется", number=50),
            Case(
                "number_only",
                {"number": 60},
                "Не заполнено",
            ),
        ],
    ),
    "consent": (
        "consent",
        [
            Case("consent_class_12", {"class_name": "12Б", "pupil": "Ученик А"}, "номером 12"),
            Case("consent_no_pupil", {"class_name": "5А", "parent": "Родитель Б"}, "Не заполнено"),
            Case(
                "consent_impossible_date",
                {"class_name": "5А", "pupil": "Ученик В", "issued_on": "31.02.2026"},
                "такой даты нет",
            ),
            Case(
                "consent_application_misspelt",
                {"class_name": "5А", "pupil": "Ученик Г", "application": "Подан"},
                "Возможно",
            ),
            Case(
                "consent_pd_unknown",
                {"class_name": "5А", "pupil": "Ученик Д", "pd_consent": "Да"},
                "нет такого значения",
            ),
            Case(
                "consent_date_word",
                {"class_name": "5А", "pupil": "Ученик Е", "submitted_on": "вчера"},
                "нужна сама дата",
            ),
            Case(
                "consent_relation_latin",
                {"class_name": "5А", "pupil": "Ученик Ж", "relation": "Mать"},
                "латинские буквы",
            ),
        ],
    ),
    "calendar": (
        "calendar",
        [
            Case("calendar_word", {"date_from": "вчера", "kind": "Праздник"}, "нужна сама дата"),
            Case(
                "calendar_unknown_kind",
                {"date_from": "10.02.2027", "kind": "Отпуск"},
                "нет такого значения",
            ),
            Case(
                "calendar_inverted",
                {"date_from": "10.03.2027", "date_to": "05.03.2027", "kind": "Нет консультаций"},
                "поменяйте даты местами",
            ),
            Case(
                "calendar_hour_25",
                {"date_from": "12.04.2027", "kind": "Доп. консультация", "time_from": "25:00"},
                "такого времени нет",
            ),
            Case(
                "calendar_impossible_date",
                {"date_from": "31.02.2027", "kind": "Нет консультаций"},
                "такой даты нет",
            ),
        ],
    ),
    # Tabs without a «Проверка» column: the note goes to the run's notes (console and log).
    "schedule": (
        "schedule",
        [
            Case(
                "schedule_hour_25", {"weekday": "Суббота", "start": "25:00", "end": "16:00"}, "25"
            ),
            Case(
                "schedule_weekday_typo",
                {"weekday": "Субота", "start": "10:00", "end": "11:00"},
                "Субота",
            ),
        ],
    ),
    "staff": (
        "staff",
        [
            Case(
                "staff_email_half", {"full_name": "Иванова М.П.", "email": "ivanova@"}, "ivanova@"
            ),
            Case("staff_class_12", {"full_name": "Петров П.П.", "class_led": "12Б"}, "12Б"),
        ],
    ),
}

CELL_CASES = sum(len(cases) for _, cases in GROUPS.values())


def _case_row(key: str, position: int) -> int:
    return 2 + _SEEDED.get(key, 0) + position


@pytest.mark.parametrize("group", list(GROUPS))
def test_bad_cells_are_flagged_and_kept_as_typed(make_sheet, group: str) -> None:
    key, cases = GROUPS[group]
    sheet = make_sheet({key: [c.fields for c in cases]})
    before = grid_of(sheet)
    report = sync(sheet.reopen(), sheet.settings, now=NOW)
    after = grid_of(sheet)
    assert forbidden_changes(before, after) == []

    tab = SCHEMA[key]
    failures = []
    if "check" in tab.fields:
        checks = column_values(after, tab.title, "check")
        for i, case in enumerate(cases):
            note = checks.get(_case_row(key, i))
            if case.note is None and note is not None:
                failures.append(f"{case.id}: unexpected note {note!r}")
            elif case.note is not None and case.note not in str(note):
                failures.append(f"{case.id}: {case.note!r} not in {note!r}")
    else:
        notes = "\n".join(report.notes)
        for i, case in enumerate(cases):
            line = next((n for n in report.notes if f"строка {_case_row(key, i)}" in n), "")
            if tab.title not in line or case.note not in line:
                failures.append(f"{case.id}: {case.note!r} not in the notes:\n{notes}")
    assert failures == []
    # Flagged once, and then left alone: the next run writes nothing.
    assert not sync(sheet.reopen(), sheet.settings, now=NOW).wrote


def test_numbers_go_to_the_right_rows_despite_bad_ones(make_sheet) -> None:
    key, cases = GROUPS["numbers"]
    sheet = make_sheet({key: [c.fields for c in cases]})
    sync(sheet.reopen(), sheet.settings, now=NOW)
    numbers = column_values(grid_of(sheet), SCHEMA[key].title, "number")
    typed = {_case_row(key, i): c.fields.get("number") for i, c in enumerate(cases)}
    # Every row kept what was typed; nothing was given a number, as every row had one.
    assert numbers == {row: value for row, value in typed.items()}


# --- sheet shapes ---------------------------------------------------------------------------


class Editor:
    """Structural edits staff make, on either store."""

    def __init__(self, sheet: Any) -> None:
        self.sheet = sheet

    def _book(self) -> openpyxl.Workbook:
        return openpyxl.load_workbook(self.sheet.settings.workbook_path)

    def set_cell(self, title: str, row: int, col: int, value: Any) -> None:
        if self.sheet.kind == "workbook":
            book = self._book()
            book[title].cell(row=row, column=col).value = value
            book.save(self.sheet.settings.workbook_path)
        else:
            self.sheet.server.set_cell(self.sheet.spreadsheet_id, title, row, col, value)

    def delete_tab(self, title: str) -> None:
        if self.sheet.kind == "workbook":
            book = self._book()
            del book[title]
            book.save(self.sheet.settings.workbook_path)
        else:
            book = self.sheet.server.book(self.sheet.spreadsheet_id)
            book.sheets = [s for s in book.sheets if s.title != title]

    def rename_tab(self, title: str, new: str) -> None:
        if self.sheet.kind == "workbook":
            book = self._book()
            book[title].title = new
            book.save(self.sheet.settings.workbook_path)
        else:
            self.sheet.server.book(self.sheet.spreadsheet_id).sheet(title).title = new

    def add_tab(self, title: str, rows: list[list[Any]]) -> None:
        if self.sheet.kind == "workbook":
            book = self._book()
            ws = book.create_sheet(title)
            for row in rows:
                ws.append(row)
            book.save(self.sheet.settings.workbook_path)
        else:
            from tests.sheets_api.server import Sheet as ApiSheet

            book = self.sheet.server.book(self.sheet.spreadsheet_id)
            book.sheets.append(ApiSheet(987654, title))
            for r, row in enumerate(rows, start=1):
                for c, value in enumerate(row, start=1):
                    self.set_cell(title, r, c, value)

    def insert_row(self, title: str, at_row: int, values: list[Any]) -> None:
        if self.sheet.kind == "workbook":
            book = self._book()
            ws = book[title]
            ws.insert_rows(at_row)
            for c, value in enumerate(values, start=1):
                ws.cell(row=at_row, column=c).value = value
            book.save(self.sheet.settings.workbook_path)
        else:
            self.sheet.server.insert_rows(self.sheet.spreadsheet_id, title, at_row, [values])

    def clear_tab(self, title: str) -> None:
        if self.sheet.kind == "workbook":
            book = self._book()
            ws = book[title]
            ws.delete_rows(1, ws.max_row)
            book.save(self.sheet.settings.workbook_path)
        else:
            self.sheet.server.book(self.sheet.spreadsheet_id).sheet(title).rows = []

    def merge(self, title: str, cells: str) -> None:
        book = self._book()
        book[title].merge_cells(cells)
        book.save(self.sheet.settings.workbook_path)


REQ = SCHEMA["requests"]


def _col(field: str, key: str = "requests") -> int:
    return SCHEMA[key].fields.index(field) + 1


@dataclass(frozen=True)
class Shape:
    """A sheet shape: the edit, then either words of the StructureError or None (sync runs)."""

    id: str
    edit: Callable[[Editor], None]
    error: tuple[str, ...] | None
    workbook_only: bool = False


SHAPES = [
    Shape(
        "renamed_header",
        lambda e: e.set_cell(REQ.title, 1, _col("topic"), "Тема обращения"),
        (REQ.title, "«Тема»", "первой строке"),
    ),
    Shape(
        "header_retyped_slightly",
        lambda e: e.set_cell(REQ.title, 1, _col("description"), "Описания"),
        (REQ.title, "«Описание»", "переименовали"),
    ),
    Shape(
        "header_with_latin_letters",
        lambda e: e.set_cell(REQ.title, 1, _col("status"), "Cтатус"),
        (REQ.title, "«Статус»", "латинские буквы"),
    ),
    Shape(
        "duplicated_header",
        lambda e: e.set_cell(REQ.title, 1, len(REQ.columns) + 2, "Статус"),
        (REQ.title, "«Статус»", "дважды"),
    ),
    Shape(
        "blank_required_header",
        lambda e: e.set_cell(REQ.title, 1, _col("requester"), None),
        (REQ.title, "«Заявитель»"),
    ),
    Shape(
        "missing_consent_tab",
        lambda e: e.delete_tab(SCHEMA["consent"].title),
        (SCHEMA["consent"].title, "нет листа"),
    ),
    Shape(
        "missing_requests_tab",
        lambda e: e.delete_tab(REQ.title),
        (REQ.title, "нет листа"),
    ),
    Shape(
        "tab_renamed_with_a_space",
        lambda e: e.rename_tab(REQ.title, REQ.title + " "),
        (REQ.title, "нет листа"),
    ),
    Shape(
        "headers_pushed_down_by_a_title_row",
        lambda e: e.insert_row(REQ.title, 1, ["Журнал обращений 2026/27"]),
        (REQ.title, "№"),
    ),
    Shape(
        "empty_requests_tab",
        lambda e: e.clear_tab(REQ.title),
        (REQ.title, "нет заголовков"),
    ),
    Shape(
        "calendar_header_renamed",
        lambda e: e.set_cell(SCHEMA["calendar"].title, 1, _col("kind", "calendar"), "Вид"),
        (SCHEMA["calendar"].title, "«Тип»"),
    ),
    Shape(
        "merged_header_cells",
        lambda e: e.merge(REQ.title, "H1:I1"),
        (REQ.title, "«Ответственный»"),
        workbook_only=True,
    ),
    Shape(
        "merged_derived_cells",
        lambda e: e.merge(REQ.title, "L2:L3"),
        (REQ.title, "объединена"),
        workbook_only=True,
    ),
    Shape("extra_tab", lambda e: e.add_tab("Мои заметки", [["Заметка"], ["=1+1"], [5]]), None),
    Shape(
        "extra_column",
        lambda e: (
            e.set_cell(REQ.title, 1, len(REQ.columns) + 1, "Примечание"),
            e.set_cell(REQ.title, 2, len(REQ.columns) + 1, "позвонить"),
        ),
        None,
    ),
    Shape(
        "header_with_spaces_and_case",
        lambda e: e.set_cell(REQ.title, 1, _col("status"), " статус\u00a0"),
        None,
    ),
    Shape(
        "blank_header_over_an_extra_column",
        lambda e: e.set_cell(REQ.title, 3, len(REQ.columns) + 3, "без заголовка"),
        None,
    ),
    Shape(
        "blank_rows_in_the_middle",
        lambda e: (e.insert_row(REQ.title, 3, []), e.insert_row(REQ.title, 3, [])),
        None,
    ),
]


@pytest.mark.parametrize("shape", SHAPES, ids=[s.id for s in SHAPES])
def test_sheet_shapes(make_sheet, shape: Shape) -> None:
    sheet = make_sheet({"requests": [request(requester="Первый"), request(requester="Второй")]})
    if shape.workbook_only and sheet.kind != "workbook":
        pytest.skip("a workbook's own shape")
    shape.edit(Editor(sheet))
    before = grid_of(sheet)
    if shape.error is not None:
        with pytest.raises(StructureError) as err:
            sync(sheet.reopen(), sheet.settings, now=NOW)
        for word in shape.error:
            assert word in str(err.value)
        assert grid_of(sheet) == before  # stopped before any write
        return
    report = sync(sheet.reopen(), sheet.settings, now=NOW)
    after = grid_of(sheet)
    assert report.wrote and report.new_numbers == 2
    assert forbidden_changes(before, after) == []
    numbers = column_values(after, REQ.title, "number")
    names = column_values(after, REQ.title, "requester")
    assert {names[r]: n for r, n in numbers.items()} == {"Первый": 1, "Второй": 2}
    assert not sync(sheet.reopen(), sheet.settings, now=NOW).wrote


def test_corpus_size() -> None:
    # The figure quoted for the corpus: cell cases plus sheet shapes.
    assert CELL_CASES + len(SHAPES) >= 60
