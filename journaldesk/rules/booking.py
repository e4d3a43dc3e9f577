"""Consultation bookings: slots cut from the consultation hours, booked for the requests that need
one, and the administrator's agenda of a range of days.

Pure: typed frames, the working-time calendar and `now` go in; the desired «Консультация» text of
every request row, notes for «Проверка» and the list of moved bookings come out. The calendar is
the same one that drives the deadlines, so a holiday or a cancelled day closes both.

Rules in short:
- a request whose topic needs a consultation and whose cell is empty gets the earliest free slot at
  or after max(received, now + min notice); requests are served by (received, №), so the result
  does not depend on row order;
- whatever the cell holds is kept exactly as typed (a booking never moves: the cell is the
  booking), with two exceptions:
  * a future slot of a resolved or rejected request is cleared, so the time is free for others.
    This is the one place the job changes text a person may have typed; it is deliberate: a
    finished request holding the administrator's time would keep others out, and «Изменения»
    still records the old value. A slot that has begun is history and stays;
  * a future slot written exactly as the job writes it, on a day that has no consultations any
    more (cancelled, holiday, vacation, an extra session removed), is moved to the earliest free
    slot and reported in `rebooked`. A slot typed in any other form is a person's choice: kept,
    and flagged like any slot outside the hours;
- a typed slot outside the hours, or more requests at one time than a slot holds, is flagged;
  a cell that is not a slot is flagged and left as typed (and nothing is booked over it); a cell
  the sheet turned into a date-time («01.12.2026 15:20») is read as a slot starting then and
  written back as its text, so the next sync finds the same text.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from journaldesk.rules.group import GroupSession
from journaldesk.rules.worktime import (
    KIND_CANCELLED,
    REASON_OUTSIDE,
    WorkCalendar,
    from_minutes,
    to_minutes,
)
from journaldesk.settings import Settings
from journaldesk.sheet.cells import quote_raw
from journaldesk.sheet.schema import load_schema
from journaldesk.sheet.textfmt import WEEKDAYS_SHORT, blank_mask, is_blank
from journaldesk.sheet.vocab import GROUP_TOPICS, MARKS_TOPICS, ON_HOLD, REJECTED, RESOLVED

__all__ = [
    "AgendaBooking",
    "AgendaDay",
    "AgendaGroup",
    "BookingPlan",
    "BookingRules",
    "Slot",
    "agenda",
    "agenda_lines",
    "normalize_room",
    "parse_slot",
    "plan_bookings",
    "rooms_by_weekday",
]

_SCHEMA = load_schema()
_REQ = _SCHEMA["requests"]
_WEEKDAY_NAMES = _SCHEMA.enums["weekday"]
HEADER = _REQ.header("consultation")
# The working week before a quarter end, when marks requests are booked first (2.3, 2.4).
QUARTER_RUSH_DAYS = 7
EXAMPLE = "вт 01.12.2026 15:20–15:40, каб. 12"
DASH = "\u2013"

# --- slots and their text --------------------------------------------------------------------


_SPACES = re.compile(r"[\s\u00a0\u202f\u2007]+")
_DASHES = re.compile(r"\s*[-\u2010-\u2015\u2212]\s*")
_DIGIT = re.compile(r"\d")
_ROOM_PREFIX = re.compile(r"^(?:каб(?:инет)?|ауд(?:итория)?|к)\.?\s*(?=\S)", re.IGNORECASE)


def normalize_room(room: object) -> str:
    """A room as slots hold it: «каб. 12», «Кабинет 12», «12» -> «12»; other names as typed."""
    if is_blank(room):
        return ""
    text = _SPACES.sub(" ", str(room)).strip().rstrip(",;")
    if isinstance(room, float) and room.is_integer():
        text = str(int(room))
    bare = _ROOM_PREFIX.sub("", text, count=1)
    # «кабинет информатики» stays whole; only a numbered room loses its prefix.
    return bare if bare != text and _DIGIT.match(bare) else text


def _room_text(room: str) -> str:
    return f"каб. {room}" if room and room[0].isdigit() else room


@dataclass(frozen=True)
class Slot:
    """One consultation slot: naive local wall times of the school's zone and the room."""

    start: dt.datetime
    end: dt.datetime
    room: str = ""

    def label(self) -> str:
        """«вт 01.12.2026 15:20–15:40, каб. 12» (the room part is left out when unknown)."""
        text = (
            f"{WEEKDAYS_SHORT[self.start.weekday()]} {self.start:%d.%m.%Y} "
            f"{self.start:%H:%M}{DASH}{self.end:%H:%M}"
        )
        room = _room_text(self.room)
        return f"{text}, {room}" if room else text


_WD_WORDS = {
    "пн": 0, "понедельник": 0, "вт": 1, "вторник": 1, "ср": 2, "среда": 2, "среду": 2,
    "чт": 3, "четверг": 3, "пт": 4, "пятница": 4, "пятницу": 4, "сб": 5, "суббота": 5,
    "субботу": 5, "вс": 6, "воскресенье": 6,
}  # fmt: skip
_WD = r"(?:(?P<wd>[а-яё]{2,11})\.?,?\s+)?"
_DATE = r"(?P<d>\d{1,2})\.(?P<mo>\d{1,2})(?:\.(?P<y>\d{4}|\d{2}))?"
_ISO = r"(?P<iy>\d{4})-(?P<imo>\d{1,2})-(?P<id>\d{1,2})"
_TIME = (
    r"(?:с\s+)?(?P<h1>\d{1,2})[:.](?P<m1>\d{2})"
    r"(?:(?:\s*-\s*|\s+до\s+|\s*-?\s*по\s+)(?P<h2>\d{1,2})[:.](?P<m2>\d{2}))?"
)
_SEP = r"(?:\s*,\s*|\s+(?:в\s+)?)"
_TAIL = r"(?:\s*[,;]\s*(?P<room>\S.*?)|\s+(?P<room2>(?:каб|кабинет|ауд|аудитория)\.?\s*\S.*?))?\.?"
_DAY = rf"{_WD}(?:{_DATE}|{_ISO})"
_FORMS = (
    re.compile(rf"{_DAY}{_SEP}{_TIME}{_TAIL}", re.IGNORECASE),
    re.compile(rf"{_TIME}{_SEP}{_DAY}{_TAIL}", re.IGNORECASE),
)


def _normalise(text: str) -> str:
    text = _SPACES.sub(" ", text).strip()
    # Only dashes between digits or around spaces are range dashes; an ISO date keeps its own.
    return _DASHES.sub("-", text)


def _read_slot(text: str, year_hint: int | None, minutes: int) -> tuple[Slot | None, str]:
    """The slot a text describes, or None with a short Russian reason (may be empty)."""
    norm = _normalise(text)
    reason = ""
    for form in _FORMS:
        m = form.fullmatch(norm)
        if m is None:
            continue
        g = m.groupdict()
        if g["iy"]:
            year, month, day_ = int(g["iy"]), int(g["imo"]), int(g["id"])
        else:
            month, day_ = int(g["mo"]), int(g["d"])
            if g["y"]:
                year = int(g["y"]) + (2000 if len(g["y"]) == 2 else 0)
            elif year_hint is not None:
                year = year_hint
            else:
                reason = "не указан год"
                continue
        try:
            date = dt.date(year, month, day_)
            start = dt.datetime.combine(date, dt.time(int(g["h1"]), int(g["m1"])))
            if g["h2"] is None:
                end = start + dt.timedelta(minutes=minutes)
            else:
                h2, m2 = int(g["h2"]), int(g["m2"])
                end = (
                    dt.datetime.combine(date + dt.timedelta(days=1), dt.time(0))
                    if (h2, m2) in ((24, 0), (0, 0))
                    else dt.datetime.combine(date, dt.time(h2, m2))
                )
        except ValueError:
            reason = reason or "такой даты или времени не бывает"
            continue
        if end <= start:
            reason = "конец раньше начала"
            continue
        if g["wd"]:
            wd = _WD_WORDS.get(g["wd"].lower())
            if wd is None:
                continue
            if wd != date.weekday():
                reason = f"{date:%d.%m.%Y} — это {WEEKDAYS_SHORT[date.weekday()]}, а не {g['wd']}"
                continue
        room = normalize_room(g["room"] or g["room2"] or "")
        return Slot(start, end, room), ""
    return None, reason


def parse_slot(text: str, year_hint: int | None = None, *, minutes: int = 20) -> Slot | None:
    """Read a slot typed in a cell, e.g. «вт 01.12.2026 15:20–15:40, каб. 12»; None if not one.

    Tolerant: any spaces, «-» or «–», an optional weekday (which must match the date), the time
    before or after the date, no room, no end (then `minutes` long), no year (then `year_hint`).
    """
    if not isinstance(text, str):
        return None
    return _read_slot(text, year_hint, minutes)[0]


# --- reading the «Консультация» cells ------------------------------------------------------------


@dataclass(frozen=True)
class _Cell:
    slot: Slot | None
    own_form: bool  # exactly the text the job writes for this slot
    text: str | None  # what a desired value should be when the slot is kept (None: as typed)
    problem: str | None


def _read_cell(raw: object, year_hint: int, minutes: int, rooms: dict[int, str]) -> _Cell:
    if isinstance(raw, dt.datetime | pd.Timestamp):
        # A sheet turned «01.12.2026 15:20» into a date-time cell: the slot starts there.
        start = pd.Timestamp(raw).to_pydatetime().replace(tzinfo=None, second=0, microsecond=0)
        slot = Slot(start, start + dt.timedelta(minutes=minutes), rooms.get(start.weekday(), ""))
        return _Cell(slot, False, slot.label(), None)
    if not isinstance(raw, str):
        return _Cell(None, False, None, _not_a_slot(raw, ""))
    slot, reason = _read_slot(raw, year_hint, minutes)
    if slot is None:
        return _Cell(None, False, None, _not_a_slot(raw, reason))
    return _Cell(slot, raw == slot.label(), None, None)


def _not_a_slot(raw: object, reason: str) -> str:
    why = f" ({reason})" if reason else ""
    return (
        f"{HEADER}: «{quote_raw(raw)}» — не похоже на время консультации{why}. Пример: «{EXAMPLE}»"
    )


def rooms_by_weekday(schedule: pd.DataFrame) -> dict[int, str]:
    """Weekday (0 = Monday) -> room, from the typed «График» rows (the first room of a day)."""
    rooms: dict[int, str] = {}
    if schedule is None or schedule.empty or "room" not in schedule:
        return rooms
    for weekday, room in zip(schedule["weekday"], schedule["room"], strict=True):
        if is_blank(weekday) or is_blank(room) or weekday not in _WEEKDAY_NAMES:
            continue
        rooms.setdefault(_WEEKDAY_NAMES.index(weekday), normalize_room(room))
    return rooms


# --- planning ------------------------------------------------------------------------------------


@dataclass
class BookingPlan:
    """What the booking rules want in «Консультация», by sheet row."""

    desired: pd.Series  # text per sheet row; None = leave empty
    notes: dict[int, list[str]] = field(default_factory=dict)
    rebooked: list[tuple[int, str, str]] = field(default_factory=list)  # (№, old, new)
    booked: list[tuple[int, str]] = field(default_factory=list)  # new bookings (№, label)
    # The group sessions of «Календарь» and, by sheet row, the one each training request holds.
    groups: list[GroupSession] = field(default_factory=list)
    in_group: dict[int, GroupSession] = field(default_factory=dict)


def _wall(now: dt.datetime, tz: str) -> dt.datetime:
    """`now` as naive wall time of tz, to the minute (naive input is taken as already local)."""
    if now.tzinfo is not None:
        now = now.astimezone(ZoneInfo(tz)).replace(tzinfo=None)
    return now.replace(second=0, microsecond=0)


def _minutes(moment: dt.datetime, tz: str) -> float:
    return float(to_minutes([moment], tz)[0])


def _to_minutes(moments: list[dt.datetime], tz: str) -> list[float]:
    if not moments:
        return []
    return [float(m) for m in to_minutes(pd.DatetimeIndex(moments), tz)]


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def _closed_words(reason: str) -> str:
    """«нет консультаций: педсовет» / «нет консультаций (праздник: …)» from a day's reason."""
    if reason.startswith(KIND_CANCELLED):
        return _lower_first(reason)
    return f"нет консультаций ({_lower_first(reason)})"


def _hours_of(calendar: WorkCalendar, day: dt.date) -> str:
    return ", ".join(f"{a:%H:%M}{DASH}{b:%H:%M}" for a, b in calendar.sessions(day, day))


def _number_text(number: float, row: int) -> str:
    return f"№ {int(number)}" if np.isfinite(number) else f"строка {row}"


def _peak(others: list[tuple[float, float]], lo: float, hi: float) -> int:
    """The most intervals of `others` that cover one moment inside [lo, hi)."""
    events = sorted(
        [(max(s, lo), 1) for s, e in others] + [(min(e, hi), -1) for s, e in others],
        key=lambda ev: (ev[0], ev[1]),
    )
    best = level = 0
    for _, step in events:
        level += step
        best = max(best, level)
    return best


def _day_numbers(local: pd.DatetimeIndex) -> np.ndarray:
    """Days since the epoch of naive local moments (a key that sorts like the dates)."""
    if not len(local):
        return np.empty(0, dtype=np.int64)
    return local.to_numpy().astype("datetime64[D]").astype(np.int64)


@dataclass(frozen=True)
class BookingRules:
    """What booking needs of the settings."""

    slot_minutes: int = 20
    capacity: int = 1
    buffer_minutes: int = 0
    min_notice_hours: float = 2
    daily_cap: int | None = None
    room: str = ""
    # Share of every session's places the automatic booking leaves free (short topics, marks).
    reserve_share: float = 0.25
    consultation_topics: frozenset[str] = frozenset()

    @classmethod
    def from_settings(cls, settings: Settings) -> BookingRules:
        """The `booking` section and the topics that need a consultation."""
        b = settings.booking
        topics = load_schema().enums["topic"]
        return cls(
            slot_minutes=b.slot_minutes,
            capacity=b.capacity,
            buffer_minutes=b.buffer_minutes,
            min_notice_hours=b.min_notice_hours,
            daily_cap=b.daily_cap,
            room=b.room,
            reserve_share=b.reserve_share,
            consultation_topics=frozenset(t for t in topics if settings.topic_rule(t).consultation),
        )


class _Grid:
    """Every bookable slot from `after` to the end of the calendar, with its occupancy.

    A slot is closed once it is full, once its day reached the daily cap, or once its session
    reached its quota: the places of the session minus the reserve."""

    def __init__(self, calendar: WorkCalendar, rules: BookingRules, after: float) -> None:
        length = float(rules.slot_minutes)
        step = float(rules.slot_minutes + rules.buffer_minutes)
        keep = calendar.ends > after
        s, e = calendar.starts[keep], calendar.ends[keep]
        n = np.where(e - s >= length, np.floor((e - s - length) / step).astype(np.int64) + 1, 0)
        which = np.repeat(np.arange(len(s)), n)
        k = np.arange(int(n.sum())) - np.repeat(np.cumsum(n) - n, n)
        self.starts = s[which] + k * step
        self.ends = self.starts + length
        self.tz = calendar.tz
        local = from_minutes(self.starts, self.tz) if len(self.starts) else pd.DatetimeIndex([])
        self.local = local
        self.days = _day_numbers(local)
        self.sessions = calendar.session_of[keep][which] if len(which) else np.empty(0, int)
        self.capacity = rules.capacity
        self.daily_cap = rules.daily_cap
        self.load = np.zeros(len(self.starts), dtype=np.int64)
        self.per_day: dict[int, int] = {}
        places = np.bincount(self.sessions, minlength=0) * rules.capacity if len(which) else []
        self.quota = {
            int(sid): int(np.floor(p * (1 - rules.reserve_share) + 1e-9))
            for sid, p in enumerate(places)
            if p
        }
        self.per_session: dict[int, int] = {}
        self.parent = np.arange(len(self.starts) + 1)

    @staticmethod
    def _day_key(start: dt.datetime) -> int:
        return int(np.datetime64(start.date(), "D").astype(np.int64))

    def occupy(self, start_m: np.ndarray, end_m: np.ndarray, starts: list[dt.datetime]) -> None:
        """Count kept bookings: each fills the grid slots it overlaps, its day's and its
        session's quota."""
        if len(start_m):
            lo = np.searchsorted(self.ends, start_m, side="right")
            hi = np.searchsorted(self.starts, end_m, side="left")
            diff = np.zeros(len(self.starts) + 1, dtype=np.int64)
            np.add.at(diff, lo, 1)
            np.add.at(diff, np.maximum(hi, lo), -1)
            self.load += np.cumsum(diff)[:-1]
            for i, j in zip(lo, hi, strict=True):
                if i < j:  # the booking lies in the grid: it counts for that slot's session
                    sid = int(self.sessions[i])
                    self.per_session[sid] = self.per_session.get(sid, 0) + 1
        for start in starts:
            key = self._day_key(start)
            self.per_day[key] = self.per_day.get(key, 0) + 1
        for i in np.flatnonzero(self.load >= self.capacity):
            self.parent[i] = i + 1
        if self.daily_cap is not None:
            for key, count in self.per_day.items():
                if count >= self.daily_cap:
                    self._close(self.days, key)
        for sid, count in self.per_session.items():
            if count >= self.quota.get(sid, 0):
                self._close(self.sessions, sid)

    def block(self, start_m: np.ndarray, end_m: np.ndarray) -> None:
        """Close every slot that overlaps one of these spans (the group sessions' time)."""
        lo = np.searchsorted(self.ends, start_m, side="right")
        hi = np.searchsorted(self.starts, end_m, side="left")
        for i, j in zip(lo, hi, strict=True):
            for k in range(int(i), int(j)):
                self.parent[k] = k + 1

    def _close(self, keys: np.ndarray, key: int) -> None:
        """Close every slot whose day (or session) is `key`; keys are sorted."""
        lo = np.searchsorted(keys, key, side="left")
        hi = np.searchsorted(keys, key, side="right")
        for i in range(lo, hi):
            self.parent[i] = i + 1

    def _find(self, i: int) -> int:
        root = i
        while self.parent[root] != root:
            root = int(self.parent[root])
        while self.parent[i] != i:
            self.parent[i], i = root, int(self.parent[i])
        return root

    def book(self, after: float) -> int | None:
        """Take the first free slot starting at or after `after`; its index, or None."""
        i = self._find(int(np.searchsorted(self.starts, after, side="left")))
        if i >= len(self.starts):
            return None
        self.load[i] += 1
        if self.load[i] >= self.capacity:
            self.parent[i] = i + 1
        key = int(self.days[i])
        self.per_day[key] = self.per_day.get(key, 0) + 1
        if self.daily_cap is not None and self.per_day[key] >= self.daily_cap:
            self._close(self.days, key)
        sid = int(self.sessions[i])
        self.per_session[sid] = self.per_session.get(sid, 0) + 1
        if self.per_session[sid] >= self.quota.get(sid, 0):
            self._close(self.sessions, sid)
        return i

    def slot(self, i: int, room: str) -> Slot:
        start = self.local[i].to_pydatetime()
        return Slot(start, start + dt.timedelta(minutes=float(self.ends[i] - self.starts[i])), room)


LATE = "запись позже срока: свободных мест до срока нет"
LATE_TYPED = "запись позже срока"
GROUP_BUSY = "в это время групповое занятие"
GROUP_GONE = "такого группового занятия в «Календаре» больше нет"
LATE_GROUP = "запись позже срока: до срока нет группового занятия со свободными местами"


@dataclass
class _Cells:
    """The «Консультация» cells read, and what becomes of the slots they hold."""

    raw: np.ndarray
    blank: np.ndarray
    desired: np.ndarray
    cells: dict[int, _Cell]
    slot_of: dict[int, Slot | None]
    starts_m: dict[int, float]
    ends_m: dict[int, float]
    kept: list[int] = field(default_factory=list)
    rebook: list[int] = field(default_factory=list)
    why_moved: dict[int, str] = field(default_factory=dict)  # why each rebooked slot moves


def _read_cells(
    current: pd.Series, rows: pd.Index, rules: BookingRules, now_local: dt.datetime,
    rooms: dict[int, str], note: Callable[[int, str], None],
) -> _Cells:  # fmt: skip
    """Read the cells that hold something; flag those that are not a slot."""
    raw = current.reindex(rows).to_numpy(dtype=object)
    blank = blank_mask(raw)
    desired = np.where(blank, None, raw).astype(object)
    cells: dict[int, _Cell] = {}
    for pos in np.flatnonzero(~blank):
        cell = _read_cell(raw[pos], now_local.year, rules.slot_minutes, rooms)
        cells[int(pos)] = cell
        if cell.slot is None:
            note(pos, cell.problem or _not_a_slot(raw[pos], ""))
        elif cell.text is not None:
            desired[pos] = cell.text
    slot_of = {pos: cell.slot for pos, cell in cells.items() if cell.slot is not None}
    return _Cells(raw, blank, desired, cells, slot_of, {}, {})


def _sort_slots(
    c: _Cells,
    *,
    closed: np.ndarray,
    waiting: np.ndarray,
    open_: np.ndarray,
    calendar: WorkCalendar,
    now_m: float,
    fixed: set[int] = frozenset(),  # type: ignore[assignment]
    group_time: Callable[[float, float], bool] = lambda a, z: False,
    gone: set[int] = frozenset(),  # type: ignore[assignment]
) -> None:
    """Which slots stay, which are freed and which move to another day (a place in a group
    session that is still in «Календарь» never moves; a slot the job wrote inside a group
    session's time moves like one on a closed day)."""
    reasons: dict[dt.date, str | None] = {}
    for pos, slot in c.slot_of.items():
        assert slot is not None
        future = c.starts_m[pos] >= now_m
        if closed[pos] or waiting[pos]:
            if future:
                # Done, or waiting for the requester: the future time is free for others
                # (a request that comes back from waiting is booked again).
                c.desired[pos] = None
            else:
                c.kept.append(pos)  # history
            continue
        if open_[pos] and c.cells[pos].own_form and future and pos not in fixed:
            day = slot.start.date()
            if day not in reasons:
                reasons[day] = calendar.closed_reason(day)
            reason = reasons[day]
            if reason is not None and reason != REASON_OUTSIDE:
                why = f"в этот день {_closed_words(reason)}"
            elif pos in gone:
                why = GROUP_GONE
            elif group_time(c.starts_m[pos], c.ends_m[pos]):
                why = GROUP_BUSY
            else:
                why = ""
            if why:
                c.rebook.append(pos)
                c.why_moved[pos] = why
                continue
        c.kept.append(pos)


def _book_queue(
    c: _Cells,
    queue: list[int],
    *,
    after: np.ndarray,
    due: np.ndarray,
    keys: list[tuple[float, ...]],
    grid: _Grid,
    calendar: WorkCalendar,
    rules: BookingRules,
    rooms: dict[int, str],
    numbers: np.ndarray,
    note: Callable[[int, str], None],
) -> tuple[list[tuple[int, str]], list[tuple[int, str, str]]]:
    """Book the queue earliest deadline first, each into the earliest free slot after its
    notice: a slot before its deadline whenever one is free."""
    tz = calendar.tz
    booked: list[tuple[int, str]] = []
    rebooked: list[tuple[int, str, str]] = []
    moving = set(c.rebook)
    until = from_minutes([calendar.span_end - 1], tz)[0]
    no_time = (
        f"{HEADER}: нет свободного времени для консультации до {until:%d.%m.%Y} — запишите вручную"
    )
    # Slots are only taken here, never freed: once nothing is free from some moment on, nothing
    # is free from any later moment either, and asking the grid again is no use.
    full_from = np.inf
    for i in sorted(range(len(queue)), key=keys.__getitem__):
        pos = queue[i]
        start = float(after[i])
        index = None if start >= full_from else grid.book(start)
        if index is None:
            full_from = min(full_from, start)
            if pos in moving:
                note(
                    pos,
                    f"{HEADER}: «{quote_raw(c.raw[pos])}» — {c.why_moved[pos]}, а свободного "
                    f"времени для переноса до {until:%d.%m.%Y} нет — запишите вручную",
                )
            else:
                note(pos, no_time)
            continue
        weekday = grid.local[index].weekday()
        slot = grid.slot(index, rooms.get(weekday, "") or normalize_room(rules.room))
        c.desired[pos] = slot.label()
        c.slot_of[pos] = slot
        c.starts_m[pos] = float(grid.starts[index])
        if pos in moving:
            rebooked.append((_int(numbers[pos]), str(c.raw[pos]), slot.label()))
        else:
            booked.append((_int(numbers[pos]), slot.label()))
    return booked, rebooked


def _late_notes(
    c: _Cells,
    positions: list[int],
    due: np.ndarray,
    own: set[int],
    note: Callable[[int, str], None],
) -> None:
    """Slots of open requests that start at or after the request's deadline."""
    for pos in positions:
        if np.isfinite(due[pos]) and c.starts_m.get(pos, -np.inf) >= due[pos]:
            note(pos, f"{HEADER}: {LATE if pos in own else LATE_TYPED}")


def quarter_end_ahead(today: dt.date, quarter_ends: Sequence[dt.date]) -> dt.date | None:
    """The quarter end within the coming week (today .. today + 7 days), if there is one."""
    ahead = [q for q in quarter_ends if today <= q <= today + dt.timedelta(days=QUARTER_RUSH_DAYS)]
    return min(ahead) if ahead else None


def _marks_first(topics: pd.Series, today: dt.date, quarter_ends: Sequence[dt.date]) -> np.ndarray:
    """Which requests jump the queue: the marks ones, in the week before a quarter end."""
    if quarter_end_ahead(today, quarter_ends) is None:
        return np.zeros(len(topics), dtype=bool)
    return topics.isin(MARKS_TOPICS).to_numpy()


class _GroupSeats:
    """The group sessions with their places taken (a place in one is a cell holding its time)."""

    def __init__(
        self, groups: Sequence[GroupSession], tz: str, rooms: dict[int, str], rules: BookingRules
    ) -> None:
        self.tz = tz
        self.groups: list[GroupSession] = []
        self.rooms: list[str] = []
        seen = set()
        for g in sorted(groups, key=lambda g: (g.start, g.row)):
            room = (
                normalize_room(g.room)
                or rooms.get(g.start.weekday(), "")
                or normalize_room(rules.room)
            )
            # Two rows at the same time in the same room would be one cell text: the first
            # row is the session (group_notes flags the other).
            if (g.start, room) not in seen:
                seen.add((g.start, room))
                self.groups.append(g)
                self.rooms.append(room)
        self.by_start: dict[dt.datetime, list[int]] = {}
        for i, g in enumerate(self.groups):
            self.by_start.setdefault(g.start, []).append(i)
        self.taken = [0] * len(self.groups)
        self.starts = _to_minutes([g.start for g in self.groups], tz)
        self.ends = _to_minutes([g.end for g in self.groups], tz)

    def find(self, slot: Slot) -> int | None:
        """The group session a slot stands for: the same start (and room, when two share it)."""
        found = self.by_start.get(slot.start, [])
        if len(found) > 1 and slot.room:
            found = [i for i in found if self.rooms[i] == slot.room] or found
        return found[0] if found else None

    def seat(self, i: int) -> None:
        self.taken[i] += 1

    def take(self, after: float) -> int | None:
        """A place in the earliest session starting at or after `after` that has one."""
        for i, g in enumerate(self.groups):
            if self.starts[i] >= after and self.taken[i] < g.places:
                self.taken[i] += 1
                return i
        return None

    def slot(self, i: int) -> Slot:
        g = self.groups[i]
        return Slot(g.start, g.end, self.rooms[i])

    def start_m(self, i: int) -> float:
        return self.starts[i]

    def overlaps(self, start_m: float, end_m: float) -> bool:
        """Whether a span of minutes overlaps one of the sessions."""
        return any(a < end_m and start_m < z for a, z in zip(self.starts, self.ends, strict=True))

    def spans(self) -> tuple[np.ndarray, np.ndarray]:
        order = np.argsort(np.asarray(self.starts, dtype=float), kind="stable")
        return (
            np.asarray(self.starts, dtype=float)[order],
            np.asarray(self.ends, dtype=float)[order],
        )

    def overfull_notes(
        self,
        held: dict[int, int],
        open_: np.ndarray,
        numbers: np.ndarray,
        rows: pd.Index,
        note: Callable[[int, str], None],
    ) -> None:
        """A session holding more requests than places (typed by hand): said on each open one."""
        for i, g in enumerate(self.groups):
            if self.taken[i] <= g.places:
                continue
            for pos, j in held.items():
                if j == i and open_[pos]:
                    note(
                        pos,
                        f"{HEADER}: на групповое занятие {self.slot(i).label()} записано "
                        f"{self.taken[i]} при {g.places} местах",
                    )


def plan_bookings(
    requests: pd.DataFrame,
    current: pd.Series,
    *,
    calendar: WorkCalendar,
    rules: BookingRules,
    now: dt.datetime,
    sheet_tz: str,
    schedule_rooms: dict[int, str],
    due: np.ndarray | pd.Series | None = None,
    quarter_ends: Sequence[dt.date] = (),
    groups: Sequence[GroupSession] = (),
) -> BookingPlan:
    """The «Консультация» text every request row should hold, with notes and moved bookings.

    In the week before a quarter end (`quarter_ends`, the «Конец четверти» rows of «Календарь»)
    the requests about marks (2.3, 2.4) go first in the queue, then the rest by deadline.

    Training requests (GROUP_TOPICS) take a place in the earliest group session of `groups`
    with a free place (never more than its places); only when no group session ahead has one do
    they get an individual slot. The group sessions' time is never cut into individual slots.

    `requests` is RequestPlan.effective (index: sheet row; number, received_at, topic, status),
    `current` the raw «Консультация» cells by sheet row, `due` each row's deadline in minutes
    (RequestPlan.due_minutes). Slots are wall times of calendar.tz.
    """
    tz = calendar.tz
    rows = requests.index
    now_local = _wall(now, tz)
    now_m = _minutes(now_local, tz)
    rooms = {d: normalize_room(r) for d, r in schedule_rooms.items()}
    status = requests["status"].to_numpy(dtype=object)
    closed = np.isin(status, [RESOLVED, REJECTED])
    waiting = np.isin(status, ON_HOLD)
    open_ = ~closed & ~pd.isna(status)
    needs = requests["topic"].isin(rules.consultation_topics).to_numpy()
    numbers = pd.to_numeric(requests["number"], errors="coerce").to_numpy(dtype=float)
    received_m = np.asarray(to_minutes(requests["received_at"], sheet_tz), dtype=float)
    due_m = np.full(len(rows), np.nan) if due is None else np.asarray(due, dtype=float)
    notes: dict[int, list[str]] = {}

    row_numbers = rows.tolist()  # a list answers a position faster than an Index

    def note(pos: int, text: str) -> None:
        notes.setdefault(int(row_numbers[pos]), []).append(text)

    c = _read_cells(current, rows, rules, now_local, rooms, note)
    # One conversion for every slot (a per-cell conversion is what makes 10k rows slow).
    with_slot = list(c.slot_of)
    parsed = [c.slot_of[p].start for p in with_slot]  # type: ignore[union-attr]
    c.starts_m = dict(zip(with_slot, _to_minutes(parsed, tz), strict=True))
    ends = [c.slot_of[p].end for p in with_slot]  # type: ignore[union-attr]
    c.ends_m = dict(zip(with_slot, _to_minutes(ends, tz), strict=True))
    group_topic = requests["topic"].isin(GROUP_TOPICS).to_numpy()
    sessions = _GroupSeats(groups, tz, rooms, rules)
    held = {
        p: g
        for p, slot in c.slot_of.items()
        if group_topic[p] and (g := sessions.find(slot)) is not None  # type: ignore[arg-type]
    }
    # A place the job wrote in a group session that is no longer in «Календарь» (its text is
    # longer than an individual slot): booked again.
    length = dt.timedelta(minutes=rules.slot_minutes)
    gone = {
        p
        for p, slot in c.slot_of.items()
        if group_topic[p] and p not in held and slot.end - slot.start != length  # type: ignore[union-attr]
    }
    _sort_slots(
        c, closed=closed, waiting=waiting, open_=open_, calendar=calendar, now_m=now_m,
        fixed=set(held), group_time=sessions.overlaps, gone=gone,
    )  # fmt: skip
    in_group = {p: held[p] for p in c.kept if p in held}
    c.kept = [p for p in c.kept if p not in held]
    for g in in_group.values():
        sessions.seat(g)
    sessions.overfull_notes(in_group, open_, numbers, rows, note)

    k_start = np.array([c.starts_m[p] for p in c.kept], dtype=float)
    k_end = np.array([c.ends_m[p] for p in c.kept], dtype=float)
    texts = {p: str(c.desired[p]) for p in c.kept}
    _flag_kept(
        c.kept, c.slot_of, texts, (k_start, k_end), open_, numbers, rows, calendar,
        rules.capacity, note,
    )  # fmt: skip
    for pos in c.kept:
        if (
            open_[pos]
            and c.starts_m[pos] >= now_m
            and sessions.overlaps(c.starts_m[pos], c.ends_m[pos])
        ):
            note(pos, f"{HEADER}: «{quote_raw(texts[pos])}» — {GROUP_BUSY}")

    # Book: empty cells of open requests that need a consultation (not while they wait for
    # the requester), and the moved ones.
    fresh = np.flatnonzero(c.blank & open_ & needs & ~waiting)
    queue = [int(p) for p in fresh] + c.rebook
    booked: list[tuple[int, str]] = []
    rebooked: list[tuple[int, str, str]] = []
    if queue:
        notice = now_m + rules.min_notice_hours * 60.0
        after = np.array(
            [notice if np.isnan(received_m[p]) else max(received_m[p], notice) for p in queue]
        )

        def last(x: float) -> float:
            return np.inf if np.isnan(x) else float(x)

        first = _marks_first(requests["topic"], now_local.date(), quarter_ends)
        keys = [
            (
                0.0 if first[p] else 1.0,
                last(due_m[p]),
                last(received_m[p]),
                last(numbers[p]),
                int(rows[p]),
            )
            for p in queue
        ]
        order = sorted(range(len(queue)), key=keys.__getitem__)
        rest = []
        for i in order:
            pos = queue[i]
            g = sessions.take(float(after[i])) if group_topic[pos] else None
            if g is None:
                rest.append(i)
                continue
            in_group[pos] = g
            slot = sessions.slot(g)
            c.desired[pos] = slot.label()
            c.slot_of[pos] = slot
            c.starts_m[pos] = sessions.start_m(g)
            if pos in c.rebook:
                rebooked.append((_int(numbers[pos]), str(c.raw[pos]), slot.label()))
            else:
                booked.append((_int(numbers[pos]), slot.label()))
        if rest:
            grid = _Grid(calendar, rules, float(min(after[i] for i in rest)))
            grid.block(*sessions.spans())
            grid.occupy(k_start, k_end, [c.slot_of[p].start for p in c.kept])  # type: ignore[union-attr]
            more, moved = _book_queue(
                c, [queue[i] for i in rest], after=after[rest], due=due_m,
                keys=[keys[i] for i in rest], grid=grid, calendar=calendar, rules=rules,
                rooms=rooms, numbers=numbers, note=note,
            )  # fmt: skip
            booked += more
            rebooked += moved

    own = {p for p in [*c.kept, *held] if c.cells[p].own_form} | set(queue)
    live = [p for p in c.slot_of if open_[p] and not waiting[p] and c.desired[p] is not None]
    _late_notes(c, [p for p in live if p not in in_group], due_m, own, note)
    for pos in live:
        if pos in in_group and np.isfinite(due_m[pos]) and c.starts_m[pos] >= due_m[pos]:
            note(pos, f"{HEADER}: {LATE_GROUP if pos in own else LATE_TYPED}")
    return BookingPlan(
        desired=pd.Series(c.desired, index=rows, dtype=object),
        notes=notes,
        rebooked=sorted(rebooked),
        booked=sorted(booked),
        groups=list(groups),
        in_group={int(rows[p]): sessions.groups[g] for p, g in in_group.items()},
    )


def _int(number: float) -> int:
    return int(number) if np.isfinite(number) else 0


def _flag_kept(
    kept: list[int],
    slot_of: dict[int, Slot | None],
    texts: dict[int, str],
    spans: tuple[np.ndarray, np.ndarray],
    open_: np.ndarray,
    numbers: np.ndarray,
    rows: pd.Index,
    calendar: WorkCalendar,
    capacity: int,
    note: Callable[[int, str], None],
) -> None:
    """Notes for kept slots of open requests: outside the hours, or more requests than fit."""
    live = [i for i, p in enumerate(kept) if open_[p]]
    if not live:
        return
    starts, ends = spans[0][live], spans[1][live]
    worked = np.asarray(calendar.between(starts, ends), dtype=float)
    for j, i in enumerate(live):
        pos = kept[i]
        slot = slot_of[pos]
        assert slot is not None
        if np.isfinite(worked[j]) and worked[j] < ends[j] - starts[j] - 1e-6:
            reason = calendar.closed_reason(slot.start.date())
            if reason is not None:
                what = f"в этот день {_closed_words(reason)}"
            else:
                hours = _hours_of(calendar, slot.start.date())
                what = f"вне часов консультаций (в этот день: {hours})"
            note(pos, f"{HEADER}: «{quote_raw(texts[pos])}» — {what}")
    # Overlaps: sort by start and look ahead while the next one starts before this one ends.
    order = np.argsort(starts, kind="stable")
    overlaps: dict[int, list[int]] = {}
    for a_idx, a in enumerate(order):
        for b in order[a_idx + 1 :]:
            if starts[b] >= ends[a]:
                break
            if ends[b] > starts[a]:
                overlaps.setdefault(int(a), []).append(int(b))
                overlaps.setdefault(int(b), []).append(int(a))
    for j, others in overlaps.items():
        spans = [(float(starts[o]), float(ends[o])) for o in others]
        if 1 + _peak(spans, float(starts[j]), float(ends[j])) <= capacity:
            continue
        pos = kept[live[j]]
        names = sorted((numbers[kept[live[o]]], int(rows[kept[live[o]]])) for o in others)
        listed = ", ".join(_number_text(n, r) for n, r in names)
        word = "обращение" if len(names) == 1 else "обращения"
        note(
            pos,
            f"{HEADER}: на это время уже записано {word} {listed} "
            f"(на одно время — не больше {capacity})",
        )


# --- the administrator's agenda ----------------------------------------------------------------


@dataclass(frozen=True)
class AgendaBooking:
    """A booked slot as the administrator sees it (names shown: the agenda is for them only)."""

    slot: Slot
    row: int
    number: int | None
    topic: str
    requester: str
    status: str
    outside: bool  # not inside the day's consultation hours


@dataclass(frozen=True)
class AgendaGroup:
    """A group session of the day and who is coming (staff names: they are not pupils)."""

    slot: Slot
    places: int
    coming: tuple[AgendaBooking, ...]


@dataclass(frozen=True)
class AgendaDay:
    """One day of the agenda: its sessions (naive local), or why it has none; its bookings."""

    day: dt.date
    sessions: tuple[tuple[dt.datetime, dt.datetime], ...]
    closed_reason: str | None
    room: str
    bookings: tuple[AgendaBooking, ...]
    places: int  # places in the day's slots (capacity x slots, within the daily cap)
    free: int  # of them still free
    groups: tuple[AgendaGroup, ...] = ()


def _text(value: object) -> str:
    return "" if is_blank(value) else str(value).strip()


def agenda(
    requests: pd.DataFrame,
    current: pd.Series,
    *,
    calendar: WorkCalendar,
    rules: BookingRules,
    day_from: dt.date,
    day_to: dt.date,
    schedule_rooms: dict[int, str] | None = None,
    now: dt.datetime | None = None,
    groups: Sequence[GroupSession] = (),
) -> list[AgendaDay]:
    """Every day of day_from..day_to: its sessions or the reason it has none, its booked slots
    (request №, topic, requester), its group sessions with who is coming, and the free places
    left (none before `now` when given; a group session's time has no individual places)."""
    b = rules
    now_local = None if now is None else _wall(now, calendar.tz)
    rooms = {d: normalize_room(r) for d, r in (schedule_rooms or {}).items()}
    raw = current.reindex(requests.index)
    by_day: dict[dt.date, list[tuple[int, Slot]]] = {}
    for row, value in raw.items():
        if is_blank(value):
            continue
        cell = _read_cell(value, day_from.year, b.slot_minutes, rooms)
        if cell.slot is not None and day_from <= cell.slot.start.date() <= day_to:
            by_day.setdefault(cell.slot.start.date(), []).append((int(row), cell.slot))
    seats = _GroupSeats(groups, calendar.tz, rooms, rules)

    length = dt.timedelta(minutes=b.slot_minutes)
    step = dt.timedelta(minutes=b.slot_minutes + b.buffer_minutes)
    out: list[AgendaDay] = []
    day = day_from
    while day <= day_to:
        sessions = tuple(
            (a.replace(tzinfo=None), z.replace(tzinfo=None)) for a, z in calendar.sessions(day, day)
        )
        todays_groups = [i for i, g in enumerate(seats.groups) if g.start.date() == day]
        grid: list[tuple[dt.datetime, dt.datetime]] = []
        for a, z in sessions:
            t = a
            while t + length <= z:
                if not any(
                    seats.groups[i].start < t + length and t < seats.groups[i].end
                    for i in todays_groups
                ):
                    grid.append((t, t + length))
                t += step
        booked = sorted(
            by_day.get(day, []),
            key=lambda item: (item[1].start, _sort_number(requests.at[item[0], "number"])),
        )
        items = []
        coming: dict[int, list[AgendaBooking]] = {i: [] for i in todays_groups}
        for row, slot in booked:
            r = requests.loc[row]
            number = pd.to_numeric(r.get("number"), errors="coerce")
            group = seats.find(slot) if r.get("topic") in GROUP_TOPICS else None
            item = AgendaBooking(
                slot=slot,
                row=row,
                number=None if pd.isna(number) else int(number),
                topic=_text(r.get("topic")),
                requester=_text(r.get("requester")),
                status=_text(r.get("status")),
                outside=group is None
                and not any(a <= slot.start and slot.end <= z for a, z in sessions),
            )
            if group is not None:
                coming[group].append(item)
            else:
                items.append(item)
        booked = [(row, slot) for row, slot in booked if any(i.row == row for i in items)]
        places = len(grid) * b.capacity
        free = sum(
            max(0, b.capacity - sum(1 for _, s in booked if s.start < e and s.end > g))
            for g, e in grid
            if now_local is None or g >= now_local
        )
        if b.daily_cap is not None:
            places = min(places, b.daily_cap)
            free = min(free, max(0, b.daily_cap - len(booked)))
        out.append(
            AgendaDay(
                day=day,
                sessions=sessions,
                closed_reason=None if sessions else calendar.closed_reason(day),
                room=rooms.get(day.weekday(), "") or normalize_room(b.room),
                bookings=tuple(items),
                places=places,
                free=free,
                groups=tuple(
                    AgendaGroup(seats.slot(i), seats.groups[i].places, tuple(coming[i]))
                    for i in todays_groups
                ),
            )
        )
        day += dt.timedelta(days=1)
    return out


def _sort_number(value: object) -> float:
    number = pd.to_numeric(value, errors="coerce")
    return float("inf") if pd.isna(number) else float(number)


def _day_label(day: dt.date) -> str:
    return f"{WEEKDAYS_SHORT[day.weekday()]} {day:%d.%m.%Y}"


def agenda_lines(days: list[AgendaDay]) -> list[str]:
    """The agenda in Russian, one line per day and per booking (weekends without hours and
    without bookings are left out)."""
    if not days:
        return []
    lines = [f"Консультации с {days[0].day:%d.%m.%Y} по {days[-1].day:%d.%m.%Y}"]
    total_booked = total_free = 0
    for d in days:
        if not d.sessions and not d.bookings and not d.groups and d.day.weekday() >= 5:
            continue
        if d.sessions:
            hours = ", ".join(f"{a:%H:%M}{DASH}{z:%H:%M}" for a, z in d.sessions)
            room = _room_text(d.room)
            where = f"{hours}, {room}" if room else hours
            lines.append(
                f"{_day_label(d.day)} {where} — записано: {len(d.bookings)}, "
                f"свободных мест: {d.free}"
            )
        else:
            lines.append(f"{_day_label(d.day)} — {_closed_words(d.closed_reason or '')}")
        total_booked += len(d.bookings)
        total_free += d.free
        for item in d.bookings:
            s = item.slot
            number = f"№ {item.number}" if item.number is not None else "без №"
            line = (
                f"  {s.start:%H:%M}{DASH}{s.end:%H:%M}  {number}  "
                f"{item.topic or 'тема не указана'} — {item.requester or 'заявитель не указан'}"
            )
            if s.room and s.room != d.room:
                line += f", {_room_text(s.room)}"
            if item.status in (RESOLVED, REJECTED):
                line += f" ({item.status.lower()})"
            if item.outside:
                line += " — вне часов консультаций"
            lines.append(line)
        if d.sessions and not d.bookings:
            lines.append("  записей нет")
        for group in d.groups:
            lines.extend(_group_lines(group))
    lines.append(f"Всего записано: {total_booked}, свободных мест: {total_free}.")
    return lines


def _group_lines(group: AgendaGroup) -> list[str]:
    """«Групповое занятие 15:00–16:30, каб. 21: записано 2 из 8» and one line per person."""
    s = group.slot
    where = f", {_room_text(s.room)}" if s.room else ""
    lines = [
        f"  Групповое занятие {s.start:%H:%M}{DASH}{s.end:%H:%M}{where}: "
        f"записано {len(group.coming)} из {group.places}"
    ]
    for item in group.coming:
        number = f"№ {item.number}" if item.number is not None else "без №"
        line = f"    {item.requester or 'заявитель не указан'} ({number})"
        if item.status in (RESOLVED, REJECTED):
            line += f" — {item.status.lower()}"
        lines.append(line)
    return lines


def agenda_week(today: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the week whose consultations matter on `today`: this week on a
    weekday, the coming week on Saturday and Sunday (this one's consultations are over)."""
    monday = today - dt.timedelta(days=today.weekday())
    if today.weekday() >= 5:
        monday += dt.timedelta(days=7)
    return monday, monday + dt.timedelta(days=6)
