"""The store interface that the sync, `init` and `doctor` use, whatever holds the sheet.

A store is deliberately dumb: it reads raw cells and writes the cells it is given, in one batch
each. Everything that decides *what* to write (parsing, rules, the diff, finding moved rows) lives
outside it, so the two stores cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from journaldesk.errors import OutsideFailure
from journaldesk.sheet.grid import CellValue, RawValue, Snapshot, TabData, column_letter

__all__ = [
    "NUMBER_FORMATS",
    "CellValue",
    "CellWrite",
    "InitPlan",
    "RawValue",
    "Snapshot",
    "Store",
    "TabData",
    "column_letter",
]

DATETIME_FORMAT = "DD.MM.YYYY HH:MM"
DATE_FORMAT = "DD.MM.YYYY"
TIME_FORMAT = "HH:MM"
# The number format a value of each schema column type is written with.
NUMBER_FORMATS = {"datetime": DATETIME_FORMAT, "date": DATE_FORMAT, "time": TIME_FORMAT}


@dataclass(frozen=True)
class CellWrite:
    """One cell to write. `row`/`col` are 1-based; a row past the end appends.

    `number_format` applies to dates, datetimes and times (DD.MM.YYYY HH:MM and the like).
    Strings are always written as plain text, never interpreted as formulas.
    """

    title: str
    row: int
    col: int
    value: CellValue
    number_format: str | None = None
    # The row's tag: when given, the cell is written to the row that holds this tag when the
    # write lands, wherever it has moved (`row` is then only where it was last seen).
    tag: str | None = None


@dataclass
class Located:
    """Rows re-read just before a write: values of the asked columns and each row's tag, taken
    together in one call so that they belong to each other. rows[0] is the header row."""

    rows: list[list[RawValue]]
    tags: list[str | None] | None  # None: the store writes by position (workbook)


class RowsGone(Exception):
    """A tagged row was deleted between the re-read and the write: nothing was written."""


class SheetChanged(RowsGone, OutsideFailure):
    """The whole sheet was saved by someone else between the re-read and the write (a
    workbook saved by another program): positions read may be stale, so nothing was written.
    A sync takes it as RowsGone (try again next run); any other job reports it (exit 1)."""


@dataclass
class TabLook:
    """How one tab reads at a glance: bold, filterable header over `columns` columns, widths,
    wrapped columns, the jobs' columns in quiet grey, a landscape print fitted to the width."""

    title: str
    columns: int
    widths: dict[int, float] = field(default_factory=dict)  # col -> width in characters
    wrap: list[int] = field(default_factory=list)  # cols whose text wraps
    program: list[int] = field(default_factory=list)  # cols only the jobs fill


def header_width(header: str) -> float:
    """The width the first versions of `init` gave a new column: from its header alone. A column
    still this wide was never sized by a person, so a later `init` may size it by its type."""
    return min(max(len(header) * 1.15 + 3, 12), 45)


def width_pixels(width: float) -> int:
    """Pixels of a column `width` characters wide (7 px a digit plus 5 px of margin)."""
    return round(width * 7 + 5)


@dataclass
class InitPlan:
    """What `init` must make true of a sheet; stores apply it without deleting or overwriting data.

    Each list holds only what is missing: the plan is computed from a snapshot (see init.py).
    """

    new_tabs: list[tuple[str, list[str]]] = field(default_factory=list)  # title, headers
    headers: list[tuple[str, list[str]]] = field(
        default_factory=list
    )  # title, headers: row 1 empty
    frozen_header: list[str] = field(default_factory=list)  # titles
    dropdowns: list[tuple[str, int, list[str]]] = field(default_factory=list)  # title, col, values
    number_formats: list[tuple[str, int, str]] = field(default_factory=list)  # title, col, format
    # title, col of the state column, {value: "red" | "amber" | "green"}
    highlights: list[tuple[str, int, dict[str, str]]] = field(default_factory=list)
    protected: list[tuple[str, int]] = field(default_factory=list)  # title, col (warning only)
    seed_rows: list[tuple[str, list[list[CellValue]]]] = field(default_factory=list)  # title, rows
    looks: list[TabLook] = field(default_factory=list)  # widths, wrap, filter, print setup

    def is_empty(self) -> bool:
        """True when the sheet already has everything."""
        return not any(
            (
                self.new_tabs,
                self.headers,
                self.frozen_header,
                self.dropdowns,
                self.number_formats,
                self.highlights,
                self.protected,
                self.seed_rows,
                self.looks,
            )
        )


@runtime_checkable
class Store(Protocol):
    """A spreadsheet: one batch read, one narrow re-read, one batch write."""

    #: calls made to the backing service since the store was opened (reads and writes)
    api_calls: int

    #: True when write() aims rows by tag in a call that cannot add rows (Google: a values
    #: batchUpdateByDataFilter): rows to add at the end of a tab then ride in locate()'s call.
    #: False: write() takes them, in the same all-or-nothing write as its cells.
    appends_with_locate: bool

    def read(self) -> Snapshot:
        """Read every tab in one pass (Google: one metadata read plus one values batch read)."""

    def read_columns(self, title: str, cols: list[int]) -> list[list[RawValue]]:
        """Re-read just these 1-based columns of one tab, every row, header included (one call).

        Returns rows in sheet order; each row holds the values of `cols` in the order given.
        """

    def read_columns_many(self, spec: Mapping[str, list[int]]) -> dict[str, list[list[RawValue]]]:
        """Re-read some columns of several tabs in ONE call: {title: rows as read_columns}."""

    def locate(
        self,
        spec: Mapping[str, list[int]],
        *,
        grow: Mapping[str, int] | None = None,
        append: Mapping[str, list[list[CellValue]]] | None = None,
    ) -> dict[str, Located]:
        """Re-read these 1-based columns of several tabs with each row's tag, in ONE call,
        making room first for rows up to `grow[title]` (same call). Only on a store with
        `appends_with_locate`: the rows of `append` ({title: rows}) are added at the end of their
        tabs in that same call, all or nothing, before the re-read."""

    def tag_rows(
        self, rows: Mapping[str, list[int]], spec: Mapping[str, list[int]]
    ) -> dict[str, Located]:
        """Tag these sheet rows and re-read `spec` as the tagging left the sheet, in ONE call.

        Tags land by position: the caller finds rows again by their content in what this
        returns, never by where it asked a tag to go.
        """

    def write(
        self,
        cells: list[CellWrite],
        *,
        append: Mapping[str, list[list[CellValue]]] | None = None,
    ) -> dict[str, list[RawValue]]:
        """Write these cells in one batch; all or nothing. The rows of `append` ({title: rows})
        go in the same batch, after the last row holding data when the write lands (cells of
        this write included); a store with `appends_with_locate` takes them only in a write
        with no tagged cell.

        Returns, per tag written, that row's values as the write left them (for a check that
        the row still holds the request it was aimed at); {} for a store without tags.
        Raises RowsGone when a tagged row no longer exists (nothing is written then).
        """

    def append_rows(self, title: str, rows: list[list[CellValue]]) -> None:
        """Add rows after the last row holding data, found when the write lands (one call)."""

    def append_many(self, rows: Mapping[str, list[list[CellValue]]]) -> None:
        """Add rows at the end of several tabs in ONE call, all or nothing: {title: rows}."""

    def describe(self) -> dict[str, Any]:
        """What `init` and `doctor` need to know: tab titles, frozen rows, validations, formats."""

    def apply_init(self, plan: InitPlan) -> None:
        """Make the sheet's structure match the plan (create tabs, headers, dropdowns...)."""

    def lock(self) -> AbstractContextManager[None]:
        """Hold the sheet against a second job for a run (raises StoreUnavailable)."""

    def location(self) -> str:
        """Where the sheet is, for messages: a file path or a spreadsheet URL."""
