"""Working-time arithmetic, with expected values worked out by hand on the calendar of Nov-Dec 2026.

November 2026: Sun 1, Mon 2, Tue 3, Wed 4 (Unity Day), Thu 5, Fri 6, Sat 7, ... Mon 9, Tue 10,
Wed 11, ... Fri 13, Sat 14, Mon 16, Tue 17, Wed 18, Thu 19, Fri 20, ... Fri 27, Sat 28, Mon 30.
Hours (regulation 2.9): Mon 14-16, Tue-Thu 15-17, Fri 14-16; the school is on UTC+3.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journaldesk.rules.school_year import regulation_hours
from journaldesk.rules.worktime import (
    CalendarEntry,
    WeeklyHours,
    WorkCalendar,
    from_minutes,
    minute_to_datetime,
    to_minutes,
)
from tests.helpers import examples

TZ = "Europe/Simferopol"
D = dt.date
T = dt.time

ENTRIES = [
    CalendarEntry(D(2026, 10, 26), D(2026, 11, 3), "Каникулы", comment="осенние"),
    CalendarEntry(D(2026, 11, 4), D(2026, 11, 4), "Праздник", comment="День народного единства"),
    CalendarEntry(D(2026, 12, 31), D(2026, 12, 31), "Праздник", comment="Выходной (перенесено)"),
    CalendarEntry(D(2027, 1, 1), D(2027, 1, 8), "Праздник", comment="Новогодние каникулы"),
    CalendarEntry(D(2026, 12, 28), D(2027, 1, 10), "Каникулы", comment="зимние"),
    CalendarEntry(D(2026, 11, 18), D(2026, 11, 18), "Нет консультаций", comment="педсовет"),
    CalendarEntry(
        D(2026, 11, 19), D(2026, 11, 19), "Нет консультаций", T(15), T(16), comment="совещание"
    ),
    CalendarEntry(D(2026, 11, 28), D(2026, 11, 28), "Доп. консультация", T(10), T(12)),
]


def m(*args: int) -> float:
    """Local wall time in the school's zone as minutes."""
    return float(to_minutes(dt.datetime(*args), TZ))


def local(value: float) -> dt.datetime:
    """Minutes back to a naive local datetime, for readable assertions."""
    return from_minutes([value], TZ)[0].to_pydatetime()


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.build(
        regulation_hours(), ENTRIES, tz=TZ, start=D(2026, 9, 1), end=D(2027, 1, 31)
    )


UNITY_DAY = CalendarEntry(D(2026, 11, 4), D(2026, 11, 4), "Праздник", comment="День единства")


@pytest.fixture(scope="module")
def plain() -> WorkCalendar:
    """Only the regulation hours and the 4 November holiday row."""
    return WorkCalendar.build(
        regulation_hours(), [UNITY_DAY], tz=TZ, start=D(2026, 9, 1), end=D(2027, 1, 31)
    )


# --- add ---------------------------------------------------------------------------------------


def test_during_hours_tuesday() -> None:
    cal = WorkCalendar.build(
        regulation_hours(), [], tz=TZ, start=D(2026, 11, 1), end=D(2026, 11, 30)
    )
    t = m(2026, 11, 10, 15, 30)
    assert local(cal.add(t, 60)) == dt.datetime(2026, 11, 10, 16, 30)
    # 90 minutes left on Tuesday, 30 more from Wednesday's 15:00.
    assert local(cal.add(t, 120)) == dt.datetime(2026, 11, 11, 15, 30)


def test_landing_on_the_close_stays_at_the_close(plain: WorkCalendar) -> None:
    assert local(plain.add(m(2026, 11, 16, 14), 120)) == dt.datetime(2026, 11, 16, 16)
    assert local(plain.add(m(2026, 11, 16, 14), 121)) == dt.datetime(2026, 11, 17, 15, 1)


def test_request_at_20_starts_at_next_opening(plain: WorkCalendar) -> None:
    t = m(2026, 11, 10, 20)
    assert local(plain.add(t, 0)) == dt.datetime(2026, 11, 11, 15)
    assert local(plain.add(t, 60)) == dt.datetime(2026, 11, 11, 16)
    assert local(plain.next_open(t)) == dt.datetime(2026, 11, 11, 15)
    # Inside hours next_open is the moment itself.
    assert plain.next_open(m(2026, 11, 11, 15, 10)) == m(2026, 11, 11, 15, 10)
    # Exactly at the close it is closed: the next opening.
    assert local(plain.next_open(m(2026, 11, 11, 17))) == dt.datetime(2026, 11, 12, 15)


def test_across_a_weekend(plain: WorkCalendar) -> None:
    # Fri 13.11 15:30: 30 minutes left on Friday, 30 more on Monday from 14:00.
    assert local(plain.add(m(2026, 11, 13, 15, 30), 60)) == dt.datetime(2026, 11, 16, 14, 30)
    assert local(plain.add(m(2026, 11, 14, 12), 30)) == dt.datetime(2026, 11, 16, 14, 30)


def test_across_the_public_holiday_4_november(plain: WorkCalendar) -> None:
    # Tue 03.11 16:30: 30 minutes on Tuesday, Wed 04.11 is Unity Day, 30 on Thursday from 15:00.
    assert local(plain.add(m(2026, 11, 3, 16, 30), 60)) == dt.datetime(2026, 11, 5, 15, 30)
    # The «Календарь» rows are the only source: without the holiday's row the day is open.
    no_row = WorkCalendar.build(
        regulation_hours(), [], tz=TZ, start=D(2026, 11, 1), end=D(2026, 11, 30)
    )
    assert local(no_row.add(m(2026, 11, 3, 16, 30), 60)) == dt.datetime(2026, 11, 4, 15, 30)


def test_across_a_vacation_and_the_holiday(cal: WorkCalendar) -> None:
    # Fri 23.10 15:00: 60 minutes on Friday; 26.10-03.11 vacation, 04.11 holiday; Thu 05.11
    # gives 15:00-17:00, so 180 minutes end exactly at Thursday's close.
    t = m(2026, 10, 23, 15)
    assert local(cal.add(t, 180)) == dt.datetime(2026, 11, 5, 17)
    assert local(cal.add(t, 181)) == dt.datetime(2026, 11, 6, 14, 1)
    # A request typed during the vacation waits for Thursday.
    assert local(cal.add(m(2026, 10, 28, 10), 0)) == dt.datetime(2026, 11, 5, 15)


def test_across_a_cancelled_day_and_a_cancelled_hour(cal: WorkCalendar) -> None:
    # Tue 17.11 16:00: 60 on Tuesday; Wed 18.11 cancelled; Thu 19.11 open only 16:00-17:00.
    t = m(2026, 11, 17, 16)
    assert local(cal.add(t, 90)) == dt.datetime(2026, 11, 19, 16, 30)
    assert local(cal.add(t, 120)) == dt.datetime(2026, 11, 19, 17)
    assert local(cal.add(t, 121)) == dt.datetime(2026, 11, 20, 14, 1)


def test_an_extra_session_counts(cal: WorkCalendar, plain: WorkCalendar) -> None:
    # Fri 27.11 15:00: 60 on Friday, then the extra Saturday session 10:00-12:00.
    t = m(2026, 11, 27, 15)
    assert local(cal.add(t, 120)) == dt.datetime(2026, 11, 28, 11)
    assert local(plain.add(t, 120)) == dt.datetime(2026, 11, 30, 15)


def test_an_extra_session_on_a_holiday_opens() -> None:
    extra = [CalendarEntry(D(2026, 11, 4), D(2026, 11, 4), "Доп. консультация")]
    cal = WorkCalendar.build(
        regulation_hours(), extra, tz=TZ, start=D(2026, 11, 1), end=D(2026, 11, 30)
    )
    # No times given: Wednesday's usual 15:00-17:00.
    assert local(cal.add(m(2026, 11, 3, 17), 30)) == dt.datetime(2026, 11, 4, 15, 30)
    assert cal.closed_reason(D(2026, 11, 4)) is None


def test_extra_session_without_times_on_a_weekend_is_14_to_16() -> None:
    extra = [CalendarEntry(D(2026, 11, 29), D(2026, 11, 29), "Доп. консультация")]
    cal = WorkCalendar.build(
        regulation_hours(), extra, tz=TZ, start=D(2026, 11, 1), end=D(2026, 11, 30)
    )
    sessions = cal.sessions(D(2026, 11, 29), D(2026, 11, 29))
    assert [(s.time(), e.time()) for s, e in sessions] == [(T(14), T(16))]


def test_overlaps_are_merged_and_not_counted_twice() -> None:
    entries = [
        CalendarEntry(D(2026, 11, 24), D(2026, 11, 24), "Доп. консультация", T(16), T(18)),
        CalendarEntry(D(2026, 11, 24), D(2026, 11, 24), "Доп. консультация", T(15, 30), T(16)),
    ]
    weekly = [*regulation_hours(), WeeklyHours(1, T(15), T(16))]  # a duplicate Tuesday row
    cal = WorkCalendar.build(weekly, entries, tz=TZ, start=D(2026, 11, 1), end=D(2026, 11, 30))
    assert cal.between(m(2026, 11, 24), m(2026, 11, 25)) == 180
    sessions = cal.sessions(D(2026, 11, 24), D(2026, 11, 24))
    assert [(s.time(), e.time()) for s, e in sessions] == [(T(15), T(18))]
    assert cal.between(m(2026, 11, 17), m(2026, 11, 18)) == 120


# --- between ---------------------------------------------------------------------------------


def test_between(cal: WorkCalendar) -> None:
    assert cal.between(m(2026, 11, 10, 15, 30), m(2026, 11, 10, 16)) == 30
    # Tue 15:30 -> Wed 15:30: 90 + 30.
    assert cal.between(m(2026, 11, 10, 15, 30), m(2026, 11, 11, 15, 30)) == 120
    # Vacation and the holiday count nothing: only Thu 05.11 and Fri 06.11.
    assert cal.between(m(2026, 10, 30, 9), m(2026, 11, 9)) == 240
    # Tue 17.11 (120) + Wed 18.11 cancelled (0) + Thu 19.11 16-17 (60).
    assert cal.between(m(2026, 11, 17), m(2026, 11, 20)) == 180
    # The whole of November: 4 Mondays (incl. 30th) x120 + Tue 3 (vacation) ... worked by weeks:
    # 2-6: Thu 5 + Fri 6 = 240; 9-13: 600; 16-20: 120+120+0+60+120 = 420 (Mon 16 included);
    # 23-29: 600 + Sat 28 extra 120 = 720; Mon 30: 120.
    assert cal.between(m(2026, 11, 1), m(2026, 12, 1)) == 240 + 600 + 420 + 720 + 120
    assert cal.between(m(2026, 11, 11), m(2026, 11, 10)) == 0
    assert cal.between(m(2026, 11, 10, 16), m(2026, 11, 10, 16)) == 0


def test_open_day_and_reasons(cal: WorkCalendar) -> None:
    assert cal.closed_reason(D(2026, 11, 4)) == "Праздник: День народного единства"
    assert cal.closed_reason(D(2026, 10, 27)) == "Каникулы: осенние"
    assert cal.closed_reason(D(2026, 11, 18)) == "Нет консультаций: педсовет"
    assert cal.closed_reason(D(2026, 11, 21)) == "Выходной: нет часов по графику"
    assert cal.closed_reason(D(2026, 12, 31)).startswith("Праздник: Выходной (перенесено")
    assert cal.closed_reason(D(2027, 3, 1)) == "Вне учебного календаря"
    assert cal.closed_reason(D(2026, 11, 19)) is None  # partly cancelled, still open
    assert cal.is_open_day(D(2026, 11, 19))
    assert cal.is_open_day(D(2026, 11, 28))
    assert not cal.is_open_day(D(2026, 11, 4))
    assert not cal.is_open_day(D(2026, 11, 18))


def test_sessions_are_aware_local(cal: WorkCalendar) -> None:
    week = cal.sessions(D(2026, 11, 16), D(2026, 11, 22))
    assert [(s.strftime("%a %d %H:%M"), e.strftime("%H:%M")) for s, e in week] == [
        ("Mon 16 14:00", "16:00"),
        ("Tue 17 15:00", "17:00"),
        ("Thu 19 16:00", "17:00"),
        ("Fri 20 14:00", "16:00"),
    ]
    assert all(s.utcoffset() == dt.timedelta(hours=3) for s, _ in week)


def test_close_after_sessions(plain: WorkCalendar) -> None:
    t = m(2026, 11, 10, 15, 30)
    assert local(plain.close_after_sessions(t, 0)) == dt.datetime(2026, 11, 10, 17)
    assert local(plain.close_after_sessions(t, 1)) == dt.datetime(2026, 11, 11, 17)
    evening = m(2026, 11, 10, 20)
    assert local(plain.close_after_sessions(evening, 0)) == dt.datetime(2026, 11, 11, 17)
    assert local(plain.close_after_sessions(m(2026, 11, 10, 17), 0)) == dt.datetime(
        2026, 11, 11, 17
    )
    # Tue 03.11 evening: the next sessions are Thu 05.11 and Fri 06.11 (04.11 is a holiday).
    got = plain.close_after_sessions(m(2026, 11, 3, 18), np.array([0, 1]))
    assert [local(x) for x in got] == [dt.datetime(2026, 11, 5, 17), dt.datetime(2026, 11, 6, 16)]
    assert np.isnan(plain.close_after_sessions(t, -1))


# --- missing values, bounds ------------------------------------------------------------------


def test_nan_in_nan_out(cal: WorkCalendar) -> None:
    t = m(2026, 11, 10, 15, 30)
    assert np.isnan(cal.add(np.nan, 60))
    assert np.isnan(cal.add(t, np.nan))
    assert np.isnan(cal.add(t, -5))
    assert np.isnan(cal.next_open(np.nan))
    assert np.isnan(cal.between(np.nan, t))
    assert np.isnan(cal.between(t, np.nan))
    assert np.isnan(cal.close_after_sessions(np.nan, 1))
    got = cal.add([t, None, np.nan], 60)
    assert local(got[0]) == dt.datetime(2026, 11, 10, 16, 30)
    assert np.isnan(got[1:]).all()


def test_past_the_end_is_nan(cal: WorkCalendar) -> None:
    late = m(2027, 1, 29, 15)  # Friday of the calendar's last week
    assert np.isnan(cal.add(late, 10_000))
    assert local(cal.add(late, 60)) == dt.datetime(2027, 1, 29, 16)  # the very last close
    assert np.isnan(cal.add(m(2027, 1, 29, 16), 0))  # nothing opens after it
    assert np.isnan(cal.add(m(2027, 3, 1), 0))
    assert np.isnan(cal.between(m(2026, 8, 1), m(2026, 11, 1)))


# --- vectorised ------------------------------------------------------------------------------


def test_vectorised_equals_scalar(cal: WorkCalendar) -> None:
    rng = np.random.default_rng(7)
    t = rng.uniform(cal.span_start, cal.span_end, 300).round()
    minutes = rng.integers(0, 3000, 300).astype(float)
    t[::17] = np.nan
    added = cal.add(t, minutes)
    assert np.array_equal(
        added, [cal.add(a, b) for a, b in zip(t, minutes, strict=True)], equal_nan=True
    )
    opened = cal.next_open(t)
    assert np.array_equal(opened, [cal.next_open(a) for a in t], equal_nan=True)
    b = t + rng.uniform(0, 20000, 300)
    b = np.where(b > cal.span_end, np.nan, b)
    spans = cal.between(t, b)
    assert np.array_equal(
        spans, [cal.between(x, y) for x, y in zip(t, b, strict=True)], equal_nan=True
    )
    closes = cal.close_after_sessions(t, 3)
    assert np.array_equal(closes, [cal.close_after_sessions(x, 3) for x in t], equal_nan=True)
    series = cal.add(pd.Series(t), pd.Series(minutes))
    assert np.array_equal(series, added, equal_nan=True)
    assert isinstance(cal.add(float(t[0]), 30.0), float)
    assert cal.add(t.reshape(20, 15), 30.0).shape == (20, 15)


# --- properties ------------------------------------------------------------------------------


@settings(max_examples=examples(300), deadline=None)
@given(data=st.data())
def test_between_inverts_add_at_an_opening(cal: WorkCalendar, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, len(cal.starts) - 1))
    offset = data.draw(st.integers(0, int(cal.ends[i] - cal.starts[i]) - 1))
    t = cal.starts[i] + offset
    left = int(cal.total - cal.between(cal.span_start, t))
    minutes = data.draw(st.integers(0, left))
    due = cal.add(t, minutes)
    assert cal.between(t, due) == minutes
    assert due >= t


@settings(max_examples=examples(300), deadline=None)
@given(data=st.data())
def test_add_is_monotone_and_consistent_anywhere(cal: WorkCalendar, data: st.DataObject) -> None:
    t = float(data.draw(st.integers(int(cal.span_start), int(cal.span_end) - 1)))
    a, b = sorted(data.draw(st.lists(st.integers(0, 5000), min_size=2, max_size=2)))
    due_a, due_b = cal.add(t, [a, b])
    if not np.isnan(due_b):
        assert due_a <= due_b
        assert cal.between(t, due_b) == b
        assert cal.between(due_a, due_b) == b - a


# --- conversions and time zones --------------------------------------------------------------


def test_to_minutes_shapes() -> None:
    naive = dt.datetime(2026, 11, 10, 15, 30)
    aware = dt.datetime(2026, 11, 10, 12, 30, tzinfo=dt.UTC)
    expected = (aware - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)).total_seconds() / 60
    assert to_minutes(naive, TZ) == expected
    assert to_minutes(aware, TZ) == expected
    assert to_minutes(pd.Timestamp(naive), TZ) == expected
    got = to_minutes([naive, None, aware, pd.NaT], TZ)
    assert got[0] == got[2] == expected and np.isnan(got[1]) and np.isnan(got[3])
    series = pd.Series([naive, None]).astype("datetime64[ns]")
    assert np.array_equal(to_minutes(series, TZ), [expected, np.nan], equal_nan=True)
    index = pd.DatetimeIndex([aware, None])
    assert np.array_equal(to_minutes(index, TZ), [expected, np.nan], equal_nan=True)
    # Text is the parser's business: here it is simply missing.
    assert np.isnan(to_minutes("10.11.2026", TZ))
    mixed = to_minutes(pd.Series([naive, "вчера", dt.date(2026, 11, 10)], dtype=object), TZ)
    assert mixed[0] == expected and np.isnan(mixed[1])
    assert mixed[2] == expected - (15 * 60 + 30)
    # Many naive datetimes take the fast path and agree with the one-by-one path.
    many = [naive + dt.timedelta(minutes=7 * i) for i in range(500)]
    one_by_one = np.array([to_minutes(x, TZ) for x in many])
    assert np.array_equal(to_minutes(pd.Series(many, dtype=object), TZ), one_by_one)


def test_from_minutes_and_back() -> None:
    values = np.array([m(2026, 11, 10, 15, 30), np.nan, m(2026, 12, 31, 23, 59, 30)])
    back = from_minutes(values, TZ)
    assert back.tz is None
    assert back[0] == pd.Timestamp(2026, 11, 10, 15, 30)
    assert back[1] is pd.NaT
    assert back[2] == pd.Timestamp(2026, 12, 31, 23, 59, 30)
    assert np.array_equal(to_minutes(back, TZ), values, equal_nan=True)
    moment = minute_to_datetime(values[0], TZ)
    assert moment == dt.datetime(2026, 11, 10, 12, 30, tzinfo=dt.UTC)
    assert moment.utcoffset() == dt.timedelta(hours=3)
    assert minute_to_datetime(np.nan, TZ) is None
    assert minute_to_datetime(None, TZ) is None


def test_intervals_follow_dst_in_a_zone_that_has_it() -> None:
    # Berlin leaves summer time at 03:00 on Sun 25.10.2026: wall 01:00-04:00 lasts 4 real hours.
    tz = "Europe/Berlin"
    extra = [CalendarEntry(D(2026, 10, 25), D(2026, 10, 25), "Доп. консультация", T(1), T(4))]
    cal = WorkCalendar.build(
        regulation_hours(), extra, tz=tz, start=D(2026, 10, 19), end=D(2026, 10, 31)
    )
    day = to_minutes([dt.datetime(2026, 10, 25), dt.datetime(2026, 10, 26)], tz)
    assert cal.between(day[0], day[1]) == 240
    # Monday 14:00 in Berlin is 13:00 UTC after the change, 12:00 UTC the Monday before.
    mon = dt.datetime(2026, 10, 26, 13, tzinfo=dt.UTC)
    assert cal.next_open(to_minutes(dt.datetime(2026, 10, 26, 9), tz)) == to_minutes(mon, tz)
    before = dt.datetime(2026, 10, 19, 12, tzinfo=dt.UTC)
    assert cal.next_open(to_minutes(dt.datetime(2026, 10, 19, 9), tz)) == to_minutes(before, tz)
