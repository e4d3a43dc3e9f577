"""A raw tab into a typed frame: columns found by header, structure errors, notes per row."""

from __future__ import annotations

import datetime as dt

import pytest

from journaldesk.errors import StructureError
from journaldesk.sheet.frames import column_letter, find_headers, parse_tab
from journaldesk.sheet.schema import load_schema
from journaldesk.store.base import TabData

SCHEMA = load_schema()
REQ = SCHEMA["requests"]
SCHEDULE = SCHEMA["schedule"]


def request_row(**values: object) -> list[object]:
    return [values.get(field) for field in REQ.fields]


def tab_data(rows: list[list[object]], tab=REQ) -> TabData:
    return TabData(title=tab.title, rows=[list(tab.headers), *rows])


def test_column_letters():
    assert [column_letter(n) for n in (1, 3, 6, 26, 27, 52, 703)] == [
        "A",
        "C",
        "F",
        "Z",
        "AA",
        "AZ",
        "AAA",
    ]


# --- structure ---------------------------------------------------------------------------------


def test_missing_tab_is_a_structure_error_word_for_word():
    with pytest.raises(StructureError) as err:
        parse_tab(None, REQ)
    assert str(err.value) == (
        "В таблице нет листа «Обращения». Создайте его командой `journaldesk init` "
        "или восстановите название листа."
    )


def test_missing_header_names_the_tab_and_the_header():
    headers = [h for h in REQ.headers if h != REQ.header("topic")]
    with pytest.raises(StructureError) as err:
        parse_tab(TabData(REQ.title, [headers]), REQ)
    assert str(err.value) == (
        "На листе «Обращения» нет столбца «Тема». "
        "Заголовки должны стоять в первой строке листа — верните точное название."
    )


def test_missing_optional_header_is_an_error_too():
    headers = [h for h in REQ.headers if h != REQ.header("consultation")]
    with pytest.raises(StructureError, match="нет столбца «Консультация»"):
        parse_tab(TabData(REQ.title, [headers]), REQ)


def test_header_with_latin_letters_is_pointed_out():
    headers = list(REQ.headers)
    headers[6] = "Teмa"  # Latin T, e, a
    with pytest.raises(StructureError) as err:
        find_headers(headers, REQ)
    assert str(err.value) == (
        "На листе «Обращения» нет столбца «Тема». Столбец G «Teмa» похож на «Тема»: в названии "
        "есть латинские буквы вместо русских. Заголовки должны стоять в первой строке листа — "
        "верните точное название."
    )


def test_renamed_header_is_suggested():
    headers = list(REQ.headers)
    headers[1] = "Дата обращений"
    with pytest.raises(StructureError) as err:
        find_headers(headers, REQ)
    assert "нет столбца «Дата обращения»" in str(err.value)
    assert (
        "Столбец B «Дата обращений» похож на «Дата обращения» — возможно, его переименовали."
        in (str(err.value))
    )


def test_several_missing_headers_are_named_together():
    headers = [h for h in REQ.headers if h not in (REQ.header("topic"), REQ.header("status"))]
    with pytest.raises(StructureError, match="нет столбцов «Тема», «Статус»"):
        find_headers(headers, REQ)


def test_empty_header_row_says_to_fill_it():
    with pytest.raises(StructureError) as err:
        parse_tab(TabData(SCHEDULE.title, []), SCHEDULE)
    assert str(err.value).startswith("На листе «График» в первой строке нет заголовков столбцов.")
    assert "День недели, С, До, Кабинет, Консультант" in str(err.value)


def test_duplicate_header_names_both_columns():
    headers = [*REQ.headers[:5], "Статус", *REQ.headers[5:]]  # an extra «Статус» in F
    assert headers.index("Статус") == 5
    with pytest.raises(StructureError) as err:
        find_headers(headers, REQ)
    assert str(err.value) == (
        "На листе «Обращения» столбец «Статус» встречается дважды: в столбцах F и K. "
        "Оставьте один такой столбец, а другие переименуйте или удалите."
    )


def test_headers_match_despite_spaces_nbsp_and_case():
    headers = [f"  {h.upper()}\xa0" for h in REQ.headers]
    headers[1] = "Дата\xa0\xa0обращения"
    assert find_headers(headers, REQ) == {f: i for i, f in enumerate(REQ.fields, start=1)}


def test_reordered_extra_and_blank_header_columns_work():
    order = list(reversed(SCHEDULE.fields))
    header = [None, "Заметки завуча", *[SCHEDULE.header(f) for f in order], "", "Ещё"]
    # reversed order: consultant, room, end, start, weekday
    rows = [header, [None, "напомнить", "Иванова", "12", "16:00", "14:00", "Пятница", None, "x"]]
    parsed = parse_tab(TabData(SCHEDULE.title, rows), SCHEDULE)
    assert parsed.col_index == {f: 3 + order.index(f) for f in SCHEDULE.fields}
    assert parsed.frame.loc[2].to_dict() == {
        "weekday": "Пятница",
        "start": dt.time(14, 0),
        "end": dt.time(16, 0),
        "room": "12",
        "consultant": "Иванова",
    }
    assert parsed.problems == {}


# --- rows --------------------------------------------------------------------------------------


def test_rows_are_typed_and_indexed_by_sheet_row():
    rows = [
        request_row(
            number="7",
            received_at="19.08.2021 14:30",
            requester="Иванова М. П.",
            topic="Текущие отметки",
            status="В работе",
        ),
        [],  # blank row in the middle: skipped
        [None, "", "  "],  # blank too
        request_row(number=8, received_at=44427.5, requester="Петров", topic="Текущие отметки"),
    ]
    parsed = parse_tab(tab_data(rows), REQ)
    assert list(parsed.frame.index) == [2, 5]
    assert list(parsed.frame.columns) == REQ.fields
    assert parsed.frame.at[2, "number"] == 7
    assert parsed.frame.at[2, "received_at"] == dt.datetime(2021, 8, 19, 14, 30)
    assert parsed.frame.at[5, "received_at"] == dt.datetime(2021, 8, 19, 12, 0)
    assert parsed.frame.at[5, "status"] is None
    assert parsed.raw.at[2, "number"] == "7"  # the raw frame keeps what was typed
    assert list(parsed.raw.index) == [2, 5]
    assert parsed.last_row == 5
    assert parsed.problems == {}


def test_cell_problems_and_required_fields_are_noted_per_row():
    rows = [
        request_row(
            received_at="31.02.2026", requester="Иванова", topic="Текущие отметки", status="Решен"
        ),
        request_row(description="Не открывается журнал"),
        request_row(requester="Петров", topic="непонятно"),
    ]
    parsed = parse_tab(tab_data(rows), REQ)
    assert parsed.problems == {
        2: [
            "Дата обращения: «31.02.2026» — такой даты нет. "
            "Введите дату как ДД.ММ.ГГГГ или ДД.ММ.ГГГГ ЧЧ:ММ",
            "Статус: «Решен» — нет такого значения. Возможно, «Решено»? "
            "Допустимые значения: Новое, В работе, Ждём заявителя, "
            "Передано в поддержку ЭлЖур, Решено, Отклонено",
        ],
        3: ["Не заполнено: Заявитель, Тема"],
        4: [parsed.problems[4][0]],  # a bad topic is its note, not also «Не заполнено»
    }
    assert parsed.problems[4][0].startswith("Тема: «непонятно» — нет такого значения.")
    # the cells stay as typed in the raw frame
    assert parsed.raw.at[2, "received_at"] == "31.02.2026"
    assert parsed.frame.at[2, "received_at"] is None


def test_whitespace_only_row_is_blank_and_not_required():
    parsed = parse_tab(tab_data([request_row(requester=" ", topic="\xa0")]), REQ)
    assert parsed.frame.empty and parsed.problems == {}
    assert parsed.last_row == 1


def test_ragged_rows_and_a_header_only_tab():
    parsed = parse_tab(tab_data([["1", "19.08.2021", "Иванова"]]), REQ)
    assert parsed.frame.at[2, "requester"] == "Иванова"
    assert parsed.frame.at[2, "topic"] is None
    assert parsed.problems == {2: ["Не заполнено: Тема"]}
    empty = parse_tab(tab_data([]), REQ)
    assert empty.frame.empty and list(empty.frame.columns) == REQ.fields
    assert empty.last_row == 1


def test_last_row_counts_staff_notes_in_extra_columns():
    rows = [[*REQ.headers, "Заметки"], request_row(requester="А", topic="Текущие отметки")]
    rows += [[], [None] * len(REQ.fields) + ["не забыть"]]
    parsed = parse_tab(TabData(REQ.title, rows), REQ)
    assert list(parsed.frame.index) == [2]
    assert parsed.last_row == 4


# --- performance -------------------------------------------------------------------------------


def test_hundred_thousand_rows_parse_in_seconds():
    topics = REQ.col("topic").values
    base = dt.datetime(2025, 9, 1, 8, 0)
    rows = []
    for i in range(100_000):
        moment = base + dt.timedelta(minutes=37 * i)
        serial = (moment - dt.datetime(1899, 12, 30)).total_seconds() / 86400
        rows.append(
            [
                i + 1,
                serial,
                f"Иванова {i % 500}",
                "Учитель",
                f"{i % 11 + 1}А",
                "Лично",
                topics[i % len(topics)],
                f"Ошибка {i}",
                "Петров",
                "Новое",
                serial if i % 3 else None,
                serial,
                "В срок",
                "",
                "",
            ]
        )
    rows[10] = ["x", "вчера", "", "", "12А", "", "", "", "", "Решен"]
    parsed = parse_tab(tab_data(rows), REQ, sheet_tz="Europe/Simferopol")
    assert len(parsed.frame) == 100_000
    assert parsed.frame.at[2, "received_at"] == base
    assert len(parsed.problems[12]) == 5
