"""Surgical writes into an .xlsx package: the changed cells are patched, every other part is copied.

A sync changes a few dozen cells of a book that may hold 100,000 rows and things no library models
completely (charts, images, pivot tables, slicers, extensions). So nothing loads the book: each
worksheet part that holds changed cells is streamed through, rows without a change are copied as
they are (found by their tags, never parsed), and only a row with a change is rebuilt, cell by
cell. Every other part of the package is copied unchanged, shared strings included: text goes in
as an inline string, never as a formula.

Two parts change only when they must: `xl/styles.xml` gains a cell style when a date has to be
shown with a number format no style of the book has yet, and the calculation chain is dropped
(Excel rebuilds it) when a cell that held a formula is overwritten, since Excel reports a chain
that names a cell without a formula as damage.

The scanner relies on what XML guarantees: inside element content and attribute values a `<` is
always escaped, so `<row`, `</row>` and `</sheetData>` can only ever be markup.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import math
import re
import shutil
import struct
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import IO
from xml.etree import ElementTree

from journaldesk.store.base import column_letter

log = logging.getLogger(__name__)

EXCEL_MAX_TEXT = 32_767

_CHUNK = 1 << 20
_SPOOL = 64 << 20  # a patched sheet up to this size stays in memory before it is zipped

_NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_NS_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_REL_WORKSHEET = _NS_REL + "/worksheet"
_REL_STYLES = _NS_REL + "/styles"
_REL_CALC_CHAIN = _NS_REL + "/calcChain"

# The same characters openpyxl refuses: XML 1.0 cannot hold them. Lone surrogates and the two
# non-characters cannot be encoded at all.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

# Excel's built-in number formats that show a date or a time (the rest are numbers or text).
_BUILTIN_FORMATS = {
    14: "mm-dd-yy",
    15: "d-mmm-yy",
    16: "d-mmm",
    17: "mmm-yy",
    18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM",
    20: "h:mm",
    21: "h:mm:ss",
    22: "m/d/yy h:mm",
    45: "mm:ss",
    46: "[h]:mm:ss",
    47: "mmss.0",
}
_FIRST_CUSTOM_FORMAT = 164

_EPOCH_1900 = dt.datetime(1899, 12, 30)
_EPOCH_1904 = dt.datetime(1904, 1, 1)


class PackageError(ValueError):
    """The file is not a workbook this module can patch (no sheet data, broken parts)."""


class MergedCellError(ValueError):
    """A write aimed at a cell hidden inside a merged range (not its top-left cell)."""

    def __init__(self, title: str, ref: str) -> None:
        super().__init__(f"{title}!{ref} is inside a merged range")
        self.title = title
        self.ref = ref


# --- values -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CellValue:
    """One value ready to be written: its kind and the XML of its content.

    kind: "text" (inline string), "number", "bool", "date" (a number with a date style: `date_kind`
    says which: "datetime", "date" or "time"; `code` the Excel format asked for) or "empty".
    """

    kind: str
    content: str = ""
    date_kind: str = ""
    code: str | None = None
    serial: float = 0.0


# Row heights for wrapped text: a line of Calibri 11 is 15 points; a column one digit wide holds
# a little less than one letter in the widest common fonts; a very long note shows its first
# lines (the cell keeps it all). LibreOffice takes row heights from the file, so a row whose
# wrapped text needs more lines than it has would overlap the next row.
ROW_LINE_POINTS = 15.0
ROW_CHARS_PER_WIDTH = 0.95
ROW_MAX_LINES = 8
DEFAULT_WIDTH = 13.0  # what openpyxl (and so init) gives a column it styles without a width


def wrapped_lines(text: str, width: float) -> int:
    """How many lines `text` takes in a wrapping cell `width` digits wide."""
    per_line = max(int(width * ROW_CHARS_PER_WIDTH), 1)
    return sum(max(1, math.ceil(len(part) / per_line)) for part in text.split("\n"))


def row_height(lines: int) -> float | None:
    """The height in points of a row that must show `lines` lines (None: one line, default)."""
    return min(lines, ROW_MAX_LINES) * ROW_LINE_POINTS if lines > 1 else None


def encode_value(value: object, code: str | None, *, where: str) -> CellValue:
    """Check one value and turn it into what goes into the XML; raises before anything is written.

    `code` is the Excel number format asked for a date, datetime or time (None: keep the cell's
    own date format, or a default one).
    """
    if isinstance(value, str):
        text = clean_text(value, where=where)
        if not text:
            return CellValue("empty")
        return CellValue("text", _escape_text(text))
    if value is None:
        return CellValue("empty")
    if isinstance(value, bool):
        return CellValue("bool", "1" if value else "0")
    if isinstance(value, int):
        return CellValue("number", str(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{where}: {value!r} cannot be written to a workbook")
        return CellValue("number", _number_text(value))
    if isinstance(value, dt.datetime):
        return CellValue("date", date_kind="datetime", code=code, serial=_serial(value))
    if isinstance(value, dt.date):
        return CellValue("date", date_kind="date", code=code, serial=_serial(value))
    if isinstance(value, dt.time):
        return CellValue("date", date_kind="time", code=code, serial=_serial(value))
    raise TypeError(f"{where}: cannot write {type(value).__name__} {value!r}")


def clean_text(text: str, *, where: str) -> str:
    """Text an xlsx can hold: control characters dropped, cut to Excel's limit (both logged)."""
    if _ILLEGAL.search(text):
        log.warning("%s: control characters removed, xlsx cannot hold them", where)
        text = _ILLEGAL.sub("", text)
    if len(text) > EXCEL_MAX_TEXT:
        log.warning("%s: text cut to %d characters, the xlsx limit", where, EXCEL_MAX_TEXT)
        text = text[:EXCEL_MAX_TEXT]
    return text


def _number_text(x: float) -> str:
    if x.is_integer() and abs(x) < 2.0**53:
        return str(int(x))
    return repr(x)


def _escape_text(text: str) -> str:
    # \r would come back as \n from any XML parser: a character reference keeps it.
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\r", "&#13;")
    )


def _serial(value: dt.date | dt.time, *, date1904: bool = False) -> float:
    """Excel's serial number of a date, datetime or time (wall clock; time zones dropped)."""
    if isinstance(value, dt.time):
        return _day_fraction(value)
    moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
    moment = moment.replace(tzinfo=None)
    epoch = _EPOCH_1904 if date1904 else _EPOCH_1900
    days = (moment - epoch).days
    if not date1904 and 0 < days <= 60:
        days -= 1  # Excel counts a 29 February 1900 that never was
    return days + _day_fraction(moment.time())


def _day_fraction(t: dt.time) -> float:
    return (t.hour * 3600 + t.minute * 60 + t.second + t.microsecond / 1e6) / 86400


# --- cell references ----------------------------------------------------------------------------


def _split_ref(ref: str) -> tuple[int, int]:
    """'AB12' -> (12, 28); a bare column or row gives 0 for the missing part."""
    col = 0
    i = 0
    ref = ref.replace("$", "")
    while i < len(ref) and ref[i].isalpha():
        col = col * 26 + (ord(ref[i].upper()) - 64)
        i += 1
    row = int(ref[i:]) if ref[i:].isdigit() else 0
    return row, col


def _range(ref: str) -> tuple[int, int, int, int]:
    """'B2:D9' -> (min_row, min_col, max_row, max_col)."""
    first, _, last = ref.partition(":")
    r1, c1 = _split_ref(first)
    r2, c2 = _split_ref(last) if last else (r1, c1)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


# --- tags ---------------------------------------------------------------------------------------

_ATTR = re.compile(rb"""([^\s=/>]+)\s*=\s*("[^"]*"|'[^']*')""")


def _tag_end(buf: bytes, start: int) -> int:
    """The index just past the '>' closing the tag that starts at `start`; -1 if not in buf.

    A '>' may stand unescaped inside an attribute value, so quotes are skipped.
    """
    i = start
    n = len(buf)
    while i < n:
        gt = buf.find(b">", i)
        if gt < 0:
            return -1
        dq = buf.find(b'"', i, gt)
        sq = buf.find(b"'", i, gt)
        if dq < 0 and sq < 0:
            return gt + 1
        q = dq if sq < 0 or (0 <= dq < sq) else sq
        close = buf.find(buf[q : q + 1], q + 1)
        if close < 0:
            return -1
        i = close + 1
    return -1


def _attrs(tag: bytes) -> dict[bytes, bytes]:
    """The attributes of a start tag, values with their entities still escaped."""
    return {k: v[1:-1] for k, v in _ATTR.findall(tag)}


def _attr_text(value: bytes) -> str:
    return html.unescape(value.decode("utf-8"))


def _with_attrs(tag: bytes, changes: dict[bytes, bytes | None]) -> bytes:
    """The start tag with some attributes set (added at the end when new) or removed (None)."""
    out = tag
    for name, value in changes.items():
        found = re.search(rb"\s" + re.escape(name) + rb"""\s*=\s*("[^"]*"|'[^']*')""", out)
        if found:
            new = b"" if value is None else b" " + name + b'="' + value + b'"'
            out = out[: found.start()] + new + out[found.end() :]
        elif value is not None:
            end = len(out) - (2 if out.endswith(b"/>") else 1)
            out = out[:end] + b" " + name + b'="' + value + b'"' + out[end:]
    return out


def _is_name(buf: bytes, at: int, name: bytes) -> bool:
    """Whether buf[at:] starts with the tag name `name` followed by a delimiter."""
    end = at + len(name)
    return buf.startswith(name, at) and end < len(buf) and buf[end] in b" \t\r\n/>"


# --- the package --------------------------------------------------------------------------------


@dataclass
class SheetEdits:
    """The cells to write into one worksheet: {row: {col: value}}, 1-based."""

    title: str
    part: str
    cells: dict[int, dict[int, CellValue]] = field(default_factory=dict)


@dataclass
class _Book:
    sheets: dict[str, str]  # title -> worksheet part name
    styles: str | None
    calc_chain: str | None
    date1904: bool


def _target(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    folder = base.rsplit("/", 1)[0]
    parts = f"{folder}/{target}".split("/")
    out: list[str] = []
    for p in parts:
        if p == "..":
            if out:
                out.pop()
        elif p and p != ".":
            out.append(p)
    return "/".join(out)


def read_book(zf: zipfile.ZipFile) -> _Book:
    """The worksheet parts by title, the styles part and the calculation chain of a package."""
    try:
        workbook = _main_part(zf)
        root = ElementTree.fromstring(zf.read(workbook))
        rels_name = _rels_name(workbook)
        rels = ElementTree.fromstring(zf.read(rels_name)) if rels_name in zf.NameToInfo else None
    except (KeyError, ElementTree.ParseError) as exc:
        raise PackageError(str(exc)) from exc
    targets: dict[str, tuple[str, str]] = {}
    for rel in rels if rels is not None else ():
        targets[rel.get("Id", "")] = (rel.get("Type", ""), _target(workbook, rel.get("Target", "")))
    sheets = {}
    for sheet in root.iter(f"{{{_NS_MAIN}}}sheet"):
        kind, part = targets.get(sheet.get(f"{{{_NS_REL}}}id", ""), ("", ""))
        if kind == _REL_WORKSHEET:
            sheets[sheet.get("name", "")] = part
    styles = next((p for k, p in targets.values() if k == _REL_STYLES), None)
    chain = next((p for k, p in targets.values() if k == _REL_CALC_CHAIN), None)
    pr = root.find(f"{{{_NS_MAIN}}}workbookPr")
    date1904 = pr is not None and pr.get("date1904", "0").lower() in ("1", "true")
    return _Book(sheets, styles, chain, date1904)


def _main_part(zf: zipfile.ZipFile) -> str:
    rels = ElementTree.fromstring(zf.read("_rels/.rels"))
    for rel in rels:
        if rel.get("Type", "").endswith("/officeDocument"):
            return _target("", rel.get("Target", ""))
    return "xl/workbook.xml"


def _rels_name(part: str) -> str:
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"


# --- styles -------------------------------------------------------------------------------------


def _normal_code(code: str) -> str:
    """A format code as compared: lower case, escapes and quoted literals taken out."""
    code = re.sub(r'"[^"]*"', "", code)
    code = re.sub(r"\\(.)", r"\1", code)
    return code.lower().strip()


def date_kind_of(code: str) -> str | None:
    """'datetime', 'date' or 'time' for a format code that shows one; None for others."""
    plain = re.sub(r"\[(?!h\]|m\]|s\])[^\]]*\]", "", _normal_code(code))  # [$-419], [red]...
    if plain in ("general", "@", ""):
        return None
    has_date = "d" in plain or "y" in plain
    has_time = "h" in plain or "s" in plain
    if has_date and has_time:
        return "datetime"
    if has_date:
        return "date"
    if has_time:
        return "time"
    if "m" in plain and not re.search(r"[0#?]", plain):
        return "date"  # "mmm" or "mmmm": a month name
    return None


def _suits(kind: str | None, wanted: str) -> bool:
    if kind is None:
        return False
    if wanted == "datetime":
        return kind == "datetime"
    if wanted == "date":
        return kind in ("date", "datetime")
    return kind == "time"


class StyleBook:
    """The cell styles (cellXfs) of styles.xml; adds a style when a date format is missing."""

    def __init__(self, xml: bytes | None) -> None:
        self.xml = xml
        self.codes: dict[int, str] = dict(_BUILTIN_FORMATS)
        self.xfs: list[bytes] = []  # the raw <xf> elements of cellXfs
        self.formats: list[int] = []  # numFmtId of each
        self.added: list[bytes] = []
        self.added_formats: list[tuple[int, str]] = []
        self._cache: dict[tuple[int, str, str | None], int] = {}
        self._prefix = b""
        if xml:
            self._parse(xml)

    def _parse(self, xml: bytes) -> None:
        root = re.search(rb"<([A-Za-z_][^\s>/]*)", xml)
        qname = root.group(1) if root else b""
        self._prefix = qname.rpartition(b":")[0] + b":" if b":" in qname else b""
        p = self._prefix
        for tag in re.finditer(rb"<" + re.escape(p) + rb"numFmt\s[^>]*>", xml):
            a = _attrs(tag.group(0))
            if b"numFmtId" in a and b"formatCode" in a:
                self.codes[int(a[b"numFmtId"])] = _attr_text(a[b"formatCode"])
        start = re.search(rb"<" + re.escape(p) + rb"cellXfs[\s>]", xml)
        if not start:
            return
        end = xml.find(b"</" + p + b"cellXfs>", start.end())
        body_start = _tag_end(xml, start.start())
        i = body_start
        xf = b"<" + p + b"xf"
        while True:
            at = xml.find(xf, i, end)
            if at < 0:
                break
            tag_end = _tag_end(xml, at)
            if xml[tag_end - 2 : tag_end] == b"/>":
                stop = tag_end
            else:
                stop = xml.find(b"</" + p + b"xf>", tag_end) + len(b"</" + p + b"xf>")
            element = xml[at:stop]
            self.xfs.append(element)
            a = _attrs(xml[at:tag_end])
            self.formats.append(int(a.get(b"numFmtId", b"0")))
            i = stop

    def wraps(self, style: int) -> bool:
        """Whether cells of this style wrap their text."""
        if not 0 <= style < len(self.xfs):
            return False
        return re.search(rb'wrapText\s*=\s*["\'](1|true)["\']', self.xfs[style]) is not None

    def kind(self, style: int) -> str | None:
        """The date kind the style shows ('datetime', 'date', 'time') or None."""
        if not 0 <= style < len(self.formats):
            return None
        code = self.codes.get(self.formats[style])
        return date_kind_of(code) if code else None

    def date_style(self, base: int, kind: str, code: str | None) -> int:
        """The style a date of `kind` gets in a cell whose style is `base`.

        A style that already shows such a date is kept (a school's own date format wins); else
        the style like `base` but with the format `code` (or a default for the kind), found among
        the book's styles or added.
        """
        if _suits(self.kind(base), kind):
            return base
        code = code or {"datetime": "dd.mm.yyyy hh:mm", "date": "dd.mm.yyyy"}.get(kind, "hh:mm")
        key = (base, kind, code)
        if key not in self._cache:
            self._cache[key] = self._like(base, code)
        return self._cache[key]

    def _like(self, base: int, code: str) -> int:
        if not self.xfs:
            return base  # no style sheet to speak of: the number stays a number
        fmt_id = self._format_id(code)
        source = self.xfs[base] if 0 <= base < len(self.xfs) else self.xfs[0]
        tag_end = _tag_end(source, 0)
        start_tag = source[:tag_end]
        wanted = _with_attrs(
            start_tag, {b"numFmtId": str(fmt_id).encode(), b"applyNumberFormat": b"1"}
        )
        candidate = wanted + source[tag_end:]
        all_xfs = self.xfs + self.added
        for i, xf in enumerate(all_xfs):
            if xf == candidate:
                return i
        self.added.append(candidate)
        return len(all_xfs)

    def _format_id(self, code: str) -> int:
        normal = _normal_code(code)
        for fmt_id, known in self.codes.items():
            if _normal_code(known) == normal:
                return fmt_id
        fmt_id = max([_FIRST_CUSTOM_FORMAT - 1, *self.codes]) + 1
        self.codes[fmt_id] = code
        self.added_formats.append((fmt_id, code))
        return fmt_id

    def patched(self) -> bytes | None:
        """styles.xml with the added styles and formats, or None when nothing was added."""
        if not self.added or self.xml is None:
            return None
        xml = self.xml
        p = self._prefix
        # cellXfs first: it comes after numFmts, so the offsets found below stay valid.
        start = re.search(rb"<" + re.escape(p) + rb"cellXfs[\s>]", xml)
        assert start is not None
        tag_end = _tag_end(xml, start.start())
        close = xml.find(b"</" + p + b"cellXfs>", tag_end)
        count = str(len(self.xfs) + len(self.added)).encode()
        new_tag = _with_attrs(xml[start.start() : tag_end], {b"count": count})
        xml = (
            xml[: start.start()] + new_tag + xml[tag_end:close] + b"".join(self.added) + xml[close:]
        )
        if self.added_formats:
            items = b"".join(
                b"<"
                + p
                + b'numFmt numFmtId="'
                + str(i).encode()
                + b'" formatCode="'
                + html.escape(code, quote=True).encode()
                + b'"/>'
                for i, code in self.added_formats
            )
            found = re.search(rb"<" + re.escape(p) + rb"numFmts[\s>/]", xml)
            if found:
                tag_end = _tag_end(xml, found.start())
                tag = xml[found.start() : tag_end]
                if tag.endswith(b"/>"):
                    count = str(len(self.added_formats)).encode()
                    tag = _with_attrs(tag[:-2] + b">", {b"count": count})
                    xml = (
                        xml[: found.start()] + tag + items + b"</" + p + b"numFmts>" + xml[tag_end:]
                    )
                else:
                    close = xml.find(b"</" + p + b"numFmts>", tag_end)
                    old = int(_attrs(tag).get(b"count", b"0") or 0)
                    tag = _with_attrs(tag, {b"count": str(old + len(self.added_formats)).encode()})
                    xml = xml[: found.start()] + tag + xml[tag_end:close] + items + xml[close:]
            else:
                root = re.search(rb"<" + re.escape(p) + rb"styleSheet[\s>]", xml)
                assert root is not None
                root_end = _tag_end(xml, root.start())
                count = str(len(self.added_formats)).encode()
                block = (
                    b"<" + p + b'numFmts count="' + count + b'">' + items + b"</" + p + b"numFmts>"
                )
                xml = xml[:root_end] + block + xml[root_end:]
        return xml


# --- one worksheet ------------------------------------------------------------------------------


@dataclass
class _Restart(Exception):
    """The dimension promised the rows end earlier than they do: patch again, row by row."""


class SheetResult:
    """What patching one sheet met: a formula overwritten (the calculation chain must go)."""

    formula_overwritten: bool = False


class _Stream:
    """A zip member read in chunks. `buf[mark:pos]` is read and still to be copied out as is."""

    def __init__(self, src: IO[bytes], out: IO[bytes]) -> None:
        self.src = src
        self.out = out
        self.buf = b""
        self.pos = 0
        self.mark = 0

    def more(self) -> bool:
        """Append another chunk to buf (indices stay valid); False at the end."""
        chunk = self.src.read(_CHUNK)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def compact(self) -> None:
        """Copy out what is passed over and drop it (only where no index is held)."""
        if self.pos > _CHUNK:
            self.copy_to(self.pos)
            self.buf = self.buf[self.pos :]
            self.pos = self.mark = 0

    def find(self, needle: bytes, start: int) -> int:
        """Index of `needle` at or after `start`, reading on as needed; -1 if it never comes."""
        while True:
            found = self.buf.find(needle, start)
            if found >= 0:
                return found
            start = max(start, len(self.buf) - len(needle) + 1)
            if not self.more():
                return -1

    def copy_until(self, needle: bytes, keep_back: int = 0) -> int:
        """Copy everything before `needle` out as is; its index, -1 if it never comes.

        At least `keep_back` bytes before the needle stay in buf, not yet copied.
        """
        while True:
            found = self.buf.find(needle, self.pos)
            if found >= 0:
                self.pos = found
                return found
            keep = max(self.pos, len(self.buf) - max(len(needle) - 1, keep_back))
            self.copy_to(keep)
            self.buf = self.buf[keep:]
            self.pos = self.mark = 0
            if not self.more():
                return -1

    def tag_end(self, start: int) -> int:
        """Index just past the '>' of the tag starting at `start`."""
        while True:
            end = _tag_end(self.buf, start)
            if end >= 0:
                return end
            if not self.more():
                raise PackageError("the sheet ends inside a tag")

    def ensure(self, end: int) -> None:
        """Make buf hold at least `end` bytes, if the stream has them."""
        while len(self.buf) < end and self.more():
            pass

    def copy_to(self, end: int) -> None:
        """Copy the bytes from mark up to `end` out as they are."""
        if end > self.mark:
            self.out.write(self.buf[self.mark : end])
            self.mark = end

    def rest(self) -> bytes:
        """Everything from mark to the end of the stream."""
        parts = [self.buf[self.mark :]]
        while chunk := self.src.read(_CHUNK):
            parts.append(chunk)
        self.buf, self.pos, self.mark = b"", 0, 0
        return b"".join(parts)


def patch_sheet(
    src: IO[bytes],
    out: IO[bytes],
    edits: SheetEdits,
    styles: StyleBook,
    *,
    date1904: bool = False,
    trust_dimension: bool = True,
) -> SheetResult:
    """Stream one worksheet part from src to out with the cells of `edits` written in.

    Rows past the last row the sheet's dimension names are appended after a jump to the end of
    sheetData, checked against the last row found there (raises _Restart when it is wrong).
    """
    s = _Stream(src, out)
    result = SheetResult()
    # The root element names the prefix of the main namespace ("" or e.g. "x:").
    at = 0
    while True:
        at = s.find(b"<", at)
        if at < 0:
            raise PackageError("no worksheet element")
        s.ensure(at + 2)
        if s.buf[at + 1 : at + 2] not in (b"?", b"!"):
            break
        at = s.tag_end(at)
    root_end = s.tag_end(at)
    root_name = re.match(rb"<([^\s>/]+)", s.buf[at:root_end])
    if root_name is None:
        raise PackageError("no worksheet element")
    qname = root_name.group(1)
    p = qname.rpartition(b":")[0] + b":" if b":" in qname else b""

    name = p + b"sheetData"
    sheet_data = s.find(b"<" + name, root_end)
    while sheet_data >= 0:
        s.ensure(sheet_data + len(name) + 2)
        if _is_name(s.buf, sheet_data + 1, name):
            break
        sheet_data = s.find(b"<" + name, sheet_data + 1)
    if sheet_data < 0:
        raise PackageError("no sheetData in the worksheet")
    head = s.buf[:sheet_data]
    columns = _column_styles(head, p)
    widths = _column_widths(head, p)
    s.out.write(_grow_dimension(head, p, edits))  # the dimension grown to cover new cells
    s.mark = s.pos = sheet_data
    start_end = s.tag_end(sheet_data)
    rows = sorted(edits.cells)
    ctx = _RowContext(edits, styles, columns, p, date1904, result, widths)
    if s.buf[start_end - 2 : start_end] == b"/>":
        body = b"".join(ctx.new_row(r) for r in rows)
        s.out.write(b"<" + name + b">" + body + b"</" + name + b">")
        s.mark = s.pos = start_end
    else:
        s.pos = start_end
        last = _dimension_last_row(head, p) if trust_dimension else 0
        todo = _patch_rows(s, ctx, rows, p, last)
        s.copy_to(s.pos)
        s.out.write(b"".join(ctx.new_row(r) for r in rows[todo:]))
    # The rest is copied as it is; merged ranges are checked on the way.
    tail = s.rest()
    _check_merges(tail, p, edits)
    s.out.write(_stretch_filter(tail, p, max(rows, default=0)))
    return result


def patch_part(
    source: Callable[[], IO[bytes]],
    out: IO[bytes],
    edits: SheetEdits,
    styles: StyleBook,
    *,
    date1904: bool = False,
) -> SheetResult:
    """patch_sheet, once more row by row from a fresh `source()` when the dimension misled it."""
    with source() as src:
        try:
            return patch_sheet(src, out, edits, styles, date1904=date1904)
        except _Restart:
            pass
    out.seek(0)
    out.truncate()
    with source() as src:
        return patch_sheet(src, out, edits, styles, date1904=date1904, trust_dimension=False)


def _patch_rows(s: _Stream, ctx: _RowContext, rows: list[int], p: bytes, last: int) -> int:
    """Copy or patch the rows of sheetData up to its end tag; how many of `rows` were placed.

    `last` is the last row the dimension names (0: unknown): rows past it are appends.

    Rows before the next one to patch are jumped over by _skip_rows (a few byte searches per
    buffer); the loop itself meets only the rows it cannot jump, so it stays within a few
    bytes.find calls per row. A row's attributes are numbers and flags, so its start tag ends at
    the first '>'.
    """
    row_open = b"<" + p + b"row"
    row_close = b"</" + p + b"row>"
    data_close = b"</" + p + b"sheetData>"
    todo = 0
    previous = 0
    while todo < len(rows):
        if last and rows[todo] > last:
            return _append_at_end(s, rows[todo], p, todo)
        s.compact()
        _skip_rows(s, rows[todo], row_open)
        buf = s.buf
        at = buf.find(b"<", s.pos)
        gt = buf.find(b">", at) if at >= 0 else -1
        if gt < 0:
            if not s.more():
                raise PackageError("sheetData is not closed")
            continue
        if buf.startswith(b"</", at):
            s.pos = at
            return todo  # </sheetData>
        if buf.startswith(b"<!--", at):
            end = buf.find(b"-->", at)
            if end < 0 and s.more():
                continue
            s.pos = end + 3
            continue
        if not (buf.startswith(row_open, at) and buf[at + len(row_open)] in b" \t\r\n/>"):
            raise PackageError("unexpected element in sheetData")
        tag_end = gt + 1
        r_at = buf.find(b' r="', at, gt)
        if r_at >= 0:
            number = int(buf[r_at + 4 : buf.find(b'"', r_at + 4)])
        else:
            number = int(_attrs(buf[at:tag_end]).get(b"r", b"0")) or previous + 1
        if buf[gt - 1] == 0x2F:  # "/>": an empty row
            row_end = tag_end
        else:
            close = buf.find(row_close, tag_end)
            if close < 0:
                if not s.more():
                    raise PackageError("a row is not closed")
                continue
            row_end = close + len(row_close)
        while todo < len(rows) and rows[todo] < number:
            s.copy_to(at)
            s.out.write(ctx.new_row(rows[todo]))
            todo += 1
        if todo < len(rows) and rows[todo] == number:
            s.copy_to(at)
            s.out.write(ctx.patch_row(buf[at:row_end], number))
            s.mark = row_end
            todo += 1
        s.pos = row_end
        previous = number
    if s.copy_until(data_close) < 0:
        raise PackageError("sheetData is not closed")
    return todo


def _skip_rows(s: _Stream, target: int, row_open: bytes) -> None:
    """Move over the rows in the buffer that come before row `target` by byte search alone.

    Rows stand in ascending order (Excel calls a sheet damaged otherwise), so every row before
    the one tagged r="target", or before a row numbered below target, is one to copy as it is
    (a row in between without a number of its own is numbered below it too). Nothing moves when
    a comment is in the way (it may hold anything): the loop of _patch_rows then walks the rows
    one by one. Two scans of the buffer at most.
    """
    buf, pos = s.buf, s.pos
    numbered = row_open + b' r="'
    found = buf.find(numbered + str(target).encode() + b'"', pos)
    if found < 0:
        found = buf.rfind(numbered, pos)
        end = buf.find(b'"', found + len(numbered)) if found > pos else -1
        if found > pos and end < 0:  # the buffer ends inside its number: take the row before
            found = buf.rfind(numbered, pos, found)
            end = buf.find(b'"', found + len(numbered)) if found > pos else -1
        digits = buf[found + len(numbered) : end] if end > 0 else b""
        if not digits.isdigit() or int(digits) >= target:
            return
    if found > pos and buf.find(b"<!", pos, found) < 0:
        s.pos = found


_KEEP_BACK = 4 * _CHUNK  # how far back the last row is looked for before </sheetData>


def _append_at_end(s: _Stream, first: int, p: bytes, todo: int) -> int:
    """Jump to </sheetData> and check that the last row there comes before `first`."""
    row_open = b"<" + p + b"row"
    close = s.copy_until(b"</" + p + b"sheetData>", keep_back=_KEEP_BACK)
    if close < 0:
        raise PackageError("sheetData is not closed")
    start = s.buf.rfind(row_open, 0, close)
    while start >= 0 and s.buf[start + len(row_open)] not in b" \t\r\n/>":
        start = s.buf.rfind(row_open, 0, start)
    if start < 0:
        raise _Restart  # no row in sight: let the row-by-row path see for itself
    gt = s.buf.find(b">", start, close)
    number = _row_number(s.buf[start : gt + 1]) if gt >= 0 else 0
    if not number or number >= first:
        raise _Restart
    return todo


def _dimension_last_row(head: bytes, p: bytes) -> int:
    found = re.search(rb"<" + re.escape(p) + rb"dimension\s[^>]*>", head)
    if not found:
        return 0
    ref = _attr_text(_attrs(found.group(0)).get(b"ref", b""))
    return _range(ref)[2] if ref else 0


def _row_number(tag: bytes) -> int:
    at = tag.find(b' r="')
    if at >= 0:
        end = tag.find(b'"', at + 4)
        return int(tag[at + 4 : end])
    value = _attrs(tag).get(b"r")
    return int(value) if value else 0


def _column_styles(head: bytes, p: bytes) -> list[tuple[int, int, int]]:
    out = []
    for tag in re.finditer(rb"<" + re.escape(p) + rb"col\s[^>]*>", head):
        a = _attrs(tag.group(0))
        if b"style" in a:
            out.append((int(a.get(b"min", b"0")), int(a.get(b"max", b"0")), int(a[b"style"])))
    return out


def _column_widths(head: bytes, p: bytes) -> list[tuple[int, int, float]]:
    out = []
    for tag in re.finditer(rb"<" + re.escape(p) + rb"col\s[^>]*>", head):
        a = _attrs(tag.group(0))
        if b"width" in a:
            lo, hi = int(a.get(b"min", b"0")), int(a.get(b"max", b"0"))
            out.append((lo, hi, float(_attr_text(a[b"width"]))))
    return out


def _grow_dimension(head: bytes, p: bytes, edits: SheetEdits) -> bytes:
    found = re.search(rb"<" + re.escape(p) + rb"dimension\s[^>]*>", head)
    if not found or not edits.cells:
        return head
    ref = _attr_text(_attrs(found.group(0)).get(b"ref", b"A1"))
    r1, c1, r2, c2 = _range(ref)
    lo_row, hi_row = min(edits.cells), max(edits.cells)
    cols = [c for cells in edits.cells.values() for c in cells]
    lo_col, hi_col = min(cols), max(cols)
    if r1 == 0:  # no rows in the ref at all: take the cells' own
        r1, r2 = lo_row, hi_row
    if c1 == 0:
        c1, c2 = lo_col, hi_col
    n1, m1 = min(r1, lo_row), min(c1, lo_col)
    n2, m2 = max(r2, hi_row), max(c2, hi_col)
    if (n1, m1, n2, m2) == (r1, c1, r2, c2):
        return head
    new_ref = f"{column_letter(m1)}{n1}"
    if (n1, m1) != (n2, m2):
        new_ref += f":{column_letter(m2)}{n2}"
    tag = _with_attrs(found.group(0), {b"ref": new_ref.encode()})
    return head[: found.start()] + tag + head[found.end() :]


def _stretch_filter(tail: bytes, p: bytes, last_row: int) -> bytes:
    """The header's filter grown over the rows just written (LibreOffice filters only the range
    the file names)."""
    found = re.search(rb"<" + re.escape(p) + rb"autoFilter\s[^>]*>", tail)
    if not found:
        return tail
    ref = _attr_text(_attrs(found.group(0)).get(b"ref", b""))
    if not ref:
        return tail
    r1, c1, r2, c2 = _range(ref)
    if last_row <= r2 or not r1:
        return tail
    new_ref = f"{column_letter(c1)}{r1}:{column_letter(c2)}{last_row}".encode()
    tag = _with_attrs(found.group(0), {b"ref": new_ref})
    return tail[: found.start()] + tag + tail[found.end() :]


def _check_merges(tail: bytes, p: bytes, edits: SheetEdits) -> None:
    if b"mergeCell" not in tail:
        return
    for tag in re.finditer(rb"<" + re.escape(p) + rb"mergeCell\s[^>]*>", tail):
        ref = _attr_text(_attrs(tag.group(0)).get(b"ref", b""))
        if not ref:
            continue
        r1, c1, r2, c2 = _range(ref)
        for row in range(r1, r2 + 1):
            for col in edits.cells.get(row, ()):
                if c1 <= col <= c2 and (row, col) != (r1, c1):
                    raise MergedCellError(edits.title, f"{column_letter(col)}{row}")


class _RowContext:
    """Builds the XML of a patched or a new row."""

    def __init__(
        self,
        edits: SheetEdits,
        styles: StyleBook,
        columns: list[tuple[int, int, int]],
        p: bytes,
        date1904: bool,
        result: SheetResult,
        widths: list[tuple[int, int, float]] | None = None,
    ) -> None:
        self.edits = edits
        self.widths = widths or []
        self.styles = styles
        self.columns = columns
        self.p = p
        self.date1904 = date1904
        self.result = result

    def _column_style(self, col: int) -> int:
        for lo, hi, style in self.columns:
            if lo <= col <= hi:
                return style
        return 0

    def _width(self, col: int) -> float:
        for lo, hi, width in self.widths:
            if lo <= col <= hi:
                return width
        return DEFAULT_WIDTH

    def _taller(self, start_tag: bytes, written: list[tuple[int, CellValue, int]]) -> bytes:
        """The row's start tag with a height for the wrapped text just written into it; a row
        already as tall (set by a person, say) keeps its height."""
        lines = 1
        for col, value, style in written:
            if value.kind == "text" and self.styles.wraps(style):
                text = html.unescape(value.content)
                lines = max(lines, wrapped_lines(text, self._width(col)))
        height = row_height(lines)
        if height is None:
            return start_tag
        have = _attrs(start_tag).get(b"ht")
        if have is not None and float(_attr_text(have)) >= height:
            return start_tag
        return _with_attrs(start_tag, {b"ht": _number_text(height).encode(), b"customHeight": b"1"})

    def cell(self, row: int, col: int, value: CellValue, style: int) -> bytes:
        """The <c> element of one written cell ('' for an empty cell with no style)."""
        p = self.p
        ref = f"{column_letter(col)}{row}".encode()
        if value.kind == "date":
            style = self.styles.date_style(style, value.date_kind, value.code)
        s_attr = b' s="' + str(style).encode() + b'"' if style else b""
        head = b"<" + p + b'c r="' + ref + b'"' + s_attr
        if value.kind == "empty":
            return head + b"/>" if style else b""
        if value.kind == "text":
            return (
                head + b' t="inlineStr"><' + p + b"is><" + p + b't xml:space="preserve">'
                + value.content.encode("utf-8")
                + b"</" + p + b"t></" + p + b"is></" + p + b"c>"
            )  # fmt: skip
        if value.kind == "bool":
            number, kind = value.content, b' t="b"'
        elif value.kind == "date":
            serial = value.serial
            if self.date1904 and value.date_kind != "time":
                serial -= 1462  # days from 1899-12-30 to 1904-01-01, Excel's other epoch
            number, kind = _number_text(serial), b""
        else:
            number, kind = value.content, b""
        return head + kind + b"><" + p + b"v>" + number.encode() + b"</" + p + b"v></" + p + b"c>"

    def new_row(self, row: int) -> bytes:
        p = self.p
        items = sorted(self.edits.cells[row].items())
        cells = b"".join(
            self.cell(row, col, value, self._column_style(col)) for col, value in items
        )
        if not cells:
            return b""
        written = [(col, value, self._column_style(col)) for col, value in items]
        start_tag = self._taller(b"<" + p + b'row r="' + str(row).encode() + b'">', written)
        return start_tag + cells + b"</" + p + b"row>"

    def patch_row(self, xml: bytes, row: int) -> bytes:
        p = self.p
        wanted = dict(self.edits.cells[row])
        tag_end = _tag_end(xml, 0)
        start_tag = xml[:tag_end]
        row_attrs = _attrs(start_tag)
        row_style = None
        if row_attrs.get(b"customFormat", b"0") in (b"1", b"true") and b"s" in row_attrs:
            row_style = int(row_attrs[b"s"])
        parts: list[tuple[int, bytes]] = []
        written: list[tuple[int, CellValue, int]] = []
        trailing = b""
        body_end = len(xml) if start_tag.endswith(b"/>") else xml.rfind(b"</" + p + b"row>")
        i = tag_end
        col = 0
        c_close = b"</" + p + b"c>"
        while i < body_end:
            at = xml.find(b"<", i, body_end)
            if at < 0:
                break
            if not _is_name(xml, at + 1, p + b"c"):
                trailing = xml[at:body_end]  # extLst: stays after the cells
                break
            c_end = _tag_end(xml, at)
            c_tag = xml[at:c_end]
            stop = c_end if c_tag.endswith(b"/>") else xml.find(c_close, c_end) + len(c_close)
            a = _attrs(c_tag)
            ref = a.get(b"r")
            col = _split_ref(ref.decode())[1] if ref else col + 1
            if col in wanted:
                value = wanted.pop(col)
                if xml.find(b"<" + p + b"f", c_end, stop) >= 0:
                    self.result.formula_overwritten = True
                style = int(a.get(b"s", b"0"))
                written.append((col, value, style))
                parts.append((col, self.cell(row, col, value, style)))
            else:
                element = xml[at:stop]
                if not ref:  # give it its place: cells added before it would shift it
                    letters = f"{column_letter(col)}{row}".encode()
                    cut = 2 + len(p)  # just past "<c" (with its prefix)
                    element = element[:cut] + b' r="' + letters + b'"' + element[cut:]
                parts.append((col, element))
            i = stop
        for col, value in wanted.items():
            base = row_style if row_style is not None else self._column_style(col)
            written.append((col, value, base))
            parts.append((col, self.cell(row, col, value, base)))
        start_tag = self._taller(start_tag, written)
        parts.sort(key=lambda item: item[0])
        body = b"".join(element for _, element in parts)
        if wanted and b"spans" in row_attrs:
            start_tag = _with_attrs(start_tag, {b"spans": None})  # a hint only; now out of date
        if start_tag.endswith(b"/>"):
            if not body:
                return start_tag
            start_tag = start_tag[:-2].rstrip() + b">"
        return start_tag + body + trailing + b"</" + p + b"row>"


# --- the whole package --------------------------------------------------------------------------


def write_package(
    source: str,
    target: IO[bytes],
    edits: Iterable[SheetEdits],
    *,
    book: _Book,
    zf: zipfile.ZipFile,
) -> None:
    """Write the package `source` to `target` with the edits applied; every other part copied."""
    edits = list(edits)
    styles_xml = zf.read(book.styles) if book.styles and book.styles in zf.NameToInfo else None
    styles = StyleBook(styles_xml)
    patched: dict[str, IO[bytes]] = {}
    drop_chain = False
    try:
        for sheet in edits:
            spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL)  # noqa: SIM115 - closed below
            patched[sheet.part] = spool
            opener = partial(zf.open, sheet.part)
            result = patch_part(opener, spool, sheet, styles, date1904=book.date1904)
            drop_chain |= result.formula_overwritten
            spool.seek(0)
        replaced: dict[str, bytes] = {}
        new_styles = styles.patched()
        if new_styles is not None and book.styles:
            replaced[book.styles] = new_styles
        dropped: set[str] = set()
        if drop_chain and book.calc_chain and book.calc_chain in zf.NameToInfo:
            dropped.add(book.calc_chain)
            replaced.update(_without_chain(zf, book.calc_chain))
        with zipfile.ZipFile(target, "w", allowZip64=True) as out:
            for info in zf.infolist():
                if info.filename in dropped:
                    continue
                copy_info = _copy_info(info)
                if info.filename in patched:
                    # The fastest deflate: a big sheet compresses three times as fast, a quarter
                    # larger (Excel compresses it again when it next saves the book).
                    copy_info._compresslevel = 1
                    with out.open(copy_info, "w", force_zip64=True) as dst:
                        shutil.copyfileobj(patched[info.filename], dst, _CHUNK)
                elif info.filename in replaced:
                    out.writestr(copy_info, replaced[info.filename])
                else:
                    _copy_member(zf, info, out, copy_info)
    finally:
        for spool in patched.values():
            spool.close()


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    out = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    out.compress_type = info.compress_type
    out.external_attr = info.external_attr
    out.create_system = info.create_system
    out.comment = info.comment
    return out


def _copy_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, out: zipfile.ZipFile, copy: zipfile.ZipInfo
) -> None:
    if _copy_raw(zf, info, out, copy):
        return
    if info.file_size <= _CHUNK:
        out.writestr(copy, zf.read(info))
        return
    with zf.open(info) as src, out.open(copy, "w", force_zip64=info.file_size > 2**31) as dst:
        shutil.copyfileobj(src, dst, _CHUNK)


_LOCAL_HEADER = b"PK\x03\x04"
_LOCAL_HEADER_SIZE = 30
_ENCRYPTED = 0x1


def _copy_raw(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, out: zipfile.ZipFile, copy: zipfile.ZipInfo
) -> bool:
    """Copy a member's compressed bytes as they are: no inflating and deflating again (a big
    part a school added costs a sync nothing). False when it cannot be done this way (an
    encrypted member, an unknown method, a target that cannot seek): copy it the long way.

    zipfile has no call for this, so the member is written as ZipFile._open_to_write and
    _ZipWriteFile.close write one, with the sizes and CRC known up front.
    """
    methods = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
    if info.flag_bits & _ENCRYPTED or info.compress_type not in methods or not out._seekable:
        return False
    src = zf.fp
    if src is None:
        return False
    src.seek(info.header_offset)
    header = src.read(_LOCAL_HEADER_SIZE)
    if len(header) != _LOCAL_HEADER_SIZE or not header.startswith(_LOCAL_HEADER):
        raise zipfile.BadZipFile(f"bad local header: {info.filename}")
    name_size, extra_size = struct.unpack("<HH", header[26:30])
    src.seek(info.header_offset + _LOCAL_HEADER_SIZE + name_size + extra_size)
    copy.CRC, copy.compress_size, copy.file_size = info.CRC, info.compress_size, info.file_size
    zip64 = max(copy.file_size, copy.compress_size) > zipfile.ZIP64_LIMIT
    dst = out.fp
    dst.seek(out.start_dir)
    copy.header_offset = dst.tell()
    out._writecheck(copy)
    out._didModify = True
    dst.write(copy.FileHeader(zip64))
    left = info.compress_size
    while left > 0:
        chunk = src.read(min(left, _CHUNK))
        if not chunk:
            raise zipfile.BadZipFile(f"the member is cut short: {info.filename}")
        dst.write(chunk)
        left -= len(chunk)
    out.start_dir = dst.tell()
    out.filelist.append(copy)
    out.NameToInfo[copy.filename] = copy
    return True


def _without_chain(zf: zipfile.ZipFile, chain: str) -> dict[str, bytes]:
    """[Content_Types].xml and the workbook's rels without the calculation chain."""
    out: dict[str, bytes] = {}
    types = zf.read("[Content_Types].xml")
    out["[Content_Types].xml"] = re.sub(
        rb"<(?:\w+:)?Override\s[^>]*PartName=\"/" + re.escape(chain.encode()) + rb"\"[^>]*/>",
        b"",
        types,
    )
    workbook = _main_part(zf)
    rels = _rels_name(workbook)
    if rels in zf.NameToInfo:
        out[rels] = re.sub(rb"<(?:\w+:)?Relationship\s[^>]*calcChain\"[^>]*/>", b"", zf.read(rels))
    return out


__all__ = [
    "CellValue",
    "MergedCellError",
    "PackageError",
    "SheetEdits",
    "StyleBook",
    "date_kind_of",
    "encode_value",
    "patch_part",
    "patch_sheet",
    "read_book",
    "write_package",
]
