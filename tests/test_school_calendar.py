"""The school-year seed: regulation hours, public holidays of the year, vacations from the YAML."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from journaldesk.errors import SettingsError
from journaldesk.jobs.init import load_calendar_plan
from journaldesk.rules.school_year import (
    regulation_hours,
    school_year_bounds,
    school_year_entries,
    school_year_start,
)
from journaldesk.rules.worktime import CalendarEntry, WorkCalendar

D = dt.date
PLAN = load_calendar_plan()


def _minutes(row) -> int:
    start = dt.datetime.combine(D(2026, 1, 1), row.start)
    return int((dt.datetime.combine(D(2026, 1, 1), row.end) - start).total_seconds() // 60)


def test_regulation_hours_are_ten_a_week() -> None:
    rows = regulation_hours()
    assert [(r.weekday, r.start.hour, r.end.hour) for r in rows] == [
        (0, 14, 16),
        (1, 15, 17),
        (2, 15, 17),
        (3, 15, 17),
        (4, 14, 16),
    ]
    assert sum(_minutes(r) for r in rows) == 600


def test_default_bounds() -> None:
    assert school_year_bounds(2026, PLAN) == (D(2026, 9, 1), D(2027, 8, 31))
    # A year the plan does not know still has its bounds: 1 September .. 31 August.
    assert school_year_bounds(2031, PLAN) == (D(2031, 9, 1), D(2032, 8, 31))


@pytest.mark.parametrize(
    ("today", "year"),
    [(D(2026, 9, 1), 2026), (D(2026, 8, 31), 2025), (D(2027, 1, 15), 2026), (D(2030, 12, 1), 2030)],
)
def test_the_school_year_comes_from_the_date(today: dt.date, year: int) -> None:
    assert school_year_start(today) == year


def test_crimea_adds_18_march_every_year() -> None:
    for year in (2026, 2029):
        crimea = school_year_entries(year, PLAN, region="Республика Крым")
        day = D(year + 1, 3, 18)
        assert (
            CalendarEntry(day, day, "Праздник", comment="День воссоединения Крыма с Россией")
            in crimea
        )
        elsewhere = school_year_entries(year, PLAN, region="нет")
        assert not any(e.date_from == day and e.kind == "Праздник" for e in elsewhere)


def test_entries_hold_the_year_holidays_and_vacations() -> None:
    entries = school_year_entries(2026, PLAN)
    start, end = school_year_bounds(2026, PLAN)
    assert entries == sorted(entries, key=lambda e: e.date_from)
    assert all(start <= e.date_from <= e.date_to <= end for e in entries)
    by_date = {(e.date_from, e.kind): e for e in entries}
    assert by_date[(D(2026, 11, 4), "Праздник")].comment == "День народного единства"
    # Transferred days off of the government's decrees are there.
    assert by_date[(D(2026, 12, 31), "Праздник")].comment.startswith("Выходной (перенесено")
    assert by_date[(D(2027, 2, 22), "Праздник")].comment == "Выходной (перенесено с 20.02.2027)"
    assert by_date[(D(2027, 1, 7), "Праздник")].comment == "Рождество Христово"
    # ...and the Saturday that became a working day in exchange opens.
    assert by_date[(D(2027, 2, 20), "Доп. консультация")].comment.endswith("на 22.02.2027")
    # Holidays outside the school year are not.
    assert (D(2026, 6, 12), "Праздник") not in by_date
    vacations = [(e.date_from, e.date_to, e.comment) for e in entries if e.kind == "Каникулы"]
    assert vacations == [
        (D(2026, 10, 26), D(2026, 11, 3), "осенние"),
        (D(2026, 12, 28), D(2027, 1, 10), "зимние"),
        (D(2027, 3, 20), D(2027, 3, 28), "весенние"),
        (D(2027, 6, 1), D(2027, 8, 31), "летние"),
    ]
    holidays = [e for e in entries if e.kind == "Праздник"]
    assert all(e.date_from == e.date_to for e in holidays)


def test_seeded_calendar_closes_what_it_should() -> None:
    start, end = school_year_bounds(2026, PLAN)
    cal = WorkCalendar.build(
        regulation_hours(),
        school_year_entries(2026, PLAN),
        tz="Europe/Simferopol",
        start=start,
        end=end,
    )
    assert cal.closed_reason(D(2026, 11, 4)) == "Праздник: День народного единства"
    assert cal.closed_reason(D(2026, 10, 28)) == "Каникулы: осенние"
    assert cal.closed_reason(D(2027, 7, 1)) == "Каникулы: летние"
    assert cal.is_open_day(D(2027, 2, 20))
    assert not cal.is_open_day(D(2027, 2, 22))
    assert cal.is_open_day(D(2027, 5, 31))
    # 1 Sept 2026 is a Tuesday: the first session is 15:00-17:00.
    assert [(s.hour, e.hour) for s, e in cal.sessions(start, start)] == [(15, 17)]


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "calendar.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_school_edits_and_regional_holidays(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
school_years:
  2027:
    start: "01.09.2027"
    end: 2028-08-31
    vacations:
      - {from: "25.10.2027", to: "31.10.2027", name: осенние}
    regional_holidays:
      - {date: "18.03.2028", name: "Региональный выходной"}
""",
    )
    plan = load_calendar_plan(path)
    assert school_year_bounds(2027, plan) == (D(2027, 9, 1), D(2028, 8, 31))
    entries = school_year_entries(2027, plan)
    assert CalendarEntry(D(2027, 10, 25), D(2027, 10, 31), "Каникулы", comment="осенние") in entries
    assert (
        CalendarEntry(D(2028, 3, 18), D(2028, 3, 18), "Праздник", comment="Региональный выходной")
        in entries
    )
    assert any(e.date_from == D(2027, 11, 4) for e in entries)


@pytest.mark.parametrize(
    ("text", "year", "message"),
    [
        ("school_years: [2026]\n", 2026, "school_years — ожидался раздел"),
        (
            'school_years:\n  2026:\n    start: "1 сентября"\n',
            2026,
            "«1 сентября» — ожидалась дата ДД.ММ.ГГГГ",
        ),
        (
            "school_years:\n  2026:\n    vacations:\n"
            '      - {from: "03.11.2026", to: "26.10.2026"}\n',
            2026,
            "конец каникул 26.10.2026 раньше начала 03.11.2026",
        ),
        ("school_years: [\n", 2026, "не читается как YAML"),
    ],
)
def test_bad_calendar_file_says_what_in_russian(
    tmp_path: Path, text: str, year: int, message: str
) -> None:
    with pytest.raises(SettingsError, match=message):
        school_year_entries(year, load_calendar_plan(_write(tmp_path, text)))


def test_a_year_missing_from_the_plan_has_holidays_but_no_vacations(tmp_path: Path) -> None:
    entries = school_year_entries(2026, load_calendar_plan(_write(tmp_path, "school_years: {}\n")))
    assert not any(e.kind == "Каникулы" for e in entries)
    assert any(e.date_from == D(2026, 11, 4) for e in entries)


def test_missing_calendar_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="Не найден файл календаря"):
        load_calendar_plan(tmp_path / "nope.yaml")
