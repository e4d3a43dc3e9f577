"""The stores a simulated school year (tests/simulation.py) runs on, and the faults each one
suffers at random moments of a sync.

A backend gives the year its `store` and `settings`, a staff sitting at the sheet (`edit()`,
an openpyxl-like book), the sheet as stored (`grid()`, for the checks) and a twin to shuffle
(`twin()`). Its `faults` decide, before a sync, whether a fault strikes and which, set it up,
run the sync through it and say what the sheet must look like when the sync failed:
unchanged, or whole and fully written (never half).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import errno
import functools
import json
import random
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openpyxl
import requests

from journaldesk.errors import OutsideFailure, UserError
from journaldesk.jobs.init import plan_init
from journaldesk.jobs.sync import SyncReport
from journaldesk.store import workbook as workbook_module
from journaldesk.store.google import GoogleStore
from journaldesk.store.retry import RetryPolicy
from journaldesk.store.workbook import WorkbookStore
from tests.corpus.grids import Grid, forbidden_changes, google_grid, workbook_grid
from tests.helpers import SEED_DAY, make_workbook, settings_for
from tests.sheets_api.fixtures import InProcessAdapter, is_reread, is_write
from tests.sheets_api.keys import make_service_account_key
from tests.sheets_api.server import SheetsApiServer, _python_cell


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
    """Faults of a local workbook: the book open in an office program (since before the sync,
    or from between the job's re-read and its write); the process killed in the middle of a
    save (while the zip is written, just before the temp file replaces the book, or just
    after); a full disk while the zip is written; a staff edit saved between the job's re-read
    and its write."""

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

            def open_book() -> None:
                lock.write_text(OFFICE_LOCK, encoding="utf-8")
                self._undo.append(lambda: lock.unlink(missing_ok=True))
                self.strike()

            if self.rng.random() < 0.5:
                open_book()  # open since before the sync
            else:  # opened between the job's re-read and its write
                write = store.write

                def opened_then_write(cells: Any) -> Any:
                    store.__dict__.pop("write", None)
                    open_book()
                    return write(cells)

                store.write = opened_then_write  # type: ignore[method-assign]
                self._undo.append(lambda: store.__dict__.pop("write", None))
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


# ------------------------------------------------------------------------------- Google


class _GridCell:
    """One cell of a tab on the local Sheets API server, as an openpyxl cell looks to staff."""

    def __init__(self, tab: _GridTab, row: int, col: int) -> None:
        self._tab, self._r, self._c = tab, row - 1, col - 1

    def _cell(self) -> Any:
        return self._tab.sheet().cell(self._r, self._c)

    @property
    def value(self) -> Any:
        cell = self._cell()
        if cell is None or cell.is_blank():
            return None
        return cell.formula if cell.formula is not None else cell.value

    @value.setter
    def value(self, value: Any) -> None:
        # Typed as staff paste it: text stays text (never a formula), dates get a date format.
        new = _python_cell(value)
        with self._tab.server._lock:
            cell = self._tab.sheet().ensure(self._r, self._c)
            cell.value, cell.formula = new.value, None
            if new.number_format:
                cell.number_format = new.number_format

    @property
    def data_type(self) -> str:
        return "s" if isinstance(self.value, str) else "n"

    @data_type.setter
    def data_type(self, kind: str) -> None:
        pass  # a Google cell's type is its value's

    @property
    def number_format(self) -> Any:
        cell = self._cell()
        return None if cell is None else cell.number_format

    @number_format.setter
    def number_format(self, fmt: Any) -> None:
        with self._tab.server._lock:
            self._tab.sheet().ensure(self._r, self._c).number_format = fmt


class _GridTab:
    """A tab on the server, edited as staff do in a browser (the openpyxl calls the year uses)."""

    def __init__(self, server: Any, spreadsheet_id: str, title: str) -> None:
        self.server, self.sid, self.title = server, spreadsheet_id, title

    def sheet(self) -> Any:
        return self.server.book(self.sid).sheet(self.title)

    def cell(self, row: int, column: int) -> _GridCell:
        return _GridCell(self, row, column)

    @property
    def max_row(self) -> int:
        return max(len(self.sheet().rows), 1)

    def insert_rows(self, idx: int, amount: int = 1) -> None:
        self.server.insert_rows(self.sid, self.title, idx, [[] for _ in range(amount)])

    def delete_rows(self, idx: int, amount: int = 1) -> None:
        for _ in range(amount):
            self.server.delete_row(self.sid, self.title, idx)


class _ScratchCell:
    def __init__(self) -> None:
        self.value: Any = None
        self.data_type = "n"
        self.number_format: Any = None


class _ScratchTab:
    """A scratch tab only the person sees (the sort's clipboard)."""

    def __init__(self) -> None:
        self._cells: dict[tuple[int, int], _ScratchCell] = {}

    def cell(self, row: int, column: int) -> _ScratchCell:
        return self._cells.setdefault((row, column), _ScratchCell())


class _GridBook:
    """The spreadsheet on the server as staff edit it; every edit lands at once, as in a browser.
    A sort copies contents row by row: the rows' developer metadata stays where it was (what
    the server does by default, the worse case for a job that finds rows by it)."""

    def __init__(self, server: Any, spreadsheet_id: str) -> None:
        self.server, self.sid = server, spreadsheet_id

    def __getitem__(self, title: str) -> _GridTab:
        return _GridTab(self.server, self.sid, title)

    def create_sheet(self, title: str) -> _ScratchTab:
        return _ScratchTab()

    def remove(self, tab: Any) -> None:
        pass


class _Transport(InProcessAdapter):
    """The store's HTTP transport, served in-process by the local server, where a fault can
    strike at a chosen call: the connection reset before the request is sent or after it was
    served (the reply lost), a reply that never comes in time, or server errors queued."""

    def __init__(self, server: Any) -> None:
        super().__init__(server)
        self.calls = 0
        self.at: int | None = None  # the call (1-based, within the sync) the fault strikes at
        self.on_write = False  # ...or the first write of the sync
        self.action: Callable[[Any], Any] | None = None

    def send(self, request: Any, **kwargs: Any) -> requests.Response:
        self.calls += 1
        action = None
        if self.action is not None and (
            self.calls == self.at or (self.on_write and _is_write_request(request))
        ):
            action, self.action = self.action, None
        if action is not None:
            action(request)  # raises, or queues the fault on the server for this request
        return super().send(request, **kwargs)


def _is_write_request(request: Any) -> bool:
    """The sync's write of values, or rows appended (a batch update answering no sheet)."""
    url, _, query = request.url.partition("?")
    if request.method != "POST":
        return False
    if url.endswith(("values:batchUpdateByDataFilter", "values:batchUpdate")):
        return True
    return url.endswith(":batchUpdate") and "updatedSpreadsheet" not in query


class GoogleFaults(Faults):
    """Faults of a Google Sheet: a storm of 429s (several in a row) at a random call, 500s on
    a write, a lost connection (reset before the request or after it was served, or a reply
    that does not come in time) at a random call, and a staff edit landing between the
    job's read and its write (the server's race injection)."""

    kinds = ("429 storm", "500 on a write", "lost connection", "staff edit mid-sync")

    def __init__(self, seed: int, backend: GoogleSheets) -> None:
        super().__init__(seed)
        self.backend = backend

    def arm(self, kind: str, year: Any) -> None:
        server, transport = self.backend.server, self.backend.transport
        transport.calls = 0
        if kind == "429 storm":
            n = self.rng.randint(2, 7)  # five in a row outlast the retries

            def storm(request: Any) -> None:
                self.strike()
                server.fail_next(n, status=429)

            transport.at, transport.on_write, transport.action = (
                self.rng.randint(1, 4),
                False,
                storm,
            )
        elif kind == "500 on a write":
            n = self.rng.randint(1, 6)

            def errors(request: Any) -> None:
                self.strike()
                server.fail_next(n, status=500)

            transport.at, transport.on_write, transport.action = None, True, errors
        elif kind == "lost connection":
            how = self.rng.choice(["reset before", "reset after", "timeout"])

            def lost(request: Any) -> None:
                self.strike()
                if how != "reset before":
                    InProcessAdapter.send(transport, request)  # served; the reply is lost
                if how == "timeout":
                    raise requests.exceptions.ReadTimeout("Read timed out. (read timeout=30)")
                raise requests.exceptions.ConnectionError(
                    ConnectionResetError(104, "Connection reset by peer")
                )

            transport.at, transport.on_write = self.rng.randint(1, 4), self.rng.random() < 0.5
            transport.action = lost
        elif kind == "staff edit mid-sync":
            when = self.rng.choice([is_reread, is_write])

            def staff(srv: Any) -> None:
                self.strike()
                year.staff_moment(self.backend.book(), self.now)
                self.baseline = self.backend.grid()

            server.before_next(when, staff)

    def disarm(self) -> None:
        server, transport = self.backend.server, self.backend.transport
        transport.action, transport.at, transport.on_write = None, None, False
        with server._lock:
            server._faults.clear()
            server._hooks.clear()

    def after_failure(self, kind: str | None, before: Grid, exc: BaseException) -> list[str]:
        now = self.backend.grid()
        if now == before:
            return []
        # Only a write that landed with its reply lost may have changed the sheet: whole.
        problems = [
            f"a staff cell changed by a failed sync: {p}"
            for p in forbidden_changes(self.baseline or before, now)
        ]
        if kind != "lost connection":
            problems.append(f"the sheet changed on a failed sync ({kind}: {exc})")
        return problems


class GoogleSheets:
    """A Google Sheet built by `init` on the local Sheets API server, served in-process (no
    socket: a year makes thousands of calls), staff editing it as in a browser."""

    kind = "google"

    def __init__(
        self,
        folder: Path,
        *,
        seed: int = 0,
        server: SheetsApiServer | None = None,
        spreadsheet_id: str | None = None,
    ) -> None:
        self.folder = folder
        self.server = server or SheetsApiServer()
        self.settings = settings_for(folder)
        if spreadsheet_id is None:
            spreadsheet_id = self.server.create_spreadsheet()
            store = self._open(spreadsheet_id)
            store.apply_init(plan_init(store.read(), store.describe(), today=SEED_DAY))
        self.sid = spreadsheet_id
        self.store = self._open(spreadsheet_id)
        self.faults: Faults = GoogleFaults(seed, self)

    def _open(self, spreadsheet_id: str) -> GoogleStore:
        info = _sim_key()
        store = GoogleStore(
            spreadsheet_id,
            service_account_info=info,
            api_url=SIM_API_URL,
            retry=RetryPolicy.no_sleep(),
            lock_dir=self.folder,
        )
        # A token the server knows, so no token request is ever made (nothing listens).
        credentials = store._http.session.credentials
        credentials.token, credentials.expiry = SIM_TOKEN, dt.datetime(2100, 1, 1)
        self.server.tokens[SIM_TOKEN] = (info["client_email"], 4.1e9)
        self.transport = _Transport(self.server)
        store._http.session.mount(SIM_API_URL, self.transport)
        store._http.session.trust_env = False
        return store

    def book(self) -> _GridBook:
        """The spreadsheet as staff edit it."""
        return _GridBook(self.server, self.sid)

    @contextmanager
    def edit(self) -> Iterator[Any]:
        """One sitting of staff at the sheet (each edit lands as it is made)."""
        yield self.book()

    def grid(self) -> Grid:
        """Every cell as the server stores it."""
        return google_grid(self.server, self.sid)

    def size(self) -> int:
        """The sheet's values as JSON, in bytes (a Google Sheet has no file)."""
        grid = self.grid()
        cells = {t: [[r, c, v[0]] for (r, c), v in sorted(g.items())] for t, g in grid.items()}
        return len(json.dumps(cells, ensure_ascii=False, default=str).encode())

    def twin(self) -> GoogleSheets:
        """A copy of the spreadsheet on the same server (no faults); discard() removes it."""
        with self.server._lock:
            original = self.server.book(self.sid)
            copy = dataclasses.replace(
                original,
                spreadsheet_id=f"{self.sid}-twin",
                sheets=[s.clone() for s in original.sheets],
            )
            self.server.spreadsheets[copy.spreadsheet_id] = copy
        twin = GoogleSheets(self.folder, server=self.server, spreadsheet_id=copy.spreadsheet_id)
        twin.faults = Faults(0)
        return twin

    def discard(self) -> None:
        """Remove this (twin) spreadsheet from the server."""
        with self.server._lock:
            self.server.spreadsheets.pop(self.sid, None)


SIM_API_URL = "http://sheets.simulated"
SIM_TOKEN = "simulated-year-token"


@functools.cache
def _sim_key() -> dict[str, Any]:
    info, _ = make_service_account_key("http://sheets.simulated/token")
    return info


def google(folder: Path, seed: int = 0) -> GoogleSheets:
    """The Google backend of a simulated year (the local Sheets API server, in-process)."""
    return GoogleSheets(folder, seed=seed)
