"""The school year's seed for the «График» and «Календарь» tabs: regulation hours, public holidays,
vacations from config/calendar.yaml."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import holidays
import yaml

from journaldesk.errors import SettingsError
from journaldesk.resources import default_file
from journaldesk.rules.worktime import (
    KIND_EXTRA,
    KIND_HOLIDAY,
    KIND_VACATION,
    WEEKEND_EXTRA_HOURS,
    CalendarEntry,
    WeeklyHours,
    public_holidays_ru,
)

DATE_FORMAT = "%d.%m.%Y"


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


def _load(path: Path | None) -> dict[str, Any]:
    path = Path(path) if path is not None else default_file("calendar.yaml")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SettingsError(f"Не найден файл календаря школы: {path}.") from exc
    except yaml.YAMLError as exc:
        raise SettingsError(f"Файл календаря {path} не читается как YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"Файл календаря {path}: ожидался раздел school_years.")
    data["_path"] = path
    return data


def _year(data: dict[str, Any], year_start: int) -> dict[str, Any]:
    years = data.get("school_years") or {}
    year = years.get(year_start) or years.get(str(year_start))
    if not isinstance(year, dict):
        raise SettingsError(
            f"В файле календаря {data['_path']} нет учебного года "
            f"{year_start}/{(year_start + 1) % 100:02d} (раздел school_years: {year_start})."
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


def _bounds(data: dict[str, Any], year_start: int) -> tuple[dt.date, dt.date]:
    year = _year(data, year_start)
    where = f"учебный год {year_start}"
    start = _date(year.get("start", f"01.09.{year_start}"), f"{where}, start")
    end = _date(year.get("end", f"31.08.{year_start + 1}"), f"{where}, end")
    if end < start:
        raise SettingsError(f"Файл календаря, {where}: конец года {end:%d.%m.%Y} раньше начала.")
    return start, end


def school_year_bounds(year_start: int = 2026, path: Path | None = None) -> tuple[dt.date, dt.date]:
    """First and last day of the school year (by default 1 Sept .. 31 Aug) from calendar.yaml."""
    return _bounds(_load(path), year_start)


def _working_weekends(start: dt.date, end: dt.date) -> list[dt.date]:
    """Saturdays and Sundays the government made working days in exchange for a day off."""
    found = holidays.country_holidays("RU", years=range(start.year, end.year + 1))
    return sorted(d for d in found.weekend_workdays if start <= d <= end)


def school_year_entries(year_start: int = 2026, path: Path | None = None) -> list[CalendarEntry]:
    """Seed rows of «Календарь»: public holidays of the school year, then vacations, by date."""
    data = _load(path)
    start, end = _bounds(data, year_start)
    year = _year(data, year_start)
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

    for i, row in enumerate(year.get("regional_holidays") or [], start=1):
        where = f"учебный год {year_start}, regional_holidays, строка {i}"
        if not isinstance(row, dict):
            raise SettingsError(f"Файл календаря, {where}: ожидалось {{date: ..., name: ...}}.")
        day = _date(row.get("date"), where)
        entries.append(CalendarEntry(day, day, KIND_HOLIDAY, comment=str(row.get("name") or "")))

    vacations = []
    for i, row in enumerate(year.get("vacations") or [], start=1):
        where = f"учебный год {year_start}, vacations, строка {i}"
        if not isinstance(row, dict):
            raise SettingsError(
                f"Файл календаря, {where}: ожидалось {{from: ..., to: ..., name: ...}}."
            )
        first = _date(row.get("from"), f"{where}, from")
        last = _date(row.get("to", row.get("from")), f"{where}, to")
        if last < first:
            raise SettingsError(
                f"Файл календаря, {where}: конец каникул {last:%d.%m.%Y} раньше начала "
                f"{first:%d.%m.%Y}."
            )
        vacations.append(
            CalendarEntry(first, last, KIND_VACATION, comment=str(row.get("name") or ""))
        )

    # Stable sort: on the same date a holiday comes before the vacation that contains it.
    return sorted(entries + vacations, key=lambda e: e.date_from)
