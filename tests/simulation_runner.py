"""A simulated school year on the workbook store, driven by the runner's own timetable.

The clock runs from `first` to `last`. Every moment the runner would act at is handed to
`Runner.run_due(now)` (no sync is called directly): each sync slot of a school day
(day_start + k * sync_every), the summary moment, each consultation session's reminder moment, a
lesson export settling in the inbox, a failed job's retry. The runner's default jobs run: the
sync, the pre-session digest and the weekly summary sent over SMTP to a real local server on
127.0.0.1, the journal inbox import (which mails teachers their gaps). Between those moments the
school's staff work: a school of `pupils` pupils (its classes, staff, consent rows and requests
scale with it) adds requests, changes statuses, puts requests on hold and resumes them, sorts and
inserts rows, types bad values, edits the calendar (a cancelled day, an extra session, a regional
holiday), hands out and collects consent forms; parents answer the form (rows appended to the
intake tab); a lesson export is dropped into the inbox every week; now and then somebody opens
the book in an office program. A seeded `random.Random` draws everything, so a failing year
replays exactly.

Checked after every step (a violation is recorded, not raised, so a run reports them all; each
check is a method that a test can break a copy of):
- no staff cell changed by a job (the grid before and after a step that wrote, `forbidden_changes`);
- every request numbered once, a № never reused nor given twice, the requests on the sheet are
  exactly the ones staff typed and the form answers (each answer once);
- no derived value on the wrong request: a copy with its request rows shuffled, synced at the same
  moment, gives every № the same derived values (every `shuffle_every` writing steps);
- idempotent: a sync right after a sync that wrote writes nothing;
- «Журнал» grows by one row per job that wrote, never more; «Изменения» only when a job wrote;
- the calendar and the bookings agree: every future booking lies inside a consultation session of
  the calendar as typed (no booking on a holiday, a vacation or a cancelled day), holds no more
  requests than a slot holds, and no finished or waiting request keeps a future slot;
- every weekly summary («Сводка» row) equals a recount from the sheet at that week's end;
- every e-mail was sent once: one digest per session (and only for a session the calendar
  has), one summary per week, one letter per form answer, one mail per teacher per import;
- the runner rests on a holiday or a vacation day of the calendar as typed (once it has read
  the calendar); an open book is never written; a quiet week (no one at work) adds no row to
  «Журнал» or «Изменения», however many syncs run in it.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import heapq
import io
import math
import os
import random
import re
import shutil
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
from python_calamine import CalamineWorkbook

from journaldesk.jobs.demo_data import FORM_QUESTIONS
from journaldesk.jobs.demo_journal import HEADER as EXPORT_HEADER
from journaldesk.jobs.demo_journal import short_name, write_export
from journaldesk.jobs.init import plan_init
from journaldesk.jobs.sync import sync
from journaldesk.runner.scheduler import Runner
from journaldesk.runner.timetable import SUMMARY, SYNC, Timetable
from journaldesk.settings import Settings, parse_settings
from journaldesk.sheet.schema import load_schema
from journaldesk.sheet.textfmt import is_blank
from journaldesk.sheet.vocab import (
    KIND_CANCELLED,
    KIND_EXTRA,
    KIND_HOLIDAY,
    KIND_VACATION,
    ON_HOLD,
    REJECTED,
    RESOLVED,
    RESOLVED_ON_TIME,
    WEEKDAYS,
)
from journaldesk.store.base import DATE_FORMAT, DATETIME_FORMAT, TIME_FORMAT, CellWrite, Snapshot
from journaldesk.store.workbook import LISTS_SHEET, WorkbookStore
from tests.corpus.grids import Grid, forbidden_changes
from tests.helpers import TZ, fill_under_seeds, local_smtp, request

# What an office program does to rows (openpyxl), shared with the store-fault simulation.
from tests.simulation import _last_row, _reorder, count_rows

SCHEMA = load_schema()
REQ = SCHEMA["requests"]
CAL = SCHEMA["calendar"]
CONSENT = SCHEMA["consent"]
COL = {f: i + 1 for i, f in enumerate(REQ.fields)}
CAL_COL = {f: i + 1 for i, f in enumerate(CAL.fields)}
CONSENT_COL = {f: i + 1 for i, f in enumerate(CONSENT.fields)}
DERIVED = [c.field for c in REQ.columns if c.owner == "derived"]
TOPICS = list(REQ.col("topic").values)
ROLES = list(REQ.col("role").values)
BAD = ["31.02.2026", "вчера", "=1+1", "Peшено", "12Б", -5, "😀"]
INTAKE_TAB = "Ответы на форму (1)"
# The column Google Forms adds when it collects addresses: those who leave one get a letter.
FORM_EMAIL = "Адрес электронной почты"
REPLY_SUBJECT = "Ваше обращение № "
PUPILS_PER_CLASS = 25
LETTERS = "АБВГДЕЖ"
# Staff work in the book between these hours; form answers come at any hour.
WORK_FROM, WORK_TO = dt.time(8, 0), dt.time(18, 0)
SUMMARY_SUBJECT = "Сводка службы помощи по ЭЖ за неделю"
DIGEST_SUBJECT = "Консультация "


# --- the school ------------------------------------------------------------------------------

_SURNAMES = (
    "Иванова", "Петрова", "Сидорова", "Кузнецова", "Смирнова", "Попова", "Волкова", "Зайцева",
    "Морозова", "Лебедева", "Новикова", "Козлова", "Павлова", "Соколова", "Орлова", "Белова",
)  # fmt: skip
_NAMES = ("Анна", "Елена", "Ольга", "Мария", "Ирина", "Наталья", "Светлана", "Татьяна")
_PATRONYMICS = ("Сергеевна", "Петровна", "Ивановна", "Андреевна", "Викторовна", "Юрьевна")
_SUBJECTS = ("Русский язык", "Математика", "История", "Биология", "Английский язык")


@dataclass(frozen=True)
class School:
    """A school of `pupils` pupils: classes of 25, a class teacher each, subject teachers."""

    pupils: int = 600

    @property
    def classes(self) -> list[str]:
        n = max(1, math.ceil(self.pupils / PUPILS_PER_CLASS))
        return [f"{1 + i % 11}{LETTERS[(i // 11) % len(LETTERS)]}" for i in range(n)]

    def staff(self) -> list[dict[str, Any]]:
        """«Сотрудники»: a class teacher per class, then one subject teacher per two classes."""
        classes = self.classes
        people = []
        for i in range(len(classes) + max(1, len(classes) // 2)):
            name = " ".join(
                (
                    f"{_SURNAMES[i % len(_SURNAMES)]}{'' if i < len(_SURNAMES) else i}",
                    _NAMES[i % len(_NAMES)],
                    _PATRONYMICS[(i // 3) % len(_PATRONYMICS)],
                )
            )
            people.append(
                {
                    "full_name": name,
                    "position": "учитель",
                    "class_led": classes[i] if i < len(classes) else None,
                    "email": f"teacher{i}@school.test",
                }
            )
        return people

    def consent(self) -> list[dict[str, Any]]:
        """«Согласия»: one row per pupil, nothing handed out yet."""
        classes = self.classes
        return [
            {
                "class_name": classes[i // PUPILS_PER_CLASS],
                "pupil": f"Ученик {i + 1}",
                "parent": f"Родитель {i + 1}",
                "relation": "мать",
                "application": "Не выдано",
                "pd_consent": "Нет",
            }
            for i in range(self.pupils)
        ]

    @property
    def requests_per_day(self) -> float:
        """Requests a school day: four for the 600 pupils of the default school."""
        return 4.0 * self.pupils / 600


# --- the report --------------------------------------------------------------------------------


@dataclass
class YearReport:
    """What a simulated year did and found."""

    pupils: int = 0
    days: int = 0
    steps: int = 0  # moments handed to the runner
    jobs: Counter = field(default_factory=Counter)  # job -> runs (ok)
    failed: Counter = field(default_factory=Counter)  # job -> failed runs
    syncs: int = 0  # every sync: the runner's and the checks' own
    writing_steps: int = 0
    edits: Counter = field(default_factory=Counter)
    faults: int = 0
    two_sync_settles: int = 0  # form imports whose derived cells came with the next sync
    mails: Counter = field(default_factory=Counter)  # digest / summary / teacher
    summaries_checked: int = 0
    violations: list[str] = field(default_factory=list)
    requests: int = 0
    journal_rows: int = 0
    change_rows: int = 0
    sync_seconds: list[float] = field(default_factory=list)
    size_start: int = 0
    size_end: int = 0
    quiet_week_syncs: int = 0
    quiet_week_journal: int = 0
    quiet_week_changes: int = 0
    seconds: Counter = field(default_factory=Counter)  # where the wall time went
    wall: float = 0.0

    def _sync_time(self, part: list[float]) -> float:
        return sorted(part)[len(part) // 2] if part else 0.0

    def lines(self) -> list[str]:
        edits = ", ".join(f"{k} {v}" for k, v in sorted(self.edits.items()))
        jobs = ", ".join(f"{k} {v}" for k, v in sorted(self.jobs.items()))
        failed = ", ".join(f"{k} {v}" for k, v in sorted(self.failed.items())) or "none"
        mails = ", ".join(f"{k} {v}" for k, v in sorted(self.mails.items())) or "none"
        per = max(self.requests, 1)
        n = max(len(self.sync_seconds) // 10, 1)
        where = ", ".join(f"{k} {v:.0f} s" for k, v in self.seconds.most_common())
        return [
            f"school of {self.pupils} pupils; days {self.days}, steps {self.steps} "
            f"(runner wake-ups), jobs run: {jobs}; failed: {failed}",
            f"syncs {self.syncs} (steps that wrote {self.writing_steps}), faults (book open) "
            f"{self.faults}; form imports settled by a second sync {self.two_sync_settles}",
            f"edits {sum(self.edits.values())}: {edits}",
            f"e-mails {sum(self.mails.values())}: {mails}; summaries recounted "
            f"{self.summaries_checked}",
            f"invariant violations: {len(self.violations)}",
            f"requests {self.requests}; «Журнал» rows {self.journal_rows} "
            f"({self.journal_rows / per:.2f} per request); «Изменения» rows {self.change_rows} "
            f"({self.change_rows / per:.2f} per request)",
            f"sync seconds (median of the first and last tenth of the runner's syncs): start "
            f"{self._sync_time(self.sync_seconds[:n]):.3f}, end "
            f"{self._sync_time(self.sync_seconds[-n:]):.3f}; workbook bytes: start "
            f"{self.size_start}, end {self.size_end}",
            f"quiet week: {self.quiet_week_syncs} syncs added «Журнал» {self.quiet_week_journal}, "
            f"«Изменения» {self.quiet_week_changes} rows",
            f"wall time {self.wall:.1f} s ({where})",
        ]


# --- reading the book fast -----------------------------------------------------------------------


def _kind(value: Any) -> str:
    return type(value).__name__


def book_grid(data: bytes | Path) -> Grid:
    """Every non-empty cell of every sheet: (value, Python type) by (row, col), read by calamine
    (a number turned into text, or a date into a number, shows as a different type)."""
    if isinstance(data, Path):
        data = data.read_bytes()
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    out: Grid = {}
    for name in book.sheet_names:
        if name == LISTS_SHEET:
            continue
        cells = {}
        for r, row in enumerate(book.get_sheet_by_name(name).to_python(skip_empty_area=False)):
            for c, value in enumerate(row):
                if value != "" and value is not None:
                    cells[(r + 1, c + 1)] = (value, _kind(value))
        out[name] = cells
    return out


def tab_records(grid: Grid, key: str) -> list[dict[str, Any]]:
    """The rows of a schema tab of a grid as {field: value} (with "_row"), by the header row."""
    tab = SCHEMA[key]
    cells = grid.get(tab.title, {})
    by_header = {v[0]: c for (r, c), v in cells.items() if r == 1}
    cols = {f: by_header.get(tab.header(f)) for f in tab.fields}
    rows = sorted({r for r, _ in cells if r > 1})
    out = []
    for r in rows:
        rec = {f: (cells.get((r, c), (None,))[0] if c else None) for f, c in cols.items()}
        rec["_row"] = r
        out.append(rec)
    return out


def first_line(description: Any) -> str:
    """A request as the simulation knows it: the first line of its description (an imported
    answer's description goes on with the address and contact)."""
    return str(description).split("\n")[0]


def numbered(grid: Grid) -> list[tuple[Any, str]]:
    """(№, first line of the description) of every request row of a grid."""
    return [
        (rec["number"], first_line(rec["description"]))
        for rec in tab_records(grid, "requests")
        if not is_blank(rec["description"])
    ]


def _naive(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(0))
    return None


def _time(value: Any) -> dt.time | None:
    if isinstance(value, dt.time):
        return value
    if isinstance(value, dt.datetime):
        return value.time()
    if isinstance(value, float | int) and 0 <= value < 1:  # a time stored as a day fraction
        minutes = round(value * 24 * 60)
        return dt.time(minutes // 60, minutes % 60)
    return None


# --- the calendar as typed (independent of rules/calendar.py) -------------------------------------


class TypedCalendar:
    """The consultation sessions of a day, read from «График» and «Календарь» as typed, by the
    regulation: the weekly hours, none on a holiday, a vacation (consultations are not held in
    vacations) or a cancelled day, hours cut by a cancellation with times, plus extra sessions."""

    def __init__(self, grid: Grid) -> None:
        self.weekly: dict[int, list[tuple[dt.time, dt.time]]] = {d: [] for d in range(7)}
        for rec in tab_records(grid, "schedule"):
            start, end = _time(rec["start"]), _time(rec["end"])
            if rec["weekday"] in WEEKDAYS and start and end and start < end:
                self.weekly[WEEKDAYS.index(rec["weekday"])].append((start, end))
        self.closed: dict[dt.date, str] = {}
        self.cuts: dict[dt.date, list[tuple[dt.time, dt.time]]] = {}
        self.extra: dict[dt.date, list[tuple[dt.time, dt.time]]] = {}
        for rec in tab_records(grid, "calendar"):
            first, last = (
                _naive(rec["date_from"]),
                _naive(rec["date_to"]) or _naive(rec["date_from"]),
            )
            if first is None or last is None or rec["kind"] is None:
                continue
            d = first.date()
            while d <= last.date():
                t_from, t_to = _time(rec["time_from"]), _time(rec["time_to"])
                if rec["kind"] in (KIND_HOLIDAY, KIND_VACATION):
                    self.closed.setdefault(d, rec["kind"])
                elif rec["kind"] == KIND_CANCELLED:
                    if t_from and t_to and t_from < t_to:
                        self.cuts.setdefault(d, []).append((t_from, t_to))
                    else:
                        self.closed.setdefault(d, rec["kind"])
                elif rec["kind"] == KIND_EXTRA and t_from and t_to and t_from < t_to:
                    self.extra.setdefault(d, []).append((t_from, t_to))
                d += dt.timedelta(days=1)

    def school_closed(self, d: dt.date) -> bool:
        """A holiday or a vacation with no extra session typed for it: nobody works, the runner
        rests. An extra session typed on a holiday is the administrator saying they will be in
        (the day has consultations, see `sessions`), so the runner works that day."""
        return self.closed.get(d) in (KIND_HOLIDAY, KIND_VACATION) and not self.extra.get(d)

    def sessions(self, d: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """The open intervals of a day (naive local wall times)."""
        spans = [] if d in self.closed else list(self.weekly[d.weekday()])
        for cut_from, cut_to in self.cuts.get(d, []):
            kept = []
            for s, e in spans:
                if cut_to <= s or cut_from >= e:
                    kept.append((s, e))
                    continue
                if s < cut_from:
                    kept.append((s, cut_from))
                if cut_to < e:
                    kept.append((cut_to, e))
            spans = kept
        spans += self.extra.get(d, [])
        return [(dt.datetime.combine(d, s), dt.datetime.combine(d, e)) for s, e in spans]

    def inside(self, start: dt.datetime, end: dt.datetime) -> bool:
        """Whether [start, end] lies within one open interval of its day."""
        return any(s <= start and end <= e for s, e in self.sessions(start.date()))


def _format(value: Any) -> str | None:
    if isinstance(value, dt.datetime):
        return DATETIME_FORMAT
    if isinstance(value, dt.date):
        return DATE_FORMAT
    if isinstance(value, dt.time):
        return TIME_FORMAT
    return None


def booked_slot(text: Any) -> tuple[dt.datetime, dt.datetime] | None:
    """«вт 01.12.2026 15:20–15:40, каб. 12» -> (start, end); None for anything else."""
    if not isinstance(text, str):
        return None
    parts = text.replace(",", " ").split()
    try:
        day_ = dt.datetime.strptime(parts[1], "%d.%m.%Y").date()
        t_from, t_to = parts[2].split("\u2013")
        start = dt.datetime.combine(day_, dt.time.fromisoformat(t_from))
        end = dt.datetime.combine(day_, dt.time.fromisoformat(t_to))
    except (IndexError, ValueError):
        return None
    return start, end


# --- the checks (each one a function of the book, so a test can break a copy) --------------------


def calendar_booking_problems(grid: Grid, now: dt.datetime, capacity: int) -> list[str]:
    """Future bookings against the calendar as typed: inside a session, within a slot's
    capacity, none on a finished or waiting request."""
    calendar = TypedCalendar(grid)
    now = now.replace(tzinfo=None)
    per_slot: Counter = Counter()
    problems = []
    for rec in tab_records(grid, "requests"):
        slot = booked_slot(rec["consultation"])
        if slot is None or slot[0] <= now:
            continue
        start, end = slot
        who = f"№ {rec['number']} «{rec['consultation']}»"
        if not calendar.inside(start, end):
            why = calendar.closed.get(start.date(), "outside the hours")
            problems.append(f"{who}: booked outside a session ({why})")
        if rec["status"] in (RESOLVED, REJECTED, *ON_HOLD):
            problems.append(f"{who}: {rec['status']} keeps a future slot")
        per_slot[start] += 1
    for start, n in per_slot.items():
        if n > capacity:
            problems.append(f"{n} requests booked at {start:%d.%m.%Y %H:%M} (capacity {capacity})")
    return problems


def week_recount(grid: Grid, week_start: dt.date) -> dict[str, float | None]:
    """The «Сводка» figures of a week recounted from the sheet at the week's end, by the
    regulation: received in the week; resolved in the week (and of those resolved on time);
    open at the end (arrived, neither resolved nor rejected); shares of the pupils whose
    application is submitted and whose personal-data consent is signed."""
    start = dt.datetime.combine(week_start, dt.time(0))
    end = start + dt.timedelta(days=7)
    received = resolved = on_time = open_ = 0
    for rec in tab_records(grid, "requests"):
        came = _naive(rec["received_at"])
        if came is None or is_blank(rec["description"]):
            continue
        if start <= came < end:
            received += 1
        done = _naive(rec["resolved_at"])
        if rec["status"] == RESOLVED and done is not None and start <= done < end:
            resolved += 1
            on_time += rec["due_state"] == RESOLVED_ON_TIME
        if came < end and rec["status"] not in (RESOLVED, REJECTED):
            open_ += 1
    pupils: dict[tuple[str, str], tuple[bool, bool]] = {}
    for rec in tab_records(grid, "consent"):
        if is_blank(rec["pupil"]) or rec["application"] == "Выбыл":
            continue
        signed = rec["pd_consent"] == "Подписано" and is_blank(rec["revoked_on"])
        pupils.setdefault(
            (rec["class_name"], rec["pupil"]), (rec["application"] == "Подано", signed)
        )
    n = len(pupils)
    return {
        "received": received,
        "resolved": resolved,
        "open": open_,
        "in_time_share": round(100 * on_time / resolved, 1) if resolved else None,
        "applications_share": (
            round(100 * sum(a for a, _ in pupils.values()) / n, 1) if n else None
        ),
        "consent_share": round(100 * sum(s for _, s in pupils.values()) / n, 1) if n else None,
    }


def summary_row(grid: Grid, week_start: dt.date) -> dict[str, Any] | None:
    """The «Сводка» row of a week as the summary wrote it."""
    rows = [r for r in tab_records(grid, "summary") if _naive(r["week_start"]) is not None]
    found = [r for r in rows if _naive(r["week_start"]).date() == week_start]
    return found[-1] if found else None


def summary_problems(grid: Grid, week_start: dt.date) -> list[str]:
    """Where the week's «Сводка» row differs from the recount (numbers compared as numbers)."""
    row = summary_row(grid, week_start)
    if row is None:
        return [f"no «Сводка» row for the week of {week_start:%d.%m.%Y}"]
    out = []
    for name, want in week_recount(grid, week_start).items():
        got = row.get(name)
        got = None if is_blank(got) else float(got)
        if (want is None) != (got is None) or (want is not None and abs(got - want) > 0.051):
            out.append(f"week of {week_start:%d.%m.%Y}: «Сводка» {name} {got}, recount {want}")
    return out


@dataclass
class Mail:
    """One message the local SMTP server received, and the step it came in."""

    at: dt.datetime
    to: tuple[str, ...]
    subject: str
    text: str


def mail_kind(mail: Mail) -> str:
    if mail.subject.startswith(SUMMARY_SUBJECT):
        return "summary"
    if mail.subject.startswith(DIGEST_SUBJECT):
        return "digest"
    if mail.subject.startswith(REPLY_SUBJECT):
        return "reply"
    return "teacher"


def mail_problems(mails: list[Mail], sessions: dict[dt.datetime, bool]) -> list[str]:
    """Every mail sent once: one digest per session (of a session the calendar has), one
       summary per week, one letter per form answer, at most one mail per teacher per step.
    `sessions`: session start -> open
       per the calendar as typed when the digest went."""
    out = []
    seen: Counter = Counter()
    for m in mails:
        kind = mail_kind(m)
        if kind == "summary":
            key = (kind, m.subject)
        elif kind == "reply":
            key = (kind, m.to, m.subject)
        elif kind == "digest":
            label = m.subject[len(DIGEST_SUBJECT) :].split(": ")[0]
            key = (kind, label)
            start = _digest_start(label)
            if start is None or not sessions.get(start, False):
                out.append(f"a digest for {label!r}, not a session of the calendar")
        else:
            key = (kind, m.to, m.at)
        seen[key] += 1
        if seen[key] == 2:
            out.append(f"{kind} sent twice: {key[1:]}")
    return out


def _digest_start(label: str) -> dt.datetime | None:
    try:
        _, day_, hours = label.split()
        return dt.datetime.strptime(f"{day_} {hours.split(chr(0x2013))[0]}", "%d.%m.%Y %H:%M")
    except ValueError:
        return None


# --- the local mail server -------------------------------------------------------------------


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[tuple[str, ...], Any]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((tuple(envelope.rcpt_tos), msg))
        return "250 OK"


def _text_of(msg: Any) -> str:
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content() if part is not None else ""


# --- the year ----------------------------------------------------------------------------------


class RunnerYear:
    """The workbook, the runner, the staff who edit the book, and the checks after every step."""

    def __init__(
        self,
        folder: Path,
        *,
        seed: int = 21,
        pupils: int = 600,
        first: dt.date = dt.date(2026, 9, 1),
        last: dt.date = dt.date(2027, 5, 31),
        sittings_per_day: float = 6.0,
        requests_per_day: float | None = None,
        form_answers_per_day: float | None = None,
        fault_rate: float = 0.3,
        shuffle_every: int = 25,
        quiet_week: dt.date | None = None,
        sync_every: int = 15,
    ) -> None:
        self.rng = random.Random(seed)
        self.folder = folder
        self.school = School(pupils)
        self.first, self.last = first, last
        self.sittings_per_day = sittings_per_day
        per_day = self.school.requests_per_day
        self.requests_per_day = per_day * 0.75 if requests_per_day is None else requests_per_day
        self.form_per_day = per_day * 0.25 if form_answers_per_day is None else form_answers_per_day
        self.fault_rate = fault_rate  # book-open windows per school day
        self.shuffle_every = shuffle_every
        self.quiet_week = quiet_week  # a Monday: nobody works that week
        self.sync_every = sync_every
        self.progress: Any = None  # called (day, report) every Sunday, for long runs
        self.report = YearReport(pupils=pupils)
        self.counter = 0
        self.alive: set[str] = set()  # descriptions of the requests that exist
        self.number_of: dict[Any, str] = {}  # № -> the request that got it, forever
        self.high_water = 0
        self.form_rows = 0
        self.mails: list[Mail] = []
        self.mail_seen = 0  # messages of the local server already looked at
        self.session_open: dict[dt.datetime, bool] = {}
        self.summary_pending: dt.date | None = None  # a week whose summary is not made yet
        self.locked_until: dt.datetime | None = None
        self._grid: tuple[tuple, Grid] | None = None
        self.unimported: set[str] = set()  # form answers no sync has taken yet
        self.quiet_start: tuple[int, int, int] | None = None
        self.summary_grids: dict[dt.date, Grid] = {}  # the book when each summary was checked
        self._results: list[Any] = []

    # -- set-up ------------------------------------------------------------------------------

    def settings_data(self, port: int) -> dict[str, Any]:
        return {
            "workbook": {"path": "journal.xlsx"},
            "log_file": "logs/journaldesk.log",
            "reports_dir": "reports",
            "mail": {
                "host": "127.0.0.1",
                "port": port,
                "security": "none",
                "sender": "ezh@school.test",
                "recipients": ["zam@school.test"],
                "timeout": 10,
            },
            "journal": {"inbox": "inbox", "email_teachers": True},
            "runner": {"sync_every_minutes": self.sync_every},
        }

    def build(self, port: int) -> None:
        """The book as `init` makes it, the school's staff and pupils, an empty form tab."""
        self.settings: Settings = parse_settings(self.settings_data(port), self.folder)
        self.path = self.settings.workbook_path
        store = WorkbookStore(self.path, create=True)
        plan = plan_init(Snapshot(tabs={}), {}, today=self.first)
        store.apply_init(plan)
        fill_under_seeds(
            store, plan, {"staff": self.school.staff(), "consent": self.school.consent()}
        )
        book = openpyxl.load_workbook(self.path, rich_text=True)
        book.create_sheet(INTAKE_TAB).append([*FORM_QUESTIONS, FORM_EMAIL])
        book.save(self.path)
        self.timetable = Timetable.from_settings(self.settings)
        self.inbox = self.settings.path(self.settings.journal.inbox)
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.lock_path = self.path.with_name(f".~lock.{self.path.name}#")
        self.runner = Runner(
            self.settings,
            store_factory=lambda s: WorkbookStore(s.workbook_path),
            state_path=self.folder / "runner-state.json",
            on_result=self._on_result,
        )
        self.runner.jobs[SYNC] = self._timed_sync
        self.report.size_start = self.path.stat().st_size
        # A runner started mid-week makes last week's summary first thing.
        self.summary_pending = self.first - dt.timedelta(days=self.first.weekday() + 7)

    # -- the clock ---------------------------------------------------------------------------

    def run(self) -> YearReport:
        t0 = time.perf_counter()
        self.smtp = _Inbox()
        with local_smtp(self.smtp) as port:
            self.build(port)
            day = self.first
            while day <= self.last:
                self.run_day(day)
                if self.progress is not None and day.weekday() == 6:
                    self.progress(day, self.report)
                if self.quiet_start is not None and not self._quiet(day + dt.timedelta(days=1)):
                    self._close_quiet(self.quiet_start)
                day += dt.timedelta(days=1)
            if self.quiet_start is not None:
                self._close_quiet(self.quiet_start)
            grid = self.grid()
            self.report.requests = len(self.number_of)
            self.report.journal_rows = count_rows(grid, "log")
            self.report.change_rows = count_rows(grid, "changes")
            self.report.size_end = self.path.stat().st_size
            for problem in mail_problems(self.mails, self.session_open):
                self._violation(None, problem)
        self.report.wall = time.perf_counter() - t0
        return self.report

    def _quiet(self, day: dt.date) -> bool:
        return self.quiet_week is not None and 0 <= (day - self.quiet_week).days < 7

    def _calm(self, day: dt.date) -> bool:
        """The quiet week and the weekend before it: no one adds anything (the Saturday's one
        sitting closes what is open)."""
        return self.quiet_week is not None and -2 <= (day - self.quiet_week).days < 7

    def _at(self, day: dt.date, moment: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, moment, tzinfo=TZ)

    def run_day(self, day: dt.date) -> None:
        """One day: the runner's moments and the staff's, in time order."""
        self.report.days += 1
        tt = self.timetable
        calendar = TypedCalendar(self.grid())
        working = day.weekday() in tt.workdays and not calendar.school_closed(day)
        quiet = self._calm(day)
        events: list[tuple[dt.datetime, int, str]] = []
        if day.weekday() == tt.summary_weekday:
            self.summary_pending = day - dt.timedelta(days=7)
        if day.weekday() in tt.workdays:
            for slot in tt.sync_times():
                events.append((self._at(day, slot), 1, "tick"))
            events.append((self._at(day, tt.summary_time), 1, "tick"))
            lead = dt.timedelta(minutes=tt.reminder_before)
            for start, _ in calendar.sessions(day):
                events.append((start.replace(tzinfo=TZ) - lead, 1, "tick"))
        # Staff go home before the day's last sync: what they typed is synced the same day.
        home = min(WORK_TO, tt.sync_times()[-1])
        if working and not quiet:
            for _ in range(self._poisson(self.sittings_per_day)):
                events.append((self._random_moment(day, WORK_FROM, home), 0, "sitting"))
            if self.rng.random() < self.fault_rate:
                # Closed again (within 50 minutes) before the day's last sync.
                until = (dt.datetime.combine(day, home) - dt.timedelta(hours=1)).time()
                events.append((self._random_moment(day, WORK_FROM, until), 0, "open book"))
            if day.weekday() == 4:  # Friday: the week's lesson export
                events.append((self._random_moment(day, dt.time(12), dt.time(16)), 0, "export"))
        if self._quiet(day + dt.timedelta(days=2)) and day.weekday() == 5:
            events.append((self._at(day, home) - dt.timedelta(minutes=10), 0, "clean-up"))
        if not quiet:
            for _ in range(self._poisson(self.form_per_day)):
                events.append((self._random_moment(day, dt.time(0), dt.time(23, 59)), 0, "form"))
        heapq.heapify(events)
        done: set[dt.datetime] = set()
        while events:
            now, _, kind = heapq.heappop(events)
            if kind == "tick":
                if now in done:
                    continue
                done.add(now)
                for retry in self.step(now):
                    if retry.date() == day:
                        heapq.heappush(events, (retry, 1, "tick"))
            elif kind == "sitting":
                self.staff_sitting(now)
            elif kind == "form":
                self.form_answer(now)
            elif kind == "export":
                self.drop_export(now)
                heapq.heappush(events, (now + dt.timedelta(minutes=2), 1, "tick"))
            elif kind == "open book":
                self.open_book(now)
                heapq.heappush(events, (self.locked_until, 0, "close book"))
            elif kind == "close book":
                self.close_book(now)
            elif kind == "clean-up":
                self.clean_up(now)

    def _random_moment(self, day: dt.date, frm: dt.time, to: dt.time) -> dt.datetime:
        a = frm.hour * 60 + frm.minute
        b = to.hour * 60 + to.minute
        m = self.rng.randint(a, b - 1)
        return self._at(day, dt.time(m // 60, m % 60, self.rng.randint(0, 59)))

    def _poisson(self, mean: float) -> int:
        n, p, limit = 0, 1.0, math.exp(-mean)
        while True:
            p *= self.rng.random()
            if p <= limit:
                return n
            n += 1

    # -- one step of the runner, and the checks ------------------------------------------------

    def _signature(self) -> tuple:
        st = self.path.stat()
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def grid(self) -> Grid:
        """The book's grid now (cached by the file's signature)."""
        sig = self._signature()
        if self._grid is None or self._grid[0] != sig:
            t0 = time.perf_counter()
            self._grid = (sig, book_grid(self.path))
            self.report.seconds["reading the book for checks"] += time.perf_counter() - t0
        return self._grid[1]

    def _violation(self, now: dt.datetime | None, text: str) -> None:
        when = f"{now:%d.%m.%Y %H:%M}" if now else "end of year"
        self.report.violations.append(f"{when}: {text}")

    def _on_result(self, result: Any) -> None:
        (self.report.jobs if result.ok else self.report.failed)[result.job] += 1
        self._results.append(result)
        if result.job == SYNC and result.ok:
            self.unimported = set()  # the sync took every answer the form tab held

    def _timed_sync(self, now: dt.datetime) -> str:
        t0 = time.perf_counter()
        try:
            return self.runner.job_sync(now)
        finally:
            self.report.sync_seconds.append(time.perf_counter() - t0)
            self.report.syncs += 1

    def step(self, now: dt.datetime) -> list[dt.datetime]:
        """Wake the runner at `now`; check what it did. Returns the moments it asks to retry at."""
        self.report.steps += 1
        self.now = now
        if (
            self.quiet_start is None
            and self._quiet(now.date())
            and now.time() >= self.timetable.day_start
        ):
            self.quiet_start = self._quiet_counts()  # after the Monday summary
        before_sig = self._signature()
        before = self.grid()
        self._results: list[Any] = []
        knew_calendar = self.runner.state.calendar_at is not None
        t0 = time.perf_counter()
        self.runner.run_due(now)
        self.report.seconds["runner"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        self._collect_mail(now, before)
        wrote = self._signature() != before_sig
        if knew_calendar and self._results and TypedCalendar(before).school_closed(now.date()):
            jobs = [r.job for r in self._results]
            self._violation(now, f"the runner ran {jobs} on a closed day (holiday or vacation)")
        if self.locked_until is not None and wrote:
            self._violation(now, "the book was written while open in an office program")
        if wrote:
            self.report.writing_steps += 1
            after = self.grid()
            self.check_step(now, before, after)
        self.report.seconds["checks"] += time.perf_counter() - t0
        retries = []
        for job, failure in self.runner.state.failures.items():
            retry = failure.at + self.timetable.retry
            if job != SYNC and retry > now:
                retries.append(retry)
        return retries

    def _collect_mail(self, now: dt.datetime, grid: Grid) -> None:
        """The messages the local server got since the last look (the runner's jobs, and the
        letters a check's own sync sent), with the calendar as typed for the digests."""
        for to, msg in self.smtp.messages[self.mail_seen :]:
            mail = Mail(now, to, str(msg["subject"]), _text_of(msg))
            self.mails.append(mail)
            self.report.mails[mail_kind(mail)] += 1
            if mail_kind(mail) == "digest":
                start = _digest_start(mail.subject[len(DIGEST_SUBJECT) :].split(": ")[0])
                if start is not None:
                    sessions = TypedCalendar(grid).sessions(start.date())
                    self.session_open[start] = any(s == start for s, _ in sessions)
        self.mail_seen = len(self.smtp.messages)

    def check_step(self, now: dt.datetime, before: Grid, after: Grid) -> None:
        """Everything that must hold after a step that wrote."""
        # Rows the form import appended after the last row are the job's to fill.
        end = max([1, *(r for (r, _) in before[REQ.title])])
        for problem in forbidden_changes(before, after):
            if not _appended_request_cell(problem, end):
                self._violation(now, f"a staff cell changed: {problem}")
        journal = count_rows(after, "log") - count_rows(before, "log")
        ran = len(self._results)
        only_sync = [r.job for r in self._results] == [SYNC] and self._results[0].ok
        if journal > ran or (only_sync and journal != 1):
            jobs = [r.job for r in self._results]
            self._violation(now, f"«Журнал» grew by {journal} rows for the jobs {jobs}")
        if journal == 0 and count_rows(after, "changes") != count_rows(before, "changes"):
            self._violation(now, "«Изменения» grew by a step that wrote no «Журнал» row")
        ran_sync = any(r.job == SYNC and r.ok for r in self._results)
        if ran_sync:
            t0 = time.perf_counter()
            second = sync(WorkbookStore(self.path), self.settings, now=now)
            self.report.syncs += 1
            if second.wrote and self._imported():
                # Imported answers get their deadlines and slots from the next sync: settled
                # in two syncs, then nothing.
                self.report.two_sync_settles += 1
                second = sync(WorkbookStore(self.path), self.settings, now=now)
                self.report.syncs += 1
            self.report.seconds["checks: second sync"] += time.perf_counter() - t0
            if second.wrote or second.cells:
                self._violation(now, f"not idempotent: {second.cells} cells on a second sync")
            self._collect_mail(now, after)
            for problem in calendar_booking_problems(after, now, self.settings.booking.capacity):
                self._violation(now, problem)
        if ran_sync:
            self._check_numbers(now, after)
        if ran_sync and self.shuffle_every and self.report.writing_steps % self.shuffle_every == 0:
            t0 = time.perf_counter()
            self._check_derived(now)
            self.report.seconds["checks: shuffled copy"] += time.perf_counter() - t0
        if any(r.job == SUMMARY and r.ok for r in self._results):
            week = self.summary_pending
            if week is not None:
                self.report.summaries_checked += 1
                self.summary_grids[week] = after
                for problem in summary_problems(after, week):
                    self._violation(now, problem)
            self.summary_pending = None

    def _imported(self) -> int:
        """Form answers the runner's sync of this step imported (from its «Журнал» line)."""
        for r in self._results:
            found = re.search(r"из формы: (\d+)", r.message) if r.job == SYNC and r.ok else None
            if found:
                return int(found.group(1))
        return 0

    def _check_numbers(self, now: dt.datetime, grid: Grid) -> None:
        pairs = numbered(grid)
        numbers = [n for n, _ in pairs]
        if not all(isinstance(n, int | float) and float(n).is_integer() for n in numbers):
            self._violation(now, f"a request without a №: {numbers}")
            return
        numbers = [int(n) for n in numbers]
        if len(numbers) != len(set(numbers)):
            self._violation(now, f"a № given twice: {sorted(numbers)}")
        seen = set(self.number_of.values())
        new = [n for n, (_, d) in zip(numbers, pairs, strict=True) if d not in seen]
        if new and min(new) <= self.high_water:
            self._violation(now, f"№ {sorted(new)} reused after № {self.high_water}")
        for number, (_, description) in zip(numbers, pairs, strict=True):
            owner = self.number_of.setdefault(number, description)
            if owner != description:
                self._violation(now, f"№ {number} given to {owner!r} and {description!r}")
        self.high_water = max([self.high_water, *numbers])
        on_sheet = [d for _, d in pairs]
        if len(on_sheet) != len(set(on_sheet)) or set(on_sheet) != self.alive - self.unimported:
            extra = sorted(set(on_sheet) - self.alive)[:3]
            lost = sorted(self.alive - self.unimported - set(on_sheet))[:3]
            self._violation(now, f"requests on the sheet: extra {extra}, lost {lost}")

    def _check_derived(self, now: dt.datetime) -> None:
        """Shuffle a copy's request rows, sync it at the same moment: same derived values by №."""
        copy = self.path.with_name("shuffled.xlsx")
        shutil.copyfile(self.path, copy)
        book = openpyxl.load_workbook(copy, rich_text=True)
        ws = book[REQ.title]
        rows = list(range(2, _last_row(ws, len(REQ.fields)) + 1))
        self.rng.shuffle(rows)
        _reorder(book, ws, rows)
        book.save(copy)
        sync(WorkbookStore(copy), self.settings, now=now)
        self.report.syncs += 1
        want, got = _derived_by_number(book_grid(self.path)), _derived_by_number(book_grid(copy))
        for number in sorted(set(want) | set(got), key=str):
            if want.get(number) != got.get(number):
                self._violation(
                    now, f"№ {number}: derived {want.get(number)} here, {got.get(number)} shuffled"
                )
        copy.unlink()

    # -- staff ---------------------------------------------------------------------------------

    def _write(self, cells: list[CellWrite]) -> None:
        t0 = time.perf_counter()
        WorkbookStore(self.path).write(cells)  # staff open the book afresh each time
        self.report.seconds["staff edits"] += time.perf_counter() - t0

    def staff_sitting(self, now: dt.datetime) -> None:
        """One sitting of staff at the book: a few edits, saved together."""
        if self.locked_until is not None or self.summary_pending is not None:
            return  # the book is open elsewhere; the week's summary is not made yet
        t0 = time.perf_counter()
        grid = self.grid()
        requests = tab_records(grid, "requests")
        cells: list[CellWrite] = []
        n_new = self._poisson(self.requests_per_day / max(self.sittings_per_day, 1))
        last = max([1, *(r for (r, _) in grid[REQ.title])])
        for i in range(n_new):
            cells += self._add(last + 1 + i)
        actions = self.rng.choices(
            ["status", "hold", "resume", "bad", "calendar", "reorder"],
            weights=[40, 8, 8, 6, 3, 6],
            k=self.rng.choice([1, 1, 2, 3]),
        )
        reorder = False
        for action in actions:
            if action == "reorder":
                reorder = True
            else:
                cells += getattr(self, f"_{action}")(grid, requests, now)
        if self.rng.random() < 0.5:  # a class teacher with consent forms
            cells += self._consent(grid, requests, now)
        self.report.seconds["staff edits"] += time.perf_counter() - t0
        if cells:
            self._write(cells)
        if reorder:
            self._reorder_rows(now)

    def _add(self, row: int) -> list[CellWrite]:
        self.counter += 1
        description = f"обращение {self.counter}"
        fields = request(
            topic=self.rng.choice(TOPICS),
            role=self.rng.choice(ROLES),
            class_name=self.rng.choice(self.school.classes),
            description=description,
        )
        self.alive.add(description)
        self.report.edits["add"] += 1
        return [CellWrite(REQ.title, row, COL[k], v) for k, v in fields.items()]

    def _pick(self, requests: list[dict], statuses: set[Any]) -> dict | None:
        rows = [r for r in requests if not is_blank(r["description"]) and r["status"] in statuses]
        return self.rng.choice(rows) if rows else None

    def _status(self, grid: Grid, requests: list[dict], now: dt.datetime) -> list[CellWrite]:
        rec = self._pick(requests, {"Новое", "В работе", None})
        if rec is None:
            return []
        self.report.edits["status"] += 1
        status = self.rng.choice(["В работе", "Решено", "Решено", "Решено", "Отклонено"])
        return [CellWrite(REQ.title, rec["_row"], COL["status"], status)]

    def _hold(self, grid: Grid, requests: list[dict], now: dt.datetime) -> list[CellWrite]:
        rec = self._pick(requests, {"Новое", "В работе"})
        if rec is None:
            return []
        self.report.edits["hold"] += 1
        return [CellWrite(REQ.title, rec["_row"], COL["status"], "Ждём заявителя")]

    def _resume(self, grid: Grid, requests: list[dict], now: dt.datetime) -> list[CellWrite]:
        rec = self._pick(requests, {"Ждём заявителя"})
        if rec is None:
            return []
        self.report.edits["resume"] += 1
        return [CellWrite(REQ.title, rec["_row"], COL["status"], "В работе")]

    def _bad(self, grid: Grid, requests: list[dict], now: dt.datetime) -> list[CellWrite]:
        rec = self._pick(requests, {"Новое", "В работе", "Решено", "Ждём заявителя", None})
        if rec is None:
            return []
        self.report.edits["bad value"] += 1
        field_ = self.rng.choice(["role", "class_name"])
        return [CellWrite(REQ.title, rec["_row"], COL[field_], self.rng.choice(BAD))]

    def _calendar(self, grid: Grid, requests: list[dict], now: dt.datetime) -> list[CellWrite]:
        """A cancelled day, an extra session or a regional holiday, a few days ahead."""
        row = max([1, *(r for (r, _) in grid[CAL.title])]) + 1
        day = now.date() + dt.timedelta(days=self.rng.randint(1, 10))
        kind = self.rng.choices(["cancelled", "extra", "holiday"], weights=[4, 4, 2])[0]
        if kind == "cancelled":
            values: dict[str, Any] = {
                "date_from": day,
                "kind": KIND_CANCELLED,
                "comment": "администратор на курсах",
            }
        elif kind == "extra":
            start = self.rng.choice([dt.time(9, 0), dt.time(11, 0), dt.time(17, 0)])
            values = {
                "date_from": day,
                "kind": KIND_EXTRA,
                "time_from": start,
                "time_to": dt.time(start.hour + 1, 0),
                "comment": "дополнительно",
            }
        else:
            values = {
                "date_from": day,
                "kind": KIND_HOLIDAY,
                "comment": "региональный праздник (день села)",
            }
        self.report.edits[f"calendar: {kind}"] += 1
        return [CellWrite(CAL.title, row, CAL_COL[k], v, _format(v)) for k, v in values.items()]

    def _consent(self, grid: Grid, requests: list[dict], now: dt.datetime) -> list[CellWrite]:
        """A class teacher hands out forms to a few parents, or collects a few signed ones."""
        rows = tab_records(grid, "consent")
        today = now.date()
        out: list[CellWrite] = []
        if self.rng.random() < 0.5:
            todo = [r for r in rows if r["application"] == "Не выдано"]
            for rec in self.rng.sample(todo, min(len(todo), self.rng.randint(1, 8))):
                out += [
                    CellWrite(CONSENT.title, rec["_row"], CONSENT_COL["application"], "Выдано"),
                    CellWrite(
                        CONSENT.title, rec["_row"], CONSENT_COL["issued_on"], today, DATE_FORMAT
                    ),
                ]
                self.report.edits["consent: handed out"] += 1
        else:
            todo = [
                r
                for r in rows
                if r["application"] == "Выдано"
                and _naive(r["issued_on"]) is not None
                and _naive(r["issued_on"]).date() < today
            ]
            for rec in self.rng.sample(todo, min(len(todo), self.rng.randint(1, 8))):
                refused = self.rng.random() < 0.05
                out += [
                    CellWrite(
                        CONSENT.title,
                        rec["_row"],
                        CONSENT_COL["application"],
                        "Отказ" if refused else "Подано",
                    ),
                    CellWrite(
                        CONSENT.title, rec["_row"], CONSENT_COL["submitted_on"], today, DATE_FORMAT
                    ),
                ]
                if not refused:
                    out.append(
                        CellWrite(
                            CONSENT.title, rec["_row"], CONSENT_COL["pd_consent"], "Подписано"
                        )
                    )
                self.report.edits["consent: " + ("refused" if refused else "submitted")] += 1
        return out

    def _reorder_rows(self, now: dt.datetime) -> None:
        """A sort, a blank row inserted or a row deleted, saved by an office program."""
        t0 = time.perf_counter()
        book = openpyxl.load_workbook(self.path, rich_text=True)
        ws = book[REQ.title]
        last = _last_row(ws, len(REQ.fields))
        what = self.rng.choice(["sort", "sort", "insert blank row", "delete row"])
        if last < 3:
            return
        if what == "sort":
            column = COL[self.rng.choice(["topic", "requester", "status", "number"])]

            def key(r: int) -> tuple:
                v = ws.cell(row=r, column=column).value
                return (2, "") if v is None else (1, str(v))

            rows = sorted(range(2, last + 1), key=key, reverse=self.rng.random() < 0.5)
            _reorder(book, ws, rows)
        elif what == "insert blank row":
            ws.insert_rows(self.rng.randint(2, last))
        else:
            row = self.rng.randint(2, last)
            self.alive.discard(first_line(ws.cell(row=row, column=COL["description"]).value))
            ws.delete_rows(row)
        book.save(self.path)
        self.report.edits[what] += 1
        self.report.seconds["staff edits"] += time.perf_counter() - t0

    def form_answer(self, now: dt.datetime) -> None:
        """A parent answers the form: Google Forms appends a row to the intake tab."""
        if self.locked_until is not None:
            return
        self.form_rows += 1
        n = self.form_rows
        text = f"вопрос из формы {n}"
        contact = f"parent{n}@mail.test" if n % 3 else ""
        values = [
            now.replace(tzinfo=None, microsecond=0),
            f"Родитель {n}",
            self.rng.choice(["Родитель", "Ученик", "Учитель"]),
            self.rng.choice(self.school.classes),
            self.rng.choice(TOPICS),
            text,
            contact,
            f"asker{n}@mail.test" if n % 2 else "",
        ]
        row = self.form_rows + 1
        self._write(
            [
                CellWrite(INTAKE_TAB, row, i + 1, v, _format(v))
                for i, v in enumerate(values)
                if v != ""
            ]
        )
        self.alive.add(text)
        self.unimported.add(text)
        self.report.edits["form answer"] += 1

    def drop_export(self, now: dt.datetime) -> None:
        """The week's lesson export (the last two weeks), saved over last week's in the inbox."""
        staff = self.school.staff()
        classes = self.school.classes
        subject_teachers = staff[len(classes) :]
        monday = now.date() - dt.timedelta(days=now.weekday())
        rows: list[list[Any]] = [list(EXPORT_HEADER)]
        for d in (monday - dt.timedelta(days=7) + dt.timedelta(days=i) for i in range(12)):
            if d.weekday() > 4 or d > now.date():
                continue
            for c, class_name in enumerate(classes):
                for k in range(1, 5):
                    teacher = (
                        staff[c] if k < 3 else subject_teachers[(c + k) % len(subject_teachers)]
                    )
                    filled = self.rng.random() < 0.93
                    rows.append(
                        [
                            d.strftime("%d.%m.%Y"),
                            k,
                            class_name,
                            _SUBJECTS[(k + c) % len(_SUBJECTS)],
                            short_name(teacher["full_name"]),
                            f"Тема {k}" if filled else "",
                            "§ 3" if self.rng.random() < 0.95 else "",
                            "",
                            "",
                            "отмечена",
                            f"{d:%d.%m.%Y} 15:00",
                        ]
                    )
        path = self.inbox / "выгрузка.xlsx"
        tmp = self.inbox / ".выгрузка.tmp"
        write_export(tmp, rows, "Выгрузка уроков")
        os.replace(tmp, path)
        stamp = now.timestamp()
        os.utime(path, (stamp, stamp))
        self.report.edits["journal export"] += 1

    def open_book(self, now: dt.datetime) -> None:
        """Somebody opens the book in LibreOffice for 10–50 minutes."""
        self.report.faults += 1
        self.lock_path.write_text(
            "Ольга Ким,okim,kab-12,01.09.2026 08:00,file:///h;", encoding="utf-8"
        )
        self.locked_until = now + dt.timedelta(minutes=self.rng.randint(10, 50))

    def close_book(self, now: dt.datetime) -> None:
        self.lock_path.unlink()
        self.locked_until = None

    def clean_up(self, now: dt.datetime) -> None:
        """Before a holiday week: every open request closed, every form out collected."""
        grid = self.grid()
        cells = [
            CellWrite(REQ.title, rec["_row"], COL["status"], "Решено")
            for rec in tab_records(grid, "requests")
            if not is_blank(rec["description"]) and rec["status"] not in (RESOLVED, REJECTED)
        ]
        for rec in tab_records(grid, "consent"):
            if rec["application"] == "Выдано":
                cells += [
                    CellWrite(CONSENT.title, rec["_row"], CONSENT_COL["application"], "Подано"),
                    CellWrite(
                        CONSENT.title,
                        rec["_row"],
                        CONSENT_COL["submitted_on"],
                        now.date(),
                        DATE_FORMAT,
                    ),
                    CellWrite(CONSENT.title, rec["_row"], CONSENT_COL["pd_consent"], "Подписано"),
                ]
        self.report.edits["clean-up before the quiet week"] += 1
        if cells:
            self._write(cells)

    # -- the quiet week --------------------------------------------------------------------------

    def _quiet_counts(self) -> tuple[int, int, int]:
        grid = self.grid()
        return self.report.jobs[SYNC], count_rows(grid, "log"), count_rows(grid, "changes")

    def _close_quiet(self, start: tuple[int, int, int]) -> None:
        syncs, journal, changes = start
        self.quiet_start = None
        self.quiet_week = None
        grid = self.grid()
        self.report.quiet_week_syncs = self.report.jobs[SYNC] - syncs
        self.report.quiet_week_journal = count_rows(grid, "log") - journal
        self.report.quiet_week_changes = count_rows(grid, "changes") - changes


def _appended_request_cell(problem: str, end: int) -> bool:
    """A `forbidden_changes` line about a cell of «Обращения» below row `end` that was empty."""
    found = re.match(rf"{re.escape(REQ.title)}!R(\d+)C\d+: None -> ", problem)
    return found is not None and int(found.group(1)) > end


def _derived_by_number(grid: Grid) -> dict[Any, tuple]:
    """№ -> the derived cells of its row."""
    return {
        rec["number"]: tuple(rec[f] for f in DERIVED)
        for rec in tab_records(grid, "requests")
        if rec["number"] is not None
    }
