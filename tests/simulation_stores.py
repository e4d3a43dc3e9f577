"""The stores a simulated school year (tests/simulation.py) runs on, and the faults each one
suffers at random moments of a sync.

A backend gives the year its `store` and `settings`, a staff sitting at the sheet (`edit()`,
an openpyxl-like book), the sheet as stored (`grid()`, for the checks) and a twin to shuffle
(`twin()`). Its `faults` decide, before a sync, whether a fault strikes and which, set it up,
run the sync through it and say what the sheet must look like when the sync failed:
unchanged, or whole and fully written (never half).
"""

from __future__ import annotations

import datetime as dt
import errno
import random
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openpyxl

from journaldesk.errors import OutsideFailure, UserError
from journaldesk.jobs.sync import SyncReport
from journaldesk.store import workbook as workbook_module
from journaldesk.store.workbook import WorkbookStore
from tests.corpus.grids import Grid, forbidden_changes, workbook_grid
from tests.helpers import make_workbook


class Faults:
    """No faults at all; the base of the fault injectors.

    `kinds` are dealt from a shuffled bag (refilled when empty) so a short run meets every kind;
    a kind armed but never reached (a write fault on a sync with nothing to write) goes back to
    the front of the bag. `fired` counts the faults that struck, by kind.
    """

    kinds: tuple[str, ...] = ()

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.fired: Counter = Counter()
        self.armed: str | None = None
        self.struck = False
        self.baseline: Grid | None = None
        self.now: dt.datetime | None = None
        self._bag: list[str] = []

    def draw(self, strike: bool) -> str | None:
        """The kind of fault for the next sync, or None when `strike` is false (the year rolls
        its own dice for that, so its staff's edits do not depend on the store)."""
        if not self.kinds or not strike:
            return None
        if not self._bag:
            self._bag = list(self.kinds)
            self.rng.shuffle(self._bag)
        return self._bag.pop()

    def strike(self) -> None:
        """The armed fault happened (called by the fault itself)."""
        if self.armed is not None and not self.struck:
            self.struck = True
            self.fired[self.armed] += 1

    def sync(
        self,
        year: Any,
        now: dt.datetime,
        kind: str | None,
        before: Grid,
        run: Callable[[], SyncReport],
    ) -> tuple[SyncReport | None, list[str]]:
        """Run one sync with fault `kind` armed: (its report, or None when it failed; problems
        with the sheet it left). `baseline` is then the grid a staff edit made during the sync
        (None when none did): the job's changes are judged against it."""
        self.armed, self.struck, self.baseline, self.now = kind, False, None, now
        problems: list[str] = []
        report = None
        try:
            if kind is not None:
                self.arm(kind, year)
            try:
                report = run()
            except (UserError, OutsideFailure, SimulatedKill) as exc:
                if kind is None or not self.struck:
                    problems.append(f"a sync failed without a fault: {exc!r}")
                problems += self.after_failure(kind, before, exc)
        finally:
            self.disarm()
            if kind is not None and not self.struck:
                self._bag.append(kind)  # not reached this time: next in line
        return report, problems

    def arm(self, kind: str, year: Any) -> None:
        """Set fault `kind` up for the next sync."""

    def disarm(self) -> None:
        """Undo whatever arm() set up."""

    def after_failure(self, kind: str | None, before: Grid, exc: BaseException) -> list[str]:
        """Problems with the sheet a failed sync left (it must be unchanged or whole)."""
        return []


class SimulatedKill(BaseException):
    """The process died here (a BaseException: no `except Exception` cleans up after it)."""


# ------------------------------------------------------------------------------- the workbook


OFFICE_LOCK = "Ольга Ким,okim,kab-12,01.09.2026 08:00,file:///h;"


class _Dying:
    """A file that takes `limit` bytes, then `fail()`s: the save dies half way through."""

    def __init__(self, fh: Any, limit: int, fail: Callable[[], BaseException]) -> None:
        self._fh, self._left, self._fail = fh, limit, fail

    def write(self, data: Any) -> int:
        if len(data) >= self._left:
            self._fh.write(bytes(data)[: self._left])
            self._fh.flush()
            raise self._fail()
        self._left -= len(data)
        return self._fh.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._fh, name)


class WorkbookFaults(Faults):
    """Faults of a local workbook: the book open in an office program; the process killed in
    the middle of a save (while the zip is written, just before the temp file replaces the
    book, or just after); a full disk while the zip is written; a staff edit saved between
    the job's re-read and its write."""

    kinds = ("book open", "killed mid-save", "disk full", "staff edit mid-sync")

    def __init__(self, seed: int, backend: WorkbookSheets) -> None:
        super().__init__(seed)
        self.backend = backend
        self._undo: list[Callable[[], None]] = []
        self._bytes = b""

    def arm(self, kind: str, year: Any) -> None:
        path, store = self.backend.path, self.backend.store
        self._bytes = path.read_bytes()
        if kind == "book open":
            lock = path.with_name(f".~lock.{path.name}#")
            lock.write_text(OFFICE_LOCK, encoding="utf-8")
            self._undo.append(lock.unlink)
            self.strike()
        elif kind in ("killed mid-save", "disk full"):
            where = "zip" if kind == "disk full" else self.rng.choice(["zip", "before", "after"])
            if where == "zip":
                self._patch_package(kind, limit=self.rng.randint(1, max(len(self._bytes), 2)))
            else:
                replace = store._replace

                def dying_replace(tmp: Path) -> None:
                    self.strike()
                    if where == "after":
                        replace(tmp)
                    raise SimulatedKill(f"killed {where} the replace")

                store._replace = dying_replace  # type: ignore[method-assign]
                self._undo.append(lambda: store.__dict__.pop("_replace", None))
        elif kind == "staff edit mid-sync":
            write = store.write

            def racing_write(cells: Any) -> Any:
                store.__dict__.pop("write", None)  # once
                self.strike()
                with self.backend.edit() as book:
                    year.staff_moment(book, self.now)
                self.baseline = self.backend.grid()
                return write(cells)

            store.write = racing_write  # type: ignore[method-assign]
            self._undo.append(lambda: store.__dict__.pop("write", None))

    def _patch_package(self, kind: str, limit: int) -> None:
        module = workbook_module.xlsx_patch
        original = module.write_package

        def fail() -> BaseException:
            self.strike()
            if kind == "disk full":
                return OSError(errno.ENOSPC, "No space left on device")
            return SimulatedKill("killed while writing the zip")

        def dying(source: Any, fh: Any, *args: Any, **kwargs: Any) -> Any:
            return original(source, _Dying(fh, limit, fail), *args, **kwargs)

        module.write_package = dying
        self._undo.append(lambda: setattr(module, "write_package", original))

    def disarm(self) -> None:
        while self._undo:
            self._undo.pop()()

    def after_failure(self, kind: str | None, before: Grid, exc: BaseException) -> list[str]:
        path = self.backend.path
        if isinstance(exc, SimulatedKill):
            # A killed process cleans nothing up: what it was writing stays beside the book.
            leftover = path.with_name(f".{path.name}.killed{self.fired[kind]}.tmp")
            leftover.write_bytes(self._bytes[: len(self._bytes) // 2])
        if path.read_bytes() == self._bytes:
            return []
        if kind != "killed mid-save":
            return [f"the book changed on a failed sync ({kind}: {exc})"]
        # Killed after the replace: the new book must be whole and hold only the job's changes.
        try:
            WorkbookStore(path).read()
            grid = self.backend.grid()
        except Exception as error:  # any failure to open the book is the finding
            return [f"the book is broken after a kill mid-save: {error!r}"]
        return [
            f"a staff cell changed by a killed save: {p}" for p in forbidden_changes(before, grid)
        ]


class WorkbookSheets:
    """A workbook built by `init` in a folder, edited by staff with openpyxl."""

    kind = "workbook"

    def __init__(self, folder: Path, *, seed: int = 0, path: Path | None = None) -> None:
        if path is None:
            _, self.settings = make_workbook(folder)
            path = self.settings.workbook_path
        self.path = path
        self.folder = folder
        self.store = WorkbookStore(path)
        self.faults: Faults = WorkbookFaults(seed, self)

    @contextmanager
    def edit(self) -> Iterator[Any]:
        """One sitting of staff at the book: opened, edited, saved."""
        book = openpyxl.load_workbook(self.path, rich_text=True)
        yield book
        book.save(self.path)

    def grid(self) -> Grid:
        """Every cell as stored."""
        return workbook_grid(self.path)

    def size(self) -> int:
        """The file's size in bytes."""
        return self.path.stat().st_size

    def twin(self) -> WorkbookSheets:
        """A copy of the book beside it (no faults), to be thrown away with discard()."""
        copy = self.path.with_name("twin.xlsx")
        shutil.copyfile(self.path, copy)
        twin = WorkbookSheets(self.folder, path=copy)
        twin.settings = self.settings
        twin.faults = Faults(0)
        return twin

    def discard(self) -> None:
        """Remove this (twin) book."""
        self.path.unlink()


def workbook(folder: Path, seed: int = 0) -> WorkbookSheets:
    """The workbook backend of a simulated year."""
    return WorkbookSheets(folder, seed=seed)
