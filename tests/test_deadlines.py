"""Deadlines on hand-made calendars, checked against a minute-by-minute model of the rules.

The model below knows nothing of the working-time arrays: it marks every open minute of a few
weeks from the weekly hours and the «Календарь» rows, then reads the rules off it:
- the clock starts at the first open minute at or after the request;
- a consultation topic (`sla_sessions: n`) is due at the close of the n-th consultation day after
  the day the clock starts on;
- an hour topic is due once that many open minutes have passed from the clock start.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from journaldesk.jobs.sync import sync
from journaldesk.rules.calendar import build_calendar
from journaldesk.rules.requests import DeadlineRules, plan_requests
from journaldesk.rules.school_year import regulation_hours
from journaldesk.rules.worktime import CalendarEntry, WeeklyHours, WorkCalendar
from journaldesk.settings import parse_settings
from journaldesk.sheet.frames import parse_tab
from journaldesk.store.base import TabData
from tests.helpers import SCHEMA, at, field_values, local, make_workbook, request

TZ = "Europe/Simferopol"
D, T = dt.date, dt.time
FIRST, LAST = D(2026, 11, 16), D(2026, 12, 13)  # four weeks; Mon 23.11 is the week under test
MARKS = "Текущие отметки"  # sla_sessions: 1
TRAINING = "Обучение работе в ЭЖ"  # sla_sessions: 2
LOGIN = "Утерян логин или пароль"  # 1 working hour
FAULT = "Техническая неисправность"  # 2 working hours
TOPICS = {
    MARKS: ("sessions", 1),
    TRAINING: ("sessions", 2),
    LOGIN: ("hours", 1),
    FAULT: ("hours", 2),
}
RULES = DeadlineRules.from_settings(parse_settings({}, Path(".")))


# --- the model ------------------------------------------------------------------------------


def open_minutes(weekly: list[WeeklyHours], entries: list[CalendarEntry]) -> list[dt.datetime]:
    """Every open minute of FIRST..LAST, in order, by the plain words of the rules."""
    out = []
    day = FIRST
    while day <= LAST:
        mine = [e for e in entries if e.date_from <= day <= e.date_to]
        closed = any(e.kind in ("Праздник", "Каникулы") for e in mine) or any(
            e.kind == "Нет консультаций" and e.time_from is None for e in mine
        )
        for minute in range(24 * 60):
            t = T(minute // 60, minute % 60)
            regular = not closed and any(
                w.weekday == day.weekday() and w.start <= t < w.end for w in weekly
            )
            cut = any(
                e.kind == "Нет консультаций"
                and e.time_from is not None
                and e.time_from <= t < e.time_to
                for e in mine
            )
            extra = any(
                e.kind == "Доп. консультация" and e.time_from <= t < e.time_to for e in mine
            )
            if (regular and not cut) or extra:
                out.append(dt.datetime.combine(day, t))
        day += dt.timedelta(days=1)
    return out


def expected_due(opened: list[dt.datetime], received: dt.datetime, topic: str) -> dt.datetime:
    """The due moment of one request by the model."""
    kind, n = TOPICS[topic]
    rest = [m for m in opened if m >= received]
    start = rest[0]
    if kind == "hours":
        return rest[n * 60 - 1] + dt.timedelta(minutes=1)
    days = sorted({m.date() for m in opened if m.date() >= start.date()})
    target = days[n]
    return max(m for m in opened if m.date() == target) + dt.timedelta(minutes=1)


# --- the code under test --------------------------------------------------------------------


def requests_frame(rows: list[dict[str, object]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    tab = SCHEMA["requests"]
    values = [[row.get(c.field) for c in tab.columns] for row in rows]
    parsed = parse_tab(TabData(title=tab.title, rows=[tab.headers, *values]), tab, sheet_tz=TZ)
    return parsed.frame, parsed.raw


def no_audit() -> pd.DataFrame:
    tab = SCHEMA["changes"]
    return parse_tab(TabData(title=tab.title, rows=[tab.headers]), tab, sheet_tz=TZ).frame


def audit_of(rows: list[tuple[int, str, str, dt.datetime]]) -> pd.DataFrame:
    tab = SCHEMA["changes"]
    header = SCHEMA["requests"].header("status")
    values = [[n, header, old, new, when, "Синхронизация"] for n, old, new, when in rows]
    return parse_tab(TabData(title=tab.title, rows=[tab.headers, *values]), tab, sheet_tz=TZ).frame


def due_of(
    calendar: WorkCalendar,
    rows: list[dict[str, object]],
    now: dt.datetime,
    audit: pd.DataFrame | None = None,
) -> tuple[list[dt.datetime | None], list[str | None], dict[int, list[str]]]:
    frame, raw = requests_frame(rows)
    plan = plan_requests(
        frame,
        raw,
        now=now,
        rules=RULES,
        calendar=calendar,
        audit=no_audit() if audit is None else audit,
        sheet_tz=TZ,
    )
    return list(plan.derived["due_at"]), list(plan.derived["due_state"]), plan.notes


CALENDARS: dict[str, list[CalendarEntry]] = {
    "plain": [],
    "holiday on the next session day": [
        CalendarEntry(D(2026, 11, 24), D(2026, 11, 24), "Праздник")
    ],
    "vacation": [CalendarEntry(D(2026, 11, 24), D(2026, 11, 27), "Каникулы")],
    "extra hour extends Monday": [
        CalendarEntry(D(2026, 11, 23), D(2026, 11, 23), "Доп. консультация", T(16), T(17))
    ],
    "cancelled half-session": [
        CalendarEntry(D(2026, 11, 23), D(2026, 11, 23), "Нет консультаций", T(14), T(15)),
        CalendarEntry(D(2026, 11, 24), D(2026, 11, 24), "Нет консультаций", T(16), T(17)),
    ],
    "Saturday session, Tuesday cancelled": [
        CalendarEntry(D(2026, 11, 28), D(2026, 11, 28), "Доп. консультация", T(10), T(12)),
        CalendarEntry(D(2026, 11, 24), D(2026, 11, 24), "Нет консультаций"),
    ],
}
ARRIVALS = [
    "23.11.2026 13:27",
    "23.11.2026 13:59",
    "23.11.2026 14:00",
    "23.11.2026 15:59",
    "23.11.2026 16:00",
    "23.11.2026 16:59",
    "23.11.2026 20:00",
    "27.11.2026 16:00",  # Friday's close: the weekend follows
    "28.11.2026 11:00",  # Saturday
    "29.11.2026 12:00",  # Sunday
]


@pytest.mark.parametrize("name", list(CALENDARS))
def test_every_topic_is_due_when_the_rules_say(name: str) -> None:
    entries = CALENDARS[name]
    calendar = WorkCalendar.build(regulation_hours(), entries, tz=TZ, start=FIRST, end=LAST)
    opened = open_minutes(regulation_hours(), entries)
    rows = [
        request(number=i + 1, received_at=local(when), topic=topic, status="Новое")
        for i, (when, topic) in enumerate((w, t) for w in ARRIVALS for t in TOPICS)
    ]
    got, _, _ = due_of(calendar, rows, now=at("23.11.2026 12:00"))
    want = [expected_due(opened, r["received_at"], r["topic"]) for r in rows]
    assert [(r["received_at"], r["topic"], g) for r, g in zip(rows, got, strict=True)] == [
        (r["received_at"], r["topic"], w) for r, w in zip(rows, want, strict=True)
    ]


def test_no_cliff_at_the_opening() -> None:
    calendar = WorkCalendar.build(regulation_hours(), [], tz=TZ, start=FIRST, end=LAST)
    rows = [
        request(number=i + 1, received_at=local(f"23.11.2026 {t}"), topic=MARKS, status="Новое")
        for i, t in enumerate(("13:27", "14:00", "15:59", "16:00"))
    ]
    got, _, _ = due_of(calendar, rows, now=at("23.11.2026 12:00"))
    # Monday 13:27 and 14:00 (and 15:59) are both due at Tuesday's close; 16:00 is after
    # Monday's session, so its own first session is Tuesday's and it is due on Wednesday.
    assert got == [local("24.11.2026 17:00")] * 3 + [local("25.11.2026 17:00")]


# --- pauses: a breach is final ---------------------------------------------------------------


def test_on_hold_in_time_is_paused_on_hold_after_the_deadline_stays_overdue() -> None:
    calendar = WorkCalendar.build(regulation_hours(), [], tz=TZ, start=FIRST, end=LAST)
    # Both due at Mon 23.11 15:00 (1 working hour from 14:00).
    rows = [
        request(
            number=1, received_at=local("23.11.2026 14:00"), topic=LOGIN, status="Ждём заявителя"
        ),
        request(
            number=2, received_at=local("23.11.2026 14:00"), topic=LOGIN, status="Ждём заявителя"
        ),
    ]
    audit = audit_of(
        [
            (1, "Новое", "Ждём заявителя", local("23.11.2026 14:30")),  # in time
            (2, "Новое", "Ждём заявителя", local("23.11.2026 15:30")),  # after 15:00
        ]
    )
    due, state, notes = due_of(calendar, rows, now=at("25.11.2026 16:00"), audit=audit)
    assert due == [local("23.11.2026 15:00")] * 2
    assert state == ["Приостановлено", "Просрочено"]
    # The breached one still shows its wait, as a date (a note that does not churn).
    assert notes[3] == [
        "Ждём заявителя с 23.11.2026 15:30, но срок 23.11.2026 15:00 был нарушен раньше: "
        "обращение остаётся просроченным"
    ]
    assert 2 not in notes


def test_a_finished_pause_moves_the_deadline_only_when_it_began_in_time() -> None:
    calendar = WorkCalendar.build(regulation_hours(), [], tz=TZ, start=FIRST, end=LAST)
    rows = [
        request(number=1, received_at=local("23.11.2026 14:00"), topic=LOGIN, status="В работе"),
        request(number=2, received_at=local("23.11.2026 14:00"), topic=LOGIN, status="В работе"),
    ]
    audit = audit_of(
        [
            (1, "Новое", "Ждём заявителя", local("23.11.2026 14:30")),
            (1, "Ждём заявителя", "В работе", local("23.11.2026 15:30")),  # 1 h on hold
            (2, "Новое", "Ждём заявителя", local("23.11.2026 15:10")),  # already late
            (2, "Ждём заявителя", "В работе", local("24.11.2026 16:00")),
        ]
    )
    due, state, _ = due_of(calendar, rows, now=at("25.11.2026 16:00"), audit=audit)
    assert due == [local("23.11.2026 16:00"), local("23.11.2026 15:00")]
    assert state == ["Просрочено", "Просрочено"]


# --- «Календарь» is the only source ---------------------------------------------------------


def _delete_calendar_rows(path: Path, day: dt.date) -> int:
    book = openpyxl.load_workbook(path)
    ws = book[SCHEMA["calendar"].title]
    found = [
        r
        for r in range(2, ws.max_row + 1)
        if isinstance(ws.cell(r, 1).value, dt.datetime) and ws.cell(r, 1).value.date() == day
    ]
    for r in reversed(found):
        ws.delete_rows(r)
    book.save(path)
    return len(found)


def _add_holiday(path: Path, day: dt.date) -> None:
    book = openpyxl.load_workbook(path)
    ws = book[SCHEMA["calendar"].title]
    ws.append([dt.datetime.combine(day, T(0)), None, "Праздник", None, None, "добавлено вручную"])
    book.save(path)


def test_deleting_a_holiday_row_reopens_the_day_and_typing_one_closes_it(tmp_path: Path) -> None:
    # Wed 17.03.2027 16:30, lost login (1 h): 30 minutes on Wednesday, 30 more the next day.
    store, settings = make_workbook(
        tmp_path, {"requests": [request(received_at=local("17.03.2027 16:30"), topic=LOGIN)]}
    )
    now = at("17.03.2027 16:40")
    sync(store, settings, now=now)
    # Seeded for Crimea: 18.03 is a day off, so Friday 19.03 14:30.
    assert field_values(store, "requests", "due_at") == [local("19.03.2027 14:30")]
    assert _delete_calendar_rows(settings.workbook_path, D(2027, 3, 18)) == 1
    sync(store, settings, now=now)
    assert field_values(store, "requests", "due_at") == [local("18.03.2027 15:30")]
    _add_holiday(settings.workbook_path, D(2027, 3, 18))
    sync(store, settings, now=now)
    assert field_values(store, "requests", "due_at") == [local("19.03.2027 14:30")]


def test_the_sync_calendar_has_no_holiday_the_tab_does_not_hold() -> None:
    tab = SCHEMA["calendar"]
    empty = parse_tab(TabData(title=tab.title, rows=[tab.headers]), tab, sheet_tz=TZ).frame
    schedule_tab = SCHEMA["schedule"]
    schedule = parse_tab(
        TabData(
            title=schedule_tab.title,
            rows=[schedule_tab.headers, ["Среда", T(15), T(17), "12", ""]],
        ),
        schedule_tab,
        sheet_tz=TZ,
    ).frame
    cal = build_calendar(schedule, empty, tz=TZ, earliest=None, now=at("01.11.2026 10:00"))
    # 4 November is a public holiday, but no row says so: the day is open.
    assert cal.is_open_day(D(2026, 11, 4))


def test_vacation_consultations_setting_keeps_vacation_days_open() -> None:
    vacation = [CalendarEntry(D(2026, 11, 24), D(2026, 11, 27), "Каникулы")]
    closed = WorkCalendar.build(regulation_hours(), vacation, tz=TZ, start=FIRST, end=LAST)
    kept = WorkCalendar.build(
        regulation_hours(), vacation, tz=TZ, start=FIRST, end=LAST, vacation_consultations=True
    )
    assert not closed.is_open_day(D(2026, 11, 25))
    assert kept.is_open_day(D(2026, 11, 25))


def test_rules_object_is_all_the_deadlines_need() -> None:
    rules = DeadlineRules(topics={LOGIN: RULES.topics[LOGIN]}, default_assignee="Дежурный")
    calendar = WorkCalendar.build(regulation_hours(), [], tz=TZ, start=FIRST, end=LAST)
    frame, raw = requests_frame([request(received_at=local("23.11.2026 14:00"), topic=LOGIN)])
    plan = plan_requests(
        frame, raw, now=at("23.11.2026 14:10"), rules=rules, calendar=calendar,
        audit=no_audit(), sheet_tz=TZ,
    )  # fmt: skip
    assert plan.fills.at[2, "assignee"] == "Дежурный"
    assert list(plan.derived["due_at"]) == [local("23.11.2026 15:00")]


def test_first_seen_already_waiting_is_given_the_benefit_of_the_doubt() -> None:
    # No history says when it was put on hold: the sync sees it waiting for the first time.
    calendar = WorkCalendar.build(regulation_hours(), [], tz=TZ, start=FIRST, end=LAST)
    rows = [
        request(
            number=1, received_at=local("23.11.2026 14:00"), topic=LOGIN, status="Ждём заявителя"
        )
    ]
    _, state, notes = due_of(calendar, rows, now=at("25.11.2026 16:00"))
    assert state == ["Приостановлено"] and notes == {}
