"""Working-time arithmetic: consultation hours minus holidays, vacations and cancelled days.

Moments are float64 minutes since the Unix epoch (UTC); NaN means missing. A calendar is a sorted
array of half-open open intervals [start, end) with the cumulative open minutes before each one,
so adding working minutes or measuring them between two moments is a `searchsorted` over all
requests at once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from operator import attrgetter
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from journaldesk.sheet.vocab import (
    KIND_CANCELLED,
    KIND_EXTRA,
    KIND_HOLIDAY,
    KIND_VACATION,
    MARKER_KINDS,
)

log = logging.getLogger(__name__)


DEFAULT_TZ = "Europe/Simferopol"
# An extra session typed without times on a day that has no regular hours.
WEEKEND_EXTRA_HOURS = (dt.time(14, 0), dt.time(16, 0))
REASON_NO_HOURS = "Выходной: нет часов по графику"
REASON_OUTSIDE = "Вне учебного календаря"

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MINUTE = pd.Timedelta(minutes=1)


@dataclass(frozen=True)
class WeeklyHours:
    """One row of the «График» tab: regular hours on one weekday (0 = Monday)."""

    weekday: int
    start: dt.time
    end: dt.time


@dataclass(frozen=True)
class CalendarEntry:
    """One row of the «Календарь» tab: an exception to the weekly hours over a date range."""

    date_from: dt.date
    date_to: dt.date  # inclusive; equal to date_from for one day
    kind: str
    time_from: dt.time | None = None
    time_to: dt.time | None = None
    comment: str = ""


@lru_cache(maxsize=16)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


def _local_minutes(day: dt.date, time: dt.time, tz: str) -> float:
    """Minutes since the epoch of a local wall time (zoneinfo resolves DST gaps and folds)."""
    moment = dt.datetime.combine(day, time, tzinfo=_zone(tz))
    return (moment - _EPOCH) / dt.timedelta(minutes=1)


def _day_bounds(day: dt.date, tz: str) -> tuple[float, float]:
    return (
        _local_minutes(day, dt.time(0), tz),
        _local_minutes(day + dt.timedelta(days=1), dt.time(0), tz),
    )


def _as_float_array(values: Any) -> np.ndarray:
    if isinstance(values, pd.Series | pd.Index):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    return np.asarray(values, dtype=np.float64)


def _flat(*values: Any) -> tuple[tuple[int, ...], list[np.ndarray]]:
    """Broadcast the inputs together; return their shape and 1-d float copies."""
    arrays = np.broadcast_arrays(*(_as_float_array(v) for v in values))
    return arrays[0].shape, [np.array(a, dtype=np.float64).reshape(-1) for a in arrays]


def _shape_result(result: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    # A scalar in gives a numpy scalar out (a float subclass), an array in gives an array out.
    result = result.reshape(shape)
    return result[()] if result.ndim == 0 else result


def _subtract(
    intervals: list[tuple[dt.time, dt.time]], cut: tuple[dt.time, dt.time]
) -> list[tuple[dt.time, dt.time]]:
    """Remove [cut) from each [start, end) of one day."""
    out: list[tuple[dt.time, dt.time]] = []
    for start, end in intervals:
        if cut[1] <= start or cut[0] >= end:
            out.append((start, end))
            continue
        if start < cut[0]:
            out.append((start, cut[0]))
        if cut[1] < end:
            out.append((cut[1], end))
    return out


def _dates(entry: CalendarEntry, start: dt.date, end: dt.date) -> Iterable[dt.date]:
    """The entry's days (an inverted range is read both ways), clipped to start..end."""
    first = entry.date_from
    last = entry.date_to or entry.date_from
    if last < first:
        first, last = last, first
    first, last = max(first, start), min(last, end)
    for offset in range((last - first).days + 1):
        yield first + dt.timedelta(days=offset)


def _with_comment(kind: str, comment: str) -> str:
    comment = (comment or "").strip()
    return f"{kind}: {comment}" if comment else kind


class WorkCalendar:
    """The open intervals of a span of days and the cumulative open minutes before each one."""

    def __init__(
        self,
        starts: np.ndarray,
        ends: np.ndarray,
        *,
        tz: str,
        span: tuple[float, float],
        day_reasons: dict[dt.date, str],
    ) -> None:
        self.tz = tz
        self.starts = np.asarray(starts, dtype=np.float64)
        self.ends = np.asarray(ends, dtype=np.float64)
        lengths = self.ends - self.starts
        # cum[i] = open minutes before interval i; cum[n] = the total.
        self.cum = np.concatenate(([0.0], np.cumsum(lengths)))
        self.total = float(self.cum[-1])
        self.span_start, self.span_end = span
        self._day_reasons = day_reasons
        # A session is one day's consultation time (a cut in the middle or an extra hour
        # touching it does not make it two): session_of[i] is interval i's session, and
        # session_ends[k] the close of session k.
        if len(self.starts):
            days = _day_numbers_local(self.starts, tz)
            first = np.concatenate(([True], days[1:] != days[:-1]))
            self.session_of = np.cumsum(first) - 1
            last = np.concatenate((first[1:], [True]))
            self.session_ends = self.ends[last]
        else:
            self.session_of = np.empty(0, dtype=np.int64)
            self.session_ends = np.empty(0)

    @classmethod
    def build(
        cls,
        weekly: Sequence[WeeklyHours],
        entries: Sequence[CalendarEntry],
        *,
        tz: str = DEFAULT_TZ,
        start: dt.date,
        end: dt.date,
        vacation_consultations: bool = False,
    ) -> WorkCalendar:
        """Build the open intervals of the days start..end (inclusive) in the local time zone tz.

        The entries (the «Календарь» tab) are the only source of closed and extra days; a
        vacation closes its days unless the school holds consultations in vacations."""
        if end < start:
            raise ValueError(f"end {end} is before start {start}")
        hours: dict[int, list[tuple[dt.time, dt.time]]] = {d: [] for d in range(7)}
        for row in weekly:
            if row.end <= row.start or not 0 <= row.weekday <= 6:
                log.warning("weekly hours row ignored: %s", row)
                continue
            hours[row.weekday].append((row.start, row.end))

        closed: dict[dt.date, str] = {}  # whole day closed -> reason (the first reason wins)
        cuts: dict[dt.date, list[tuple[dt.time, dt.time]]] = {}
        cut_reasons: dict[dt.date, str] = {}
        extras: dict[dt.date, list[tuple[dt.time, dt.time]]] = {}

        # Holidays first, then vacations, then cancellations: the reason shown is the strongest.
        order = {KIND_HOLIDAY: 0, KIND_VACATION: 1, KIND_CANCELLED: 2, KIND_EXTRA: 3}
        known = [e for e in entries if e.kind in order]
        for entry in entries:
            if entry.kind not in order and entry.kind not in MARKER_KINDS:
                log.warning("calendar entry of unknown kind ignored: %s", entry)
        for entry in sorted(known, key=lambda e: order[e.kind]):
            if entry.kind == KIND_VACATION and vacation_consultations:
                continue
            for day in _dates(entry, start, end):
                if entry.kind in (KIND_HOLIDAY, KIND_VACATION):
                    closed.setdefault(day, _with_comment(entry.kind, entry.comment))
                elif entry.kind == KIND_CANCELLED:
                    if entry.time_from is not None and entry.time_to is not None:
                        if entry.time_from < entry.time_to:
                            cuts.setdefault(day, []).append((entry.time_from, entry.time_to))
                            cut_reasons.setdefault(day, _with_comment(entry.kind, entry.comment))
                    else:
                        closed.setdefault(day, _with_comment(entry.kind, entry.comment))
                else:
                    usual = hours[day.weekday()]
                    default_from = min((s for s, _ in usual), default=WEEKEND_EXTRA_HOURS[0])
                    default_to = max((e for _, e in usual), default=WEEKEND_EXTRA_HOURS[1])
                    t_from = default_from if entry.time_from is None else entry.time_from
                    t_to = default_to if entry.time_to is None else entry.time_to
                    if t_from < t_to:
                        extras.setdefault(day, []).append((t_from, t_to))

        raw: list[tuple[float, float]] = []
        day_reasons: dict[dt.date, str] = {}
        day = start
        while day <= end:
            todays = [] if day in closed else list(hours[day.weekday()])
            for cut in cuts.get(day, []):
                todays = _subtract(todays, cut)
            todays += extras.get(day, [])
            for t_from, t_to in todays:
                raw.append((_local_minutes(day, t_from, tz), _local_minutes(day, t_to, tz)))
            if not todays:
                day_reasons[day] = closed.get(day) or cut_reasons.get(day) or REASON_NO_HOURS
            day += dt.timedelta(days=1)

        starts, ends = _merge(raw)
        span = (_day_bounds(start, tz)[0], _day_bounds(end, tz)[1])
        return cls(starts, ends, tz=tz, span=span, day_reasons=day_reasons)

    # --- the cumulative function and its inverse -------------------------------------------

    def _outside(self, t: np.ndarray) -> np.ndarray:
        return ~((t >= self.span_start) & (t <= self.span_end))  # NaN counts as outside

    def _worked(self, t: np.ndarray) -> np.ndarray:
        """Open minutes in [span start, t); t must be finite."""
        i = np.searchsorted(self.ends, t, side="right")  # intervals wholly before t
        inside = i < len(self.starts)
        j = np.minimum(i, len(self.starts) - 1)
        partial = np.where(inside, np.clip(t - self.starts[j], 0.0, None), 0.0)
        return self.cum[i] + partial

    def next_open(self, t: Any) -> np.ndarray:
        """t itself when it is inside an open interval, else the next opening; NaN past the end."""
        shape, (t,) = _flat(t)
        if len(self.starts) == 0:
            return _shape_result(np.full(t.shape, np.nan), shape)
        bad = self._outside(t)
        safe = np.where(bad, self.span_start, t)
        i = np.searchsorted(self.ends, safe, side="right")
        none_left = i >= len(self.starts)
        j = np.minimum(i, len(self.starts) - 1)
        result = np.maximum(safe, self.starts[j])
        result[bad | none_left] = np.nan
        return _shape_result(result, shape)

    def add(self, t: Any, minutes: Any) -> np.ndarray:
        """t plus N working minutes, the clock starting at the next opening; NaN past the end."""
        shape, (t, minutes) = _flat(t, minutes)
        if len(self.starts) == 0:
            return _shape_result(np.full(t.shape, np.nan), shape)
        bad = self._outside(t) | ~(minutes >= 0)
        safe_t = np.where(bad, self.span_start, t)
        safe_m = np.where(bad, 0.0, minutes)
        target = self._worked(safe_t) + safe_m
        # The first interval whose cumulative end reaches the target: an exact hit on an
        # interval's end stays at that end instead of jumping to the next opening.
        k = np.searchsorted(self.cum[1:], target, side="left")
        past = k >= len(self.starts)
        k = np.minimum(k, len(self.starts) - 1)
        result = self.starts[k] + (target - self.cum[k])
        zero = safe_m == 0
        if zero.any():
            result[zero] = np.asarray(self.next_open(safe_t[zero]), dtype=np.float64)
        result[bad | past] = np.nan
        return _shape_result(result, shape)

    def between(self, a: Any, b: Any) -> np.ndarray:
        """Working minutes in [a, b); 0 when b <= a; NaN when a moment is missing or outside."""
        shape, (a, b) = _flat(a, b)
        bad = self._outside(a) | self._outside(b)
        safe_a = np.where(bad, self.span_start, a)
        safe_b = np.where(bad, self.span_start, b)
        if len(self.starts) == 0:
            result = np.zeros(a.shape)
        else:
            result = np.maximum(self._worked(safe_b) - self._worked(safe_a), 0.0)
        result[bad] = np.nan
        return _shape_result(result, shape)

    def close_after_sessions(self, t: Any, n: Any) -> np.ndarray:
        """Close of the n-th session after the one the clock starts in (n=0: that session).

        The clock starts at t when t is inside a session, else at the next opening; that
        session is the clock's own first one, so 13:27 and 14:00 before a 14:00 opening give
        the same answer. A session is one day's consultation time. NaN past the end."""
        shape, (t, n) = _flat(t, n)
        if len(self.ends) == 0:
            return _shape_result(np.full(t.shape, np.nan), shape)
        bad = ~(n >= 0)
        safe_n = np.where(bad, 0, n).astype(np.int64)
        opened = np.asarray(self.next_open(t), dtype=np.float64).reshape(-1)
        bad |= np.isnan(opened)
        safe = np.where(bad, self.starts[0], opened)
        i = np.minimum(np.searchsorted(self.ends, safe, side="right"), len(self.ends) - 1)
        k = self.session_of[i] + safe_n
        past = k >= len(self.session_ends)
        result = self.session_ends[np.minimum(k, len(self.session_ends) - 1)]
        result[bad | past] = np.nan
        return _shape_result(result, shape)

    # --- days -------------------------------------------------------------------------------

    def sessions(self, day_from: dt.date, day_to: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The open intervals that start on the days day_from..day_to, as aware local datetimes."""
        lo = _day_bounds(day_from, self.tz)[0]
        hi = _day_bounds(day_to, self.tz)[1]
        first = np.searchsorted(self.starts, lo, side="left")
        last = np.searchsorted(self.starts, hi, side="left")
        return [
            (
                minute_to_datetime(float(self.starts[i]), self.tz),
                minute_to_datetime(float(self.ends[i]), self.tz),
            )
            for i in range(first, last)
        ]  # type: ignore[misc]

    def is_open_day(self, d: dt.date) -> bool:
        """True when the day has at least one open minute."""
        lo, hi = _day_bounds(d, self.tz)
        i = int(np.searchsorted(self.ends, lo, side="right"))
        return i < len(self.starts) and self.starts[i] < hi

    def closed_reason(self, d: dt.date) -> str | None:
        """Why the day has no consultations (Russian), or None when it has some."""
        lo, hi = _day_bounds(d, self.tz)
        if lo < self.span_start or hi > self.span_end:
            return REASON_OUTSIDE
        if self.is_open_day(d):
            return None
        return self._day_reasons.get(d, REASON_NO_HOURS)


def _day_numbers_local(minutes: np.ndarray, tz: str) -> np.ndarray:
    """Local calendar day (days since the epoch) of each moment."""
    local = from_minutes(minutes, tz)
    return local.to_numpy().astype("datetime64[D]").astype(np.int64)


def _merge(raw: list[tuple[float, float]]) -> tuple[np.ndarray, np.ndarray]:
    """Sort and merge overlapping or touching intervals so that nothing counts twice."""
    starts: list[float] = []
    ends: list[float] = []
    for s, e in sorted(raw):
        if e <= s:
            continue
        if starts and s <= ends[-1]:
            ends[-1] = max(ends[-1], e)
        else:
            starts.append(s)
            ends.append(e)
    return np.array(starts, dtype=np.float64), np.array(ends, dtype=np.float64)


# --- conversions ----------------------------------------------------------------------------


def _one_to_minutes(value: Any, tz: str) -> float:
    if value is None or value is pd.NaT:
        return np.nan
    if isinstance(value, float | np.floating) and np.isnan(value):
        return np.nan
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return np.nan
        value = pd.Timestamp(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=_zone(tz))
        return (value - _EPOCH) / dt.timedelta(minutes=1)
    if isinstance(value, dt.date):
        return _local_minutes(value, dt.time(0), tz)
    # Text and numbers are the parser's business (it flags the cell); here they are just missing.
    log.debug("not a moment, taken as missing: %r", value)
    return np.nan


def _objects_to_minutes(flat: np.ndarray, tz: str) -> np.ndarray:
    """Python objects to minutes; all-naive datetimes (the common case) take the pandas path."""
    cells = flat.tolist()
    kinds = set(map(type, cells))
    if kinds <= {dt.datetime, type(None)} and not any(
        map(attrgetter("tzinfo"), filter(None, cells))
    ):
        # All naive datetimes and blanks, checked in C: the common case needs no loop.
        return np.asarray(to_minutes(pd.DatetimeIndex(cells, dtype="datetime64[us]"), tz))
    naive: list[dt.datetime | None] = []
    for value in flat:
        if value is None or value is pd.NaT or (isinstance(value, float) and np.isnan(value)):
            naive.append(None)
        elif isinstance(value, dt.datetime) and value.tzinfo is None:
            naive.append(value)
        else:
            return np.array([_one_to_minutes(v, tz) for v in flat], dtype=np.float64)
    return np.asarray(to_minutes(pd.DatetimeIndex(naive, dtype="datetime64[us]"), tz))


def to_minutes(values: Any, tz: str) -> np.ndarray:
    """Datetimes (aware, or naive local wall time in tz) to minutes since the epoch.

    None, NaT, NaN and anything that is not a date or datetime give NaN."""
    if isinstance(values, pd.Series | pd.Index | np.ndarray) and values.dtype.kind == "M":
        index = pd.DatetimeIndex(values)
        if index.tz is None:
            index = index.tz_localize(
                tz, ambiguous=np.ones(len(index), dtype=bool), nonexistent="shift_forward"
            )
        minutes = (index.tz_convert("UTC").tz_localize(None) - pd.Timestamp(0)) / _MINUTE
        return np.asarray(minutes, dtype=np.float64).reshape(np.shape(values))
    if isinstance(values, pd.Series | pd.Index | np.ndarray | list | tuple):
        objects = np.asarray(values, dtype=object)
        return _objects_to_minutes(objects.ravel(), tz).reshape(objects.shape)
    return np.float64(_one_to_minutes(values, tz))  # type: ignore[return-value]


def from_minutes(values: Any, tz: str) -> pd.DatetimeIndex:
    """Minutes since the epoch to naive local wall times in tz; NaN -> NaT."""
    minutes = np.atleast_1d(_as_float_array(values)).ravel()
    micro = np.round(minutes * 60e6)
    missing = ~np.isfinite(micro)
    stamps = pd.to_datetime(np.where(missing, 0, micro).astype(np.int64), unit="us", utc=True)
    local = stamps.tz_convert(tz).tz_localize(None)
    return pd.DatetimeIndex(local.where(~missing, pd.NaT))


def minute_to_datetime(m: float | None, tz: str) -> dt.datetime | None:
    """One moment in minutes to an aware datetime in tz; None for NaN or None."""
    if m is None or not np.isfinite(m):
        return None
    moment = _EPOCH + dt.timedelta(microseconds=round(float(m) * 60e6))
    return moment.astimezone(_zone(tz))
