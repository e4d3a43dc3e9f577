"""From the «График» and «Календарь» tabs to one working-time calendar, and the notes on their rows.

The same calendar drives the deadline clock and the consultation bookings.
"""

from __future__ import annotations

import datetime as dt
import itertools

import pandas as pd

from journaldesk.rules.school_year import school_year_start
from journaldesk.rules.worktime import CalendarEntry, WeeklyHours, WorkCalendar
from journaldesk.sheet.schema import load_schema
from journaldesk.sheet.textfmt import day, is_blank
from journaldesk.sheet.vocab import (
    CALENDAR_KINDS,
    KIND_EXTRA,
    KIND_GROUP,
    KIND_QUARTER_END,
    WEEKDAYS,
)

_SCHEMA = load_schema()
KINDS = CALENDAR_KINDS
# How far ahead the calendar reaches: deadlines and bookings never need more than this.
HORIZON_DAYS = 400
# Requests older than this are not given a working-time deadline (the calendar would be huge).
MAX_HISTORY_DAYS = 3 * 366


def weekly_hours(schedule: pd.DataFrame) -> list[WeeklyHours]:
    """The weekly consultation hours from the typed «График» rows (bad rows are skipped)."""
    out = []
    for weekday, start, end in zip(
        schedule["weekday"], schedule["start"], schedule["end"], strict=True
    ):
        if is_blank(weekday) or is_blank(start) or is_blank(end) or end <= start:
            continue
        out.append(WeeklyHours(WEEKDAYS.index(weekday), start, end))
    return out


def calendar_entries(calendar: pd.DataFrame) -> list[CalendarEntry]:
    """The exceptions typed in «Календарь» (rows that could not be understood are skipped)."""
    out = []
    for row in calendar.itertuples(index=False):
        if is_blank(row.date_from) or is_blank(row.kind):
            continue
        date_to = row.date_from if is_blank(row.date_to) else row.date_to
        if date_to < row.date_from:
            continue
        out.append(
            CalendarEntry(
                date_from=row.date_from,
                date_to=date_to,
                kind=row.kind,
                time_from=None if is_blank(row.time_from) else row.time_from,
                time_to=None if is_blank(row.time_to) else row.time_to,
                comment="" if is_blank(row.comment) else str(row.comment),
            )
        )
    return out


def build_calendar(
    schedule: pd.DataFrame,
    calendar: pd.DataFrame,
    *,
    tz: str,
    earliest: pd.Series | None,
    now: dt.datetime,
    vacation_consultations: bool = False,
) -> WorkCalendar:
    """The working-time calendar from the earliest request to HORIZON_DAYS after now, from the
    «График» and «Календарь» tabs alone."""
    today = now.date()
    start = today - dt.timedelta(days=30)
    if earliest is not None:
        dates = pd.to_datetime(pd.Series(list(earliest), dtype=object), errors="coerce").dropna()
        if len(dates):
            start = min(start, dates.min().date())
    start = max(start, today - dt.timedelta(days=MAX_HISTORY_DAYS))
    return WorkCalendar.build(
        weekly_hours(schedule),
        calendar_entries(calendar),
        tz=tz,
        start=start,
        end=today + dt.timedelta(days=HORIZON_DAYS),
        vacation_consultations=vacation_consultations,
    )


def quarter_end_dates(calendar: pd.DataFrame) -> list[dt.date]:
    """The days of the «Конец четверти» rows of «Календарь», in order."""
    if calendar.empty:
        return []
    rows = calendar[(calendar["kind"] == KIND_QUARTER_END) & calendar["date_from"].notna()]
    return sorted({pd.Timestamp(d).date() for d in rows["date_from"]})


def current_school_year(today: dt.date) -> tuple[dt.date, dt.date]:
    """The school year `today` falls in: 1 September .. 31 August."""
    year_start = school_year_start(today)
    return dt.date(year_start, 9, 1), dt.date(year_start + 1, 8, 31)


def calendar_notes(calendar: pd.DataFrame, *, now: dt.datetime) -> dict[int, list[str]]:
    """Notes for «Календарь» rows: inverted ranges, missing times, overlaps of the same kind,
    dates outside the current school year (a wrong year is the commonest slip)."""
    tab = _SCHEMA["calendar"]
    year_from, year_to = current_school_year(now.date())
    h_from, h_to = tab.header("date_from"), tab.header("date_to")
    notes: dict[int, list[str]] = {}
    spans: list[tuple[int, dt.date, dt.date, str]] = []
    for row, r in calendar.iterrows():
        if is_blank(r["date_from"]):
            continue
        date_to = r["date_from"] if is_blank(r["date_to"]) else r["date_to"]
        if date_to < r["date_from"]:
            notes.setdefault(int(row), []).append(
                f"«{h_to}» ({day(date_to)}) раньше, чем «{h_from}» ({day(r['date_from'])}): "
                f"поменяйте даты местами"
            )
            continue
        if date_to < year_from or r["date_from"] > year_to:
            notes.setdefault(int(row), []).append(
                f"Даты вне учебного года {day(year_from)}–{day(year_to)}: проверьте год"
            )
        t_from, t_to = r["time_from"], r["time_to"]
        if not is_blank(t_from) and not is_blank(t_to) and t_to <= t_from:
            notes.setdefault(int(row), []).append(
                f"«{tab.header('time_to')}» должно быть позже, чем «{tab.header('time_from')}»"
            )
        if r["kind"] == KIND_EXTRA and (is_blank(t_from) or is_blank(t_to)):
            notes.setdefault(int(row), []).append(
                "Для доп. консультации укажите время с и до (пока взяты обычные часы этого дня)"
            )
        # Several group sessions on one day are no overlap (rules/group.py flags a true repeat).
        if not is_blank(r["kind"]) and r["kind"] != KIND_GROUP:
            spans.append((int(row), r["date_from"], date_to, r["kind"]))
    spans.sort(key=lambda s: (s[3], s[1]))
    for (row_a, _, a_to, kind_a), (row_b, b_from, _, kind_b) in itertools.pairwise(spans):
        if kind_a == kind_b and b_from <= a_to:
            for row, other in ((row_a, row_b), (row_b, row_a)):
                notes.setdefault(row, []).append(
                    f"Пересекается со строкой {other} того же типа «{kind_a}»"
                )
    return notes
