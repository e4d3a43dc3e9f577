"""A local, stateful Google Sheets API v4 server for tests.

It speaks the subset of the API that gspread 6.2.1 and `journaldesk.store.google` call, with the
wire format of the recorded traffic in tests/sheets_api/cassettes: URL shapes and
%-encoded A1 ranges, JSON bodies, keys Google omits (empty `values`, zero values) and Google's
error body. It also runs the OAuth token endpoint for the signed-JWT grant of a service account,
so the real google-auth flow runs against it.

Tests drive it through helper methods (`create_spreadsheet`, `values`, `set_cell`, `insert_rows`,
`sort_rows`...), inject faults (`fail_next`, `slow_next`, `not_json_next`, `deny`) and staff edits
between a job's read and its write (`before_next`).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime as dt
import json
import math
import random
import re
import secrets
import socket
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

SPREADSHEETS_SCOPE = "https://www.googleapis.com/auth/spreadsheets"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
SERIAL_EPOCH = dt.datetime(1899, 12, 30)

# Copied from the recorded metadata so that responses have Google's structure.
DEFAULT_FORMAT: dict[str, Any] = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM",
    "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {
        "foregroundColor": {},
        "fontFamily": "arial,sans,sans-serif",
        "fontSize": 10,
        "bold": False,
        "italic": False,
        "strikethrough": False,
        "underline": False,
        "foregroundColorStyle": {"rgbColor": {}},
    },
    "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
}
SPREADSHEET_THEME: dict[str, Any] = {
    "primaryFontFamily": "Arial",
    "themeColors": [
        {"colorType": "TEXT", "color": {"rgbColor": {}}},
        {"colorType": "BACKGROUND", "color": {"rgbColor": {"red": 1, "green": 1, "blue": 1}}},
        {
            "colorType": "ACCENT1",
            "color": {"rgbColor": {"red": 0.25882354, "green": 0.52156866, "blue": 0.95686275}},
        },
        {
            "colorType": "ACCENT2",
            "color": {"rgbColor": {"red": 0.91764706, "green": 0.2627451, "blue": 0.20784314}},
        },
        {
            "colorType": "ACCENT3",
            "color": {"rgbColor": {"red": 0.9843137, "green": 0.7372549, "blue": 0.015686275}},
        },
        {
            "colorType": "ACCENT4",
            "color": {"rgbColor": {"red": 0.20392157, "green": 0.65882355, "blue": 0.3254902}},
        },
        {
            "colorType": "ACCENT5",
            "color": {"rgbColor": {"red": 1, "green": 0.42745098, "blue": 0.003921569}},
        },
        {
            "colorType": "ACCENT6",
            "color": {"rgbColor": {"red": 0.27450982, "green": 0.7411765, "blue": 0.7764706}},
        },
        {
            "colorType": "LINK",
            "color": {"rgbColor": {"red": 0.06666667, "green": 0.33333334, "blue": 0.8}},
        },
    ],
}

STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    408: "DEADLINE_EXCEEDED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
FAULT_MESSAGES = {
    408: "Request timed out.",
    429: (
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute "
        "per user' of service 'sheets.googleapis.com' for consumer 'project_number:0'."
    ),
    500: "Internal error encountered.",
    502: "Bad gateway.",
    503: "The service is currently unavailable.",
    504: "The service timed out.",
}


class ApiError(Exception):
    """An error answered in Google's shape."""

    def __init__(
        self,
        code: int,
        message: str,
        status: str | None = None,
        details: list[dict] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.details = details

    def body(self) -> dict[str, Any]:
        """Google's error body."""
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


# --------------------------------------------------------------------------------------- cells


class Cell:
    """One cell: its value (str, int, float, bool or None), formula, number format, validation."""

    __slots__ = ("formula", "number_format", "validation", "value")

    def __init__(
        self,
        value: Any = None,
        formula: str | None = None,
        number_format: dict | None = None,
        validation: dict | None = None,
    ) -> None:
        self.value = value
        self.formula = formula
        self.number_format = number_format
        self.validation = validation

    def is_blank(self) -> bool:
        return self.value is None and self.formula is None

    def __repr__(self) -> str:
        return f"Cell({self.value!r}, formula={self.formula!r})"


@dataclass
class Sheet:
    """One tab of a spreadsheet: its properties and its grid (rows of cells, 0-based)."""

    sheet_id: int
    title: str
    row_count: int = 1000
    column_count: int = 26
    frozen_rows: int = 0
    frozen_columns: int = 0
    rows: list[list[Cell | None]] = field(default_factory=list)
    conditional_formats: list[dict] = field(default_factory=list)
    protected_ranges: list[dict] = field(default_factory=list)
    basic_filter: dict | None = None
    # Developer metadata located on this sheet's rows (DeveloperMetadata JSON, location live).
    metadata: list[dict] = field(default_factory=list)

    def cell(self, r: int, c: int) -> Cell | None:
        """The cell at 0-based (r, c), or None."""
        if r < len(self.rows):
            row = self.rows[r]
            if c < len(row):
                return row[c]
        return None

    def ensure(self, r: int, c: int) -> Cell:
        """The cell at 0-based (r, c), created when missing; the grid grows to hold it."""
        while len(self.rows) <= r:
            self.rows.append([])
        row = self.rows[r]
        if len(row) <= c:
            row.extend([None] * (c + 1 - len(row)))
        cell = row[c]
        if cell is None:
            cell = row[c] = Cell()
        self.row_count = max(self.row_count, r + 1)
        self.column_count = max(self.column_count, c + 1)
        return cell

    def clone(self) -> Sheet:
        """A copy whose grid can change without touching this one (formats and rules are
        replaced, never changed in place, so they may be shared)."""
        rows = [
            [
                None if c is None else Cell(c.value, c.formula, c.number_format, c.validation)
                for c in row
            ]
            for row in self.rows
        ]
        return Sheet(
            self.sheet_id,
            self.title,
            self.row_count,
            self.column_count,
            self.frozen_rows,
            self.frozen_columns,
            rows,
            list(self.conditional_formats),
            list(self.protected_ranges),
            self.basic_filter,
            copy.deepcopy(self.metadata),
        )

    # -- rows moving under their developer metadata (Google: "if developer metadata is associated
    # with row 5 and another row is then inserted above row 5, that original metadata is still
    # associated with the row it was first associated with (what is now row 6). If the
    # associated object is deleted then its metadata is deleted too.")

    def rows_inserted(self, at: int, n: int) -> None:
        """n rows were inserted before 0-based row `at`: metadata below moves down."""
        for item in self.metadata:
            rng = item["location"]["dimensionRange"]
            if rng["startIndex"] >= at:
                rng["startIndex"] += n
                rng["endIndex"] += n
            elif rng["endIndex"] > at:
                rng["endIndex"] += n

    def rows_deleted(self, at: int, n: int) -> None:
        """0-based rows [at, at+n) were deleted: their metadata goes, metadata below moves up."""
        end = at + n
        kept = []
        for item in self.metadata:
            rng = item["location"]["dimensionRange"]
            s0, e0 = rng["startIndex"], rng["endIndex"]
            if at <= s0 and e0 <= end:
                continue
            overlap = max(0, min(e0, end) - max(s0, at))
            start = s0 if s0 < at else (at if s0 < end else s0 - n)
            rng["startIndex"], rng["endIndex"] = start, start + (e0 - s0) - overlap
            kept.append(item)
        self.metadata = kept

    def rows_permuted(self, new_of_old: dict[int, int]) -> None:
        """Rows moved (old 0-based index -> new): metadata follows its rows."""
        for item in self.metadata:
            rng = item["location"]["dimensionRange"]
            moved = [new_of_old.get(i, i) for i in range(rng["startIndex"], rng["endIndex"])]
            rng["startIndex"], rng["endIndex"] = min(moved), max(moved) + 1

    def row_metadata(self, r: int) -> list[dict]:
        """The metadata on 0-based row r (located on a row range holding it)."""
        return [
            m
            for m in self.metadata
            if m["location"]["dimensionRange"]["startIndex"]
            <= r
            < m["location"]["dimensionRange"]["endIndex"]
        ]

    def data_extent(self) -> tuple[int, int]:
        """(rows, columns) of the smallest A1-anchored box holding every non-blank value."""
        n_rows = n_cols = 0
        for i, row in enumerate(self.rows):
            last = 0
            for j in range(len(row) - 1, -1, -1):
                cell = row[j]
                if cell is not None and not cell.is_blank():
                    last = j + 1
                    break
            if last:
                n_rows = i + 1
                n_cols = max(n_cols, last)
        return n_rows, n_cols


@dataclass
class Spreadsheet:
    """A spreadsheet: properties, tabs in order, and whether the service account may open it."""

    spreadsheet_id: str
    title: str
    time_zone: str = "Europe/Simferopol"
    locale: str = "ru_RU"
    sheets: list[Sheet] = field(default_factory=list)
    denied: bool = False
    created: str = field(default_factory=lambda: _rfc3339(dt.datetime.now(dt.UTC)))

    def sheet(self, title: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        raise KeyError(title)

    def sheet_by_id(self, sheet_id: int) -> Sheet:
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        raise ApiError(400, f"Invalid requests: No grid with id: {sheet_id}")

    def find(self, title: str) -> Sheet | None:
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        return None


def _move_rows(sheet: Sheet, start: int, n: int, destination: int) -> None:
    """moveDimension on rows: [start, start+n) goes before `destination` (an index counted
    before the rows are taken out), cells and developer metadata together."""
    total = max(len(sheet.rows), start + n, destination)
    while len(sheet.rows) < total:
        sheet.rows.append([])
    order = list(range(total))
    block = order[start : start + n]
    del order[start : start + n]
    at = destination - n if destination > start else destination
    order[at:at] = block
    sheet.rows = [sheet.rows[i] for i in order]
    sheet.rows_permuted({old: new for new, old in enumerate(order)})


def _rfc3339(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# ------------------------------------------------------------------------------------ A1 ranges


_CELL_RE = re.compile(r"^([A-Za-z]*)(\d*)$")
_PLAIN_TITLE_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_A1_LIKE_RE = re.compile(r"^[A-Za-z]{1,3}\d+$|^[RrCc]\d*$")


def col_letter(col: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def col_number(letters: str) -> int:
    """A -> 1, AA -> 27."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def quote_title(title: str) -> str:
    """A sheet title as Google writes it in a range: quoted unless plain ASCII."""
    if _PLAIN_TITLE_RE.match(title) and not _A1_LIKE_RE.match(title):
        return title
    return "'" + title.replace("'", "''") + "'"


@dataclass
class GridBox:
    """A resolved range: the sheet and 1-based inclusive bounds (None = open end)."""

    sheet: Sheet
    r1: int
    c1: int
    r2: int | None
    c2: int | None
    whole_sheet: bool = False

    def bounded(self) -> tuple[int, int, int, int]:
        """Bounds with open ends closed at the grid's edge."""
        r2 = self.r2 if self.r2 is not None else self.sheet.row_count
        c2 = self.c2 if self.c2 is not None else self.sheet.column_count
        return self.r1, self.c1, r2, c2


def split_range(a1: str) -> tuple[str | None, str]:
    """Split "'My tab'!A1:B2" into ("My tab", "A1:B2"); a bare "A1:B2" gives (None, "A1:B2")."""
    a1 = a1.strip()
    if a1.startswith("'"):
        i, title = 1, []
        while i < len(a1):
            ch = a1[i]
            if ch == "'":
                if i + 1 < len(a1) and a1[i + 1] == "'":
                    title.append("'")
                    i += 2
                    continue
                break
            title.append(ch)
            i += 1
        rest = a1[i + 1 :]
        if rest.startswith("!"):
            return "".join(title), rest[1:]
        if not rest:
            return "".join(title), ""
        raise ApiError(400, f"Unable to parse range: {a1}")
    if "!" in a1:
        title, _, rest = a1.rpartition("!")
        return title, rest
    return None, a1


def resolve_range(book: Spreadsheet, a1: str) -> GridBox:
    """Resolve an A1 range against a spreadsheet the way Google does (or raise 400)."""
    title, part = split_range(a1)
    if title is None:
        sheet = book.find(part)
        if sheet is not None:
            return GridBox(sheet, 1, 1, None, None, whole_sheet=True)
        sheet = book.sheets[0]
    else:
        sheet = book.find(title)
        if sheet is None:
            raise ApiError(400, f"Unable to parse range: {a1}")
    if part == "":
        return GridBox(sheet, 1, 1, None, None, whole_sheet=True)
    first, _, second = part.partition(":")
    m1 = _CELL_RE.match(first)
    m2 = _CELL_RE.match(second) if second else m1
    if not m1 or not m2 or not (m1.group(0) and m2.group(0)):
        raise ApiError(400, f"Unable to parse range: {a1}")
    c1 = col_number(m1.group(1)) if m1.group(1) else 1
    r1 = int(m1.group(2)) if m1.group(2) else 1
    c2 = col_number(m2.group(1)) if m2.group(1) else None
    r2 = int(m2.group(2)) if m2.group(2) else None
    if not second:
        # A single cell "B3", a whole column "B" or a whole row "3".
        c2 = c1 if m1.group(1) else None
        r2 = r1 if m1.group(2) else None
    if r1 == 0 or (r2 is not None and r2 == 0):
        raise ApiError(400, f"Unable to parse range: {a1}")
    if r2 is not None and r2 < r1:
        r1, r2 = r2, r1
    if c2 is not None and c2 < c1:
        c1, c2 = c2, c1
    return GridBox(sheet, r1, c1, r2, c2)


def format_range(sheet: Sheet, r1: int, c1: int, r2: int, c2: int) -> str:
    """'Title'!A1:C3 (a single cell as 'Title'!A1)."""
    start = f"{col_letter(c1)}{r1}"
    end = f"{col_letter(c2)}{r2}"
    body = start if start == end else f"{start}:{end}"
    return f"{quote_title(sheet.title)}!{body}"


def grid_range_box(book: Spreadsheet, grid_range: dict) -> tuple[Sheet, int, int, int, int]:
    """A GridRange (0-based, end exclusive, open ends allowed) as 0-based bounds on a sheet."""
    sheet = book.sheet_by_id(int(grid_range.get("sheetId", 0)))
    r1 = int(grid_range.get("startRowIndex", 0))
    c1 = int(grid_range.get("startColumnIndex", 0))
    r2 = int(grid_range.get("endRowIndex", sheet.row_count))
    c2 = int(grid_range.get("endColumnIndex", sheet.column_count))
    if r2 > sheet.row_count or c2 > sheet.column_count:
        raise ApiError(
            400,
            f"Invalid requests: Range ({quote_title(sheet.title)}!"
            f"{col_letter(c1 + 1)}{r1 + 1}:{col_letter(c2)}{r2}) exceeds grid limits. "
            f"Max rows: {sheet.row_count}, max columns: {sheet.column_count}",
        )
    return sheet, r1, c1, r2, c2


def public_grid_range(grid_range: dict) -> dict:
    """A GridRange as Google echoes it: zero sheetId omitted, key order normalised."""
    out = {}
    for key in ("sheetId", "startRowIndex", "endRowIndex", "startColumnIndex", "endColumnIndex"):
        if key in grid_range and grid_range[key] is not None:
            if key == "sheetId" and grid_range[key] == 0:
                continue
            out[key] = grid_range[key]
    return out


# ------------------------------------------------------------------------- values and formats


def to_serial(moment: dt.datetime | dt.date | dt.time) -> float:
    """A date/datetime/time as a spreadsheet serial number (days since 1899-12-30)."""
    if isinstance(moment, dt.datetime):
        delta = moment.replace(tzinfo=None) - SERIAL_EPOCH
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86400e6
    if isinstance(moment, dt.date):
        return float((moment - SERIAL_EPOCH.date()).days)
    return (moment.hour * 3600 + moment.minute * 60 + moment.second) / 86400


def from_serial(serial: float) -> dt.datetime:
    """A serial number as a naive datetime (rounded to the second)."""
    return SERIAL_EPOCH + dt.timedelta(seconds=round(serial * 86400))


def json_number(value: float | int) -> float | int:
    """Integral numbers as Google prints them (1, not 1.0)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


_DATE_PATTERNS = {
    "DATE": "dd.mm.yyyy",
    "DATE_TIME": "dd.mm.yyyy hh:mm:ss",
    "TIME": "hh:mm:ss",
}
_EN_DATE_PATTERNS = {"DATE": "m/d/yyyy", "DATE_TIME": "m/d/yyyy h:mm:ss", "TIME": "h:mm:ss am/pm"}
_TOKEN_RE = re.compile(r"yyyy|yy|mmmm|mmm|mm|m|dddd|ddd|dd|d|hh|h|ss|s|am/pm|\[h\]|.", re.I)


def is_date_format(number_format: dict | None) -> bool:
    """True for DATE, TIME and DATE_TIME number formats."""
    return bool(number_format) and number_format.get("type") in ("DATE", "TIME", "DATE_TIME")


def format_serial(serial: float, pattern: str) -> str:
    """Render a serial number with a date/time pattern such as "dd.mm.yyyy hh:mm"."""
    moment = from_serial(serial)
    tokens = _TOKEN_RE.findall(pattern)
    out: list[str] = []
    for i, token in enumerate(tokens):
        low = token.lower()
        prev = next((t.lower() for t in reversed(tokens[:i]) if t.isalpha()), "")
        nxt = next((t.lower() for t in tokens[i + 1 :] if t.isalpha()), "")
        if low == "yyyy":
            out.append(f"{moment.year:04d}")
        elif low == "yy":
            out.append(f"{moment.year % 100:02d}")
        elif low in ("mm", "m"):
            minutes = prev.startswith("h") or nxt.startswith("s")
            number = moment.minute if minutes else moment.month
            out.append(f"{number:02d}" if low == "mm" else str(number))
        elif low == "dd":
            out.append(f"{moment.day:02d}")
        elif low == "d":
            out.append(str(moment.day))
        elif low == "hh":
            out.append(f"{moment.hour:02d}")
        elif low == "h":
            hour = moment.hour
            if "am/pm" in pattern.lower():
                hour = hour % 12 or 12
            out.append(str(hour))
        elif low == "ss":
            out.append(f"{moment.second:02d}")
        elif low == "s":
            out.append(str(moment.second))
        elif low == "am/pm":
            out.append("AM" if moment.hour < 12 else "PM")
        else:
            out.append(token)
    return "".join(out)


def format_number(value: float | int, locale: str) -> str:
    """A number as the "automatic" format shows it."""
    value = json_number(value)
    if isinstance(value, int):
        return str(value)
    text = f"{value:.10g}"
    return text.replace(".", ",") if locale.startswith("ru") else text


def render(cell: Cell | None, value_option: str, datetime_option: str, locale: str) -> Any:
    """A cell's value as values.get renders it."""
    if cell is None or cell.is_blank():
        return ""
    if value_option == "FORMULA" and cell.formula is not None:
        return cell.formula
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        if value_option == "FORMATTED_VALUE":
            return "TRUE" if value else "FALSE"
        return value
    if isinstance(value, (int, float)):
        date_like = is_date_format(cell.number_format)
        if value_option == "FORMATTED_VALUE" or (
            date_like and datetime_option == "FORMATTED_STRING"
        ):
            if date_like:
                return format_serial(float(value), cell.number_format["pattern"])
            return format_number(value, locale)
        return json_number(value)
    return value


_EN_NUMBER_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_RU_NUMBER_RE = re.compile(r"^[+-]?(\d+(,\d*)?|,\d+)([eE][+-]?\d+)?$")
_RU_DATE_RE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_EN_DATE_RE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def _date_cell(y: int, mo: int, d: int, hh: str | None, mi: str | None, ss: str | None) -> Cell:
    try:
        moment = dt.datetime(y, mo, d, int(hh or 0), int(mi or 0), int(ss or 0))
    except ValueError:
        raise _NotADate from None
    kind = "DATE_TIME" if hh is not None else "DATE"
    pattern = "dd.mm.yyyy" + (" hh:mm" if ss is None else " hh:mm:ss") if hh else "dd.mm.yyyy"
    return Cell(to_serial(moment), number_format={"type": kind, "pattern": pattern})


class _NotADate(Exception):
    pass


def evaluate_formula(formula: str) -> Any:
    """A computed value for the few formulas tests type: arithmetic and HYPERLINK."""
    body = formula[1:].strip()
    link = re.match(r'^HYPERLINK\(\s*"([^"]*)"\s*(?:[;,]\s*"([^"]*)"\s*)?\)$', body, re.I)
    if link:
        return link.group(2) if link.group(2) is not None else link.group(1)
    if re.fullmatch(r"[\d\s.+\-*/()]+", body):
        try:
            result = eval(body, {"__builtins__": {}}, {})  # only digits and operators
        except Exception:
            return "#ERROR!"
        return json_number(result) if isinstance(result, (int, float)) else "#ERROR!"
    return "#NAME?"


def parse_user_entered(value: Any, locale: str) -> Cell:
    """What a cell holds after a person types `value` (valueInputOption=USER_ENTERED)."""
    if not isinstance(value, str):
        return Cell(value)
    text = value
    if text.startswith("'"):
        return Cell(text[1:])
    if text.startswith("=") and len(text) > 1:
        return Cell(evaluate_formula(text), formula=text)
    stripped = text.strip()
    if stripped.upper() in ("TRUE", "FALSE", "ИСТИНА", "ЛОЖЬ"):
        return Cell(stripped.upper() in ("TRUE", "ИСТИНА"))
    russian = locale.startswith("ru")
    number_re = _RU_NUMBER_RE if russian else _EN_NUMBER_RE
    if number_re.match(stripped):
        number = float(stripped.replace(",", ".")) if russian else float(stripped)
        return Cell(json_number(number))
    try:
        if m := _ISO_DATE_RE.match(stripped):
            y, mo, d, hh, mi, ss = m.groups()
            return _date_cell(int(y), int(mo), int(d), hh, mi, ss)
        if russian and (m := _RU_DATE_RE.match(stripped)):
            d, mo, y, hh, mi, ss = m.groups()
            return _date_cell(int(y), int(mo), int(d), hh, mi, ss)
        if not russian and (m := _EN_DATE_RE.match(stripped)):
            mo, d, y, hh, mi, ss = m.groups()
            return _date_cell(int(y), int(mo), int(d), hh, mi, ss)
    except _NotADate:
        return Cell(text)
    if m := _TIME_RE.match(stripped):
        hh, mi, ss = m.groups()
        if int(hh) < 24 and int(mi) < 60:
            seconds = int(hh) * 3600 + int(mi) * 60 + int(ss or 0)
            pattern = "hh:mm" if ss is None else "hh:mm:ss"
            return Cell(seconds / 86400, number_format={"type": "TIME", "pattern": pattern})
    return Cell(text)


def _python_cell(value: Any) -> Cell:
    """A cell from a Python value given to a helper: dates become serials with a date format."""
    if isinstance(value, Cell):
        return value
    if isinstance(value, dt.datetime):
        return Cell(
            to_serial(value), number_format={"type": "DATE_TIME", "pattern": "dd.mm.yyyy hh:mm"}
        )
    if isinstance(value, dt.date):
        return Cell(to_serial(value), number_format={"type": "DATE", "pattern": "dd.mm.yyyy"})
    if isinstance(value, dt.time):
        return Cell(to_serial(value), number_format={"type": "TIME", "pattern": "hh:mm"})
    if value == "":
        value = None
    return Cell(value)


def _user_entered_value(cell: Cell) -> dict[str, Any]:
    if cell.formula is not None:
        return {"formulaValue": cell.formula}
    return _extended_value(cell.value)


def _extended_value(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, (int, float)):
        return {"numberValue": json_number(value)}
    return {"stringValue": value}


# ------------------------------------------------------------------------------ field masks


def parse_field_mask(mask: str) -> dict[str, Any] | None:
    """Parse "a.b,c(d,e/f)" into a tree {name: subtree or None (everything)}; "*" -> None."""
    tokens = re.findall(r"[A-Za-z0-9_*@]+|[.,()/]", mask.replace(" ", ""))
    pos = 0

    def merge(tree: dict, path: list[str], sub: dict | None) -> None:
        node = tree
        for name in path[:-1]:
            if name in node and node[name] is None:
                return
            node = node.setdefault(name, {})
        last = path[-1]
        if sub is None or (last in node and node[last] is None):
            node[last] = None
        else:
            existing = node.setdefault(last, {})
            for key, value in sub.items():
                merge(existing, [key], value)

    def parse_list() -> dict:
        nonlocal pos
        tree: dict = {}
        while pos < len(tokens) and tokens[pos] != ")":
            path = [tokens[pos]]
            pos += 1
            while pos < len(tokens) and tokens[pos] in (".", "/"):
                path.append(tokens[pos + 1])
                pos += 2
            sub = None
            if pos < len(tokens) and tokens[pos] == "(":
                pos += 1
                sub = parse_list()
                pos += 1  # ")"
            merge(tree, path, sub)
            if pos < len(tokens) and tokens[pos] == ",":
                pos += 1
        return tree

    if mask.strip() in ("", "*"):
        return None
    return parse_list()


def apply_field_mask(obj: Any, tree: dict | None) -> Any:
    """Keep only the fields the mask selects (lists apply the mask to each element)."""
    if tree is None or "*" in tree:
        return obj
    if isinstance(obj, list):
        return [apply_field_mask(item, tree) for item in obj]
    if isinstance(obj, dict):
        return {k: apply_field_mask(obj[k], sub) for k, sub in tree.items() if k in obj}
    return obj


def mask_selects(tree: dict | None, *path: str) -> bool:
    """True when the mask selects something at or below `path`."""
    node: Any = tree
    for name in path:
        if node is None:
            return True
        if name not in node:
            return False
        node = node[name]
    return True


# ---------------------------------------------------------------------------- the server


Predicate = Callable[[str, str, dict[str, list[str]], Any], bool]


@dataclass
class _Hook:
    predicate: Predicate
    action: Callable[[SheetsApiServer], None]


class SheetsApiServer:
    """A local Sheets API v4 (and OAuth token endpoint) on 127.0.0.1 and a free port."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._connections: set[socket.socket] = set()
        self.public_keys: dict[str, Any] = {}
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.tokens: dict[str, tuple[str, float]] = {}
        self.token_requests = 0
        self.calls: list[tuple[str, str, dict[str, list[str]]]] = []
        self._faults: list[tuple[str, Any]] = []
        self._hooks: list[_Hook] = []
        self.require_auth = True
        self.port = 0
        self._held: socket.socket | None = None  # the port, kept while stopped
        self._email = ""
        self.sort_moves_metadata = False

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        """Base URL, to use as `api_url`."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_uri(self) -> str:
        """The OAuth token endpoint, to put in a service-account key's `token_uri`."""
        return f"{self.url}/token"

    def start(self) -> SheetsApiServer:
        """Bind to a free loopback port and serve in a daemon thread."""
        handler = type("Handler", (_Handler,), {"api": self})
        self._stopping.clear()
        if self._held is not None:
            self._held.close()
            self._held = None
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open keep-alive connections: later requests are refused."""
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
            self._hold_port()
        with self._lock:
            connections = list(self._connections)
            self._connections.clear()
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _hold_port(self) -> None:
        # Bound but not listening: requests to the stopped server stay refused, and no other
        # server (a parallel test worker's) can take the port meanwhile.
        held = socket.socket()
        held.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            held.bind(("127.0.0.1", self.port))
        except OSError:
            held.close()
            return
        self._held = held

    def __enter__(self) -> SheetsApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget spreadsheets, calls, faults and hooks (registered keys and tokens stay)."""
        with self._lock:
            self.spreadsheets.clear()
            self.calls.clear()
            self._faults.clear()
            self._hooks.clear()
            self.require_auth = True

    # ------------------------------------------------------------------ test helpers

    def register_key(self, client_email: str, public_key_pem: bytes) -> None:
        """Trust JWTs signed by this service account's key."""
        self.public_keys[client_email] = serialization.load_pem_public_key(public_key_pem)

    def create_spreadsheet(
        self,
        title: str = "Журнал обращений",
        sheets: dict[str, list[list[Any]]] | None = None,
        time_zone: str = "Europe/Simferopol",
        locale: str = "ru_RU",
        spreadsheet_id: str | None = None,
    ) -> str:
        """Create a spreadsheet with these tabs and values (stored as typed); return its id."""
        sid = spreadsheet_id or self._new_spreadsheet_id()
        book = Spreadsheet(sid, title, time_zone, locale)
        if not sheets:
            sheets = {"Лист1" if locale.startswith("ru") else "Sheet1": []}
        for index, (name, rows) in enumerate(sheets.items()):
            sheet = Sheet(0 if index == 0 else self._new_sheet_id(book), name)
            for r, row in enumerate(rows):
                for c, value in enumerate(row):
                    cell = _python_cell(value)
                    if not cell.is_blank() or cell.number_format:
                        target = sheet.ensure(r, c)
                        target.value, target.formula = cell.value, cell.formula
                        target.number_format = cell.number_format or target.number_format
            book.sheets.append(sheet)
        with self._lock:
            self.spreadsheets[sid] = book
        return sid

    def book(self, spreadsheet_id: str) -> Spreadsheet:
        """The spreadsheet object itself, for tests that look deeper."""
        return self.spreadsheets[spreadsheet_id]

    def values(self, spreadsheet_id: str, title: str) -> list[list[Any]]:
        """Every row of a tab as stored: formulas as text, None for blank, trailing trimmed."""
        with self._lock:
            sheet = self.spreadsheets[spreadsheet_id].sheet(title)
            n_rows, _ = sheet.data_extent()
            out = []
            for r in range(n_rows):
                row = []
                for cell in sheet.rows[r]:
                    if cell is None or cell.is_blank():
                        row.append(None)
                    else:
                        row.append(cell.formula if cell.formula is not None else cell.value)
                while row and row[-1] is None:
                    row.pop()
                out.append(row)
            return out

    def cell(self, spreadsheet_id: str, title: str, row: int, col: int) -> Cell | None:
        """The cell at 1-based (row, col)."""
        with self._lock:
            return self.spreadsheets[spreadsheet_id].sheet(title).cell(row - 1, col - 1)

    def set_cell(
        self,
        spreadsheet_id: str,
        title: str,
        row: int,
        col: int,
        value: Any,
        *,
        user_entered: bool = False,
    ) -> None:
        """Set one cell as staff do: typed (user_entered=True, parsed as a browser does) or raw."""
        with self._lock:
            book = self.spreadsheets[spreadsheet_id]
            sheet = book.sheet(title)
            new = parse_user_entered(value, book.locale) if user_entered else _python_cell(value)
            cell = sheet.ensure(row - 1, col - 1)
            cell.value, cell.formula = new.value, new.formula
            if new.number_format:
                cell.number_format = new.number_format

    def insert_rows(
        self, spreadsheet_id: str, title: str, at_row: int, rows: list[list[Any]]
    ) -> None:
        """Insert rows before 1-based `at_row`, shifting the rows below down (as staff do)."""
        with self._lock:
            sheet = self.spreadsheets[spreadsheet_id].sheet(title)
            while len(sheet.rows) < at_row - 1:
                sheet.rows.append([])
            new_rows: list[list[Cell | None]] = [[_python_cell(v) for v in row] for row in rows]
            sheet.rows[at_row - 1 : at_row - 1] = new_rows
            sheet.rows_inserted(at_row - 1, len(rows))
            sheet.row_count += len(rows)
            sheet.column_count = max([sheet.column_count, *(len(r) for r in rows)])

    def delete_row(self, spreadsheet_id: str, title: str, row: int) -> None:
        """Delete 1-based `row`, shifting the rows below up."""
        with self._lock:
            sheet = self.spreadsheets[spreadsheet_id].sheet(title)
            if row - 1 < len(sheet.rows):
                del sheet.rows[row - 1]
            sheet.rows_deleted(row - 1, 1)
            sheet.row_count = max(1, sheet.row_count - 1)

    def move_row(self, spreadsheet_id: str, title: str, row: int, before: int) -> None:
        """Drag 1-based `row` to sit before 1-based row `before` (as counted before the move),
        as staff do; its developer metadata goes with it (moveDimension)."""
        with self._lock:
            sheet = self.spreadsheets[spreadsheet_id].sheet(title)
            _move_rows(sheet, row - 1, 1, before - 1)

    def sort_rows(
        self,
        spreadsheet_id: str,
        title: str,
        col: int,
        from_row: int = 2,
        *,
        reverse: bool = False,
        metadata_follows: bool | None = None,
    ) -> None:
        """Sort the data rows from `from_row` on by column `col` (blanks last), as staff do.

        Google does not document what a sort does to row developer metadata. By default the
        metadata stays where it was (cell contents move under it), the worse case for a job that
        finds rows by metadata; `metadata_follows=True` (or `sort_moves_metadata`) moves it."""
        follows = self.sort_moves_metadata if metadata_follows is None else metadata_follows
        with self._lock:
            sheet = self.spreadsheets[spreadsheet_id].sheet(title)
            n_rows, _ = sheet.data_extent()
            while len(sheet.rows) < n_rows:
                sheet.rows.append([])
            block = sheet.rows[from_row - 1 : n_rows]
            where = {id(r): i for i, r in enumerate(block)}

            def key(row: list[Cell | None]) -> tuple:
                cell = row[col - 1] if col - 1 < len(row) else None
                value = None if cell is None else cell.value
                if value is None:
                    return (2, 0, "")
                if isinstance(value, (int, float)):
                    return (0, value, "")
                return (1, 0, str(value))

            present = [r for r in block if key(r)[0] != 2]
            blank = [r for r in block if key(r)[0] == 2]
            present.sort(key=key, reverse=reverse)
            sheet.rows[from_row - 1 : n_rows] = present + blank
            if follows:
                base = from_row - 1
                order = present + blank
                sheet.rows_permuted({base + where[id(r)]: base + i for i, r in enumerate(order)})

    def deny(self, spreadsheet_id: str, denied: bool = True) -> None:
        """Mark a spreadsheet as not shared with the service account (403)."""
        with self._lock:
            self.spreadsheets[spreadsheet_id].denied = denied

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        """Answer the next `n` API requests with this error status in Google's shape."""
        with self._lock:
            self._faults.extend([("fail", status)] * n)

    def slow_next(self, seconds: float, n: int = 1) -> None:
        """Delay the next `n` API requests by `seconds` before serving them."""
        with self._lock:
            self._faults.extend([("slow", seconds)] * n)

    def not_json_next(self, n: int = 1) -> None:
        """Answer the next `n` API requests with an HTML page, as a proxy or captive portal does."""
        with self._lock:
            self._faults.extend([("html", None)] * n)

    def before_next(self, predicate: Predicate, fn: Callable[[SheetsApiServer], None]) -> None:
        """Run `fn(server)` just before serving the first request that matches
        `predicate(method, path, query, body)` (path decoded, query as lists, body as JSON)."""
        with self._lock:
            self._hooks.append(_Hook(predicate, fn))

    def reset_calls(self) -> None:
        """Forget the recorded calls."""
        with self._lock:
            self.calls.clear()

    def count(self, method: str | None = None, contains: str = "") -> int:
        """How many recorded calls match a method and a path fragment."""
        return sum(
            1 for m, path, _ in self.calls if (method is None or m == method) and contains in path
        )

    # ------------------------------------------------------------------ dispatch

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Serve one request: (status, headers, body)."""
        parsed = urllib.parse.urlsplit(raw_path)
        query = urllib.parse.parse_qs(parsed.query, keep_blank_values=True)
        path = parsed.path
        if path == "/token" and method == "POST":
            return self._token(body)
        decoded_path = urllib.parse.unquote(path)
        with self._lock:
            self.calls.append((method, decoded_path, query))
            fault = self._faults.pop(0) if self._faults else None
        if fault is not None:
            kind, arg = fault
            if kind == "fail":
                return self._error(ApiError(arg, FAULT_MESSAGES.get(arg, "Error.")))
            if kind == "html":
                page = b"<html><head><title>502</title></head><body>Bad Gateway</body></html>"
                return 200, {"Content-Type": "text/html; charset=UTF-8"}, page
            if kind == "slow":
                self._stopping.wait(arg)
        try:
            if self.require_auth:
                self._check_auth(headers)
            payload = json.loads(body) if body else None
        except ApiError as exc:
            return self._error(exc)
        except ValueError:
            return self._error(ApiError(400, "Invalid JSON payload received."))
        email = self.tokens.get(_bearer(headers), ("", 0.0))[0]
        hook = None
        with self._lock:
            for candidate in self._hooks:
                if candidate.predicate(method, decoded_path, query, payload):
                    hook = candidate
                    self._hooks.remove(candidate)
                    break
        if hook is not None:
            hook.action(self)
        try:
            with self._lock:
                self._email = email
                status, result = self._route(method, path, query, payload)
        except ApiError as exc:
            return self._error(exc)
        if status == 204:
            return 204, {}, b""
        data = json.dumps(result, ensure_ascii=False, separators=(",", ":")).encode()
        return status, {"Content-Type": "application/json; charset=UTF-8"}, data

    def _error(self, exc: ApiError) -> tuple[int, dict[str, str], bytes]:
        body = json.dumps(exc.body(), ensure_ascii=False).encode()
        return exc.code, {"Content-Type": "application/json; charset=UTF-8"}, body

    def _route(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        if path.startswith("/drive/v3/files"):
            return self._drive(method, path, body)
        if not path.startswith("/v4/spreadsheets/"):
            raise ApiError(404, f"Method not found: {path}")
        rest = path[len("/v4/spreadsheets/") :]
        sid_raw, _, tail = rest.partition("/")
        action = ""
        if ":" in sid_raw:
            sid_raw, _, action = sid_raw.partition(":")
        book = self._book(urllib.parse.unquote(sid_raw))
        book.__dict__.pop("_by_value", None)  # look-up index of one request only
        q1 = {k: v[-1] for k, v in query.items()}
        if not tail:
            if method == "GET" and not action:
                return 200, self._get_spreadsheet(book, query)
            if method == "POST" and action == "batchUpdate":
                fields = query.get("fields", [""])[-1]
                inner = re.search(r"updatedSpreadsheet\((.*)\)\s*$", fields)
                result = self._batch_update(book, body or {}, inner.group(1) if inner else "")
                if "fields" in query:
                    result = apply_field_mask(result, parse_field_mask(query["fields"][-1]))
                return 200, result
            raise ApiError(404, "Method not found.")
        if tail == "developerMetadata:search" and method == "POST":
            return 200, self._metadata_search(book, body or {})
        if tail.startswith("developerMetadata/") and method == "GET":
            return 200, self._metadata_get(book, tail[len("developerMetadata/") :])
        if tail.startswith("values:"):
            verb = tail[len("values:") :]
            if verb == "batchGetByDataFilter" and method == "POST":
                return 200, self._values_get_by_filter(book, body or {})
            if verb == "batchUpdateByDataFilter" and method == "POST":
                return 200, self._values_update_by_filter(book, body or {})
            if verb == "batchGet" and method == "GET":
                return 200, self._values_batch_get(book, query.get("ranges", []), q1)
            if verb == "batchUpdate" and method == "POST":
                return 200, self._values_batch_update(book, body or {})
            if verb == "batchClear" and method == "POST":
                ranges = (body or {}).get("ranges", [])
                cleared = [self._clear(book, r) for r in ranges]
                return 200, {"spreadsheetId": book.spreadsheet_id, "clearedRanges": cleared}
            raise ApiError(404, "Method not found.")
        if tail.startswith("values/"):
            encoded = tail[len("values/") :]
            verb = ""
            if ":" in encoded:
                encoded, _, verb = encoded.rpartition(":")
            a1 = urllib.parse.unquote(encoded)
            if verb == "" and method == "GET":
                return 200, self._values_get(book, a1, q1)
            if verb == "" and method == "PUT":
                return 200, self._values_update(book, a1, q1, body or {})
            if verb == "append" and method == "POST":
                return 200, self._values_append(book, a1, q1, body or {})
            if verb == "clear" and method == "POST":
                return 200, {
                    "spreadsheetId": book.spreadsheet_id,
                    "clearedRange": self._clear(book, a1),
                }
        raise ApiError(404, "Method not found.")

    def _book(self, spreadsheet_id: str) -> Spreadsheet:
        book = self.spreadsheets.get(spreadsheet_id)
        if book is None:
            raise ApiError(404, "Requested entity was not found.")
        if book.denied:
            raise ApiError(403, "The caller does not have permission")
        return book

    def _new_spreadsheet_id(self) -> str:
        alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        return "1" + "".join(secrets.choice(alphabet) for _ in range(43))

    def _new_sheet_id(self, book: Spreadsheet) -> int:
        taken = {s.sheet_id for s in book.sheets}
        while True:
            candidate = random.randint(100_000_000, 2_147_483_647)
            if candidate not in taken:
                return candidate

    # ------------------------------------------------------------------ auth

    def _token(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        self.token_requests += 1
        form = urllib.parse.parse_qs(body.decode(), keep_blank_values=True)
        headers = {"Content-Type": "application/json; charset=utf-8"}

        def oauth_error(error: str, description: str) -> tuple[int, dict[str, str], bytes]:
            data = {"error": error, "error_description": description}
            return 400, headers, json.dumps(data).encode()

        if form.get("grant_type", [""])[0] != JWT_GRANT_TYPE:
            return oauth_error("unsupported_grant_type", "Invalid grant_type.")
        assertion = form.get("assertion", [""])[0]
        try:
            head_b64, payload_b64, sig_b64 = assertion.split(".")
            header = json.loads(_b64decode(head_b64))
            claims = json.loads(_b64decode(payload_b64))
            signature = _b64decode(sig_b64)
        except ValueError:
            return oauth_error("invalid_grant", "Invalid JWT.")
        if header.get("alg") != "RS256":
            return oauth_error("invalid_grant", "Invalid JWT algorithm.")
        key = self.public_keys.get(claims.get("iss", ""))
        if key is None:
            return oauth_error("invalid_grant", "Invalid grant: account not found")
        try:
            key.verify(
                signature,
                f"{head_b64}.{payload_b64}".encode(),
                padding.PKCS1v15(),
                hashes.SHA256(),
            )
        except InvalidSignature:
            return oauth_error("invalid_grant", "Invalid JWT Signature.")
        now = time.time()
        if claims.get("aud") not in (GOOGLE_TOKEN_URI, self.token_uri):
            return oauth_error("invalid_grant", "Invalid JWT: Failed audience check.")
        if not claims.get("exp") or claims["exp"] < now - 30 or claims.get("iat", 0) > now + 300:
            return oauth_error("invalid_grant", "Invalid JWT: Token must be a short-lived token.")
        if set(str(claims.get("scope", "")).split()) != {SPREADSHEETS_SCOPE}:
            return oauth_error("invalid_scope", "Only the spreadsheets scope is granted here.")
        token = "ya29.local-" + secrets.token_urlsafe(24)
        with self._lock:
            self.tokens[token] = (claims["iss"], now + 3599)
        data = {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}
        return 200, headers, json.dumps(data).encode()

    def _check_auth(self, headers: dict[str, str]) -> str:
        entry = self.tokens.get(_bearer(headers))
        if entry is None or entry[1] < time.time():
            raise ApiError(
                401,
                "Request is missing required authentication credential. Expected OAuth 2 "
                "access token, login cookie or other valid authentication credential.",
            )
        return entry[0]

    # ------------------------------------------------------------------ drive (for cassettes)

    def _drive(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        parts = path.split("/")
        if method == "POST" and len(parts) == 4:
            name = (body or {}).get("name", "Untitled")
            sid = self.create_spreadsheet(name, {"Sheet1": []}, "Etc/GMT", "en_US")
            return 200, {
                "kind": "drive#file",
                "id": sid,
                "name": name,
                "mimeType": "application/vnd.google-apps.spreadsheet",
            }
        sid = urllib.parse.unquote(parts[4]) if len(parts) > 4 else ""
        book = self.spreadsheets.get(sid)
        if book is None:
            raise ApiError(404, f"File not found: {sid}.")
        if method == "GET":
            return 200, {
                "id": sid,
                "name": book.title,
                "createdTime": book.created,
                "modifiedTime": book.created,
            }
        if method == "DELETE":
            del self.spreadsheets[sid]
            return 204, None
        raise ApiError(404, "Method not found.")

    # ------------------------------------------------------------------ spreadsheets.get

    def _get_spreadsheet(self, book: Spreadsheet, query: dict[str, list[str]]) -> dict:
        mask = parse_field_mask(query["fields"][-1]) if "fields" in query else None
        if "fields" in query:
            want_data = mask_selects(mask, "sheets", "data")
        else:
            want_data = query.get("includeGridData", ["false"])[-1].lower() == "true"
        ranges = query.get("ranges", [])
        boxes: dict[int, list[GridBox]] = {}
        for a1 in ranges:
            box = resolve_range(book, a1)
            boxes.setdefault(box.sheet.sheet_id, []).append(box)
        sheets_out = []
        for index, sheet in enumerate(book.sheets):
            if ranges and sheet.sheet_id not in boxes:
                continue
            entry: dict[str, Any] = {"properties": self._sheet_properties(sheet, index)}
            if want_data:
                sheet_boxes = boxes.get(sheet.sheet_id) or [GridBox(sheet, 1, 1, None, None)]
                want = None  # which CellData keys the mask keeps (None: all), to skip the rest
                node = mask
                for name in ("sheets", "data", "rowData", "values"):
                    node = node.get(name) if isinstance(node, dict) else None
                if isinstance(node, dict):
                    want = set(node)
                entry["data"] = [self._grid_data(book, box, want) for box in sheet_boxes]
            if sheet.conditional_formats:
                entry["conditionalFormats"] = copy.deepcopy(sheet.conditional_formats)
            if sheet.basic_filter is not None:
                entry["basicFilter"] = copy.deepcopy(sheet.basic_filter)
            if sheet.protected_ranges:
                entry["protectedRanges"] = [
                    self._public_protected(p, in_metadata=True) for p in sheet.protected_ranges
                ]
            sheets_out.append(entry)
        result = {
            "spreadsheetId": book.spreadsheet_id,
            "properties": {
                "title": book.title,
                "locale": book.locale,
                "autoRecalc": "ON_CHANGE",
                "timeZone": book.time_zone,
                "defaultFormat": copy.deepcopy(DEFAULT_FORMAT),
                "spreadsheetTheme": copy.deepcopy(SPREADSHEET_THEME),
            },
            "sheets": sheets_out,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit",
        }
        return apply_field_mask(result, mask)

    def _sheet_properties(self, sheet: Sheet, index: int) -> dict:
        grid: dict[str, Any] = {"rowCount": sheet.row_count, "columnCount": sheet.column_count}
        if sheet.frozen_rows:
            grid["frozenRowCount"] = sheet.frozen_rows
        if sheet.frozen_columns:
            grid["frozenColumnCount"] = sheet.frozen_columns
        return {
            "sheetId": sheet.sheet_id,
            "title": sheet.title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": grid,
        }

    def _grid_data(self, book: Spreadsheet, box: GridBox, want: set[str] | None = None) -> dict:
        r1, c1, r2, c2 = box.bounded()
        rows: list[dict] = []
        for r in range(r1 - 1, min(r2, len(box.sheet.rows))):
            values = []
            for c in range(c1 - 1, c2):
                values.append(self._cell_data(book, box.sheet.cell(r, c), want))
            while values and not values[-1]:
                values.pop()
            rows.append({"values": values} if values else {})
        while rows and not rows[-1]:
            rows.pop()
        data: dict[str, Any] = {}
        if r1 > 1:
            data["startRow"] = r1 - 1
        if c1 > 1:
            data["startColumn"] = c1 - 1
        if rows:
            data["rowData"] = rows
        data["rowMetadata"] = []
        by_row: dict[int, list[dict]] = {}
        for m in box.sheet.metadata:
            rng = m["location"]["dimensionRange"]
            for r in range(max(rng["startIndex"], r1 - 1), min(rng["endIndex"], r2)):
                by_row.setdefault(r, []).append(m)
        for r in range(r1 - 1, r2):
            props: dict[str, Any] = {"pixelSize": 21}
            tags = by_row.get(r)
            if tags:
                props["developerMetadata"] = [self._public_metadata(m) for m in tags]
            data["rowMetadata"].append(props)
        data["columnMetadata"] = [{"pixelSize": 100} for _ in range(c1, c2 + 1)]
        return data

    def _cell_data(
        self, book: Spreadsheet, cell: Cell | None, want: set[str] | None = None
    ) -> dict:
        if cell is None:
            return {}
        out: dict[str, Any] = {}
        every = want is None
        if not cell.is_blank():
            if every or "userEnteredValue" in want:
                out["userEnteredValue"] = _user_entered_value(cell)
            if every or "effectiveValue" in want:
                out["effectiveValue"] = _extended_value(cell.value)
            if every or "formattedValue" in want:
                out["formattedValue"] = render(
                    cell, "FORMATTED_VALUE", "FORMATTED_STRING", book.locale
                )
        if cell.number_format and (every or "userEnteredFormat" in want):
            out["userEnteredFormat"] = {"numberFormat": dict(cell.number_format)}
        if cell.validation and (every or "dataValidation" in want):
            out["dataValidation"] = copy.deepcopy(cell.validation)
        return out

    def _public_protected(self, protected: dict, in_metadata: bool) -> dict:
        out: dict[str, Any] = {
            "protectedRangeId": protected["protectedRangeId"],
            "range": public_grid_range(protected["range"]),
        }
        if protected.get("description"):
            out["description"] = protected["description"]
        if protected.get("warningOnly"):
            out["warningOnly"] = True
        out["requestingUserCanEdit"] = True
        if not protected.get("warningOnly"):
            email = protected.get("owner", "")
            out["editors"] = {"users": [email]} if in_metadata and email else {}
        return out

    # ------------------------------------------------------------------ spreadsheets.batchUpdate

    def _batch_update(self, book: Spreadsheet, body: dict, sub_mask: str = "") -> dict:
        requests = body.get("requests", [])
        # All or nothing, as Google's batchUpdate: apply to a copy, swap in on success.
        trial = Spreadsheet(
            book.spreadsheet_id,
            book.title,
            book.time_zone,
            book.locale,
            [sheet.clone() for sheet in book.sheets],
        )
        replies = []
        for i, request in enumerate(requests):
            try:
                replies.append(self._apply_request(trial, request))
            except ApiError as exc:
                # Google names the failing request: "Invalid requests[3].createDeveloperMetadata"
                exc.message = re.sub(r"requests\[0\]", f"requests[{i}]", exc.message)
                raise
        book.sheets = trial.sheets
        result: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id, "replies": replies}
        if body.get("includeSpreadsheetInResponse"):
            query = {"ranges": list(body.get("responseRanges") or [])}
            if body.get("responseIncludeGridData"):
                query["includeGridData"] = ["true"]
            if sub_mask:
                query["fields"] = [sub_mask]
            result["updatedSpreadsheet"] = self._get_spreadsheet(book, query)
        return result

    def _apply_request(self, book: Spreadsheet, request: dict) -> dict:
        if len(request) != 1:
            raise ApiError(400, "Invalid requests: each request must set exactly one kind.")
        kind, spec = next(iter(request.items()))
        handler = getattr(self, f"_req_{kind}", None)
        if handler is None:
            raise ApiError(400, f'Invalid JSON payload received. Unknown name "{kind}"')
        return handler(book, spec or {})

    def _req_addSheet(self, book: Spreadsheet, spec: dict) -> dict:
        props = spec.get("properties", {})
        title = props.get("title") or f"Лист{len(book.sheets) + 1}"
        if book.find(title) is not None:
            raise ApiError(
                400,
                f'Invalid requests[0].addSheet: A sheet with the name "{title}" already exists. '
                "Please enter another name.",
            )
        sheet_id = props.get("sheetId")
        if sheet_id is None:
            sheet_id = self._new_sheet_id(book)
        elif any(s.sheet_id == sheet_id for s in book.sheets):
            raise ApiError(400, f"Invalid requests[0].addSheet: Sheet with id {sheet_id} exists.")
        grid = props.get("gridProperties", {})
        sheet = Sheet(
            int(sheet_id),
            title,
            row_count=int(grid.get("rowCount", 1000)),
            column_count=int(grid.get("columnCount", 26)),
            frozen_rows=int(grid.get("frozenRowCount", 0)),
            frozen_columns=int(grid.get("frozenColumnCount", 0)),
        )
        index = props.get("index", len(book.sheets))
        book.sheets.insert(index, sheet)
        return {"addSheet": {"properties": self._sheet_properties(sheet, index)}}

    def _req_deleteSheet(self, book: Spreadsheet, spec: dict) -> dict:
        sheet = book.sheet_by_id(int(spec.get("sheetId", 0)))
        if len(book.sheets) == 1:
            raise ApiError(400, "Invalid requests[0].deleteSheet: You can't remove all the sheets.")
        book.sheets.remove(sheet)
        return {}

    def _req_updateSheetProperties(self, book: Spreadsheet, spec: dict) -> dict:
        props = spec.get("properties", {})
        sheet = book.sheet_by_id(int(props.get("sheetId", 0)))
        fields = [f.strip() for f in spec.get("fields", "").split(",") if f.strip()]
        if not fields:
            raise ApiError(400, "Invalid requests[0].updateSheetProperties: No fields specified.")
        grid = props.get("gridProperties", {})
        for name in fields:
            name = name.replace(".", "/")
            if name in ("*", "gridProperties"):
                names = [f"gridProperties/{k}" for k in grid] + (
                    ["title"] if "title" in props else []
                )
            else:
                names = [name]
            for one in names:
                if one == "title":
                    sheet.title = props.get("title", sheet.title)
                elif one == "gridProperties/frozenRowCount":
                    sheet.frozen_rows = int(grid.get("frozenRowCount", 0))
                elif one == "gridProperties/frozenColumnCount":
                    sheet.frozen_columns = int(grid.get("frozenColumnCount", 0))
                elif one == "gridProperties/rowCount":
                    sheet.row_count = int(grid.get("rowCount", sheet.row_count))
                    del sheet.rows[sheet.row_count :]
                elif one == "gridProperties/columnCount":
                    sheet.column_count = int(grid.get("columnCount", sheet.column_count))
                    for row in sheet.rows:
                        del row[sheet.column_count :]
                elif one in ("index", "hidden", "tabColor", "tabColorStyle", "rightToLeft"):
                    pass
                else:
                    raise ApiError(400, f"Invalid requests[0].updateSheetProperties: {one}")
        return {}

    def _req_appendDimension(self, book: Spreadsheet, spec: dict) -> dict:
        sheet = book.sheet_by_id(int(spec.get("sheetId", 0)))
        if spec.get("dimension") == "COLUMNS":
            sheet.column_count += int(spec.get("length", 0))
        else:
            sheet.row_count += int(spec.get("length", 0))
        return {}

    def _req_setDataValidation(self, book: Spreadsheet, spec: dict) -> dict:
        sheet, r1, c1, r2, c2 = grid_range_box(book, spec.get("range", {}))
        rule = spec.get("rule")
        if rule is not None:
            condition = rule.get("condition", {})
            if condition.get("type") == "ONE_OF_LIST" and not condition.get("values"):
                raise ApiError(400, "Invalid requests[0].setDataValidation: list is empty.")
            # One copy shared by every cell of the range: rules are replaced, never edited.
            rule = copy.deepcopy({k: v for k, v in rule.items() if v not in (False, None)})
        for r in range(r1, r2):
            for c in range(c1, c2):
                if rule is None:
                    cell = sheet.cell(r, c)
                    if cell is not None:
                        cell.validation = None
                else:
                    sheet.ensure(r, c).validation = rule
        return {}

    def _req_repeatCell(self, book: Spreadsheet, spec: dict) -> dict:
        sheet, r1, c1, r2, c2 = grid_range_box(book, spec.get("range", {}))
        cell_spec = spec.get("cell", {})
        fields = spec.get("fields", "")
        if not fields:
            raise ApiError(400, "Invalid requests[0].repeatCell: No fields specified.")
        number_format = cell_spec.get("userEnteredFormat", {}).get("numberFormat")
        # Only a mask that names the number format (or all of the format) replaces it: a
        # request for wrapping or colours leaves the cells' date formats alone.
        touches_format = "numberFormat" in fields or fields in ("*", "userEnteredFormat")
        value = cell_spec.get("userEnteredValue")
        for r in range(r1, r2):
            for c in range(c1, c2):
                cell = sheet.ensure(r, c)
                if touches_format:
                    cell.number_format = dict(number_format) if number_format else None
                if value is not None and ("userEnteredValue" in fields or fields == "*"):
                    if "formulaValue" in value:
                        cell.formula = value["formulaValue"]
                        cell.value = evaluate_formula(cell.formula)
                    else:
                        cell.formula = None
                        cell.value = next(iter(value.values()), None)
        return {}

    def _req_updateCells(self, book: Spreadsheet, spec: dict) -> dict:
        fields = spec.get("fields", "")
        if not fields:
            raise ApiError(400, "Invalid requests[0].updateCells: No fields specified.")
        if "start" in spec:
            start = spec["start"]
            sheet = book.sheet_by_id(int(start.get("sheetId", 0)))
            r1, c1 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
        else:
            sheet, r1, c1, _, _ = grid_range_box(book, spec.get("range", {}))
        rows = spec.get("rows", [])
        height = len(rows)
        width = max((len(r.get("values", [])) for r in rows), default=0)
        if r1 + height > sheet.row_count or c1 + width > sheet.column_count:
            raise ApiError(
                400,
                f"Invalid requests: Range ({quote_title(sheet.title)}!{col_letter(c1 + 1)}"
                f"{r1 + 1}:{col_letter(c1 + width)}{r1 + height}) exceeds grid limits. "
                f"Max rows: {sheet.row_count}, max columns: {sheet.column_count}",
            )
        touches_value = "userEnteredValue" in fields or fields == "*"
        touches_format = "numberFormat" in fields or "userEnteredFormat" in fields or fields == "*"
        for i, row in enumerate(rows):
            for j, data in enumerate(row.get("values", [])):
                cell = sheet.ensure(r1 + i, c1 + j)
                if touches_value:
                    value = data.get("userEnteredValue") or {}
                    if "formulaValue" in value:
                        cell.formula = value["formulaValue"]
                        cell.value = evaluate_formula(cell.formula)
                    else:
                        cell.formula = None
                        cell.value = next(iter(value.values()), None)
                if touches_format:
                    fmt = data.get("userEnteredFormat", {}).get("numberFormat")
                    cell.number_format = dict(fmt) if fmt else None
        return {}

    def _req_addConditionalFormatRule(self, book: Spreadsheet, spec: dict) -> dict:
        rule = copy.deepcopy(spec.get("rule", {}))
        ranges = rule.get("ranges") or []
        if not ranges:
            raise ApiError(400, "Invalid requests[0].addConditionalFormatRule: no ranges.")
        sheet = book.sheet_by_id(int(ranges[0].get("sheetId", 0)))
        for grid_range in ranges:
            grid_range_box(book, grid_range)
        rule["ranges"] = [public_grid_range(g) | {"sheetId": sheet.sheet_id} for g in ranges]
        for g in rule["ranges"]:
            if g["sheetId"] == 0:
                del g["sheetId"]
        index = int(spec.get("index", 0))
        sheet.conditional_formats.insert(index, rule)
        return {}

    def _req_deleteConditionalFormatRule(self, book: Spreadsheet, spec: dict) -> dict:
        sheet = book.sheet_by_id(int(spec.get("sheetId", 0)))
        index = int(spec.get("index", 0))
        if not 0 <= index < len(sheet.conditional_formats):
            raise ApiError(
                400,
                f"Invalid requests[0].deleteConditionalFormatRule: No conditional format on "
                f"sheet {sheet.sheet_id} at index {index}.",
            )
        del sheet.conditional_formats[index]
        return {}

    def _req_addProtectedRange(self, book: Spreadsheet, spec: dict) -> dict:
        protected = copy.deepcopy(spec.get("protectedRange", {}))
        grid_range = protected.get("range", {})
        sheet, *_ = grid_range_box(book, grid_range)
        protected["protectedRangeId"] = random.randint(100_000_000, 2_147_483_647)
        protected["owner"] = self._email
        sheet.protected_ranges.append(protected)
        return {"addProtectedRange": {"protectedRange": self._public_protected(protected, False)}}

    def _req_setBasicFilter(self, book: Spreadsheet, spec: dict) -> dict:
        basic = copy.deepcopy(spec.get("filter", {}))
        grid_range = basic.get("range", {})
        sheet, *_ = grid_range_box(book, grid_range)
        basic["range"] = public_grid_range(grid_range) | {"sheetId": sheet.sheet_id}
        if basic["range"]["sheetId"] == 0:
            del basic["range"]["sheetId"]
        sheet.basic_filter = basic
        return {}

    def _req_updateDimensionProperties(self, book: Spreadsheet, spec: dict) -> dict:
        grid_range = spec.get("range", {})
        book.sheet_by_id(int(grid_range.get("sheetId", 0)))
        return {}

    def _req_autoResizeDimensions(self, book: Spreadsheet, spec: dict) -> dict:
        return {}

    # ------------------------------------------------------------------ rows and their metadata

    def _dimension_rows(self, book: Spreadsheet, spec: dict, kind: str) -> tuple[Sheet, int, int]:
        rng = spec.get("range") or spec.get("source") or {}
        sheet = book.sheet_by_id(int(rng.get("sheetId", 0)))
        if rng.get("dimension") != "ROWS":
            raise ApiError(400, f"Invalid requests[0].{kind}: only ROWS are modelled here.")
        start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", 0))
        if not 0 <= start < end:
            raise ApiError(400, f"Invalid requests[0].{kind}: the range is empty.")
        return sheet, start, end

    def _req_insertDimension(self, book: Spreadsheet, spec: dict) -> dict:
        sheet, start, end = self._dimension_rows(book, spec, "insertDimension")
        if start > sheet.row_count:
            raise ApiError(400, "Invalid requests[0].insertDimension: index past the grid.")
        while len(sheet.rows) < start:
            sheet.rows.append([])
        sheet.rows[start:start] = [[] for _ in range(end - start)]
        sheet.rows_inserted(start, end - start)
        sheet.row_count += end - start
        return {}

    def _req_deleteDimension(self, book: Spreadsheet, spec: dict) -> dict:
        sheet, start, end = self._dimension_rows(book, spec, "deleteDimension")
        if end > sheet.row_count:
            raise ApiError(400, "Invalid requests[0].deleteDimension: range past the grid.")
        del sheet.rows[start:end]
        sheet.rows_deleted(start, end - start)
        sheet.row_count -= end - start
        return {}

    def _req_moveDimension(self, book: Spreadsheet, spec: dict) -> dict:
        sheet, start, end = self._dimension_rows(book, spec, "moveDimension")
        _move_rows(sheet, start, end - start, int(spec.get("destinationIndex", 0)))
        return {}

    def _req_appendCells(self, book: Spreadsheet, spec: dict) -> dict:
        """Rows after the last row holding data, growing the grid when needed (as Google)."""
        sheet = book.sheet_by_id(int(spec.get("sheetId", 0)))
        fields = spec.get("fields", "")
        if not fields:
            raise ApiError(400, "Invalid requests[0].appendCells: No fields specified.")
        start, _ = sheet.data_extent()
        rows = spec.get("rows", [])
        for i, row in enumerate(rows):
            for j, data in enumerate(row.get("values", [])):
                value = data.get("userEnteredValue") or {}
                if not value:
                    continue
                cell = sheet.ensure(start + i, j)
                if "formulaValue" in value:
                    cell.formula = value["formulaValue"]
                    cell.value = evaluate_formula(cell.formula)
                else:
                    cell.formula, cell.value = None, next(iter(value.values()), None)
                fmt = data.get("userEnteredFormat", {}).get("numberFormat")
                if fmt:
                    cell.number_format = dict(fmt)
        return {}

    def _req_createDeveloperMetadata(self, book: Spreadsheet, spec: dict) -> dict:
        item = copy.deepcopy(spec.get("developerMetadata") or {})
        where = "Invalid requests[0].createDeveloperMetadata"
        if not item.get("metadataKey"):
            raise ApiError(400, f"{where}: Developer metadata must have a key.")
        if item.get("visibility") not in ("DOCUMENT", "PROJECT"):
            raise ApiError(400, f"{where}: Developer metadata must have a visibility specified.")
        location = item.get("location") or {}
        rng = location.get("dimensionRange")
        if not rng or rng.get("dimension") != "ROWS":
            raise ApiError(
                400, f"{where}: only row locations (dimensionRange of ROWS) are modelled."
            )
        sheet = book.sheet_by_id(int(rng.get("sheetId", 0)))
        start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", 0))
        if not 0 <= start < end <= sheet.row_count:
            raise ApiError(400, f"{where}: the location is outside the grid.")
        taken = book.__dict__.get("_metadata_ids")
        if taken is None:  # once per batch: a batch may create thousands
            taken = book.__dict__["_metadata_ids"] = {
                m["metadataId"] for s in book.sheets for m in s.metadata
            }
        wanted = item.get("metadataId")
        if wanted is not None and (int(wanted) <= 0 or int(wanted) in taken):
            raise ApiError(400, f"{where}: Developer metadata ID {wanted} is not available.")
        while wanted is None or int(wanted) in taken:
            wanted = random.randint(1, 2_147_483_647)
        item["metadataId"] = int(wanted)
        taken.add(item["metadataId"])
        item["location"] = {
            "locationType": "ROW",
            "dimensionRange": {
                "sheetId": sheet.sheet_id,
                "dimension": "ROWS",
                "startIndex": start,
                "endIndex": end,
            },
        }
        sheet.metadata.append(item)
        return {"createDeveloperMetadata": {"developerMetadata": self._public_metadata(item)}}

    def _req_deleteDeveloperMetadata(self, book: Spreadsheet, spec: dict) -> dict:
        doomed = self._metadata_matching(book, spec.get("dataFilter") or {})
        ids = {id(m) for m in doomed}
        for sheet in book.sheets:
            sheet.metadata = [m for m in sheet.metadata if id(m) not in ids]
        deleted = [self._public_metadata(m) for m in doomed]
        return {"deleteDeveloperMetadata": {"deletedDeveloperMetadata": deleted}}

    def _public_metadata(self, item: dict) -> dict:
        out = copy.deepcopy(item)
        rng = out.get("location", {}).get("dimensionRange")
        if rng and rng.get("sheetId") == 0:
            del rng["sheetId"]  # Google omits zero values
        if rng and rng.get("startIndex") == 0:
            del rng["startIndex"]
        return out

    # ------------------------------------------------------------------ data filters

    def _metadata_matching(self, book: Spreadsheet, data_filter: dict) -> list[dict]:
        """The developer metadata a DataFilter selects: by lookup fields, or by intersecting a
        location (a1Range / gridRange)."""
        count = sum(len(sheet.metadata) for sheet in book.sheets)
        index = book.__dict__.get("_by_value")
        lookup = data_filter.get("developerMetadataLookup")
        if lookup is not None and "metadataValue" in lookup and count > 64:
            # A write by tag names thousands of rows: look values up, do not scan (nor gather
            # every sheet's metadata) per filter.
            if index is None or index[0] != count:
                by_value: dict[str, list[dict]] = {}
                for m in (m for sheet in book.sheets for m in sheet.metadata):
                    by_value.setdefault(m.get("metadataValue"), []).append(m)
                index = book.__dict__["_by_value"] = (count, by_value)
            items = index[1].get(lookup["metadataValue"], [])
        else:
            items = [m for sheet in book.sheets for m in sheet.metadata]
        if lookup is not None:
            out = []
            for m in items:
                rng = m["location"]["dimensionRange"]
                if "metadataId" in lookup and int(lookup["metadataId"]) != m["metadataId"]:
                    continue
                if "metadataKey" in lookup and lookup["metadataKey"] != m.get("metadataKey"):
                    continue
                if "metadataValue" in lookup and lookup["metadataValue"] != m.get("metadataValue"):
                    continue
                if "visibility" in lookup and lookup["visibility"] != m.get("visibility"):
                    continue
                if lookup.get("locationType", "ROW") != "ROW":
                    continue
                where = (lookup.get("metadataLocation") or {}).get("dimensionRange")
                if where is not None:
                    exact = lookup.get("locationMatchingStrategy", "EXACT_LOCATION")
                    same_sheet = int(where.get("sheetId", 0)) == rng["sheetId"]
                    w1, w2 = int(where.get("startIndex", 0)), int(where.get("endIndex", 0))
                    if exact == "EXACT_LOCATION":
                        hit = same_sheet and (w1, w2) == (rng["startIndex"], rng["endIndex"])
                    else:
                        hit = same_sheet and w1 < rng["endIndex"] and rng["startIndex"] < w2
                    if not hit:
                        continue
                out.append(m)
            return out
        boxes = self._filter_boxes(book, data_filter)
        return [
            m
            for m in items
            for sheet, r1, _c1, r2, _c2 in boxes
            if sheet.sheet_id == m["location"]["dimensionRange"]["sheetId"]
            and r1 - 1 < m["location"]["dimensionRange"]["endIndex"]
            and m["location"]["dimensionRange"]["startIndex"] < r2
        ]

    def _filter_boxes(
        self, book: Spreadsheet, data_filter: dict
    ) -> list[tuple[Sheet, int, int, int, int]]:
        """The ranges a DataFilter selects as 1-based inclusive (sheet, r1, c1, r2, c2)."""
        if "a1Range" in data_filter:
            box = resolve_range(book, data_filter["a1Range"])
            r1, c1, r2, c2 = box.bounded()
            return [(box.sheet, r1, c1, r2, c2)]
        if "gridRange" in data_filter:
            sheet, r1, c1, r2, c2 = grid_range_box(book, data_filter["gridRange"])
            return [(sheet, r1 + 1, c1 + 1, r2, c2)]
        if "developerMetadataLookup" in data_filter:
            out = []
            for m in self._metadata_matching(book, data_filter):
                rng = m["location"]["dimensionRange"]
                sheet = book.sheet_by_id(rng["sheetId"])
                out.append((sheet, rng["startIndex"] + 1, 1, rng["endIndex"], sheet.column_count))
            return out
        raise ApiError(
            400,
            "Invalid dataFilter: one of a1Range, gridRange or developerMetadataLookup must be set.",
        )

    def _metadata_search(self, book: Spreadsheet, body: dict) -> dict:
        matched: list[dict] = []
        for data_filter in body.get("dataFilters") or []:
            for m in self._metadata_matching(book, data_filter):
                entry = next((e for e in matched if e["_item"] is m), None)
                if entry is None:
                    entry = {
                        "_item": m,
                        "developerMetadata": self._public_metadata(m),
                        "dataFilters": [],
                    }
                    matched.append(entry)
                entry["dataFilters"].append(copy.deepcopy(data_filter))
        for entry in matched:
            del entry["_item"]
        return {"matchedDeveloperMetadata": matched} if matched else {}

    def _metadata_get(self, book: Spreadsheet, metadata_id: str) -> dict:
        for sheet in book.sheets:
            for m in sheet.metadata:
                if str(m["metadataId"]) == metadata_id:
                    return self._public_metadata(m)
        raise ApiError(404, f"No developer metadata with ID: {metadata_id}")

    def _values_get_by_filter(self, book: Spreadsheet, body: dict) -> dict:
        options = {
            k: body[k]
            for k in ("majorDimension", "valueRenderOption", "dateTimeRenderOption")
            if k in body
        }
        ranges = []
        for data_filter in body.get("dataFilters") or []:
            for sheet, r1, c1, r2, c2 in self._filter_boxes(book, data_filter):
                box = GridBox(sheet, r1, c1, r2, c2)
                ranges.append(
                    {
                        "valueRange": self._read_box(book, box, options),
                        "dataFilters": [copy.deepcopy(data_filter)],
                    }
                )
        result: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        if ranges:
            result["valueRanges"] = ranges
        return result

    def _values_update_by_filter(self, book: Spreadsheet, body: dict) -> dict:
        """values:batchUpdateByDataFilter. Every filter must select something, or nothing is
        written: a 400 names the first data[i] that matched no range (the message is ours)."""
        option = self._input_option(body.get("valueInputOption"))
        planned = []
        for i, entry in enumerate(body.get("data") or []):
            data_filter = entry.get("dataFilter") or {}
            boxes = self._filter_boxes(book, data_filter)
            if not boxes:
                raise ApiError(
                    400,
                    f"Invalid data[{i}]: No grid ranges match the data filter "
                    f"{json.dumps(data_filter, ensure_ascii=False)}.",
                )
            for sheet, r1, c1, r2, c2 in boxes:
                a1 = format_range(sheet, r1, c1, r2, c2)
                box, values = self._check_write(
                    book, a1, entry.get("values"), entry.get("majorDimension")
                )
                if box.r2 is not None and box.r1 + len(values) - 1 > box.r2:
                    raise ApiError(
                        400,
                        f"Requested writing within range [{a1}], but tried writing to "
                        f"row [{box.r1 + len(values) - 1}]",
                    )
                planned.append((data_filter, box, values))
        responses = []
        for data_filter, box, values in planned:
            response = self._write(book, box, values, option)
            response.pop("spreadsheetId", None)
            response["dataFilter"] = copy.deepcopy(data_filter)
            if body.get("includeValuesInResponse") and "updatedRows" in response:
                r2 = box.r1 + response["updatedRows"] - 1
                c2 = box.c1 + response["updatedColumns"] - 1
                read = GridBox(box.sheet, box.r1, box.c1, r2, c2)
                options = {
                    "valueRenderOption": body.get("responseValueRenderOption", "FORMATTED_VALUE"),
                    "dateTimeRenderOption": body.get(
                        "responseDateTimeRenderOption", "SERIAL_NUMBER"
                    ),
                }
                response["updatedData"] = self._read_box(book, read, options)
            responses.append(response)
        return self._batch_totals(book, [box for _, box, _ in planned], responses)

    # ------------------------------------------------------------------ values

    def _read_box(self, book: Spreadsheet, box: GridBox, options: dict[str, str]) -> dict:
        value_option = options.get("valueRenderOption", "FORMATTED_VALUE")
        datetime_option = options.get("dateTimeRenderOption", "SERIAL_NUMBER")
        major = options.get("majorDimension", "ROWS")
        sheet = box.sheet
        if box.whole_sheet:
            n_rows, n_cols = sheet.data_extent()
            if n_rows:
                r1, c1, r2, c2 = 1, 1, n_rows, n_cols
            else:
                r1, c1, r2, c2 = box.bounded()
        else:
            r1, c1, r2, c2 = box.bounded()
            if r1 > sheet.row_count or c1 > sheet.column_count:
                raise ApiError(
                    400,
                    f"Range ({format_range(sheet, r1, c1, r2, c2)}) exceeds grid limits. "
                    f"Max rows: {sheet.row_count}, max columns: {sheet.column_count}",
                )
            r2, c2 = min(r2, sheet.row_count), min(c2, sheet.column_count)
        rows: list[list[Any]] = []
        last_r = min(r2, len(sheet.rows))
        for r in range(r1 - 1, last_r):
            source = sheet.rows[r]
            row = [
                render(
                    source[c] if c < len(source) else None,
                    value_option,
                    datetime_option,
                    book.locale,
                )
                for c in range(c1 - 1, min(c2, len(source)))
            ]
            while row and row[-1] == "":
                row.pop()
            rows.append(row)
        while rows and not rows[-1]:
            rows.pop()
        if major == "COLUMNS" and rows:
            width = max(len(r) for r in rows)
            cols = [[r[j] if j < len(r) else "" for r in rows] for j in range(width)]
            for col in cols:
                while col and col[-1] == "":
                    col.pop()
            rows = cols
            while rows and not rows[-1]:
                rows.pop()
        result: dict[str, Any] = {
            "range": format_range(sheet, r1, c1, r2, c2),
            "majorDimension": major,
        }
        if rows:
            result["values"] = rows
        return result

    def _values_get(self, book: Spreadsheet, a1: str, options: dict[str, str]) -> dict:
        return self._read_box(book, resolve_range(book, a1), options)

    def _values_batch_get(
        self, book: Spreadsheet, ranges: list[str], options: dict[str, str]
    ) -> dict:
        boxes = [resolve_range(book, a1) for a1 in ranges]
        return {
            "spreadsheetId": book.spreadsheet_id,
            "valueRanges": [self._read_box(book, box, options) for box in boxes],
        }

    def _check_write(
        self,
        book: Spreadsheet,
        a1: str,
        values: Any,
        major: str | None,
        *,
        grows: bool = False,
    ) -> tuple[GridBox, list[list[Any]]]:
        if not isinstance(values, list) or not all(isinstance(r, list) for r in values):
            shown = json.dumps(values, ensure_ascii=False)
            message = (
                "Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue), "
                f"{shown}"
            )
            violation = {"field": "data.values", "description": message}
            details = [
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [violation],
                }
            ]
            raise ApiError(400, message, details=details)
        box = resolve_range(book, a1)
        if major == "COLUMNS":
            width = max((len(r) for r in values), default=0)
            values = [[col[i] if i < len(col) else None for col in values] for i in range(width)]
        if (
            box.r2 is not None
            and not box.whole_sheet
            and box.r1 + len(values) - 1 > box.r2
            and box.r2 != box.r1
        ):
            raise ApiError(
                400,
                f"Requested writing within range [{a1}], but tried writing to row "
                f"[{box.r1 + len(values) - 1}]",
            )
        if (
            box.c2 is not None
            and not box.whole_sheet
            and box.c2 != box.c1
            and any(box.c1 + len(r) - 1 > box.c2 for r in values)
        ):
            raise ApiError(
                400, f"Requested writing within range [{a1}], but tried writing to a column past it"
            )
        last_row = box.r1 + len(values) - 1
        last_col = box.c1 + max((len(r) for r in values), default=1) - 1
        sheet = box.sheet
        if not grows and (last_row > sheet.row_count or last_col > sheet.column_count):
            # values.update and batchUpdate do not grow the grid (values.append does).
            raise ApiError(
                400,
                f"Range ({format_range(sheet, box.r1, box.c1, last_row, last_col)}) exceeds "
                f"grid limits. Max rows: {sheet.row_count}, max columns: {sheet.column_count}",
            )
        for row in values:
            for value in row:
                if isinstance(value, float) and not math.isfinite(value):
                    raise ApiError(400, "Invalid value: NaN and infinity are not allowed.")
                if isinstance(value, (dict, list)):
                    raise ApiError(400, "Invalid values: a cell value must be a scalar.")
        return box, values

    def _write(
        self, book: Spreadsheet, box: GridBox, values: list[list[Any]], input_option: str
    ) -> dict:
        sheet = box.sheet
        width = 0
        cells = 0
        for i, row in enumerate(values):
            width = max(width, len(row))
            for j, value in enumerate(row):
                cells += 1
                if value is None:
                    continue  # null leaves the cell as it is
                r, c = box.r1 - 1 + i, box.c1 - 1 + j
                if value == "":
                    existing = sheet.cell(r, c)
                    if existing is not None:
                        existing.value = existing.formula = None
                    continue
                if input_option == "USER_ENTERED":
                    new = parse_user_entered(value, book.locale)
                else:
                    new = Cell(value)
                cell = sheet.ensure(r, c)
                cell.value, cell.formula = new.value, new.formula
                if new.number_format and not is_date_format(cell.number_format):
                    cell.number_format = new.number_format
        result: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        if values and width:
            result["updatedRange"] = format_range(
                sheet, box.r1, box.c1, box.r1 + len(values) - 1, box.c1 + width - 1
            )
            result.update(updatedRows=len(values), updatedColumns=width, updatedCells=cells)
        else:
            result["updatedRange"] = format_range(sheet, box.r1, box.c1, box.r1, box.c1)
        return result

    def _input_option(self, option: str | None) -> str:
        if option not in ("RAW", "USER_ENTERED"):
            raise ApiError(400, "'valueInputOption' is required but not specified")
        return option

    def _values_update(self, book: Spreadsheet, a1: str, options: dict, body: dict) -> dict:
        option = self._input_option(options.get("valueInputOption"))
        box, values = self._check_write(book, a1, body.get("values"), body.get("majorDimension"))
        return self._write(book, box, values, option)

    def _values_batch_update(self, book: Spreadsheet, body: dict) -> dict:
        option = self._input_option(body.get("valueInputOption"))
        checked = [
            self._check_write(book, d.get("range", ""), d.get("values"), d.get("majorDimension"))
            for d in body.get("data", [])
        ]
        responses = [self._write(book, box, values, option) for box, values in checked]
        return self._batch_totals(book, [box for box, _ in checked], responses)

    def _batch_totals(self, book: Spreadsheet, boxes: list[GridBox], responses: list[dict]) -> dict:
        """A batch write's reply: totals over every range written, then each range's reply."""
        rows: set[tuple[int, int]] = set()
        cols: set[tuple[int, int]] = set()
        sheets: set[int] = set()
        total_cells = 0
        for box, response in zip(boxes, responses, strict=True):
            if "updatedCells" not in response:
                continue
            sheets.add(box.sheet.sheet_id)
            total_cells += response["updatedCells"]
            for i in range(response["updatedRows"]):
                rows.add((box.sheet.sheet_id, box.r1 + i))
            for j in range(response["updatedColumns"]):
                cols.add((box.sheet.sheet_id, box.c1 + j))
        result: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        if total_cells:
            result.update(
                totalUpdatedRows=len(rows),
                totalUpdatedColumns=len(cols),
                totalUpdatedCells=total_cells,
                totalUpdatedSheets=len(sheets),
            )
        if responses:
            result["responses"] = responses
        return result

    def _values_append(self, book: Spreadsheet, a1: str, options: dict, body: dict) -> dict:
        option = self._input_option(options.get("valueInputOption"))
        box, values = self._check_write(
            book, a1, body.get("values"), body.get("majorDimension"), grows=True
        )
        sheet = box.sheet
        n_rows, n_cols = sheet.data_extent()
        result: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        if n_rows:
            result["tableRange"] = format_range(sheet, 1, 1, n_rows, max(n_cols, 1))
        start = GridBox(sheet, max(n_rows + 1, box.r1), box.c1, None, None)
        result["updates"] = self._write(book, start, values, option)
        return result

    def _clear(self, book: Spreadsheet, a1: str) -> str:
        box = resolve_range(book, a1)
        r1, c1, r2, c2 = box.bounded()
        for r in range(r1 - 1, min(r2, len(box.sheet.rows))):
            row = box.sheet.rows[r]
            for c in range(c1 - 1, min(c2, len(row))):
                cell = row[c]
                if cell is not None:
                    cell.value = cell.formula = None
        return format_range(box.sheet, r1, c1, r2, c2)


def _bearer(headers: dict[str, str]) -> str:
    auth = headers.get("authorization", "")
    return auth[7:] if auth.lower().startswith("bearer ") else ""


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class _Handler(BaseHTTPRequestHandler):
    """Hands each HTTP request to the SheetsApiServer in `api`."""

    api: SheetsApiServer
    protocol_version = "HTTP/1.1"
    # One buffered write per reply, and no Nagle: otherwise loopback replies wait ~40 ms each.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server_version = "ESF"
    sys_version = ""

    def setup(self) -> None:
        super().setup()
        with self.api._lock:
            self.api._connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.api._lock:
                self.api._connections.discard(self.connection)

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        status, out_headers, data = self.api.handle(self.command, self.path, headers, body)
        if self.api._stopping.is_set():
            self.close_connection = True
            return
        try:
            self.send_response(status)
            for key, value in out_headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if data:
                self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass
