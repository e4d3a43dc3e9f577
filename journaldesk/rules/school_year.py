"""The school year's seed for the «График» and «Календарь» tabs: regulation hours, public holidays,
the region's own days off and the vacations of the school's calendar plan.

Pure: the calendar plan (config/calendar.yaml, read by the jobs) comes in as data. The seed only
fills the «Календарь» tab through `init` and `demo`; the sync reads the tab alone.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import holidays

from journaldesk.errors import SettingsError
from journaldesk.rules.worktime import (
    KIND_EXTRA,
    KIND_HOLIDAY,
    KIND_VACATION,
    WEEKEND_EXTRA_HOURS,
    CalendarEntry,
    WeeklyHours,
)

DATE_FORMAT = "%d.%m.%Y"
# Region -> its own non-working days every year: (month, day, name). Days a decree declares
# anew each year (Easter, Uraza-bayram, Kurban-bayram in Crimea) are typed into «Календарь».
REGION_CRIMEA = "Республика Крым"
REGION_SEVASTOPOL = "Севастополь"
REGION_NONE = "нет"
_REUNION = (3, 18, "День воссоединения Крыма с Россией")
REGIONAL_DAYS_OFF: dict[str, tuple[tuple[int, int, str], ...]] = {
    REGION_CRIMEA: (_REUNION,),
    REGION_SEVASTOPOL: (_REUNION,),
    REGION_NONE: (),
}


def regulation_hours() -> list[WeeklyHours]:
    """Consultation hours of regulation 2.9: Mon 14-16, Tue-Thu 15-17, Fri 14-16."""
    two, three, four, five = (dt.time(h) for h in (14, 15, 16, 17))
    return [
        WeeklyHours(0, two, four),
        WeeklyHours(1, three, five),
        WeeklyHours(2, three, five),
        WeeklyHours(3, three, five),
        WeeklyHours(4, two, four),
    ]


def school_year_start(today: dt.date) -> int:
    """The calendar year the school year of `today` began in (a school year starts 1 Sept)."""
    return today.year if today.month >= 9 else today.year - 1


def public_holidays_ru(first_year: int, last_year: int) -> dict[dt.date, str]:
    """Russian public holidays and transferred days off with their Russian names, by date."""
    return dict(_holidays_ru(first_year, last_year))


@lru_cache(maxsize=8)
def _holidays_ru(first_year: int, last_year: int) -> tuple[tuple[dt.date, str], ...]:
    # Building them takes the holidays package a good part of a second: once per process.
    found = holidays.country_holidays("RU", years=range(first_year, last_year + 1), language="ru")
    return tuple((day, str(name)) for day, name in sorted(found.items()))


def _source(plan: Mapping[str, Any] | None) -> str:
    return str((plan or {}).get("_path") or "calendar.yaml")


def year_plan(plan: Mapping[str, Any] | None, year_start: int) -> dict[str, Any] | None:
    """The section of the calendar plan for the school year starting in `year_start`, if any."""
    years = (plan or {}).get("school_years") or {}
    if not isinstance(years, Mapping):
        raise SettingsError(f"Файл календаря {_source(plan)}: school_years — ожидался раздел.")
    year = years.get(year_start) or years.get(str(year_start))
    if year is None:
        return None
    if not isinstance(year, dict):
        raise SettingsError(
            f"Файл календаря {_source(plan)}: учебный год {year_start} — ожидался раздел "
            f"start, end, vacations."
        )
    return year


def _date(value: Any, where: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.datetime.strptime(str(value).strip(), DATE_FORMAT).date()
    except ValueError:
        raise SettingsError(
            f"Файл календаря, {where}: «{value}» — ожидалась дата ДД.ММ.ГГГГ, например 01.09.2026."
        ) from None


def school_year_bounds(
    year_start: int, plan: Mapping[str, Any] | None = None
) -> tuple[dt.date, dt.date]:
    """First and last day of a school year: from the calendar plan, else 1 Sept .. 31 Aug."""
    year = year_plan(plan, year_start) or {}
    where = f"учебный год {year_start}"
    start = _date(year.get("start", f"01.09.{year_start}"), f"{where}, start")
    end = _date(year.get("end", f"31.08.{year_start + 1}"), f"{where}, end")
    if end < start:
        raise SettingsError(f"Файл календаря, {where}: конец года {end:%d.%m.%Y} раньше начала.")
    return start, end


def _working_weekends(start: dt.date, end: dt.date) -> list[dt.date]:
    """Saturdays and Sundays the government made working days in exchange for a day off."""
    found = holidays.country_holidays("RU", years=range(start.year, end.year + 1))
    return sorted(d for d in found.weekend_workdays if start <= d <= end)


def regional_days_off(region: str, start: dt.date, end: dt.date) -> list[CalendarEntry]:
    """The region's own yearly days off between start and end (18 March in Crimea)."""
    out = []
    for year in range(start.year, end.year + 1):
        for month, day_, name in REGIONAL_DAYS_OFF.get(region, ()):
            day = dt.date(year, month, day_)
            if start <= day <= end:
                out.append(CalendarEntry(day, day, KIND_HOLIDAY, comment=name))
    return out


def _listed(year: Mapping[str, Any], key: str, year_start: int) -> list[tuple[str, dict]]:
    rows = []
    for i, row in enumerate(year.get(key) or [], start=1):
        where = f"учебный год {year_start}, {key}, строка {i}"
        if not isinstance(row, dict):
            raise SettingsError(f"Файл календаря, {where}: ожидалось {{date: …, name: …}}.")
        rows.append((where, row))
    return rows


def _vacations(year: Mapping[str, Any], year_start: int) -> list[CalendarEntry]:
    out = []
    for where, row in _listed(year, "vacations", year_start):
        first = _date(row.get("from"), f"{where}, from")
        last = _date(row.get("to", row.get("from")), f"{where}, to")
        if last < first:
            raise SettingsError(
                f"Файл календаря, {where}: конец каникул {last:%d.%m.%Y} раньше начала "
                f"{first:%d.%m.%Y}."
            )
        out.append(CalendarEntry(first, last, KIND_VACATION, comment=str(row.get("name") or "")))
    return out


def school_year_entries(
    year_start: int, plan: Mapping[str, Any] | None = None, *, region: str = REGION_CRIMEA
) -> list[CalendarEntry]:
    """Seed rows of «Календарь» for one school year: public holidays and transferred working
    Saturdays, the region's days off, then the plan's regional holidays and vacations, by date."""
    start, end = school_year_bounds(year_start, plan)
    year = year_plan(plan, year_start) or {}
    names = {d: n for d, n in public_holidays_ru(start.year, end.year).items() if start <= d <= end}
    entries = [CalendarEntry(d, d, KIND_HOLIDAY, comment=name) for d, name in names.items()]

    for saturday in _working_weekends(start, end):
        # A transferred working weekend day is a normal working day: the administrator is in.
        label = saturday.strftime(DATE_FORMAT)
        moved_to = [d for d, n in names.items() if label in n]
        comment = "Рабочий день по переносу выходного"
        if moved_to:
            comment += f" на {moved_to[0]:%d.%m.%Y}"
        # Times written out: the row then needs no guessing and gets no note in «Проверка».
        t_from, t_to = WEEKEND_EXTRA_HOURS
        entries.append(CalendarEntry(saturday, saturday, KIND_EXTRA, t_from, t_to, comment))

    entries += [e for e in regional_days_off(region, start, end) if e.date_from not in names]
    for where, row in _listed(year, "regional_holidays", year_start):
        day = _date(row.get("date"), where)
        entries.append(CalendarEntry(day, day, KIND_HOLIDAY, comment=str(row.get("name") or "")))

    # Stable sort: on the same date a holiday comes before the vacation that contains it.
    return sorted(entries + _vacations(year, year_start), key=lambda e: e.date_from)
