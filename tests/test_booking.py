"""Consultation bookings: slots from the consultation hours, stable bookings, rebooking of closed
days, what staff type, and the administrator's agenda."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from journaldesk.jobs.init import load_calendar_plan
from journaldesk.rules.booking import (
    BookingPlan,
    BookingRules,
    Slot,
    agenda,
    agenda_lines,
    normalize_room,
    parse_slot,
    plan_bookings,
    rooms_by_weekday,
)
from journaldesk.rules.school_year import regulation_hours, school_year_entries
from journaldesk.rules.worktime import (
    KIND_CANCELLED,
    KIND_EXTRA,
    KIND_VACATION,
    CalendarEntry,
    WorkCalendar,
    to_minutes,
)
from journaldesk.settings import Settings, parse_settings
from tests.helpers import examples

TZ = "Europe/Simferopol"
ZONE = ZoneInfo(TZ)
MARKS = "Текущие отметки"  # needs a consultation (regulation 2.3)
FAULT = "Техническая неисправность"  # does not
NEW, IN_WORK, WAITING, RESOLVED, REJECTED = (
    "Новое",
    "В работе",
    "Ждём заявителя",
    "Решено",
    "Отклонено",
)
WITH_VENDOR = "Передано в поддержку ЭлЖур"
NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=ZONE)  # a Wednesday
ROOMS = {d: "12" for d in range(5)}


def local(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%d.%m.%Y %H:%M")


def make_calendar(*entries: CalendarEntry) -> WorkCalendar:
    return WorkCalendar.build(
        regulation_hours(), list(entries), tz=TZ, start=dt.date(2026, 9, 1), end=dt.date(2027, 6, 1)
    )


CALENDAR = make_calendar()


def make_settings(**booking: object) -> Settings:
    """Booking settings; no reserve unless a test asks for one (the reserve has its own tests)."""
    return parse_settings({"booking": {"room": "12", "reserve_share": 0, **booking}}, Path("."))


def requests(*rows: dict[str, object]) -> pd.DataFrame:
    """Effective request rows by sheet row (2, 3, ...), with the columns the rules read."""
    base = {
        "topic": MARKS,
        "status": NEW,
        "requester": "Иванова Марина Николаевна",
        "received_at": local("25.11.2026 10:00"),
    }
    data = []
    for i, row in enumerate(rows):
        data.append({"number": float(i + 1), **base, **row})
    return pd.DataFrame(data, index=pd.RangeIndex(2, 2 + len(rows)), dtype=object)


def cells(frame: pd.DataFrame, *values: object) -> pd.Series:
    padded = list(values) + [None] * (len(frame) - len(values))
    return pd.Series(padded, index=frame.index, dtype=object)


def plan(
    frame: pd.DataFrame,
    current: pd.Series | None = None,
    *,
    calendar: WorkCalendar = CALENDAR,
    settings: Settings | None = None,
    now: dt.datetime = NOW,
    due: np.ndarray | None = None,
    quarter_ends: tuple[dt.date, ...] = (),
) -> BookingPlan:
    return plan_bookings(
        frame,
        cells(frame) if current is None else current,
        calendar=calendar,
        rules=BookingRules.from_settings(settings or make_settings()),
        now=now,
        sheet_tz=TZ,
        schedule_rooms=ROOMS,
        due=due,
        quarter_ends=quarter_ends,
    )


def slots_of(p: BookingPlan) -> dict[int, Slot]:
    out = {}
    for row, text in p.desired.items():
        if isinstance(text, str):
            slot = parse_slot(text)
            assert slot is not None, text
            out[int(row)] = slot
    return out


def minutes(moment: dt.datetime) -> float:
    return float(to_minutes([moment], TZ)[0])


# --- slot text ------------------------------------------------------------------------------


def test_label_is_weekday_date_times_and_room() -> None:
    slot = Slot(local("01.12.2026 15:20"), local("01.12.2026 15:40"), "12")
    assert slot.label() == "вт 01.12.2026 15:20–15:40, каб. 12"
    assert Slot(slot.start, slot.end).label() == "вт 01.12.2026 15:20–15:40"
    assert Slot(slot.start, slot.end, "Актовый зал").label().endswith(", Актовый зал")


@pytest.mark.parametrize(
    ("text", "room"),
    [
        ("вт 01.12.2026 15:20–15:40, каб. 12", "12"),
        ("вт\u00a001.12.2026\u00a015:20 - 15:40,\u00a0каб.\u00a012", "12"),
        ("  01.12.2026 15:20-15:40  ", ""),
        ("15:20-15:40 01.12.2026", ""),
        ("15.20—15.40, 01.12.2026, кабинет 12", "12"),
        ("Вт. 1.12.26 с 15:20 до 15:40", ""),
        ("2026-12-01 15:20–15:40 каб 12", "12"),
        ("вторник, 01.12.2026 в 15:20-15:40", ""),
        ("01.12.2026 15:20", ""),  # no end: one slot long
    ],
)
def test_parse_slot_is_tolerant(text: str, room: str) -> None:
    assert parse_slot(text, minutes=20) == Slot(
        local("01.12.2026 15:20"), local("01.12.2026 15:40"), room
    )


def test_parse_slot_takes_the_year_from_the_hint_only_when_missing() -> None:
    assert parse_slot("01.12 15:20-15:40") is None
    assert parse_slot("01.12 15:20-15:40", 2026) == Slot(
        local("01.12.2026 15:20"), local("01.12.2026 15:40")
    )
    assert parse_slot("01.12.2027 15:20-15:40", 2026).start.year == 2027  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "придёт в четверг",
        "01.12.2026",  # a day, no time
        "ср 01.12.2026 15:20–15:40",  # 01.12.2026 is a Tuesday
        "31.11.2026 15:20–15:40",
        "01.12.2026 15:40–15:20",
        "01.12.2026 25:00–25:20",
        "01.12.2026 15:20–15:40 перезвонить",
        "",
    ],
)
def test_parse_slot_says_none_for_what_is_not_a_slot(text: str) -> None:
    assert parse_slot(text, 2026) is None


@given(
    start=st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2035, 1, 1)),
    length=st.integers(min_value=5, max_value=240),
    room=st.sampled_from(["", "12", "2-05", "Актовый зал", "кабинет информатики"]),
)
def test_a_label_reads_back_as_the_same_slot(start: dt.datetime, length: int, room: str) -> None:
    start = start.replace(second=0, microsecond=0)
    end = start + dt.timedelta(minutes=length)
    if end.date() != start.date():
        end = start.replace(hour=23, minute=59)
        if end <= start:
            return
    slot = Slot(start, end, room)
    assert parse_slot(slot.label()) == slot


def test_rooms_come_from_the_schedule_tab() -> None:
    schedule = pd.DataFrame(
        {
            "weekday": ["Понедельник", "Вторник", None, "Пятница"],
            "room": ["каб. 12", 14.0, "5", None],
        }
    )
    assert rooms_by_weekday(schedule) == {0: "12", 1: "14"}
    assert normalize_room("Кабинет 2-05") == "2-05"
    assert normalize_room("кабинет информатики") == "кабинет информатики"


# --- booking ---------------------------------------------------------------------------------


def test_the_earliest_free_slot_after_the_notice_in_order_of_arrival() -> None:
    frame = requests(
        {"received_at": local("25.11.2026 11:00")},  # № 1
        {"received_at": local("25.11.2026 09:00")},  # № 2: came first
        {"received_at": local("25.11.2026 09:00")},  # № 3: same moment, higher №
        {"topic": FAULT},  # no consultation for a fault
        {"status": RESOLVED},
        {"received_at": local("26.11.2026 16:10")},  # arrives tomorrow: not before it
    )
    p = plan(frame)
    # Now 12:00 + 2 h notice: the 15:00 session of today is the first one.
    assert list(p.desired) == [
        "ср 25.11.2026 15:40–16:00, каб. 12",
        "ср 25.11.2026 15:00–15:20, каб. 12",
        "ср 25.11.2026 15:20–15:40, каб. 12",
        None,
        None,
        "чт 26.11.2026 16:20–16:40, каб. 12",
    ]
    assert p.booked == [
        (1, "ср 25.11.2026 15:40–16:00, каб. 12"),
        (2, "ср 25.11.2026 15:00–15:20, каб. 12"),
        (3, "ср 25.11.2026 15:20–15:40, каб. 12"),
        (6, "чт 26.11.2026 16:20–16:40, каб. 12"),
    ]
    assert p.notes == {} and p.rebooked == []


def test_min_notice_pushes_the_first_slot() -> None:
    frame = requests({})
    assert (
        plan(frame, settings=make_settings(min_notice_hours=0))
        .desired[2]
        .startswith("ср 25.11.2026 15:00–15:20")
    )
    assert (
        plan(frame, settings=make_settings(min_notice_hours=4))
        .desired[2]
        .startswith("ср 25.11.2026 16:00–16:20")
    )
    # 12:00 + 6 h is past today's hours: tomorrow's first slot.
    assert (
        plan(frame, settings=make_settings(min_notice_hours=6))
        .desired[2]
        .startswith("чт 26.11.2026 15:00–15:20")
    )
    in_session = dt.datetime(2026, 11, 25, 15, 5, tzinfo=ZONE)
    assert (
        plan(frame, settings=make_settings(min_notice_hours=0), now=in_session)
        .desired[2]
        .startswith("ср 25.11.2026 15:20–15:40")
    )


def test_slot_length_buffer_capacity_and_daily_cap() -> None:
    frame = requests(*[{} for _ in range(7)])
    p = plan(frame, settings=make_settings(slot_minutes=30, buffer_minutes=10, capacity=2))
    assert list(p.desired) == [
        "ср 25.11.2026 15:00–15:30, каб. 12",
        "ср 25.11.2026 15:00–15:30, каб. 12",
        "ср 25.11.2026 15:40–16:10, каб. 12",
        "ср 25.11.2026 15:40–16:10, каб. 12",
        "ср 25.11.2026 16:20–16:50, каб. 12",  # 17:00 would end at 17:30: past the session
        "ср 25.11.2026 16:20–16:50, каб. 12",
        "чт 26.11.2026 15:00–15:30, каб. 12",
    ]
    capped = plan(frame, settings=make_settings(daily_cap=2))
    days = [text[:13] for text in capped.desired]
    assert days == ["ср 25.11.2026"] * 2 + ["чт 26.11.2026"] * 2 + ["пт 27.11.2026"] * 2 + [
        "пн 30.11.2026"
    ]


def test_the_room_comes_from_the_schedule_else_the_setting() -> None:
    frame = requests({})
    saturday = make_calendar(
        CalendarEntry(
            dt.date(2026, 11, 28), dt.date(2026, 11, 28), KIND_EXTRA, dt.time(10), dt.time(12)
        )
    )
    p = plan_bookings(
        frame,
        cells(frame),
        calendar=saturday,
        rules=BookingRules.from_settings(make_settings(room="Актовый зал")),
        now=dt.datetime(2026, 11, 27, 17, 0, tzinfo=ZONE),
        sheet_tz=TZ,
        schedule_rooms={0: "каб. 7"},
    )
    assert p.desired[2] == "сб 28.11.2026 10:00–10:20, Актовый зал"
    p = plan_bookings(
        frame,
        cells(frame),
        calendar=CALENDAR,
        rules=BookingRules.from_settings(make_settings()),
        now=dt.datetime(2026, 11, 27, 17, 0, tzinfo=ZONE),
        sheet_tz=TZ,
        schedule_rooms={0: "каб. 7"},
    )
    assert p.desired[2] == "пн 30.11.2026 14:00–14:20, каб. 7"


def test_no_slot_left_in_the_calendar_is_a_note_not_a_crash() -> None:
    short = WorkCalendar.build(
        regulation_hours(), [], tz=TZ, start=dt.date(2026, 11, 20), end=dt.date(2026, 11, 24)
    )
    p = plan(requests({}), calendar=short)
    assert p.desired[2] is None
    assert p.notes == {
        2: [
            "Консультация: нет свободного времени для консультации до 24.11.2026 — запишите вручную"
        ]
    }


# --- the invariants, on random requests ------------------------------------------------------


@st.composite
def random_case(draw: st.DrawFn) -> tuple[pd.DataFrame, Settings]:
    n = draw(st.integers(min_value=1, max_value=30))
    rows = []
    for _ in range(n):
        offset = draw(st.integers(min_value=-20 * 24 * 60, max_value=10 * 24 * 60))
        rows.append(
            {
                "received_at": local("25.11.2026 12:00") + dt.timedelta(minutes=offset),
                "topic": draw(st.sampled_from([MARKS, MARKS, MARKS, FAULT])),
                "status": draw(st.sampled_from([NEW, NEW, IN_WORK, WAITING, RESOLVED, REJECTED])),
            }
        )
    frame = requests(*rows)
    settings = make_settings(
        capacity=draw(st.integers(min_value=1, max_value=3)),
        slot_minutes=draw(st.sampled_from([15, 20, 30, 45])),
        buffer_minutes=draw(st.sampled_from([0, 5, 10])),
        min_notice_hours=draw(st.sampled_from([0, 2, 24])),
        daily_cap=draw(st.sampled_from([None, None, 1, 3, 5])),
    )
    return frame, settings


def _check_invariants(frame: pd.DataFrame, p: BookingPlan, settings: Settings) -> None:
    b = settings.booking
    booked = slots_of(p)
    # A request waiting for the requester holds no slot.
    open_ = frame["status"].isin([NEW, IN_WORK])
    wanted = open_ & (frame["topic"] == MARKS)
    assert set(booked) == set(frame.index[wanted]), "every open consultation request is booked"
    now_m = minutes(NOW.astimezone(ZONE).replace(tzinfo=None))
    spans = []
    per_day: dict[dt.date, int] = {}
    for row, slot in booked.items():
        s, e = minutes(slot.start), minutes(slot.end)
        assert e - s == b.slot_minutes
        assert CALENDAR.between(s, e) == e - s, f"{slot.label()} is inside consultation hours"
        earliest = max(minutes(frame.at[row, "received_at"]), now_m + b.min_notice_hours * 60)
        assert s >= earliest, "no slot before the request came in or inside the notice"
        spans.append((s, e))
        per_day[slot.start.date()] = per_day.get(slot.start.date(), 0) + 1
    # Never more requests at one moment than a slot holds.
    for s, _ in spans:
        assert sum(1 for a, z in spans if a <= s < z) <= b.capacity
    if b.daily_cap is not None:
        assert max(per_day.values(), default=0) <= b.daily_cap


@hyp_settings(
    max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(random_case())
def test_random_requests_never_share_a_slot_beyond_capacity_and_stay_put(
    case: tuple[pd.DataFrame, Settings],
) -> None:
    frame, settings = case
    first = plan(frame, settings=settings)
    _check_invariants(frame, first, settings)
    assert first.notes == {}
    # The next sync sees what the first one wrote: nothing moves, nothing is noted.
    again = plan(frame, first.desired, settings=settings)
    assert list(again.desired) == list(first.desired)
    assert again.notes == {} and again.booked == [] and again.rebooked == []
    # A day later: the same bookings still (slots now in the past are history).
    later = plan(frame, first.desired, settings=settings, now=NOW + dt.timedelta(days=1))
    assert list(later.desired) == list(first.desired)


# --- days that close ---------------------------------------------------------------------------


def test_a_day_cancelled_in_the_calendar_rebooks_exactly_its_requests() -> None:
    frame = requests(*[{"received_at": local("25.11.2026 09:00")} for _ in range(16)])
    first = plan(frame)
    on_thursday = {
        row for row, slot in slots_of(first).items() if slot.start.date() == dt.date(2026, 11, 26)
    }
    assert len(on_thursday) == 6
    cancelled = make_calendar(
        CalendarEntry(
            dt.date(2026, 11, 26), dt.date(2026, 11, 26), KIND_CANCELLED, comment="педсовет"
        )
    )
    second = plan(frame, first.desired, calendar=cancelled)
    moved = {row for row in frame.index if second.desired[row] != first.desired[row]}
    assert moved == on_thursday
    new = slots_of(second)
    assert all(new[row].start.date() != dt.date(2026, 11, 26) for row in moved)
    assert second.rebooked == sorted(
        (int(frame.at[row, "number"]), first.desired[row], second.desired[row])
        for row in on_thursday
    )
    # The moved ones took the first free slots after the others: no one shares a slot.
    assert len({s.start for s in new.values()}) == len(new)
    # Stable again on the next sync.
    third = plan(frame, second.desired, calendar=cancelled)
    assert list(third.desired) == list(second.desired) and third.rebooked == []


def test_holidays_and_vacations_never_get_slots() -> None:
    year = WorkCalendar.build(
        regulation_hours(),
        school_year_entries(2026, load_calendar_plan()),
        tz=TZ,
        start=dt.date(2026, 9, 1),
        end=dt.date(2027, 6, 1),
    )
    closed = [
        (dt.date(2026, 10, 26), dt.date(2026, 11, 4)),
        (dt.date(2026, 12, 28), dt.date(2027, 1, 10)),
    ]
    for now, n in (
        (dt.datetime(2026, 10, 23, 12, tzinfo=ZONE), 12),
        (dt.datetime(2026, 12, 24, 12, tzinfo=ZONE), 20),
    ):
        frame = requests(*[{"received_at": now.replace(tzinfo=None)} for _ in range(n)])
        p = plan(frame, calendar=year, now=now)
        days = sorted({slot.start.date() for slot in slots_of(p).values()})
        assert len(slots_of(p)) == n
        assert not [d for d in days for a, z in closed if a <= d <= z]
    # Fri 23.10 takes six, then nothing until Thu 05.11 (vacation, then the 4 November holiday).
    frame = requests(*[{"received_at": local("23.10.2026 12:00")} for _ in range(7)])
    p = plan(frame, calendar=year, now=dt.datetime(2026, 10, 23, 12, tzinfo=ZONE))
    assert p.desired.iloc[-1] == "чт 05.11.2026 15:00–15:20, каб. 12"


def test_a_staff_typed_slot_on_a_closed_day_is_flagged_not_moved() -> None:
    cancelled = make_calendar(
        CalendarEntry(
            dt.date(2026, 12, 2), dt.date(2026, 12, 2), KIND_CANCELLED, comment="педсовет"
        ),
        CalendarEntry(dt.date(2026, 12, 28), dt.date(2027, 1, 10), KIND_VACATION, comment="зимние"),
    )
    typed = ["02.12.2026 15:00-15:20", "ср 30.12.2026 15:00–15:20, каб. 12"]
    frame = requests({}, {})
    p = plan(frame, cells(frame, *typed), calendar=cancelled)
    assert list(p.desired) == [typed[0], "ср 25.11.2026 15:00–15:20, каб. 12"]
    assert p.rebooked == [(2, typed[1], "ср 25.11.2026 15:00–15:20, каб. 12")]
    assert p.notes == {
        2: ["Консультация: «02.12.2026 15:00-15:20» — в этот день нет консультаций: педсовет"]
    }


# --- what staff type ---------------------------------------------------------------------------


def test_a_staff_typed_slot_is_kept_exactly_and_its_time_is_taken() -> None:
    typed = "  01.12.2026  15:00 - 15:20 "
    frame = requests({}, {})
    now = dt.datetime(2026, 12, 1, 12, 0, tzinfo=ZONE)
    p = plan(frame, cells(frame, typed), now=now)
    assert p.desired[2] == typed
    assert p.desired[3] == "вт 01.12.2026 15:20–15:40, каб. 12"
    assert p.notes == {} and p.booked == [(2, "вт 01.12.2026 15:20–15:40, каб. 12")]


def test_a_double_booking_is_flagged_on_both_rows_naming_the_other() -> None:
    frame = requests({}, {}, {})
    current = cells(frame, "вт 01.12.2026 15:00–15:20, каб. 12", "01.12.2026 15:10-15:30")
    p = plan(frame, current)
    assert p.notes == {
        2: ["Консультация: на это время уже записано обращение № 2 (на одно время — не больше 1)"],
        3: ["Консультация: на это время уже записано обращение № 1 (на одно время — не больше 1)"],
    }
    assert p.desired[2] == current[2] and p.desired[3] == current[3]
    assert p.desired[4] == "ср 25.11.2026 15:00–15:20, каб. 12"  # others are still booked
    assert plan(frame, current, settings=make_settings(capacity=2)).notes == {}


def test_an_out_of_hours_typed_slot_is_flagged_and_kept() -> None:
    frame = requests({}, {}, {"topic": FAULT})
    current = cells(
        frame, "вт 01.12.2026 17:30–17:50", "сб 05.12.2026 10:00-10:20", "01.12.2026 15:50-16:10"
    )
    p = plan(frame, current)
    assert list(p.desired) == list(current)
    assert p.notes == {
        2: [
            "Консультация: «вт 01.12.2026 17:30–17:50» — вне часов консультаций "
            "(в этот день: 15:00–17:00)"
        ],
        3: [
            "Консультация: «сб 05.12.2026 10:00-10:20» — в этот день нет консультаций "
            "(выходной: нет часов по графику)"
        ],
    }


def test_a_cell_that_is_not_a_slot_is_noted_left_as_typed_and_not_booked_over() -> None:
    frame = requests({})
    p = plan(frame, cells(frame, "придёт в четверг"))
    assert p.desired[2] == "придёт в четверг"
    assert p.notes == {
        2: [
            "Консультация: «придёт в четверг» — не похоже на время консультации. "
            "Пример: «вт 01.12.2026 15:20–15:40, каб. 12»"
        ]
    }
    wrong_day = plan(frame, cells(frame, "ср 01.12.2026 15:20–15:40"))
    assert wrong_day.notes[2][0].startswith(
        "Консультация: «ср 01.12.2026 15:20–15:40» — не похоже на время консультации "
        "(01.12.2026 — это вт, а не ср)."
    )


def test_a_cleared_cell_is_booked_again() -> None:
    frame = requests({}, {}, {})
    first = plan(frame)
    current = first.desired.copy()
    current[3] = "  "
    second = plan(frame, current)
    # Its old slot is the earliest free one again; the others stay where they were.
    assert list(second.desired) == list(first.desired)
    current[3] = None
    current[2] = None
    third = plan(frame, current)
    assert third.desired[4] == first.desired[4]


def test_a_date_cell_becomes_a_slot_of_the_usual_length() -> None:
    frame = requests({})
    p = plan(frame, cells(frame, local("01.12.2026 15:20")))
    assert p.desired[2] == "вт 01.12.2026 15:20–15:40, каб. 12" and p.notes == {}


def test_a_resolved_request_frees_its_future_slot_and_keeps_its_past_one() -> None:
    frame = requests(
        {"status": RESOLVED},  # its slot is tomorrow: freed
        {"status": REJECTED, "received_at": local("20.11.2026 10:00")},  # last week: history
        {"received_at": local("25.11.2026 11:00")},  # needs one now
    )
    current = cells(
        frame, "ср 25.11.2026 15:00–15:20, каб. 12", "пт 20.11.2026 14:00–14:20, каб. 12"
    )
    p = plan(frame, current)
    assert list(p.desired) == [
        None,
        "пт 20.11.2026 14:00–14:20, каб. 12",
        "ср 25.11.2026 15:00–15:20, каб. 12",  # the freed time goes to the next in line
    ]
    assert p.notes == {}


# --- speed ---------------------------------------------------------------------------------------


def test_ten_thousand_requests_each_new_marks_request_booked() -> None:
    rng = np.random.default_rng(7)
    n = 10_000
    received = [
        local("01.09.2026 09:00") + dt.timedelta(minutes=int(m))
        for m in rng.integers(0, 120 * 24 * 60, n)
    ]
    status = rng.choice([RESOLVED] * 9 + [NEW], n)
    topics = rng.choice([MARKS, FAULT, FAULT], n)
    frame = requests(
        *[
            {"received_at": r, "status": s, "topic": t}
            for r, s, t in zip(received, status, topics, strict=True)
        ]
    )
    # Most resolved consultation requests hold a past slot (history).
    cutoff = local("20.11.2026 00:00")
    history = [
        Slot(r.replace(hour=15, minute=0), r.replace(hour=15, minute=20), "12").label()
        if s == RESOLVED and t == MARKS and r < cutoff
        else None
        for r, s, t in zip(received, status, topics, strict=True)
    ]
    current = pd.Series(history, index=frame.index, dtype=object)
    p = plan(frame, current, settings=make_settings(capacity=2))
    assert len(p.booked) == int(((status == NEW) & (topics == MARKS)).sum())


# --- the agenda ----------------------------------------------------------------------------------


def test_agenda_lists_days_bookings_free_places_and_closed_days() -> None:
    cancelled = make_calendar(
        CalendarEntry(
            dt.date(2026, 12, 2), dt.date(2026, 12, 2), KIND_CANCELLED, comment="педсовет"
        )
    )
    frame = requests(
        {"requester": "Осипова Наталья Владимировна"},
        {"topic": FAULT, "requester": "Петров Иван"},
        {"status": RESOLVED, "requester": "Белова Анна"},
        {"requester": "Сидоров П. П."},
    )
    current = cells(
        frame,
        "пн 30.11.2026 14:20–14:40, каб. 12",
        "30.11.2026 14:00-14:20, каб. 5",
        "пн 30.11.2026 15:00–15:20, каб. 12",
        "02.12.2026 15:00-15:20",
    )
    days = agenda(
        frame,
        current,
        calendar=cancelled,
        rules=BookingRules.from_settings(make_settings()),
        day_from=dt.date(2026, 11, 30),
        day_to=dt.date(2026, 12, 6),
        schedule_rooms=ROOMS,
    )
    assert [d.day.day for d in days] == [30, 1, 2, 3, 4, 5, 6]
    monday, _, wednesday = days[:3]
    assert [b.number for b in monday.bookings] == [2, 1, 3]
    assert (monday.places, monday.free) == (6, 3)
    assert wednesday.closed_reason == "Нет консультаций: педсовет"
    assert wednesday.bookings[0].outside
    assert agenda_lines(days) == [
        "Консультации с 30.11.2026 по 06.12.2026",
        "пн 30.11.2026 14:00–16:00, каб. 12 — записано: 3, свободных мест: 3",
        "  14:00–14:20  № 2  Техническая неисправность — Петров Иван, каб. 5",
        "  14:20–14:40  № 1  Текущие отметки — Осипова Наталья Владимировна",
        "  15:00–15:20  № 3  Текущие отметки — Белова Анна (решено)",
        "вт 01.12.2026 15:00–17:00, каб. 12 — записано: 0, свободных мест: 6",
        "  записей нет",
        "ср 02.12.2026 — нет консультаций: педсовет",
        "  15:00–15:20  № 4  Текущие отметки — Сидоров П. П. — вне часов консультаций",
        "чт 03.12.2026 15:00–17:00, каб. 12 — записано: 0, свободных мест: 6",
        "  записей нет",
        "пт 04.12.2026 14:00–16:00, каб. 12 — записано: 0, свободных мест: 6",
        "  записей нет",
        "Всего записано: 4, свободных мест: 21.",
    ]


def test_agenda_free_places_respect_the_daily_cap() -> None:
    frame = requests({})
    days = agenda(
        frame,
        cells(frame, "пн 30.11.2026 14:20–14:40, каб. 12"),
        calendar=CALENDAR,
        rules=BookingRules.from_settings(make_settings(daily_cap=4, capacity=2)),
        day_from=dt.date(2026, 11, 30),
        day_to=dt.date(2026, 11, 30),
    )
    assert (days[0].places, days[0].free) == (4, 3)


def test_agenda_counts_no_free_places_in_the_past() -> None:
    frame = requests({})
    days = agenda(
        frame,
        cells(frame, "вт 01.12.2026 15:20–15:40, каб. 12"),
        calendar=CALENDAR,
        rules=BookingRules.from_settings(make_settings()),
        day_from=dt.date(2026, 11, 30),
        day_to=dt.date(2026, 12, 1),
        now=dt.datetime(2026, 12, 1, 15, 30, tzinfo=ZONE),
    )
    # Monday is over; on Tuesday 15:40, 16:00, 16:20 and 16:40 are still ahead.
    assert [(d.places, d.free) for d in days] == [(6, 0), (6, 4)]


def test_bookings_do_not_depend_on_row_order() -> None:
    frame = requests(
        *[{"received_at": local(f"2{d}.11.2026 1{h}:00")} for d in range(3, 6) for h in range(3)]
    )
    first = plan(frame)
    by_number = dict(zip(frame["number"], first.desired, strict=True))
    shuffled = frame.iloc[::-1].copy()
    shuffled.index = frame.index  # staff sorted the sheet: same requests, other rows
    second = plan(shuffled)
    assert dict(zip(shuffled["number"], second.desired, strict=True)) == by_number


# --- bookings serve the deadline ----------------------------------------------------------------


@st.composite
def deadline_week(
    draw: st.DrawFn,
) -> tuple[pd.DataFrame, np.ndarray, Settings, dt.datetime, WorkCalendar]:
    """Requests with deadlines in a random week of the year, some days cancelled."""
    week = draw(st.integers(min_value=0, max_value=30))
    now = dt.datetime(2026, 9, 7, 10, tzinfo=ZONE) + dt.timedelta(weeks=week)
    now += dt.timedelta(hours=draw(st.integers(min_value=0, max_value=4 * 24)))
    cancelled = draw(st.lists(st.integers(min_value=0, max_value=13), max_size=3, unique=True))
    entries = [
        CalendarEntry(d, d, KIND_CANCELLED)
        for d in (now.date() + dt.timedelta(days=k) for k in cancelled)
    ]
    calendar = make_calendar(*entries)
    n = draw(st.integers(min_value=1, max_value=40))
    rows, due = [], []
    local_now = now.replace(tzinfo=None)
    for _ in range(n):
        received = local_now - dt.timedelta(minutes=draw(st.integers(0, 3 * 24 * 60)))
        rows.append(
            {
                "received_at": received,
                "status": draw(st.sampled_from([NEW, NEW, IN_WORK, WAITING])),
            }
        )
        ahead = draw(st.integers(min_value=-2 * 24 * 60, max_value=8 * 24 * 60))
        due.append(minutes(local_now + dt.timedelta(minutes=ahead)))
    settings = make_settings(
        capacity=draw(st.integers(min_value=1, max_value=2)),
        slot_minutes=draw(st.sampled_from([15, 20, 30])),
        min_notice_hours=draw(st.sampled_from([0, 2])),
        reserve_share=draw(st.sampled_from([0, 0.25, 0.5])),
    )
    return requests(*rows), np.array(due), settings, now, calendar


def _grid(calendar: WorkCalendar, b: object, first: dt.date) -> list[tuple[float, float, int]]:
    """Every slot (start, end, session number) of the test's days, written from the rule."""
    out = []
    for k, (a, z) in enumerate(calendar.sessions(first, first + dt.timedelta(days=200))):
        t = a
        while t + dt.timedelta(minutes=b.slot_minutes) <= z:
            end = t + dt.timedelta(minutes=b.slot_minutes)
            out.append((minutes(t.replace(tzinfo=None)), minutes(end.replace(tzinfo=None)), k))
            t = end + dt.timedelta(minutes=b.buffer_minutes)
    return out


@hyp_settings(
    max_examples=examples(50), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
@given(deadline_week())
def test_no_booking_after_its_deadline_while_a_slot_before_it_was_free(
    case: tuple[pd.DataFrame, np.ndarray, Settings, dt.datetime, WorkCalendar],
) -> None:
    frame, due, settings, now, calendar = case
    b = settings.booking
    p = plan(frame, settings=settings, now=now, calendar=calendar, due=due)
    booked = slots_of(p)
    # A request waiting for the requester holds no slot; every other one has one.
    waiting = set(frame.index[frame["status"] == WAITING])
    assert not waiting & set(booked)
    assert set(booked) == set(frame.index) - waiting
    grid = _grid(calendar, b, (now - dt.timedelta(days=1)).date())
    load = {(s, e): 0 for s, e, _ in grid}
    places: dict[int, int] = {}
    used: dict[int, int] = {}
    for _s, _e, k in grid:
        places[k] = places.get(k, 0) + b.capacity
    session_of = {(s, e): k for s, e, k in grid}
    for slot in booked.values():
        key = (minutes(slot.start), minutes(slot.end))
        assert key in load, f"{slot.label()} is a slot of the grid"
        load[key] += 1
        used[session_of[key]] = used.get(session_of[key], 0) + 1
    # Capacity and the reserve are never exceeded.
    assert all(v <= b.capacity for v in load.values())
    quota = {k: int(np.floor(v * (1 - b.reserve_share) + 1e-9)) for k, v in places.items()}
    assert all(used[k] <= quota[k] for k in used)
    # A booking at or after the deadline only when no slot between the notice and the deadline
    # is left with a free place (and its session under its quota), and «Проверка» says so.
    now_m = minutes(now.replace(tzinfo=None))
    for pos, row in enumerate(frame.index):
        slot = booked.get(row)
        if slot is None or minutes(slot.start) < due[pos]:
            assert not any("позже срока" in t for t in p.notes.get(row, []))
            continue
        after = max(minutes(frame.at[row, "received_at"]), now_m + b.min_notice_hours * 60)
        free_before = [
            (s, e)
            for s, e, k in grid
            if after <= s < due[pos] and load[(s, e)] < b.capacity and used.get(k, 0) < quota[k]
        ]
        assert free_before == [], f"row {row} booked late while a slot before its deadline was free"
        assert "Консультация: запись позже срока: свободных мест до срока нет" in p.notes[row]


def test_earliest_deadline_first() -> None:
    # Two requests, one free place before Thursday: the one due sooner gets it.
    frame = requests(
        {"received_at": local("25.11.2026 10:00")}, {"received_at": local("25.11.2026 11:00")}
    )
    due = np.array([minutes(local("27.11.2026 16:00")), minutes(local("25.11.2026 17:00"))])
    p = plan(frame, settings=make_settings(slot_minutes=120, reserve_share=0), due=due)
    got = slots_of(p)
    assert got[3].start == local("25.11.2026 15:00")
    assert got[2].start == local("26.11.2026 15:00")


def test_the_reserve_leaves_a_quarter_of_each_session_free() -> None:
    # Wednesday 15-17 holds six 20-minute slots: with 25 % kept, four are booked a day.
    frame = requests(*[{"received_at": local("25.11.2026 09:00")} for _ in range(9)])
    p = plan(frame, settings=make_settings(reserve_share=0.25, min_notice_hours=0))
    per_day: dict[dt.date, int] = {}
    for slot in slots_of(p).values():
        per_day[slot.start.date()] = per_day.get(slot.start.date(), 0) + 1
    assert per_day == {dt.date(2026, 11, 25): 4, dt.date(2026, 11, 26): 4, dt.date(2026, 11, 27): 1}


def test_a_request_put_on_hold_gives_its_slot_back_and_is_booked_again() -> None:
    frame = requests({"received_at": local("25.11.2026 09:00")})
    first = plan(frame)
    label = first.desired[2]
    assert isinstance(label, str)
    frame.loc[2, "status"] = WAITING
    held = plan(frame, first.desired)
    assert held.desired[2] is None
    frame.loc[2, "status"] = IN_WORK
    back = plan(frame, held.desired)
    assert back.desired[2] == label


def test_a_request_with_the_journals_support_gives_its_slot_back() -> None:
    frame = requests({"received_at": local("25.11.2026 09:00")})
    first = plan(frame)
    assert isinstance(first.desired[2], str)
    frame.loc[2, "status"] = WITH_VENDOR
    assert plan(frame, first.desired).desired[2] is None


def test_in_the_week_before_a_quarter_end_marks_requests_are_booked_first() -> None:
    lessons = "Поурочное планирование, импорт/экспорт"
    frame = requests(
        {"topic": lessons, "received_at": local("25.11.2026 09:00")},
        {"topic": "Итоговые отметки", "received_at": local("25.11.2026 09:30")},
    )
    settings = make_settings(min_notice_hours=0)
    usual = slots_of(plan(frame, settings=settings))
    assert usual[2].start < usual[3].start  # earliest deadline first
    # A quarter end on Friday 27.11: the marks request jumps the queue this week ...
    rush = slots_of(plan(frame, settings=settings, quarter_ends=(dt.date(2026, 11, 27),)))
    assert rush[3].start < rush[2].start
    # ... and not when the quarter ends more than a week ahead.
    later = slots_of(plan(frame, settings=settings, quarter_ends=(dt.date(2026, 12, 25),)))
    assert later == usual
