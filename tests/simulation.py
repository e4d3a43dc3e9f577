"""A simulated school year on either store (tests/simulation_stores.py: the workbook, or the
local Sheets API server for Google): syncs by the runner's timetable, staff edits between them,
faults of the store at random moments of a sync, and the invariants checked after every sync.

The clock runs from 1 September to 31 May over the school days of the runner's timetable. A full
timetable is a sync every 15 minutes (46 a day, ~9,000 a year); to stay fast the simulation runs
`syncs_per_day` of those slots, evenly spread over the day (the first, the last and some between),
each preceded by staff edits typed since the previous one. A seeded `random.Random` draws
everything, so a failing year replays exactly.

Checked after every sync (a violation is recorded, not raised, so a run reports them all):
- no staff cell changed by the job (the grid before and after, `forbidden_changes`);
- every request numbered once, a № never reused nor given twice (every № ever given is kept);
- no derived value on the wrong request: a copy of the book with its request rows shuffled, synced
  at the same moment, gives every № the same derived values (every `shuffle_every` syncs);
- idempotent: a sync right after a sync writes nothing and leaves the file as it was;
- «Журнал» grows by one row per sync that wrote, never more; «Изменения» grows only when it wrote;
- a fault (the store's own: an open book, a kill mid-save, 429 storms...): a sync that fails
  leaves the sheet as it was or whole; one that outlives it (retries) passes every check above,
  judged against the sheet as a staff edit during the sync left it; the next sync catches up.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from journaldesk.jobs.sync import sync
from journaldesk.runner.timetable import Timetable
from journaldesk.sheet.schema import load_schema
from journaldesk.sheet.textfmt import is_blank
from tests.corpus.grids import Grid, forbidden_changes
from tests.helpers import TZ, request
from tests.simulation_stores import workbook

SCHEMA = load_schema()
REQ = SCHEMA["requests"]
CAL = SCHEMA["calendar"]
COL = {f: i + 1 for i, f in enumerate(REQ.fields)}
CAL_COL = {f: i + 1 for i, f in enumerate(CAL.fields)}
DERIVED = [c.field for c in REQ.columns if c.owner == "derived"]
TOPICS = list(REQ.col("topic").values)
ROLES = list(REQ.col("role").values)
BAD = ["31.02.2026", "вчера", "=1+1", "Peшено", "12Б", -5, "😀"]


@dataclass
class YearReport:
    """What a simulated year did and found."""

    days: int = 0
    steps: int = 0
    syncs: int = 0
    writing_syncs: int = 0
    edits: Counter = field(default_factory=Counter)
    faults: int = 0
    fault_kinds: Counter = field(default_factory=Counter)
    refused: int = 0
    violations: list[str] = field(default_factory=list)
    requests: int = 0
    journal_rows: int = 0
    change_rows: int = 0
    sync_seconds_start: float = 0.0
    sync_seconds_end: float = 0.0
    size_start: int = 0
    size_end: int = 0
    quiet_week_syncs: int = 0
    quiet_week_journal: int = 0
    quiet_week_changes: int = 0
    wall: float = 0.0

    def lines(self) -> list[str]:
        edits = ", ".join(f"{k} {v}" for k, v in sorted(self.edits.items()))
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(self.fault_kinds.items()))
        per = max(self.requests, 1)
        return [
            f"school days {self.days}, steps {self.steps}, syncs {self.syncs} "
            f"(wrote {self.writing_syncs}), faults {self.faults} ({kinds}), "
            f"syncs failed by a fault {self.refused}",
            f"edits {sum(self.edits.values())}: {edits}",
            f"invariant violations: {len(self.violations)}",
            f"requests {self.requests}; «Журнал» rows {self.journal_rows} "
            f"({self.journal_rows / per:.2f} per request); «Изменения» rows {self.change_rows} "
            f"({self.change_rows / per:.2f} per request)",
            f"sync seconds: start {self.sync_seconds_start:.3f}, end {self.sync_seconds_end:.3f}; "
            f"sheet bytes (Google: values as JSON): start {self.size_start}, end {self.size_end}",
            f"quiet week: {self.quiet_week_syncs} syncs added «Журнал» {self.quiet_week_journal}, "
            f"«Изменения» {self.quiet_week_changes} rows",
            f"wall time {self.wall:.1f} s",
        ]


def _rows(ws: Any) -> list[int]:
    col = COL["description"]
    return [r for r in range(2, ws.max_row + 1) if not is_blank(ws.cell(row=r, column=col).value)]


def _last_row(ws: Any, width: int) -> int:
    last = 1
    for r in range(2, ws.max_row + 1):
        if any(not is_blank(ws.cell(row=r, column=c).value) for c in range(1, width + 1)):
            last = r
    return last


def _copy_cell(src: Any, dst: Any) -> None:
    dst.value = src.value
    if src.data_type == "s" and isinstance(src.value, str):
        dst.data_type = "s"
    dst.number_format = src.number_format


def _reorder(book: Any, ws: Any, order: list[int]) -> None:
    """Put request rows in `order` (sheet rows), as a sort does: values and formats travel."""
    width = len(REQ.fields)
    scratch = book.create_sheet("_sort")
    for i, r in enumerate(order, start=2):
        for c in range(1, width + 1):
            _copy_cell(ws.cell(row=r, column=c), scratch.cell(row=i, column=c))
    for i in range(2, len(order) + 2):
        for c in range(1, width + 1):
            _copy_cell(scratch.cell(row=i, column=c), ws.cell(row=i, column=c))
    book.remove(scratch)


def derived_by_number(grid: Grid) -> dict[Any, tuple]:
    """№ -> the derived cells of its row, as stored (a grid of either store)."""
    cells = grid[REQ.title]
    out = {}
    for r in sorted({r for r, _ in cells if r > 1}):
        number = cells.get((r, COL["number"]), (None,))[0]
        if number is not None:
            out[number] = tuple(cells.get((r, COL[f]), (None,))[0] for f in DERIVED)
    return out


def numbered(grid: Grid) -> list[tuple[Any, Any]]:
    """(№, description) of every request row of a grid (`workbook_grid`)."""
    cells = grid[REQ.title]
    rows = {r for r, c in cells if r > 1 and c == COL["description"]}
    return [
        (cells.get((r, COL["number"]), (None,))[0], cells[(r, COL["description"])][0])
        for r in sorted(rows)
        if not is_blank(cells[(r, COL["description"])][0])
    ]


def count_rows(grid: Grid, key: str) -> int:
    """Rows below the header with any value in a tab of a grid."""
    return len({r for r, _ in grid[SCHEMA[key].title] if r > 1})


def school_days(first: dt.date, last: dt.date, timetable: Timetable) -> list[dt.date]:
    days, day = [], first
    while day <= last:
        if day.weekday() in timetable.workdays:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


class SchoolYear:
    """The sheet (on the store `backend` gives: tests/simulation_stores.py), the staff who edit
    it, and the checks after every sync."""

    def __init__(
        self,
        folder: Path,
        *,
        seed: int = 21,
        first: dt.date = dt.date(2026, 9, 1),
        last: dt.date = dt.date(2027, 5, 31),
        syncs_per_day: int = 4,
        requests_per_day: float = 3.0,
        fault_rate: float = 0.05,
        shuffle_every: int = 10,
        quiet_week: dt.date | None = None,
        backend: Callable[[Path, int], Any] = workbook,
    ) -> None:
        self.rng = random.Random(seed)
        self.backend = backend(folder, seed)
        self.store, self.settings = self.backend.store, self.backend.settings
        self.faults = self.backend.faults
        self.timetable = Timetable.from_settings(self.settings)
        self.first, self.last = first, last
        slots = self.timetable.sync_times()
        pick = max(syncs_per_day, 1)
        step = (len(slots) - 1) / max(pick - 1, 1)
        self.slots = sorted({slots[round(i * step)] for i in range(pick)})
        self.requests_per_day = requests_per_day
        self.fault_rate = fault_rate
        self.shuffle_every = shuffle_every
        self.quiet_week = quiet_week  # a Monday: no edits that week
        self.report = YearReport()
        self.counter = 0
        self.alive: set[str] = set()  # descriptions of the requests that exist
        self.number_of: dict[Any, str] = {}  # № -> the request that got it, forever
        self.high_water = 0

    # -- staff -------------------------------------------------------------------------------

    def _quiet(self, day: dt.date) -> bool:
        return self.quiet_week is not None and 0 <= (day - self.quiet_week).days < 7

    def staff_edit(self, now: dt.datetime) -> None:
        """One sitting of staff at the book: a few random edits, one save."""
        with self.backend.edit() as book:
            ws = book[REQ.title]
            n_new = self._poisson(self.requests_per_day / max(len(self.slots), 1))
            if n_new:
                self._add(ws, n_new, now)
            for _ in range(self.rng.choice([0, 1, 1, 2, 3])):
                action = self.rng.choices(
                    ["status", "hold", "resume", "sort", "insert", "bad", "calendar", "delete"],
                    weights=[30, 8, 8, 5, 5, 8, 2, 2],
                )[0]
                getattr(self, f"_{action}")(book, ws, now)

    def staff_moment(self, book: Any, now: dt.datetime) -> None:
        """One staff edit in the middle of a sync (a fault injector calls it between the job's
        read and its write): a new request, a status, a sort, an inserted or deleted row."""
        ws = book[REQ.title]
        action = self.rng.choice(["add", "status", "hold", "sort", "insert", "delete"])
        if action == "add":
            self._add(ws, 1, now)
        else:
            getattr(self, f"_{action}")(book, ws, now)

    def _poisson(self, mean: float) -> int:
        n, p, limit = 0, 1.0, pow(2.718281828, -mean)
        while True:
            p *= self.rng.random()
            if p <= limit:
                return n
            n += 1

    def _add(self, ws: Any, n: int, now: dt.datetime) -> None:
        row = _last_row(ws, len(REQ.fields))
        for _ in range(n):
            self.counter += 1
            row += 1
            description = f"обращение {self.counter}"
            fields = request(
                topic=self.rng.choice(TOPICS), role=self.rng.choice(ROLES), description=description
            )
            for name, value in fields.items():
                ws.cell(row=row, column=COL[name]).value = value
            self.alive.add(description)
        self.report.edits["add"] += n

    def _set_status(self, ws: Any, status: str, want: set[str] | None = None) -> bool:
        rows = _rows(ws)
        if want is not None:
            rows = [r for r in rows if ws.cell(row=r, column=COL["status"]).value in want]
        if not rows:
            return False
        ws.cell(row=self.rng.choice(rows), column=COL["status"]).value = status
        return True

    def _status(self, book: Any, ws: Any, now: dt.datetime) -> None:
        status = self.rng.choice(["В работе", "Решено", "Решено", "Отклонено"])
        if self._set_status(ws, status, {"Новое", "В работе", None}):
            self.report.edits["status"] += 1

    def _hold(self, book: Any, ws: Any, now: dt.datetime) -> None:
        if self._set_status(ws, "Ждём заявителя", {"Новое", "В работе"}):
            self.report.edits["hold"] += 1

    def _resume(self, book: Any, ws: Any, now: dt.datetime) -> None:
        if self._set_status(ws, "В работе", {"Ждём заявителя"}):
            self.report.edits["resume"] += 1

    def _sort(self, book: Any, ws: Any, now: dt.datetime) -> None:
        rows = list(range(2, _last_row(ws, len(REQ.fields)) + 1))
        if len(rows) > 1:
            column = COL[self.rng.choice(["topic", "requester", "status", "number"])]

            def key(r: int) -> tuple:
                v = ws.cell(row=r, column=column).value
                return (2, "") if v is None else (1, str(v))

            _reorder(book, ws, sorted(rows, key=key, reverse=self.rng.random() < 0.5))
            self.report.edits["sort"] += 1

    def _insert(self, book: Any, ws: Any, now: dt.datetime) -> None:
        last = _last_row(ws, len(REQ.fields))
        if last > 2:
            ws.insert_rows(self.rng.randint(2, last))
            self.report.edits["insert blank row"] += 1

    def _bad(self, book: Any, ws: Any, now: dt.datetime) -> None:
        rows = _rows(ws)
        if rows:
            cell = ws.cell(
                row=self.rng.choice(rows), column=COL[self.rng.choice(["role", "class_name"])]
            )
            cell.value = self.rng.choice(BAD)
            if isinstance(cell.value, str):
                cell.data_type = "s"
            self.report.edits["bad value"] += 1

    def _delete(self, book: Any, ws: Any, now: dt.datetime) -> None:
        rows = _rows(ws)
        if rows:
            row = self.rng.choice(rows)
            self.alive.discard(ws.cell(row=row, column=COL["description"]).value)
            ws.delete_rows(row)
            self.report.edits["delete row"] += 1

    def _calendar(self, book: Any, ws: Any, now: dt.datetime) -> None:
        cal = book[CAL.title]
        row = _last_row(cal, len(CAL.fields)) + 1
        day = now.date() + dt.timedelta(days=self.rng.randint(1, 10))
        if self.rng.random() < 0.5:
            values = {"date_from": day, "kind": "Нет консультаций", "comment": "отменено"}
            self.report.edits["calendar: cancelled day"] += 1
        else:
            values = {
                "date_from": day,
                "kind": "Доп. консультация",
                "time_from": dt.time(15, 0),
                "time_to": dt.time(16, 0),
                "comment": "дополнительно",
            }
            self.report.edits["calendar: extra session"] += 1
        for name, value in values.items():
            cal.cell(row=row, column=CAL_COL[name]).value = value

    # -- the job and the checks --------------------------------------------------------------

    def _violation(self, now: dt.datetime, text: str) -> None:
        self.report.violations.append(f"{now:%d.%m.%Y %H:%M}: {text}")

    def run_sync(self, now: dt.datetime) -> None:
        self.report.steps += 1
        kind = self.faults.draw(self.rng.random() < self.fault_rate)
        before = self.backend.grid()
        t0 = time.perf_counter()
        report, problems = self.faults.sync(
            self, now, kind, before, lambda: sync(self.store, self.settings, now=now)
        )
        seconds = time.perf_counter() - t0
        self.report.faults = sum(self.faults.fired.values())
        self.report.fault_kinds = Counter(self.faults.fired)
        for problem in problems:
            self._violation(now, problem)
        if report is None:
            self.report.refused += 1
            return  # the next sync catches up
        first = report
        if self.faults.baseline is not None:
            before = self.faults.baseline  # a staff edit landed during the sync
        journal = count_rows(before, "log")
        changes = count_rows(before, "changes")
        if kind is None and not self.report.sync_seconds_start:
            self.report.sync_seconds_start = seconds
            self.report.size_start = self.backend.size()
        if kind is None:
            self.report.sync_seconds_end = seconds
        self.report.syncs += 1
        self.report.writing_syncs += first.wrote
        after = self.backend.grid()
        for problem in forbidden_changes(before, after):
            self._violation(now, f"a staff cell changed: {problem}")
        journal_now = count_rows(after, "log")
        if journal_now != journal + (1 if first.wrote else 0):
            self._violation(now, f"«Журнал» {journal} -> {journal_now}, wrote={first.wrote}")
        if not first.wrote and count_rows(after, "changes") != changes:
            self._violation(now, "«Изменения» grew on a sync that wrote nothing")
        if self.faults.baseline is not None:
            # A staff edit landed during the sync: the next one catches up, then all is quiet.
            sync(self.store, self.settings, now=now)
            self.report.syncs += 1
            caught_up = self.backend.grid()
            for problem in forbidden_changes(after, caught_up):
                self._violation(now, f"a staff cell changed catching up: {problem}")
            after = caught_up
        second = sync(self.store, self.settings, now=now)
        self.report.syncs += 1
        if second.wrote or second.cells or self.backend.grid() != after:
            self._violation(now, f"not idempotent: {second.cells} cells on a second sync")
        self._check_numbers(now, after)
        if self.shuffle_every and self.report.steps % self.shuffle_every == 0:
            self._check_derived(now)

    def _check_numbers(self, now: dt.datetime, grid: Grid) -> None:
        pairs = numbered(grid)
        numbers = [n for n, _ in pairs]
        if not all(isinstance(n, int) for n in numbers):
            self._violation(now, f"a request without a №: {numbers}")
            return
        if len(numbers) != len(set(numbers)):
            self._violation(now, f"a № given twice: {sorted(numbers)}")
        seen = set(self.number_of.values())
        new = [n for n, d in pairs if d not in seen]
        if new and min(new) <= self.high_water:
            self._violation(now, f"№ {sorted(new)} reused after № {self.high_water}")
        for number, description in pairs:
            owner = self.number_of.setdefault(number, description)
            if owner != description:
                self._violation(now, f"№ {number} given to {owner!r} and {description!r}")
        self.high_water = max([self.high_water, *numbers])
        if {d for _, d in pairs} != self.alive:
            self._violation(now, "the requests on the sheet are not the ones staff typed")

    def _check_derived(self, now: dt.datetime) -> None:
        """Shuffle a copy's request rows, sync it at the same moment: same derived values by №."""
        twin = self.backend.twin()
        with twin.edit() as book:
            ws = book[REQ.title]
            rows = list(range(2, _last_row(ws, len(REQ.fields)) + 1))
            self.rng.shuffle(rows)
            _reorder(book, ws, rows)
        sync(twin.store, self.settings, now=now)
        want, got = derived_by_number(self.backend.grid()), derived_by_number(twin.grid())
        for number in sorted(set(want) | set(got), key=str):
            if want.get(number) != got.get(number):
                self._violation(
                    now, f"№ {number}: derived {want.get(number)} here, {got.get(number)} shuffled"
                )
        twin.discard()

    # -- the year ----------------------------------------------------------------------------

    def run(self) -> YearReport:
        t0 = time.perf_counter()
        quiet_start: tuple[int, int, int] | None = None
        for day in school_days(self.first, self.last, self.timetable):
            self.report.days += 1
            if self._quiet(day) and quiet_start is None:
                quiet_start = (
                    self.report.syncs,
                    count_rows(self.backend.grid(), "log"),
                    count_rows(self.backend.grid(), "changes"),
                )
            if quiet_start is not None and not self._quiet(day) and day > self.quiet_week:
                self._close_quiet(quiet_start)
                quiet_start = None
            for slot in self.slots:
                now = dt.datetime.combine(day, slot, tzinfo=TZ)
                if not self._quiet(day):
                    self.staff_edit(now - dt.timedelta(minutes=5))
                self.run_sync(now)
        if quiet_start is not None:
            self._close_quiet(quiet_start)
        self.report.requests = len(self.number_of)
        self.report.journal_rows = count_rows(self.backend.grid(), "log")
        self.report.change_rows = count_rows(self.backend.grid(), "changes")
        self.report.size_end = self.backend.size()
        self.report.wall = time.perf_counter() - t0
        return self.report

    def _close_quiet(self, start: tuple[int, int, int]) -> None:
        syncs, journal, changes = start
        self.report.quiet_week_syncs = self.report.syncs - syncs
        self.report.quiet_week_journal = count_rows(self.backend.grid(), "log") - journal
        self.report.quiet_week_changes = count_rows(self.backend.grid(), "changes") - changes


def print_report(title: str, report: Any) -> int:
    """A benchmark's closing print: the title, the report's lines, the first violations; the exit
    status (1 when any invariant broke)."""
    print(title)
    for line in report.lines():
        print(line)
    for line in report.violations[:30]:
        print("  violation:", line)
    return 1 if report.violations else 0
