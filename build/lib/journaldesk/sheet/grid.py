"""The raw grid a store reads and writes, and A1 notation: the one place both are written down.

The store layer speaks in these types; the sheet layer parses them. Neither needs the other's
logic, so both import from here.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

# A raw cell as a store returns it: str, int, float, bool, datetime/date/time (workbook date
# cells), a Google serial number (float) for a Google date cell, or None for an empty cell.
RawValue = Any
# A value the jobs write: plain Python only (no NaN, no numpy scalars).
CellValue = str | int | float | bool | dt.datetime | dt.date | dt.time | None

_A1_CELL = re.compile(r"^\$?([A-Za-z]*)\$?(\d*)$")


def column_letter(col: int) -> str:
    """The sheet letter of a 1-based column number: 1 -> A, 27 -> AA."""
    letters = ""
    while col > 0:
        col, rest = divmod(col - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def column_number(letters: str) -> int:
    """The 1-based column number of sheet letters: A -> 1, AA -> 27 (0 for no letters)."""
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return col


def quote_title(title: str) -> str:
    """A sheet title quoted for an A1 range ('My tab', with ' doubled)."""
    return "'" + title.replace("'", "''") + "'"


def a1_start(range_a1: str) -> tuple[int, int]:
    """1-based (row, col) of the top-left cell of a range such as 'Tab'!B3:D9 (1 when absent)."""
    part = range_a1.rpartition("!")[2].split(":")[0]
    match = _A1_CELL.match(part)
    if not match:
        return 1, 1
    letters, digits = match.groups()
    return (int(digits) if digits else 1), (column_number(letters) or 1)


@dataclass
class TabData:
    """The raw cells of one tab. rows[0] is the header row (sheet row 1); rows[i] is sheet row i+1.

    Rows may be ragged: trailing empty cells can be missing, as the Sheets API omits them.
    """

    title: str
    rows: list[list[RawValue]]
    sheet_id: int | None = None

    def cell(self, row: int, col: int) -> RawValue:
        """The raw value at 1-based (row, col), None when outside the data."""
        if row - 1 >= len(self.rows):
            return None
        values = self.rows[row - 1]
        return values[col - 1] if col - 1 < len(values) else None


@dataclass
class Snapshot:
    """Every tab of the sheet, read in one pass, by title."""

    tabs: dict[str, TabData]
    # The spreadsheet's own time zone (Google serials are in it); None for a workbook.
    time_zone: str | None = None
