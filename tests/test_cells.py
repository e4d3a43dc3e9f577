"""What people type into cells: accepted forms give exact values, the rest give Russian notes."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journaldesk.sheet.cells import Parsed, parse_cell, parse_column, quote_raw
from journaldesk.sheet.schema import load_schema
from tests.helpers import examples

SCHEMA = load_schema()
REQ = SCHEMA["requests"]
RECEIVED = REQ.col("received_at")  # datetime
NUMBER = REQ.col("number")  # int
STATUS = REQ.col("status")  # enum
TOPIC = REQ.col("topic")  # enum
CLASS = REQ.col("class_name")  # class
DESCRIPTION = REQ.col("description")  # text
DATE_FROM = SCHEMA["calendar"].col("date_from")  # date
START = SCHEMA["schedule"].col("start")  # time
EMAIL = SCHEMA["staff"].col("email")  # email
SHARE = SCHEMA["summary"].col("in_time_share")  # number

EXPECT_DT = "Введите дату как ДД.ММ.ГГГГ или ДД.ММ.ГГГГ ЧЧ:ММ"


def ok(value: object) -> Parsed:
    return Parsed(value, None)


# --- empty cells -------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [None, "", "   ", "\xa0", "\t\n", float("nan"), pd.NA, pd.NaT])
@pytest.mark.parametrize("column", [c for tab in SCHEMA.tabs.values() for c in tab.columns])
def test_empty_cells_are_empty_without_a_note(raw, column):
    assert parse_cell(raw, column) == Parsed(None, None)


# --- dates and moments -------------------------------------------------------------------------

D = dt.datetime(2021, 8, 19)
DT = dt.datetime(2021, 8, 19, 14, 30)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("19.08.2021", D),
        ("19.08.21", D),
        ("19.8.2021", D),
        ("19.08.2021 14:30", DT),
        ("19.08.21 14:30", DT),
        ("19.08.2021 9:05", dt.datetime(2021, 8, 19, 9, 5)),
        ("19.08.2021 14.30", DT),
        ("2021-08-19", D),
        ("2021-08-19 14:30", DT),
        ("2021-08-19T14:30", DT),
        ("2021-08-19 14:30:00", DT),
        ("19.08.2021г.", D),
        ("19.08.2021 г.", D),
        ("19.08.2021 г. 14:30", DT),
        ("\xa019.08.2021\xa0\xa014:30 ", DT),
        ("  19.08.2021  ", D),
        ("19/08/2021", D),
        ("19 августа 2021", D),
        ("1 мая 2026 г.", dt.datetime(2026, 5, 1)),
        (DT, DT),
        (dt.date(2021, 8, 19), D),  # a date in a datetime column is midnight, no note
        (dt.datetime(2021, 8, 19, 14, 29, 59, 999_999), DT),  # float noise from a workbook
        # Google serial numbers: days since 1899-12-30, the fraction is the time
        (44427, D),
        (44427.0, D),
        (44427.604166666664, DT),
        (44427 + (14 * 60 + 30) / 1440, DT),
    ],
)
def test_datetime_column_accepts(raw, expected):
    result = parse_cell(raw, RECEIVED)
    assert result == ok(expected)
    assert type(result.value) is dt.datetime and result.value.tzinfo is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("19.08.2021", dt.date(2021, 8, 19)),
        ("19.08.2021 14:30", dt.date(2021, 8, 19)),
        (dt.datetime(2021, 8, 19), dt.date(2021, 8, 19)),
        (dt.date(2021, 8, 19), dt.date(2021, 8, 19)),
        (44427, dt.date(2021, 8, 19)),
        (44427.5, dt.date(2021, 8, 19)),
    ],
)
def test_date_column_gives_dates(raw, expected):
    result = parse_cell(raw, DATE_FROM)
    assert result == ok(expected)
    assert type(result.value) is dt.date


@pytest.mark.parametrize(
    "raw",
    [
        pd.Timestamp("2021-08-19 14:30"),
        np.datetime64("2021-08-19T14:30"),
        np.float64(44427 + 14.5 / 24),
    ],
)
def test_numpy_and_pandas_scalars_read_as_plain_values(raw):
    assert parse_cell(raw, RECEIVED) == ok(DT)
    assert parse_column([raw], RECEIVED) == ([DT], [None])


def test_aware_moment_is_shown_in_the_sheet_zone():
    aware = dt.datetime(2021, 8, 19, 11, 30, tzinfo=dt.UTC)
    assert parse_cell(aware, RECEIVED, sheet_tz="Europe/Moscow") == ok(DT)


def test_impossible_date_note_word_for_word():
    assert parse_cell("31.02.2026", RECEIVED) == Parsed(
        None,
        "Дата обращения: «31.02.2026» — такой даты нет. "
        "Введите дату как ДД.ММ.ГГГГ или ДД.ММ.ГГГГ ЧЧ:ММ",
    )


def test_date_column_note_asks_for_a_date_only():
    assert parse_cell("31.02.2026", DATE_FROM).problem == (
        "С: «31.02.2026» — такой даты нет. Введите дату как ДД.ММ.ГГГГ"
    )


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        ("вчера", "нужна сама дата, а не слово"),
        ("завтра", "нужна сама дата, а не слово"),
        ("сегодня утром", "нужна сама дата, а не слово"),
        ("19.08", "не указан год"),
        ("скоро", "не удалось понять дату"),
        ("19.08.2021 25:00", "такого времени нет"),
        ("19.13.2021", "такой даты нет"),
        ("19.08.1999", "год 1999 не подходит, нужен год от 2000 до 2100"),
        ("19.08.2101", "год 2101 не подходит, нужен год от 2000 до 2100"),
        (True, "это не дата"),
        (False, "это не дата"),
        (12.5, "это число, а не дата"),
        (float("inf"), "это число, а не дата"),
        (dt.time(14, 0), "здесь только время, а нужна дата"),
        (dt.datetime(1999, 12, 31, 10, 0), "год 1999 не подходит, нужен год от 2000 до 2100"),
    ],
)
def test_datetime_column_rejects(raw, what):
    result = parse_cell(raw, RECEIVED)
    assert result.value is None
    assert result.problem == f"Дата обращения: «{quote_raw(raw)}» — {what}. {EXPECT_DT}"


def test_notes_quote_what_people_saw():
    assert parse_cell(True, RECEIVED).problem.startswith("Дата обращения: «ИСТИНА» —")
    assert parse_cell(34700, RECEIVED).problem.startswith("Дата обращения: «01.01.1995» —")


def test_long_input_is_shortened_in_the_note():
    typed = "позвонила в понедельник, потом ещё раз во вторник после уроков"
    problem = parse_cell(typed, RECEIVED).problem
    assert "«позвонила в понедельник, потом ещё раз…» —" in problem
    assert typed not in problem


# --- times -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("14:00", dt.time(14, 0)),
        ("14.00", dt.time(14, 0)),
        ("14-00", dt.time(14, 0)),
        ("9:05", dt.time(9, 5)),
        (" 15:20 ", dt.time(15, 20)),
        ("14", dt.time(14, 0)),
        (dt.time(15, 0), dt.time(15, 0)),
        (0.5, dt.time(12, 0)),
        ((15 * 60 + 20) / 1440, dt.time(15, 20)),
        (14, dt.time(14, 0)),
        (dt.timedelta(hours=16), dt.time(16, 0)),
        (dt.datetime(1899, 12, 30, 14, 0), dt.time(14, 0)),
    ],
)
def test_time_column_accepts(raw, expected):
    assert parse_cell(raw, START) == ok(expected)


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        ("9:5", "не удалось понять время"),
        ("25:00", "такого времени нет"),
        ("14:00-16:00", "не удалось понять время"),
        ("после обеда", "не удалось понять время"),
        (True, "это не время"),
        (30, "это число, а не время"),
        (dt.datetime(2021, 8, 19, 14, 0), "здесь дата, а нужно только время"),
    ],
)
def test_time_column_rejects(raw, what):
    assert parse_cell(raw, START) == Parsed(
        None, f"С: «{quote_raw(raw)}» — {what}. Введите время как ЧЧ:ММ, например 14:30"
    )


# --- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(12, 12), (12.0, 12), ("12", 12), ("00123", 123), (" 1 000 ", 1000), ("№ 17", 17), ("7,0", 7)],
)
def test_int_column_accepts(raw, expected):
    result = parse_cell(raw, NUMBER)
    assert result == ok(expected)
    assert type(result.value) is int


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        ("12,5", "нужно целое число"),
        (12.5, "нужно целое число"),
        ("двенадцать", "это не число"),
        (True, "это не число"),
        ("1" * 40, "слишком большое число"),
        (dt.datetime(2021, 8, 19), "это не число"),
    ],
)
def test_int_column_rejects(raw, what):
    assert parse_cell(raw, NUMBER) == Parsed(
        None, f"№: «{quote_raw(raw)}» — {what}. Введите целое число, например 12"
    )


def test_int_column_survives_thousands_of_zeros():
    # Python refuses int() on strings past 4300 digits; a cell must still just parse.
    assert parse_cell("0" * 5000 + "7", NUMBER) == ok(7)


@pytest.mark.parametrize(
    ("raw", "expected"), [(85, 85.0), (85.5, 85.5), ("85,5", 85.5), ("1 234.5", 1234.5)]
)
def test_number_column_accepts(raw, expected):
    assert parse_cell(raw, SHARE) == ok(expected)


def test_number_column_rejects_words():
    assert parse_cell("много", SHARE).problem == (
        "Решено в срок, %: «много» — это не число. Введите число, например 12 или 12,5"
    )


# --- allowed values ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Решено", "Решено"),
        ("решено", "Решено"),
        ("  В\xa0работе ", "В работе"),
        ("в  работе", "В работе"),
        ("Ждем заявителя", "Ждём заявителя"),
    ],
)
def test_enum_accepts_spacing_case_and_yo(raw, expected):
    assert parse_cell(raw, STATUS) == ok(expected)


def test_enum_accepts_other_quote_marks():
    assert parse_cell('Посещаемость в "АРМ класс"', TOPIC) == ok("Посещаемость в «АРМ класс»")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("P\u0435\u0448\u0435\u043d\u043e", "Решено"),  # Latin P
        ("Pe\u0448e\u043do", "Решено"),  # Latin P, e, e, o
        ("Ho\u0432oe", "Новое"),  # Latin H, o, o, e
        ("B работе", "В работе"),  # Latin B
    ],
)
def test_enum_lookalike_latin_letters_are_read_with_a_note(raw, expected):
    result = parse_cell(raw, STATUS)
    assert result.value == expected
    assert result.problem == (
        f"Статус: «{raw}» — в записи есть латинские буквы, похожие на русские. "
        f"Прочитано как «{expected}». Перепечатайте значение русскими буквами"
    )


def test_enum_suggests_the_nearest_value_word_for_word():
    assert parse_cell("Решен", STATUS) == Parsed(
        None,
        "Статус: «Решен» — нет такого значения. Возможно, «Решено»? "
        "Допустимые значения: Новое, В работе, Ждём заявителя, "
        "Передано в поддержку ЭлЖур, Решено, Отклонено",
    )


def test_enum_without_a_near_value_lists_the_allowed_ones():
    assert parse_cell("xyz", STATUS) == Parsed(
        None,
        "Статус: «xyz» — нет такого значения. "
        "Допустимые значения: Новое, В работе, Ждём заявителя, "
        "Передано в поддержку ЭлЖур, Решено, Отклонено",
    )


def test_enum_note_uses_the_column_header():
    problem = parse_cell("Утерян пароль", TOPIC).problem
    assert problem.startswith("Тема: «Утерян пароль» — нет такого значения.")
    assert "Возможно, «Утерян логин или пароль»?" in problem


# --- classes -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("5А", "5А"), ("5а", "5А"), ("5 А", "5А"), ("5-А", "5А"), ("11б", "11Б"), ("«7В»", "7В")],
)
def test_class_accepts(raw, expected):
    assert parse_cell(raw, CLASS) == ok(expected)


def test_class_with_a_latin_letter_is_read_with_a_note():
    assert parse_cell("5A", CLASS) == Parsed(
        "5А",
        "Класс: «5A» — в записи есть латинские буквы, похожие на русские. "
        "Прочитано как «5А». Перепечатайте значение русскими буквами",
    )


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        ("12А", "класса с номером 12 не бывает"),
        ("0Б", "класса с номером 0 не бывает"),
        ("пятый", "не похоже на название класса"),
        ("5D", "не похоже на название класса"),
        ("5", "не хватает буквы класса"),
        (5, "не хватает буквы класса"),
        (True, "не похоже на название класса"),
    ],
)
def test_class_rejects_with_an_example(raw, what):
    assert parse_cell(raw, CLASS) == Parsed(
        None,
        f"Класс: «{quote_raw(raw)}» — {what}. "
        "Напишите номер класса от 1 до 11 и русскую букву, например 5А или 11Б",
    )


# --- e-mail ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ivanova@school.ru", "ivanova@school.ru"),
        (" ivanova.m@school.ru\xa0", "ivanova.m@school.ru"),
        ("директор@школа.рф", "директор@школа.рф"),
    ],
)
def test_email_accepts(raw, expected):
    assert parse_cell(raw, EMAIL) == ok(expected)


@pytest.mark.parametrize(
    ("raw", "what"),
    [
        ("ivanova@school", "не похоже на адрес электронной почты"),
        ("ivanova school.ru", "не похоже на адрес электронной почты"),
        ("a@b.ru, c@d.ru", "здесь несколько адресов, а нужен один"),
        (42, "не похоже на адрес электронной почты"),
    ],
)
def test_email_rejects(raw, what):
    assert parse_cell(raw, EMAIL) == Parsed(
        None,
        f"Эл. почта: «{quote_raw(raw)}» — {what}. Введите один адрес, например ivanova@school.ru",
    )


# --- text --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Не открывается журнал  ", "Не открывается журнал"),
        (89781234567, "89781234567"),
        (89781234567.0, "89781234567"),
        (3.5, "3,5"),
        (True, "ИСТИНА"),
        (dt.datetime(2021, 8, 19, 14, 30), "19.08.2021 14:30"),
        ('=IMPORTRANGE("x")', '=IMPORTRANGE("x")'),
    ],
)
def test_text_keeps_what_was_typed(raw, expected):
    assert parse_cell(raw, DESCRIPTION) == ok(expected)


def test_text_takes_huge_cells_and_emoji():
    huge = "Не могу войти 🙁 " * 625  # 10,000 characters
    assert len(huge) == 10_000
    assert parse_cell(huge, DESCRIPTION) == ok(huge.strip())
    assert parse_cell("👍", DESCRIPTION) == ok("👍")


def test_huge_and_emoji_cells_in_typed_columns_give_short_notes():
    huge = "🙁" * 10_000
    for column in (RECEIVED, NUMBER, STATUS, CLASS, EMAIL, START):
        problem = parse_cell(huge, column).problem
        assert problem is not None and len(problem) < 400
        assert "«" + "🙁" * 40 + "…»" in problem


# --- the fast column path agrees with parse_cell -----------------------------------------------


MIXED = [
    None,
    "",
    " ",
    "19.08.2021 14:30",
    "19.08.2021 14:30",
    "31.02.2026",
    "вчера",
    44427.604166666664,
    44427,
    34700,
    True,
    False,
    0,
    1,
    12,
    12.5,
    "00123",
    "Peшено",
    "Решено",
    "5а",
    "5A",
    dt.datetime(2021, 8, 19, 14, 30),
    dt.datetime(1999, 8, 19),
    dt.datetime(2021, 8, 19, 14, 29, 59, 999_999),
    dt.date(2021, 8, 19),
    dt.time(14, 0),
    dt.timedelta(hours=9),
    float("nan"),
    10**20,
]


@pytest.mark.parametrize("column", [c for tab in SCHEMA.tabs.values() for c in tab.columns])
def test_parse_column_matches_parse_cell(column):
    values, problems = parse_column(MIXED, column, sheet_tz="Europe/Simferopol")
    expected = [parse_cell(raw, column, sheet_tz="Europe/Simferopol") for raw in MIXED]
    assert values == [p.value for p in expected]
    assert problems == [p.problem for p in expected]
    assert [type(v) for v in values] == [type(p.value) for p in expected]


# --- never raises ------------------------------------------------------------------------------

RAW_VALUES = st.one_of(
    st.none(),
    st.text(),
    st.text(alphabet="0123456789.:-/ гT\xa0", max_size=25),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=True, allow_infinity=True),
    st.datetimes(),
    st.datetimes(timezones=st.sampled_from([dt.UTC, dt.timezone(dt.timedelta(hours=-11))])),
    st.dates(),
    st.times(),
    st.timedeltas(),
)
ALL_COLUMNS = [c for tab in SCHEMA.tabs.values() for c in tab.columns]


@settings(max_examples=examples(400), deadline=None)
@given(raw=RAW_VALUES, tz=st.sampled_from([None, "Europe/Simferopol", "Not/AZone"]))
def test_parse_cell_never_raises(raw, tz):
    for column in ALL_COLUMNS:
        result = parse_cell(raw, column, sheet_tz=tz)
        assert isinstance(result, Parsed)
        assert result.value is None or result.problem is None or column.type in ("enum", "class")
        if result.problem is not None:
            assert result.problem.startswith(f"{column.header}: «")


@settings(max_examples=examples(60), deadline=None)
@given(
    st.lists(
        st.one_of(
            st.floats(min_value=30_000, max_value=80_000, allow_nan=False),
            st.integers(min_value=30_000, max_value=80_000),
            # serials that end on half a second: rounded to the even second, as parse_cell does
            st.integers(min_value=3_000_000_000, max_value=6_000_000_000).map(
                lambda h: (h + 0.5) / 86400
            ),
            st.none(),
        ),
        max_size=30,
    ),
    st.sampled_from([RECEIVED, DATE_FROM]),
)
def test_a_column_of_serials_reads_as_parse_cell_reads_each(raws, column):
    values, problems = parse_column(raws, column, sheet_tz="Europe/Simferopol")
    expected = [parse_cell(raw, column, sheet_tz="Europe/Simferopol") for raw in raws]
    assert values == [p.value for p in expected]
    assert problems == [p.problem for p in expected]


@pytest.mark.parametrize(
    ("column", "raws"),
    [
        (NUMBER, [1, 2, 3, None, 7]),  # whole numbers only: checked without a look at each
        (NUMBER, [1, 10**15, 3]),  # one past the limit still gets its note
        (NUMBER, [True, 1, 2]),
        (DESCRIPTION, ["  a ", None, " ", "b"]),  # text only
        (DESCRIPTION, ["a", 12, 1.5, dt.date(2021, 8, 19), True]),
    ],
)
def test_typed_columns_read_as_parse_cell_reads_each(column, raws):
    values, problems = parse_column(raws, column)
    expected = [parse_cell(raw, column) for raw in raws]
    assert values == [p.value for p in expected]
    assert problems == [p.problem for p in expected]
    assert [type(v) for v in values] == [type(p.value) for p in expected]
