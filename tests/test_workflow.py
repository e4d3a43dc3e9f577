"""The help service as a school runs it: a fault handed to the journal's own support.

«Передано в поддержку ЭлЖур» stops the service's clock exactly like «Ждём заявителя» (the next
move is the vendor's), a breach before the hand-over stays final, a request with the vendor holds
no consultation slot, and the weekly summary lists the long vendor waits apart from the overdue.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd

from journaldesk.jobs.report import render
from journaldesk.rules.booking import quarter_end_ahead
from journaldesk.rules.calendar import quarter_end_dates
from journaldesk.rules.school_year import regulation_hours
from journaldesk.rules.summary import VendorWait, vendor_waits, working_days_after
from journaldesk.rules.worktime import CalendarEntry, WorkCalendar
from tests.helpers import at, local, request
from tests.test_deadlines import FIRST, LAST, LOGIN, TZ, audit_of, due_of
from tests.test_report import empty_week

VENDOR = "Передано в поддержку ЭлЖур"
D = dt.date


def test_the_vendor_status_stops_the_clock_like_waiting_for_the_requester() -> None:
    calendar = WorkCalendar.build(regulation_hours(), [], tz=TZ, start=FIRST, end=LAST)
    # Mon 23.11 14:00 + 1 working hour = 15:00; handed over at 14:30, back at 15:30 (1 h away)
    # -> due 16:00 by the rule; a second one still with the vendor is paused, not overdue.
    rows = [
        request(number=1, received_at=local("23.11.2026 14:00"), topic=LOGIN, status="В работе"),
        request(number=2, received_at=local("23.11.2026 14:00"), topic=LOGIN, status=VENDOR),
        request(number=3, received_at=local("23.11.2026 14:00"), topic=LOGIN, status=VENDOR),
    ]
    audit = audit_of(
        [
            (1, "Новое", VENDOR, local("23.11.2026 14:30")),
            (1, VENDOR, "В работе", local("23.11.2026 15:30")),
            (2, "Новое", VENDOR, local("23.11.2026 14:30")),  # in time
            (3, "Новое", VENDOR, local("23.11.2026 15:30")),  # after its 15:00 deadline
        ]
    )
    due, state, notes = due_of(calendar, rows, now=at("25.11.2026 16:00"), audit=audit)
    assert due[0] == local("23.11.2026 16:00")
    assert state == ["Просрочено", "Приостановлено", "Просрочено"]
    assert notes[4] == [
        f"{VENDOR} с 23.11.2026 15:30, но срок 23.11.2026 15:00 был нарушен раньше: "
        "обращение остаётся просроченным"
    ]


def test_waiting_then_vendor_is_one_pause() -> None:
    calendar = WorkCalendar.build(regulation_hours(), [], tz=TZ, start=FIRST, end=LAST)
    rows = [
        request(number=1, received_at=local("23.11.2026 14:00"), topic=LOGIN, status="В работе")
    ]
    # On hold 14:30–15:00 waiting, 15:00–15:30 with the vendor: 1 working hour in all.
    audit = audit_of(
        [
            (1, "Новое", "Ждём заявителя", local("23.11.2026 14:30")),
            (1, "Ждём заявителя", VENDOR, local("23.11.2026 15:00")),
            (1, VENDOR, "В работе", local("23.11.2026 15:30")),
        ]
    )
    due, _, _ = due_of(calendar, rows, now=at("23.11.2026 15:40"), audit=audit)
    assert due == [local("23.11.2026 16:00")]


def weekdays_model(since: D, today: D, holidays: set[D]) -> int:
    """Working days after `since` up to `today`, one day at a time."""
    n, d = 0, since + dt.timedelta(days=1)
    while d <= today:
        n += d.weekday() < 5 and d not in holidays
        d += dt.timedelta(days=1)
    return n


def test_working_days_skip_weekends_and_holidays() -> None:
    holidays = {D(2026, 11, 4), D(2027, 1, 1)}
    for since, today in [
        (D(2026, 11, 2), D(2026, 11, 9)),
        (D(2026, 11, 6), D(2026, 11, 6)),
        (D(2026, 12, 25), D(2027, 1, 11)),
    ]:
        assert working_days_after(since, today, holidays) == weekdays_model(since, today, holidays)


def test_the_summary_lists_vendor_waits_past_the_limit_longest_first() -> None:
    requests = pd.DataFrame(
        {
            "number": [1, 2, 3, 4],
            "topic": ["Техническая неисправность"] * 4,
            "class_name": ["5А", None, "7Б", None],
            "status": [VENDOR, VENDOR, "В работе", VENDOR],
            "received_at": [local("02.11.2026 14:10")] * 4,
        }
    )
    audit = audit_of(
        [
            (1, "Новое", VENDOR, local("03.11.2026 15:00")),  # 12 working days by 20.11 (4.11 off)
            (2, "Новое", VENDOR, local("16.11.2026 15:00")),  # 4 working days: under the limit
            (3, "Новое", VENDOR, local("03.11.2026 15:00")),  # back in work: not listed
        ]
    )
    # № 4 was typed with the vendor status from the start: counted from its arrival (02.11).
    holidays = {D(2026, 11, 4)}
    waits = vendor_waits(requests, audit, holidays=holidays, today=D(2026, 11, 20), limit_days=5)
    assert [(w.number, w.since, w.working_days) for w in waits] == [
        (4, D(2026, 11, 2), weekdays_model(D(2026, 11, 2), D(2026, 11, 20), holidays)),
        (1, D(2026, 11, 3), weekdays_model(D(2026, 11, 3), D(2026, 11, 20), holidays)),
    ]
    assert waits[1].class_name == "5А"


def test_the_report_shows_vendor_waits_apart_from_the_overdue() -> None:
    week = dataclasses.replace(
        empty_week(),
        with_vendor_now=3,
        vendor_waits=[
            VendorWait(number=12, topic="Техническая неисправность", class_name="5А",
                       since=D(2026, 11, 3), working_days=12),
        ],
    )  # fmt: skip
    for template in ("summary.md.j2", "summary.html.j2"):
        text = render(template, week)
        assert "В поддержке ЭлЖур" in text
        assert "Передано в поддержку ЭлЖур: 3" in text
        assert "дольше 5 рабочих дней" in text
        assert "12 рабочих дней" in text and "03.11.2026" in text
    assert "В поддержке ЭлЖур" not in render("summary.md.j2", empty_week())


# --- quarter ends ------------------------------------------------------------------------------


def test_a_quarter_end_is_a_marker_not_a_closed_day() -> None:
    entries = [CalendarEntry(D(2026, 11, 27), D(2026, 11, 27), "Конец четверти")]
    marked = WorkCalendar.build(regulation_hours(), entries, tz=TZ, start=FIRST, end=LAST)
    plain = WorkCalendar.build(regulation_hours(), [], tz=TZ, start=FIRST, end=LAST)
    assert marked.is_open_day(D(2026, 11, 27))
    assert list(marked.starts) == list(plain.starts) and list(marked.ends) == list(plain.ends)


def test_quarter_ends_come_from_the_calendar_tab_and_look_a_week_ahead() -> None:
    tab = pd.DataFrame(
        {
            "date_from": [D(2026, 12, 25), D(2026, 10, 30), D(2026, 11, 4)],
            "kind": ["Конец четверти", "Конец четверти", "Праздник"],
        }
    )
    ends = quarter_end_dates(tab)
    assert ends == [D(2026, 10, 30), D(2026, 12, 25)]
    assert quarter_end_ahead(D(2026, 12, 18), ends) == D(2026, 12, 25)  # 7 days ahead
    assert quarter_end_ahead(D(2026, 12, 17), ends) is None  # 8 days ahead
    assert quarter_end_ahead(D(2026, 12, 26), ends) is None  # passed


def test_the_report_counts_open_marks_requests_before_a_quarter_end() -> None:
    week = dataclasses.replace(empty_week(), quarter_end=D(2026, 12, 25), marks_open=4)
    for template in ("summary.md.j2", "summary.html.j2"):
        text = render(template, week)
        assert "Конец четверти 25.12.2026" in text
        assert "открыто обращений по текущим и итоговым отметкам — 4" in text
    assert "Конец четверти" not in render("summary.md.j2", empty_week())
