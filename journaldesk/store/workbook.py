"""The local .xlsx store: the embedded default (demo, offline, a single PC).

Reads go through python-calamine (every sheet in one fast pass). A sync's writes patch only the
worksheets that hold changed cells and copy every other part of the file (xlsx_patch.py), so
charts, images, pivots and whatever else a school added stay as they were; only `init` builds
tabs, validations and formats through openpyxl (openpyxl_compat.py). Every save is atomic: a temp
file in the same folder, fsync, then `os.replace`.
"""

from __future__ import annotations

import datetime as dt
import errno
import gc
import html
import logging
import math
import os
import re
import shutil
import sys
import tempfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from copy import copy
from operator import itemgetter
from pathlib import Path
from typing import Any

import filelock
from openpyxl.comments import Comment
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import column_index_from_string, range_boundaries
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.utils.units import DEFAULT_COLUMN_WIDTH
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.cell_range import CellRange, MultiCellRange
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.dimensions import ColumnDimension
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from python_calamine import CalamineError, CalamineWorkbook, SheetTypeEnum

from journaldesk.errors import OutsideFailure, StoreUnavailable, StructureError
from journaldesk.store import openpyxl_compat, xlsx_patch
from journaldesk.store.base import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    TIME_FORMAT,
    CellValue,
    CellWrite,
    InitPlan,
    Located,
    RawValue,
    SheetChanged,
    Snapshot,
    TabData,
    TabLook,
    column_letter,
)
from journaldesk.store.office_lock import refuse_if_open

log = logging.getLogger(__name__)


#: A very hidden sheet that holds the dropdown lists: Excel caps an inline list at 255 characters
#: and splits it on commas, and some allowed values are long or contain commas.
LISTS_SHEET = "_Списки"
#: The note on the header of a column that only the jobs fill (xlsx has no warning-only protection).
PROTECTED_NOTE = "Заполняется автоматически, не редактируйте"
NOTE_AUTHOR = "journaldesk"

EXCEL_MAX_ROW = 1_048_576
EXCEL_MAX_COL = 16_384
EXCEL_MAX_TEXT = xlsx_patch.EXCEL_MAX_TEXT

# base.py speaks DD.MM.YYYY HH:MM; Excel's codes are case-insensitive, but the lowercase
# spelling is what Excel itself writes and what every reader recognises as a date format.
_TO_EXCEL_FORMAT = {
    DATETIME_FORMAT: "dd.mm.yyyy hh:mm",
    DATE_FORMAT: "dd.mm.yyyy",
    TIME_FORMAT: "hh:mm",
}
_FROM_EXCEL_FORMAT = {code: fmt for fmt, code in _TO_EXCEL_FORMAT.items()}

HEADER_FILL = "D9D9D9"  # light grey: "the jobs fill this column"
PROGRAM_FILL = "F2F2F2"  # the body of a column the jobs fill: quieter than the header
PROGRAM_TEXT = "595959"
# Excel's own presets for "light fill, dark text", by the colour names of InitPlan.highlights.
HIGHLIGHT_COLOURS = {
    "red": ("FFC7CE", "9C0006"),
    "amber": ("FFEB9C", "9C5700"),
    "green": ("C6EFCE", "006100"),
}

_WHOLE_FLOAT_LIMIT = 2.0**53
_REPLACE_ATTEMPTS = 5 if sys.platform == "win32" else 1
_REPLACE_PAUSE = 0.2  # seconds; Windows indexers and antivirus hold a new file for a moment


def excel_number_format(fmt: str) -> str:
    """Excel's number format code for a format of base.py (other codes pass through)."""
    return _TO_EXCEL_FORMAT.get(fmt, fmt)


def _convert_row(values: list[Any], same: Callable[[str, str], str]) -> list[RawValue]:
    """Calamine's cells to raw values: '' is empty, whole floats are ints, short durations times.

    `same` gives one object for equal texts (a status, a topic, a name: most cells repeat one).
    """
    out: list[RawValue] = []
    append = out.append
    for v in values:
        cls = v.__class__
        if cls is str:
            append(same(v, v) if v else None)
        elif cls is float:
            if v.is_integer() and -_WHOLE_FLOAT_LIMIT < v < _WHOLE_FLOAT_LIMIT:
                append(int(v))
            else:
                append(v)
        elif cls is dt.timedelta:
            # A time typed into a cell formatted as a duration ([h]:mm); a longer one stays a span.
            if dt.timedelta(0) <= v < dt.timedelta(days=1):
                append((dt.datetime.min + v).time())
            else:
                append(v)
        else:
            append(v)
    return out


def _convert_sheet(values: list[list[Any]]) -> list[list[RawValue]]:
    """Convert calamine's rows in place, each row's old list freed as soon as it is replaced."""
    same = {}.setdefault
    for i, row in enumerate(values):
        values[i] = _convert_row(row, same)
    while values and all(v is None for v in values[-1]):
        values.pop()
    return values


def _read_sheet(book: CalamineWorkbook, title: str) -> list[list[RawValue]]:
    """One sheet as raw values; calamine's own copy of it is dropped before the conversion."""
    sheet = book.get_sheet_by_name(title)
    values = sheet.to_python(skip_empty_area=False)
    del sheet
    return _convert_sheet(values)


def _columns(rows: Sequence[Sequence[RawValue]], idx: list[int]) -> list[list[RawValue]]:
    """These 0-based columns of every row, None past a row's end."""
    if idx and rows and max(idx) < min(map(len, rows)):
        pick = itemgetter(*idx)  # every row is wide enough: picked in C
        if len(idx) == 1:
            return [[pick(r)] for r in rows]
        return [list(pick(r)) for r in rows]
    return [[r[i] if i < len(r) else None for i in idx] for r in rows]


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold Python's cycle collector while a read makes millions of cells into objects: they
    hold no cycles, and every collection on the way would walk all the rows made before it
    (at 100,000 requests, a third of the read)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class WorkbookStore:
    """A local .xlsx workbook behind the `Store` interface."""

    # Writes by position under the file lock: rows to add go in write()'s one save.
    appends_with_locate = False

    def __init__(self, path: Path, *, create: bool = False, lock_timeout: float = 0.0) -> None:
        self.path = Path(path)
        self.create = create
        self.lock_timeout = lock_timeout
        self.api_calls = 0
        # The last read() and the file's identity at that moment, for read_columns().
        self._cached_rows: dict[str, list[tuple[RawValue, ...]]] | None = None
        self._cached_stat: tuple[int, int, int] | None = None
        # The file's identity when this store last read it (None: never read). A write by
        # position is only true for the file as read: write() refuses another one.
        self._seen_stat: tuple[int, int, int] | None = None

    # -- messages -------------------------------------------------------------------------------

    def _missing(self) -> StoreUnavailable:
        return StoreUnavailable(
            f"Файл «{self.path}» не найден. "
            "Создайте его командой `journaldesk init` или `journaldesk demo`."
        )

    def _not_workbook(self) -> StoreUnavailable:
        return StoreUnavailable(
            f"Файл «{self.path}» — не книга Excel (.xlsx): он повреждён или сохранён в другом "
            "формате. Откройте его в Excel и сохраните как «Книга Excel (*.xlsx)»."
        )

    def _no_access(self, exc: OSError) -> StoreUnavailable:
        return StoreUnavailable(
            f"Нет доступа к файлу «{self.path}» ({exc.strerror or exc}). "
            "Проверьте права на файл и папку."
        )

    def _no_sheet(self, title: str) -> StructureError:
        return StructureError(
            f"В книге «{self.path}» нет листа «{title}». Верните лист или выполните "
            "`journaldesk init`."
        )

    # -- reading --------------------------------------------------------------------------------

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            return _identity(self.path.stat())
        except OSError:
            return None

    def _open_calamine(self) -> CalamineWorkbook:
        if not self.path.exists():
            raise self._missing()
        try:
            return CalamineWorkbook.from_path(str(self.path))
        except PermissionError as exc:
            raise self._no_access(exc) from exc
        except (CalamineError, OSError, ValueError) as exc:
            raise self._not_workbook() from exc

    def read(self) -> Snapshot:
        """Read every sheet in one pass with calamine; a missing file reads as empty if create."""
        if self.create and not self.path.exists():
            self._cached_rows, self._cached_stat = {}, None
            return Snapshot(tabs={}, time_zone=None)
        before = self._stat()
        tabs: dict[str, TabData] = {}
        with self._open_calamine() as book, _collector_paused():
            try:
                for meta in book.sheets_metadata:
                    if meta.typ != SheetTypeEnum.WorkSheet or meta.name == LISTS_SHEET:
                        continue
                    tabs[meta.name] = TabData(meta.name, _read_sheet(book, meta.name))
            except CalamineError as exc:
                raise self._not_workbook() from exc
            self.api_calls += 1
            for title, cells in _error_cells(self.path).items():
                if title in tabs:
                    _overlay(tabs[title].rows, cells)
            # Private copies: the caller may reshape the rows it got, read_columns must not.
            self._cached_rows = {t: [tuple(r) for r in tab.rows] for t, tab in tabs.items()}
        after = self._stat()
        self._cached_stat = after if after == before else None
        self._seen_stat = before
        return Snapshot(tabs=tabs, time_zone=None)

    def read_columns(self, title: str, cols: list[int]) -> list[list[RawValue]]:
        """Re-read these 1-based columns of one sheet, header included."""
        return self.read_columns_many({title: cols})[title]

    def read_columns_many(self, spec: Mapping[str, list[int]]) -> dict[str, list[list[RawValue]]]:
        """Re-read some columns of several sheets in one pass, headers included.

        Answered from read()'s copy, without a call, while the file is unchanged since then.
        """
        sheets: dict[str, list[tuple[RawValue, ...]] | list[list[RawValue]]] = {}
        if (
            self._cached_rows is not None
            and self._cached_stat is not None
            and self._cached_stat == self._stat()
        ):
            for title in spec:
                if title not in self._cached_rows:
                    raise self._no_sheet(title)
                sheets[title] = self._cached_rows[title]
        else:
            if self.create and not self.path.exists():
                raise self._no_sheet(next(iter(spec)))
            self._seen_stat = self._stat()
            with self._open_calamine() as book, _collector_paused():
                for title in spec:
                    if title not in book.sheet_names or title == LISTS_SHEET:
                        raise self._no_sheet(title)
                    try:
                        sheets[title] = _read_sheet(book, title)
                    except CalamineError as exc:
                        raise self._not_workbook() from exc
            self.api_calls += 1
        return {
            title: _columns(sheets[title], [c - 1 for c in cols]) for title, cols in spec.items()
        }

    def locate(
        self,
        spec: Mapping[str, list[int]],
        *,
        grow: Mapping[str, int] | None = None,
        append: Mapping[str, list[list[CellValue]]] | None = None,
    ) -> dict[str, Located]:
        """The columns as read_columns_many; no tags: under the file lock positions stay true.
        Rows to add go with write() here (`append` is refused)."""
        if append and any(append.values()):
            raise ValueError("the workbook adds rows in write(), in the same save")
        return {title: Located(rows, None) for title, rows in self.read_columns_many(spec).items()}

    def tag_rows(
        self, rows: Mapping[str, list[int]], spec: Mapping[str, list[int]]
    ) -> dict[str, Located]:
        """Nothing to tag in a workbook: the same as locate()."""
        return self.locate(spec)

    def append_rows(self, title: str, rows: list[list[CellValue]]) -> None:
        """Add rows after the last row holding data (the file lock keeps that end true)."""
        self.append_many({title: rows})

    def append_many(self, rows: Mapping[str, list[list[CellValue]]]) -> None:
        """Rows after the last row holding data of several tabs, in one atomic save."""
        self.write([], append=rows)

    def _appended(
        self, rows: Mapping[str, list[list[CellValue]]], cells: list[CellWrite]
    ) -> list[CellWrite]:
        """The cells of rows added after the last row holding data of their tabs, in the file
        as this store last saw it (write() refuses any other) or among `cells`."""
        widths = {t: max((len(r) for r in tab_rows), default=0) for t, tab_rows in rows.items()}
        widths = {t: w for t, w in widths.items() if w}
        if not widths:
            return []
        if self._seen_stat is not None and self._stat() != self._seen_stat:
            raise self._changed()  # the end of a tab read now would not be the one seen
        current = self.read_columns_many(
            {t: list(range(1, max(w, 30) + 1)) for t, w in widths.items()}
        )
        out = []
        for title in widths:
            last = max(
                (i + 1 for i, r in enumerate(current[title]) if any(v is not None for v in r)),
                default=0,
            )
            last = max([last, *(c.row for c in cells if c.title == title)])
            out += [
                CellWrite(title, last + 1 + i, j + 1, value)
                for i, row in enumerate(rows[title])
                for j, value in enumerate(row)
                if value is not None
            ]
        return out

    # -- writing --------------------------------------------------------------------------------

    def _load(self) -> Workbook:
        if not self.path.exists():
            raise self._missing()
        try:
            book, warned = openpyxl_compat.load_exact(self.path)
        except PermissionError as exc:
            raise self._no_access(exc) from exc
        except (InvalidFileException, zipfile.BadZipFile, OSError) as exc:
            raise self._not_workbook() from exc
        except Exception as exc:  # broken XML inside a zip: KeyError, ValueError, parse errors
            raise self._not_workbook() from exc
        for message in warned:
            # e.g. "Data Validation extension is not supported and will be removed": say so.
            log.warning("%s: %s", self.path, message)
        return book

    def write(
        self,
        cells: list[CellWrite],
        *,
        append: Mapping[str, list[list[CellValue]]] | None = None,
    ) -> None:
        """Write these cells in one atomic save; no other cell and no other part is touched.
        The rows of `append` go after the last row holding data (these cells included), in
        the same save.

        Only the worksheets that hold changed cells are rewritten, patched as a stream (see
        xlsx_patch); every other part of the file is copied as it is.
        """
        if append:
            cells = list(cells) + self._appended(append, cells)
        if not cells:
            return
        refuse_if_open(self.path)
        by_sheet: dict[str, dict[int, dict[int, xlsx_patch.CellValue]]] = {}
        for c in cells:
            if not (1 <= c.row <= EXCEL_MAX_ROW and 1 <= c.col <= EXCEL_MAX_COL):
                raise ValueError(f"cell outside the sheet: {c!r}")
            where = f"{c.title}!{column_letter(c.col)}{c.row}"
            code = excel_number_format(c.number_format) if c.number_format else None
            value = xlsx_patch.encode_value(c.value, code, where=where)
            by_sheet.setdefault(c.title, {}).setdefault(c.row, {})[c.col] = value
        if not self.path.exists():
            raise self._missing()
        try:
            with zipfile.ZipFile(self.path) as zf:
                source = _identity(os.fstat(zf.fp.fileno()))  # type: ignore[union-attr]
                if self._seen_stat is not None and source != self._seen_stat:
                    raise self._changed()
                book = xlsx_patch.read_book(zf)
                edits = []
                for title, rows in by_sheet.items():
                    if title not in book.sheets or title == LISTS_SHEET:
                        raise self._no_sheet(title)
                    edits.append(xlsx_patch.SheetEdits(title, book.sheets[title], rows))
                self._save_with(
                    lambda fh: xlsx_patch.write_package(
                        str(self.path), fh, edits, book=book, zf=zf
                    ),
                    expect=source,
                )
        except PermissionError as exc:
            raise self._no_access(exc) from exc
        except xlsx_patch.MergedCellError as exc:
            raise StructureError(
                f"В книге «{self.path}» на листе «{exc.title}» ячейка {exc.ref} "
                "объединена с соседними, записать в неё нельзя. Отмените объединение ячеек."
            ) from exc
        except (zipfile.BadZipFile, xlsx_patch.PackageError, KeyError, EOFError) as exc:
            raise self._not_workbook() from exc
        except zlib.error as exc:
            raise self._not_workbook() from exc

    def _save(self, book: Workbook) -> None:
        """Save an openpyxl book atomically (init only)."""
        self._save_with(book.save)

    def _changed(self) -> SheetChanged:
        return SheetChanged(
            f"Книгу «{self.path}» сохранила другая программа, пока задание готовило запись; "
            "ничего не записано. Запустите задание ещё раз."
        )

    def _save_with(
        self, writer: Callable[[Any], None], *, expect: tuple[int, int, int] | None = None
    ) -> None:
        """Save atomically: `writer` fills a temp file beside the target, fsync, then replace.
        With `expect`, the target must still be that file (its identity) when it is replaced:
        another program's save in the meantime is never overwritten."""
        folder = self.path.parent
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=folder)
        except PermissionError as exc:
            raise StoreUnavailable(
                f"Не удалось сохранить книгу «{self.path}»: нет права записи в папку «{folder}»."
            ) from exc
        except FileNotFoundError as exc:
            raise StoreUnavailable(
                f"Не удалось сохранить книгу «{self.path}»: папка «{folder}» не найдена."
            ) from exc
        except OSError as exc:
            raise self._save_failure(exc) from exc
        tmp = Path(tmp_name)
        try:
            with open(fd, "wb") as fh:
                writer(fh)
                fh.flush()
                os.fsync(fh.fileno())
            if self.path.exists():
                shutil.copymode(self.path, tmp)
            else:
                os.chmod(tmp, 0o666 & ~_umask())
            if expect is not None and self._stat() != expect:
                raise self._changed()
            self._replace(tmp)
        except BaseException as exc:
            with suppress(OSError):
                tmp.unlink()
            if isinstance(exc, StoreUnavailable):
                raise
            if isinstance(exc, OSError):
                raise self._save_failure(exc) from exc
            raise
        _fsync_folder(folder)
        self.api_calls += 1
        self._cached_rows, self._cached_stat = None, None
        self._seen_stat = self._stat()  # our own save: the next write may follow it

    def _replace(self, tmp: Path) -> None:
        for attempt in range(_REPLACE_ATTEMPTS):
            try:
                os.replace(tmp, self.path)
                return
            except PermissionError as exc:
                if attempt + 1 < _REPLACE_ATTEMPTS:
                    time.sleep(_REPLACE_PAUSE * (attempt + 1))
                    continue
                raise StoreUnavailable(
                    f"Не удалось сохранить книгу «{self.path}»: файл открыт в другой программе "
                    "(например, в Excel) или защищён от записи. Закройте его и повторите; "
                    "файл не изменён."
                ) from exc

    def _save_failure(self, exc: OSError) -> OutsideFailure:
        if exc.errno == errno.ENOSPC:
            return OutsideFailure(
                f"Не удалось сохранить книгу «{self.path}»: на диске не хватает места. "
                "Файл не изменён; освободите место и повторите."
            )
        return OutsideFailure(
            f"Не удалось сохранить книгу «{self.path}»: {exc.strerror or exc}. Файл не изменён."
        )

    # -- structure ------------------------------------------------------------------------------

    def describe(self) -> dict[str, Any]:
        """Per sheet: frozen header, dropdown/format/highlight/protected columns, max_row."""
        if self.create and not self.path.exists():
            return {}
        book = self._load()
        lists = book[LISTS_SHEET] if LISTS_SHEET in book.sheetnames else None
        out: dict[str, Any] = {}
        for ws in book.worksheets:
            if ws.title == LISTS_SHEET:
                continue
            dropdowns = _dropdowns(ws, lists)
            highlights = _highlights(ws)
            out[ws.title] = {
                "frozen": _frozen_rows(ws) >= 1,
                "dropdown_cols": set(dropdowns),
                "dropdown_values": dropdowns,
                "format_cols": _column_formats(ws),
                "highlight_cols": set(highlights),
                "highlight_values": highlights,
                "protected_cols": _protected_cols(ws),
                "widths": _widths(ws),
                "filtered": bool(ws.auto_filter.ref),
                "max_row": ws.max_row,
            }
        return out

    def apply_init(self, plan: InitPlan) -> None:
        """Create sheets, headers, dropdowns, formats, highlights and notes; never touches data."""
        if plan.is_empty():
            return
        if self.path.exists():
            refuse_if_open(self.path)
            book = self._load()
        elif self.create:
            book = Workbook()
        else:
            raise self._missing()
        default = book.worksheets[0] if not self.path.exists() else None

        for title, headers in plan.new_tabs:
            if title in book.sheetnames:
                _write_headers(book[title], headers)
                continue
            ws = book.create_sheet(title)
            _write_headers(ws, headers)
            ws.freeze_panes = "A2"
        for title, headers in plan.headers:
            _write_headers(self._sheet(book, title), headers)
        for title in plan.frozen_header:
            ws = self._sheet(book, title)
            if _frozen_rows(ws) < 1:
                ws.freeze_panes = "A2"
        for title, col, values in plan.dropdowns:
            _set_dropdown(book, self._sheet(book, title), col, values)
        for title, col, fmt in plan.number_formats:
            _set_column_format(self._sheet(book, title), col, fmt)
        for title, col, colours in plan.highlights:
            _set_highlights(self._sheet(book, title), col, colours)
        for title, col in plan.protected:
            _mark_derived(self._sheet(book, title), col)
        for title, rows in plan.seed_rows:
            _append_rows(self._sheet(book, title), rows)
        for look in plan.looks:
            _apply_look(self._sheet(book, look.title), look)

        if default is not None and len(book.worksheets) > 1:
            book.remove(default)
        _ensure_visible_active(book)
        self._save(book)

    def _sheet(self, book: Workbook, title: str) -> Worksheet:
        if title not in book.sheetnames or title == LISTS_SHEET:
            raise self._no_sheet(title)
        return book[title]

    # -- the rest -------------------------------------------------------------------------------

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold "<path>.lock" for a run; another job holding it raises StoreUnavailable."""
        lock_path = f"{self.path}.lock"
        guard = filelock.FileLock(lock_path, timeout=self.lock_timeout)
        try:
            guard.acquire()
        except filelock.Timeout as exc:
            raise StoreUnavailable(
                f"Книга «{self.path}» занята другим заданием journaldesk (блокировка "
                f"«{lock_path}»). Дождитесь его окончания и повторите."
            ) from exc
        except OSError as exc:
            raise StoreUnavailable(
                f"Не удалось заблокировать книгу «{self.path}»: нельзя создать файл "
                f"«{lock_path}» ({exc.strerror or exc})."
            ) from exc
        try:
            yield
        finally:
            guard.release()

    def location(self) -> str:
        """The workbook's path, for messages."""
        return str(self.path)


# -- cell values ----------------------------------------------------------------------------------


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    """A file's identity for "has it changed": modified time, size, inode."""
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _assign(cell: Any, value: CellValue, fmt: str | None, *, where: str) -> None:
    """Put one value into an openpyxl cell: text stays text, dates get a date format."""
    if isinstance(value, str):
        cell.value = xlsx_patch.clean_text(value, where=where)
        # openpyxl makes "=..." a formula and "#N/A" an error; a person's text is neither.
        cell.data_type = "s"
    elif value is None or isinstance(value, bool):
        cell.value = value
    elif isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{where}: {value!r} cannot be written to a workbook")
        cell.value = value
    elif isinstance(value, dt.datetime | dt.date | dt.time):
        if isinstance(value, dt.datetime | dt.time) and value.tzinfo is not None:
            # Excel has no time zones: keep the wall-clock time the caller computed.
            value = value.replace(tzinfo=None)
        had_date_format = cell.is_date
        cell.value = value
        if fmt is None and not had_date_format:
            fmt = _default_format(value)
    else:
        raise TypeError(f"{where}: cannot write {type(value).__name__} {value!r}")
    if fmt is not None:
        cell.number_format = excel_number_format(fmt)


def _default_format(value: dt.date | dt.time) -> str:
    if isinstance(value, dt.datetime):
        return DATETIME_FORMAT
    if isinstance(value, dt.date):
        return DATE_FORMAT
    return TIME_FORMAT


# -- structure helpers ---------------------------------------------------------------------------


def _frozen_rows(ws: Worksheet) -> int:
    top_left = ws.freeze_panes
    if not top_left:
        return 0
    return ws[top_left].row - 1


def _col_range(col: int) -> str:
    letter = column_letter(col)
    return f"{letter}2:{letter}{EXCEL_MAX_ROW}"


def _covers(rng: Any, col: int) -> bool:
    return rng.min_col <= col <= rng.max_col and rng.max_row >= 2


def _dropdowns(ws: Worksheet, lists: Worksheet | None) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for dv in ws.data_validations.dataValidation:
        if dv.type != "list":
            continue
        values = _list_values(dv.formula1, lists)
        for rng in dv.sqref.ranges:
            if rng.max_row < 2:
                continue
            for col in range(rng.min_col, rng.max_col + 1):
                out[col] = values
    return out


def _list_values(formula: str | None, lists: Worksheet | None) -> list[str]:
    if not formula:
        return []
    if formula.startswith('"') and formula.endswith('"'):
        return [v.strip() for v in formula[1:-1].split(",")]
    prefix = f"'{LISTS_SHEET}'!"
    if lists is None or not formula.startswith(prefix):
        return []  # a list some person set up elsewhere: present, values unknown
    min_col, min_row, _, max_row = range_boundaries(formula[len(prefix) :].replace("$", ""))
    cells = lists.iter_rows(
        min_row=min_row, max_row=max_row, min_col=min_col, max_col=min_col, values_only=True
    )
    return [str(row[0]) for row in cells if row[0] is not None]


def _column_formats(ws: Worksheet) -> dict[int, str]:
    out: dict[int, str] = {}
    for dim in ws.column_dimensions.values():
        if not dim.has_style or dim.number_format == "General":
            continue
        fmt = _FROM_EXCEL_FORMAT.get(dim.number_format.lower(), dim.number_format)
        lo = dim.min or column_index_from_string(dim.index)
        hi = dim.max or lo
        for col in range(lo, hi + 1):
            out[col] = fmt
    return out


def _highlighted_values(ws: Worksheet, col: int) -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    palette = {bg: name for name, (bg, _) in HIGHLIGHT_COLOURS.items()}
    for cf in ws.conditional_formatting:
        if not any(_covers(rng, col) for rng in cf.sqref.ranges):
            continue
        for rule in cf.rules:
            if rule.type != "cellIs" or rule.operator != "equal" or not rule.formula:
                continue
            formula = rule.formula[0]
            if not (formula.startswith('"') and formula.endswith('"')):
                continue
            colour = None
            fill = rule.dxf.fill if rule.dxf is not None else None
            if fill is not None and fill.bgColor is not None and fill.bgColor.rgb:
                colour = palette.get(str(fill.bgColor.rgb)[-6:].upper())
            found[formula[1:-1].replace('""', '"')] = colour
    return found


def _highlights(ws: Worksheet) -> dict[int, dict[str, str | None]]:
    cols: set[int] = set()
    for cf in ws.conditional_formatting:
        for rng in cf.sqref.ranges:
            cols.update(range(rng.min_col, rng.max_col + 1))
    out = {}
    for col in sorted(cols):
        values = _highlighted_values(ws, col)
        if values:
            out[col] = values
    return out


def _protected_cols(ws: Worksheet) -> set[int]:
    out = set()
    for cell in ws[1] if ws.max_row >= 1 else ():
        if cell.comment is not None and PROTECTED_NOTE in cell.comment.text:
            out.add(cell.column)
    return out


def _write_headers(ws: Worksheet, headers: list[str]) -> None:
    """Write headers into the empty cells of row 1, bold, and give new columns a width."""
    for col, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=col)
        if cell.value not in (None, ""):
            continue
        _assign(cell, header, None, where=f"{ws.title}!{cell.coordinate}")
        font = copy(cell.font)
        font.bold = True
        cell.font = font
        _ungroup_columns(ws)
        if column_letter(col) not in ws.column_dimensions:
            _column_dimension(ws, col).width = min(max(len(header) * 1.15 + 3, 12), 45)


def _ungroup_columns(ws: Worksheet) -> None:
    """Split <col min..max> groups so one column can be changed without overlapping ranges."""
    for key, dim in list(ws.column_dimensions.items()):
        lo = dim.min or 0
        hi = dim.max or 0
        if not lo or hi <= lo:
            continue
        for col in range(lo, hi + 1):
            letter = column_letter(col)
            part = ColumnDimension(
                ws,
                index=letter,
                width=dim.width,
                bestFit=dim.bestFit,
                hidden=dim.hidden,
                outlineLevel=dim.outlineLevel,
                collapsed=dim.collapsed,
            )
            part._style = copy(dim._style)
            part.min = part.max = col
            if letter != key:
                ws.column_dimensions[letter] = part
            else:
                ws.column_dimensions[key] = part


def _column_dimension(ws: Worksheet, col: int) -> ColumnDimension:
    _ungroup_columns(ws)
    letter = column_letter(col)
    dim = ws.column_dimensions[letter]
    dim.min = dim.max = col
    return dim


def _set_dropdown(book: Workbook, ws: Worksheet, col: int, values: list[str]) -> None:
    """One list validation on the column (rows 2..end), its values on the hidden lists sheet."""
    lists = _lists_sheet(book)
    key = f"{ws.title}!{col}"
    list_col = next((c.column for c in lists[1] if c.value == key), None) or (
        1 if lists.max_column == 1 and lists["A1"].value is None else lists.max_column + 1
    )
    _assign(lists.cell(row=1, column=list_col), key, None, where=f"{LISTS_SHEET}!1")
    for i in range(2, max(lists.max_row, len(values) + 1) + 1):
        value = values[i - 2] if i - 2 < len(values) else None
        _assign(lists.cell(row=i, column=list_col), value, None, where=f"{LISTS_SHEET}!{i}")
    letter = column_letter(list_col)
    last = max(len(values) + 1, 2)
    formula = f"'{LISTS_SHEET}'!${letter}$2:${letter}${last}"

    _drop_validation(ws, col)
    dv = DataValidation(
        type="list",
        formula1=formula,
        allow_blank=True,
        showErrorMessage=True,
        errorStyle="warning",  # warn, do not block: the job flags other values itself
        errorTitle="Значение не из списка",
        error="Лучше выбрать значение из списка. Если оставить своё, задание отметит строку "
        "замечанием.",
    )
    dv.add(_col_range(col))
    ws.add_data_validation(dv)


def _drop_validation(ws: Worksheet, col: int) -> None:
    """Take `col` out of every list validation, so a new one never doubles an old one."""
    kept = []
    for dv in ws.data_validations.dataValidation:
        if dv.type != "list":
            kept.append(dv)
            continue
        parts = []
        for rng in dv.sqref.ranges:
            if not (rng.min_col <= col <= rng.max_col):
                parts.append(rng)
                continue
            if rng.min_col < col:
                parts.append(
                    CellRange(
                        min_col=rng.min_col,
                        max_col=col - 1,
                        min_row=rng.min_row,
                        max_row=rng.max_row,
                    )
                )
            if col < rng.max_col:
                parts.append(
                    CellRange(
                        min_col=col + 1,
                        max_col=rng.max_col,
                        min_row=rng.min_row,
                        max_row=rng.max_row,
                    )
                )
        if parts:
            dv.sqref = MultiCellRange(parts)
            kept.append(dv)
    ws.data_validations.dataValidation = kept


def _lists_sheet(book: Workbook) -> Worksheet:
    if LISTS_SHEET in book.sheetnames:
        return book[LISTS_SHEET]
    ws = book.create_sheet(LISTS_SHEET)
    ws.sheet_state = "veryHidden"
    return ws


def _set_column_format(ws: Worksheet, col: int, fmt: str) -> None:
    """Format the column's existing cells and the column itself (for rows typed later)."""
    code = excel_number_format(fmt)
    _column_dimension(ws, col).number_format = code
    for row in range(2, ws.max_row + 1):
        ws.cell(row=row, column=col).number_format = code


def _set_highlights(ws: Worksheet, col: int, colours: dict[str, str]) -> None:
    present = _highlighted_values(ws, col)
    stale = {v for v, c in present.items() if v not in colours or c != colours[v]}
    if stale:
        _drop_highlights(ws, col, stale)
        present = _highlighted_values(ws, col)
    for value, colour in colours.items():
        if value in present:
            continue
        bg, fg = HIGHLIGHT_COLOURS.get(colour, HIGHLIGHT_COLOURS["amber"])
        quoted = '"' + value.replace('"', '""') + '"'
        rule = CellIsRule(
            operator="equal",
            formula=[quoted],
            fill=PatternFill(start_color=bg, end_color=bg, fill_type="solid"),
            font=Font(color=fg),
        )
        ws.conditional_formatting.add(_col_range(col), rule)


def _drop_highlights(ws: Worksheet, col: int, values: set[str]) -> None:
    """Remove the colour rules of these values from the column (a colour that now means
    something else); rules on other columns and other values stay."""
    from openpyxl.formatting.formatting import ConditionalFormattingList

    kept = ConditionalFormattingList()
    for cf in ws.conditional_formatting:
        covers = any(_covers(rng, col) for rng in cf.sqref.ranges)
        for rule in cf.rules:
            formula = rule.formula[0] if rule.formula else ""
            value = formula[1:-1].replace('""', '"') if formula.startswith('"') else None
            if covers and rule.type == "cellIs" and value in values:
                continue
            kept.add(str(cf.sqref), rule)
    ws.conditional_formatting = kept


def _widths(ws: Worksheet) -> dict[int, float]:
    """Widths set on columns (by init or a person); a column at the default width is absent.
    openpyxl gives a column it styles (a number format, say) a width of 13 of its own: that
    one counts as no width."""
    out: dict[int, float] = {}
    for key, dim in ws.column_dimensions.items():
        if not dim.width or dim.width == DEFAULT_COLUMN_WIDTH:
            continue
        lo = dim.min or column_index_from_string(key)
        hi = dim.max or lo
        for col in range(lo, hi + 1):
            out[col] = float(dim.width)
    return out


def _apply_look(ws: Worksheet, look: TabLook) -> None:
    """Bold wrapped header with a filter, widths, wrapped text, grey program columns, and a
    landscape print fitted to the page width with the header row on every page."""
    last = column_letter(look.columns)
    for cell in ws[1][: look.columns]:
        font = copy(cell.font)
        font.bold = True
        cell.font = font
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    ws.auto_filter.ref = f"A1:{last}{max(ws.max_row, 2)}"
    for col, width in look.widths.items():
        _column_dimension(ws, col).width = width
    grey_font = Font(name="Calibri", family=2, scheme="minor", size=11, color=PROGRAM_TEXT)
    grey_fill = PatternFill(start_color=PROGRAM_FILL, end_color=PROGRAM_FILL, fill_type="solid")
    wrap = Alignment(wrap_text=True)
    for col in sorted(set(look.wrap) | set(look.program)):
        dim = _column_dimension(ws, col)
        cells = [ws.cell(row=r, column=col) for r in range(2, ws.max_row + 1)]
        if col in look.wrap:
            dim.alignment = wrap
            for cell in cells:
                cell.alignment = wrap
        if col in look.program:
            dim.font = grey_font
            dim.fill = grey_fill
            for cell in cells:
                cell.font = grey_font
                cell.fill = grey_fill
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    if ws.sheet_properties.pageSetUpPr is None:
        ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"
    _fit_rows(ws, range(2, ws.max_row + 1))


def _fit_rows(ws: Worksheet, rows: Any) -> None:
    """Give rows with wrapped text the height of their longest wrapped cell (the rule of
    xlsx_patch.row_height, which the patched writes follow too). Excel fits such rows itself,
    but LibreOffice opens an .xlsx with the heights the file names, and wrapped lines would
    overlap the next row."""
    widths = _widths(ws)
    # max_column walks every cell of the sheet: asked once, not once per row.
    last_column = ws.max_column
    wrapped = {
        col
        for col in range(1, last_column + 1)
        if (dim := ws.column_dimensions.get(column_letter(col))) is not None
        and dim.alignment is not None
        and dim.alignment.wrap_text
    }
    for row in rows:
        lines = 1
        for col in range(1, last_column + 1):
            cell = ws._cells.get((row, col))
            if cell is None or not isinstance(cell.value, str):
                continue
            if not (cell.alignment.wrap_text or col in wrapped):
                continue
            width = widths.get(col, DEFAULT_COLUMN_WIDTH)
            lines = max(lines, xlsx_patch.wrapped_lines(cell.value, width))
        height = xlsx_patch.row_height(lines)
        if ws.row_dimensions[row].height != height:
            ws.row_dimensions[row].height = height


def _mark_derived(ws: Worksheet, col: int) -> None:
    """Grey header and a note: the nearest xlsx has to Google's warning-only protection."""
    cell = ws.cell(row=1, column=col)
    cell.fill = PatternFill(start_color=HEADER_FILL, end_color=HEADER_FILL, fill_type="solid")
    old = cell.comment
    if old is not None and PROTECTED_NOTE in old.text:
        return
    text = PROTECTED_NOTE if old is None else f"{old.text}\n{PROTECTED_NOTE}"
    cell.comment = Comment(text, NOTE_AUTHOR, width=220, height=60)


def _append_rows(ws: Worksheet, rows: list[list[CellValue]]) -> None:
    last = ws.max_row
    while last > 1 and all(c.value in (None, "") for c in ws[last]):
        last -= 1
    if last == 1 and all(c.value in (None, "") for c in ws[1]):
        last = 0
    for i, values in enumerate(rows, start=last + 1):
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=i, column=col)
            _assign(cell, value, None, where=f"{ws.title}!{cell.coordinate}")


def _ensure_visible_active(book: Workbook) -> None:
    for i, ws in enumerate(book.worksheets):
        if ws.sheet_state == "visible":
            book.active = i
            return


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX only; Windows cannot open a folder this way)."""
    if os.name != "posix":
        return
    with suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


# --- error cells --------------------------------------------------------------------------------

_ERROR_CELL = re.compile(rb'<c r="([A-Z]+)([0-9]+)"[^>]*?\bt="e"[^>]*>(.*?)</c>', re.S)
_VALUE = re.compile(rb"<v>(.*?)</v>", re.S)
_SHEET = re.compile(rb"<sheet\b[^>]*>")
_REL = re.compile(rb"<Relationship\b[^>]*>")


def _attr(element: bytes, name: bytes) -> bytes:
    """One attribute of an XML start tag (attribute order differs between writers)."""
    found = re.search(rb"\s" + re.escape(name) + rb'="([^"]*)"', element)
    return found.group(1) if found else b""


def _error_cells(path: Path) -> dict[str, list[tuple[int, int, str]]]:
    """Cells holding an error (#N/A, #DIV/0!...), by sheet: (row, col, text), 1-based.

    calamine reads an error cell as empty, and an empty auto-filled column would then be
    "filled" over what a person left there. A quick byte search skips sheets with no error.
    """
    found: dict[str, list[tuple[int, int, str]]] = {}
    try:
        with zipfile.ZipFile(path) as book:
            rels = {
                _attr(r, b"Id"): _attr(r, b"Target")
                for r in _REL.findall(book.read("xl/_rels/workbook.xml.rels"))
            }
            for sheet in _SHEET.findall(book.read("xl/workbook.xml")):
                name, rel = _attr(sheet, b"name"), _attr(sheet, b"r:id")
                target = rels.get(rel, b"").decode().lstrip("/")
                member = target if target.startswith("xl/") else f"xl/{target}"
                if not _has_error_cell(book, member):
                    continue
                data = book.read(member)
                title = html.unescape(name.decode())
                for letters, row, inner in _ERROR_CELL.findall(data):
                    value = _VALUE.search(inner)
                    text = html.unescape(value.group(1).decode()) if value else "#ERROR!"
                    col = column_index_from_string(letters.decode())
                    found.setdefault(title, []).append((int(row), col, text))
    except (OSError, KeyError, zipfile.BadZipFile):
        return {}
    return found


def _has_error_cell(book: zipfile.ZipFile, member: str) -> bool:
    """Whether a sheet holds an error cell (a streamed byte search: never the whole sheet)."""
    try:
        stream = book.open(member)
    except KeyError:
        return False
    with stream:
        tail = b""
        while chunk := stream.read(1 << 20):
            if b't="e"' in tail + chunk[:8] or b't="e"' in chunk:
                return True
            tail = chunk[-8:]
    return False


def _overlay(rows: list[list[RawValue]], cells: list[tuple[int, int, str]]) -> None:
    """Put error texts into the rows calamine read (growing them as needed)."""
    for row, col, text in cells:
        while len(rows) < row:
            rows.append([])
        values = rows[row - 1]
        values.extend([None] * (col - len(values)))
        values[col - 1] = text
