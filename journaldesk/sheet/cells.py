"""What people type into a cell, read as a typed value, or a plain-Russian note when it can't be.

Raw values come from either store: a workbook read by calamine (str, float, bool, datetime, date,
time, timedelta) or Google Sheets read with UNFORMATTED_VALUE + SERIAL_NUMBER (str, int, float,
bool; date cells as serial numbers). Nothing here raises on bad input and nothing changes the
cell: a cell that cannot be understood gives `Parsed(None, note)`, and the note names the column,
quotes what was typed and says what is expected.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from zoneinfo import ZoneInfo

import numpy as np

from journaldesk.sheet.schema import Column
from journaldesk.sheet.textfmt import LATIN, LOOKALIKES

__all__ = ["Parsed", "parse_cell", "parse_column", "parse_column_notes", "quote_raw"]


@dataclass(frozen=True)
class Parsed:
    """A cell read by its column's type: the typed value (None when empty or not understood)."""

    value: object
    problem: str | None


EMPTY = Parsed(None, None)

MIN_YEAR, MAX_YEAR = 2000, 2100
# Google serials and Excel date numbers count days from 1899-12-30.
SERIAL_EPOCH = dt.datetime(1899, 12, 30)
_SERIAL_EPOCH64 = np.datetime64("1899-12-30T00:00:00", "s")
# Numbers in this range are read as date serials (and then held to MIN_YEAR..MAX_YEAR), so a
# 1995 date in a Google sheet is reported as a wrong year, not as a stray number.
_SERIAL_MIN = (dt.datetime(1990, 1, 1) - SERIAL_EPOCH).days
_SERIAL_MAX = (dt.datetime(2200, 1, 1) - SERIAL_EPOCH).days
# Whole numbers past this are not something a person means as a count or a №.
_INT_LIMIT = 10**15

_QUOTE_LIMIT = 40

_EXPECT_DATE = "Введите дату как ДД.ММ.ГГГГ"
_EXPECT_DATETIME = "Введите дату как ДД.ММ.ГГГГ или ДД.ММ.ГГГГ ЧЧ:ММ"
_EXPECT_TIME = "Введите время как ЧЧ:ММ, например 14:30"
_EXPECT_INT = "Введите целое число, например 12"
_EXPECT_NUMBER = "Введите число, например 12 или 12,5"
_EXPECT_CLASS = "Напишите номер класса от 1 до 11 и русскую букву, например 5А или 11Б"
_EXPECT_EMAIL = "Введите один адрес, например ivanova@school.ru"

_SPACES = re.compile(r"\s+")
_ALL_SPACE_AND_QUOTES = re.compile(r"[\s\"'«»“”„]+")

# Words for relative days: people mean a date, but the sheet needs the date itself.
_RELATIVE_DAY_WORDS = ("вчера", "сегодня", "завтра", "позавчера", "послезавтра")

_MONTHS = {
    "январ": 1,
    "феврал": 2,
    "март": 3,
    "апрел": 4,
    "ма": 5,
    "июн": 6,
    "июл": 7,
    "август": 8,
    "сентябр": 9,
    "октябр": 10,
    "ноябр": 11,
    "декабр": 12,
}

_TIME_PART = r"(?:t|[\s,]+(?:в\s+)?)(?P<hh>\d{1,2})[:.](?P<mi>\d{2})(?:[:.](?P<ss>\d{2}))?"
_DMY = re.compile(
    r"(?P<d>\d{1,2})[./-](?P<m>\d{1,2})[./-](?P<y>\d{4}|\d{2})"
    r"(?:\s*(?:г\.?|года?)(?=\s|$))?"
    rf"(?:{_TIME_PART})?"
)
_YMD = re.compile(
    r"(?P<y>\d{4})[./-](?P<m>\d{1,2})[./-](?P<d>\d{1,2})"
    rf"(?:{_TIME_PART}(?:\.\d+)?)?"
)
_WORD_MONTH = re.compile(
    r"(?P<d>\d{1,2})\s+(?P<mon>[а-яё]+)\.?\s+(?P<y>\d{4})"
    r"(?:\s*(?:г\.?|года?)(?=\s|$))?"
    rf"(?:{_TIME_PART})?"
)
_DAY_MONTH_ONLY = re.compile(r"\d{1,2}[./]\d{1,2}\.?")
_TIME_TEXT = re.compile(r"(?P<hh>\d{1,2})(?:[:.\-](?P<mi>\d{2})(?:[:.](?P<ss>\d{2}))?)?")
_INT_TEXT = re.compile(r"(?:№|#|N)?(?P<n>[+-]?\d+)(?:[.,]0*)?")
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)")
_CLASS_TEXT = re.compile(r"(?P<n>\d{1,2})\s*[-–—]?\s*(?P<l>[А-Я])")
_EMAIL = re.compile(r"[^@\s,;<>()\[\]\"]+@[^@\s,;<>()\[\]\"]+\.[^@\s,;<>()\[\]\".]{2,}")


def quote_raw(raw: object) -> str:
    """What was typed, as a person would see it in the sheet, shortened with «…» past 40 chars."""
    text = _display(raw)
    text = _SPACES.sub(" ", text).strip()
    if len(text) > _QUOTE_LIMIT:
        cut = text[:_QUOTE_LIMIT]
        space = cut.rfind(" ")
        # Cut at a word boundary when one is near, so the quote doesn't end in half a word.
        if text[_QUOTE_LIMIT] != " " and space >= _QUOTE_LIMIT - 12:
            cut = cut[:space]
        text = cut.rstrip(" ,;") + "…"
    return text


def _display(raw: object) -> str:
    if isinstance(raw, bool):
        # A Russian-locale sheet shows booleans this way, so that is what the person saw.
        return "ИСТИНА" if raw else "ЛОЖЬ"
    if isinstance(raw, int):
        return str(raw)
    if isinstance(raw, float):
        return _number_text(raw)
    if isinstance(raw, dt.datetime):
        if raw.hour == raw.minute == raw.second == 0:
            return raw.strftime("%d.%m.%Y")
        return raw.strftime("%d.%m.%Y %H:%M")
    if isinstance(raw, dt.date):
        return raw.strftime("%d.%m.%Y")
    if isinstance(raw, dt.time):
        return raw.strftime("%H:%M")
    if isinstance(raw, dt.timedelta):
        minutes = int(raw.total_seconds() // 60)
        return f"{minutes // 60}:{minutes % 60:02d}"
    return str(raw)


def _number_text(x: float) -> str:
    if math.isfinite(x) and x == int(x) and abs(x) < _INT_LIMIT:
        return str(int(x))
    # Russian notation: a decimal comma, as the sheet shows it.
    return repr(x).replace(".", ",")


def _note(column: Column, raw: object, what: str, expected: str | None = None) -> Parsed:
    text = f"{column.header}: «{quote_raw(raw)}» — {what}"
    if expected:
        text += f". {expected}"
    return Parsed(None, text)


def _normalise_text(text: str) -> str:
    """Collapse every kind of space (NBSP, tabs, line breaks) into one and strip the ends."""
    return _SPACES.sub(" ", text).strip()


def _is_empty(raw: object) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return not raw.strip()
    if isinstance(raw, float):
        return raw != raw  # NaN: an empty cell that passed through pandas
    return raw != raw if isinstance(raw, dt.datetime) else False  # pandas NaT


def _plain(raw: object) -> object:
    """numpy scalars and pandas Timestamps become the plain Python values they stand for."""
    if type(raw) in (str, int, float, bool, dt.datetime, dt.date, dt.time, dt.timedelta):
        return raw
    if type(raw).__name__ == "NAType":  # pandas.NA: an empty cell that passed through pandas
        return None
    item = getattr(raw, "item", None)
    if callable(item) and type(raw).__module__ == "numpy":
        try:
            return item()
        except (TypeError, ValueError):
            return raw
    to_pydatetime = getattr(raw, "to_pydatetime", None)
    if callable(to_pydatetime) and isinstance(raw, dt.datetime):
        return to_pydatetime()
    return raw


# --- dates and moments -------------------------------------------------------------------------


@cache
def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        return None


def _round_seconds(moment: dt.datetime) -> dt.datetime:
    # Workbook date numbers are floats: 14:30 may come back as 14:29:59.999999.
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + dt.timedelta(
            seconds=1 if moment.microsecond >= 500_000 else 0
        )
    return moment


def serial_to_datetime(serial: float) -> dt.datetime:
    """A spreadsheet serial number (days since 1899-12-30, fraction = time) as a naive moment."""
    return SERIAL_EPOCH + dt.timedelta(seconds=round(serial * 86400))


def _date_expected(column: Column) -> str:
    return _EXPECT_DATETIME if column.type == "datetime" else _EXPECT_DATE


def _moment_result(moment: dt.datetime, column: Column, raw: object) -> Parsed:
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        return _note(
            column,
            raw,
            f"год {moment.year} не подходит, нужен год от {MIN_YEAR} до {MAX_YEAR}",
            _date_expected(column),
        )
    if column.type == "date":
        return Parsed(moment.date(), None)
    return Parsed(moment, None)


def _parse_moment(raw: object, column: Column, sheet_tz: str | None) -> Parsed:
    if isinstance(raw, bool):
        return _note(column, raw, "это не дата", _date_expected(column))
    if isinstance(raw, dt.datetime):
        if raw.tzinfo is not None:
            zone = _zone(sheet_tz) if sheet_tz else None
            raw = raw.astimezone(zone) if zone else raw
            raw = raw.replace(tzinfo=None)
        return _moment_result(_round_seconds(raw), column, raw)
    if isinstance(raw, dt.date):
        return _moment_result(dt.datetime(raw.year, raw.month, raw.day), column, raw)
    if isinstance(raw, dt.time | dt.timedelta):
        return _note(column, raw, "здесь только время, а нужна дата", _date_expected(column))
    if isinstance(raw, int | float):
        if not math.isfinite(raw) or not _SERIAL_MIN <= raw < _SERIAL_MAX:
            return _note(column, raw, "это число, а не дата", _date_expected(column))
        moment = serial_to_datetime(raw)
        return _moment_result(moment, column, moment)
    if isinstance(raw, str):
        return _parse_moment_text(raw, column)
    return _note(column, raw, "не удалось понять дату", _date_expected(column))


def _parse_moment_text(raw: str, column: Column) -> Parsed:
    text = _normalise_text(raw).lower()
    expected = _date_expected(column)
    match = _DMY.fullmatch(text) or _YMD.fullmatch(text)
    month: int | None = None
    if match is not None:
        month = int(match["m"])
    else:
        match = _WORD_MONTH.fullmatch(text)
        if match is not None:
            month = _month_number(match["mon"])
            if month is None:
                return _note(column, raw, "не удалось понять месяц", expected)
    if match is None:
        if any(word in text for word in _RELATIVE_DAY_WORDS):
            return _note(column, raw, "нужна сама дата, а не слово", expected)
        if _DAY_MONTH_ONLY.fullmatch(text):
            return _note(column, raw, "не указан год", expected)
        return _note(column, raw, "не удалось понять дату", expected)
    year = int(match["y"])
    if len(match["y"]) == 2:
        year += 2000
    if not MIN_YEAR <= year <= MAX_YEAR:
        return _note(
            column, raw, f"год {year} не подходит, нужен год от {MIN_YEAR} до {MAX_YEAR}", expected
        )
    try:
        day = dt.date(year, month, int(match["d"]))
    except ValueError:
        return _note(column, raw, "такой даты нет", expected)
    if match["hh"] is None:
        return Parsed(day if column.type == "date" else dt.datetime.combine(day, dt.time()), None)
    try:
        clock = dt.time(int(match["hh"]), int(match["mi"]), int(match["ss"] or 0))
    except ValueError:
        return _note(column, raw, "такого времени нет", expected)
    if column.type == "date":
        return Parsed(day, None)
    return Parsed(dt.datetime.combine(day, clock), None)


def _month_number(word: str) -> int | None:
    word = word.rstrip(".")
    if word in ("мая", "май"):
        return 5
    for stem, number in _MONTHS.items():
        if stem != "ма" and word.startswith(stem[: max(3, len(stem) - 1)]):
            return number
    return None


# --- times -------------------------------------------------------------------------------------


def _parse_time(raw: object, column: Column) -> Parsed:
    if isinstance(raw, bool):
        return _note(column, raw, "это не время", _EXPECT_TIME)
    if isinstance(raw, dt.datetime):
        # A time-only cell read as a full moment sits on the spreadsheet's day zero.
        if raw.date() in (SERIAL_EPOCH.date(), dt.date(1899, 12, 31), dt.date(1900, 1, 1)):
            return Parsed(_round_seconds(raw).time(), None)
        return _note(column, raw, "здесь дата, а нужно только время", _EXPECT_TIME)
    if isinstance(raw, dt.date):
        return _note(column, raw, "здесь дата, а нужно только время", _EXPECT_TIME)
    if isinstance(raw, dt.time):
        if raw.microsecond:
            rounded = _round_seconds(dt.datetime.combine(SERIAL_EPOCH.date(), raw))
            raw = rounded.time() if rounded.date() == SERIAL_EPOCH.date() else raw
        return Parsed(raw.replace(tzinfo=None), None)
    if isinstance(raw, dt.timedelta):
        seconds = round(raw.total_seconds())
        if 0 <= seconds < 86400:
            return Parsed(dt.time(seconds // 3600, seconds % 3600 // 60, seconds % 60), None)
        return _note(column, raw, "такого времени нет", _EXPECT_TIME)
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            return _note(column, raw, "это не время", _EXPECT_TIME)
        if 0 <= raw < 1:
            seconds = round(raw * 86400)
            if seconds < 86400:
                return Parsed(dt.time(seconds // 3600, seconds % 3600 // 60, seconds % 60), None)
        elif raw == int(raw) and 1 <= raw <= 23:
            # «14» typed into a time cell is read by the sheet as the number 14: an hour.
            return Parsed(dt.time(int(raw)), None)
        return _note(column, raw, "это число, а не время", _EXPECT_TIME)
    if isinstance(raw, str):
        text = _normalise_text(raw)
        match = _TIME_TEXT.fullmatch(text)
        if match is None:
            return _note(column, raw, "не удалось понять время", _EXPECT_TIME)
        try:
            clock = dt.time(int(match["hh"]), int(match["mi"] or 0), int(match["ss"] or 0))
        except ValueError:
            return _note(column, raw, "такого времени нет", _EXPECT_TIME)
        return Parsed(clock, None)
    return _note(column, raw, "не удалось понять время", _EXPECT_TIME)


# --- numbers -----------------------------------------------------------------------------------


def _parse_int(raw: object, column: Column) -> Parsed:
    if isinstance(raw, bool):
        return _note(column, raw, "это не число", _EXPECT_INT)
    if isinstance(raw, int):
        if abs(raw) >= _INT_LIMIT:
            return _note(column, raw, "слишком большое число", _EXPECT_INT)
        return Parsed(raw, None)
    if isinstance(raw, float):
        if not math.isfinite(raw) or abs(raw) >= _INT_LIMIT:
            return _note(column, raw, "это не число", _EXPECT_INT)
        if raw != int(raw):
            return _note(column, raw, "нужно целое число", _EXPECT_INT)
        return Parsed(int(raw), None)
    if isinstance(raw, str):
        # Spaces inside are thousands separators («1 000»); «00123» is 123.
        text = _SPACES.sub("", raw)
        match = _INT_TEXT.fullmatch(text)
        if match is None:
            if _NUMBER_TEXT.fullmatch(text):
                return _note(column, raw, "нужно целое число", _EXPECT_INT)
            return _note(column, raw, "это не число", _EXPECT_INT)
        digits = match["n"]
        body = digits.lstrip("+-").lstrip("0") or "0"
        if len(body) > 15:
            return _note(column, raw, "слишком большое число", _EXPECT_INT)
        return Parsed(-int(body) if digits.startswith("-") else int(body), None)
    return _note(column, raw, "это не число", _EXPECT_INT)


def _parse_number(raw: object, column: Column) -> Parsed:
    if isinstance(raw, bool):
        return _note(column, raw, "это не число", _EXPECT_NUMBER)
    if isinstance(raw, int | float):
        if isinstance(raw, int) and abs(raw) >= 10**300:
            return _note(column, raw, "слишком большое число", _EXPECT_NUMBER)
        value = float(raw)
        if not math.isfinite(value):
            return _note(column, raw, "это не число", _EXPECT_NUMBER)
        return Parsed(value, None)
    if isinstance(raw, str):
        text = _SPACES.sub("", raw)
        if not _NUMBER_TEXT.fullmatch(text) or len(text) > 30:
            return _note(column, raw, "это не число", _EXPECT_NUMBER)
        return Parsed(float(text.replace(",", ".")), None)
    return _note(column, raw, "это не число", _EXPECT_NUMBER)


# --- allowed values, classes, e-mail, text -----------------------------------------------------


def _key(text: str) -> str:
    """How values are compared: no spaces or quotes, any case, е for ё."""
    return _ALL_SPACE_AND_QUOTES.sub("", text).casefold().replace("ё", "е")


@cache
def _enum_table(values: tuple[str, ...]) -> dict[str, str]:
    return {_key(v): v for v in values}


def _lookalike_note(column: Column, raw: object, canonical: str) -> Parsed:
    return Parsed(
        canonical,
        f"{column.header}: «{quote_raw(raw)}» — в записи есть латинские буквы, похожие на "
        f"русские. Прочитано как «{canonical}». Перепечатайте значение русскими буквами",
    )


def _parse_enum(raw: object, column: Column) -> Parsed:
    text = raw if isinstance(raw, str) else _display(raw)
    table = _enum_table(column.values)
    key = _key(text)
    canonical = table.get(key)
    if canonical is not None:
        return Parsed(canonical, None)
    if LATIN.search(text):
        lookalike = _key(text.translate(LOOKALIKES))
        canonical = table.get(lookalike)
        if canonical is not None and not LATIN.search(canonical):
            return _lookalike_note(column, raw, canonical)
        key = lookalike
    allowed = ", ".join(column.values)
    close = difflib.get_close_matches(key, list(table), n=1, cutoff=0.6) if len(key) < 200 else []
    if close:
        what = f"нет такого значения. Возможно, «{table[close[0]]}»?"
        text = f"{column.header}: «{quote_raw(raw)}» — {what} Допустимые значения: {allowed}"
        return Parsed(None, text)
    return _note(column, raw, "нет такого значения", f"Допустимые значения: {allowed}")


def _parse_class(raw: object, column: Column) -> Parsed:
    if not isinstance(raw, str):
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return _note(column, raw, "не хватает буквы класса", _EXPECT_CLASS)
        return _note(column, raw, "не похоже на название класса", _EXPECT_CLASS)
    text = _normalise_text(raw).strip("\"'«»“”„ ").replace("«", "").replace("»", "")
    text = text.removesuffix(" класс").removesuffix(" кл.").removesuffix(" кл")
    mapped = text.translate(LOOKALIKES).upper()
    match = _CLASS_TEXT.fullmatch(mapped)
    if match is None:
        if re.fullmatch(r"\d{1,2}", mapped):
            return _note(column, raw, "не хватает буквы класса", _EXPECT_CLASS)
        return _note(column, raw, "не похоже на название класса", _EXPECT_CLASS)
    number = int(match["n"])
    if not 1 <= number <= 11:
        return _note(column, raw, f"класса с номером {number} не бывает", _EXPECT_CLASS)
    value = f"{number}{match['l']}"
    if LATIN.search(text):
        return _lookalike_note(column, raw, value)
    return Parsed(value, None)


def _parse_email(raw: object, column: Column) -> Parsed:
    text = _normalise_text(raw) if isinstance(raw, str) else _display(raw)
    text = text.removeprefix("mailto:")
    if _EMAIL.fullmatch(text) and ".." not in text:
        return Parsed(text, None)
    if isinstance(raw, str) and len(_EMAIL.findall(text)) > 1:
        return _note(column, raw, "здесь несколько адресов, а нужен один", _EXPECT_EMAIL)
    return _note(column, raw, "не похоже на адрес электронной почты", _EXPECT_EMAIL)


def _parse_text(raw: object) -> Parsed:
    if isinstance(raw, str):
        return Parsed(raw.strip(), None)
    return Parsed(_display(raw), None)


# --- entry points ------------------------------------------------------------------------------


def _dispatch(raw: object, column: Column, sheet_tz: str | None) -> Parsed:
    kind = column.type
    if kind == "text":
        return _parse_text(raw)
    if kind in ("date", "datetime"):
        return _parse_moment(raw, column, sheet_tz)
    if kind == "time":
        return _parse_time(raw, column)
    if kind == "int":
        return _parse_int(raw, column)
    if kind == "number":
        return _parse_number(raw, column)
    if kind == "enum":
        return _parse_enum(raw, column)
    if kind == "class":
        return _parse_class(raw, column)
    if kind == "email":
        return _parse_email(raw, column)
    return _parse_text(raw)


def parse_cell(raw: object, column: Column, *, sheet_tz: str | None = None) -> Parsed:
    """Read one raw cell by its column's type; a cell that can't be read gives a Russian note.

    `sheet_tz` is the spreadsheet's own time zone: a time-zone-aware moment is shown in it.
    Dates and moments are naive local wall time. Never raises.
    """
    raw = _plain(raw)
    if _is_empty(raw):
        return EMPTY
    try:
        return _dispatch(raw, column, sheet_tz)
    except Exception:  # a cell must never stop a job, whatever it holds
        return _note(column, raw, "не удалось прочитать значение", None)


def parse_column(
    raws: Sequence, column: Column, *, sheet_tz: str | None = None
) -> tuple[list, list[str | None]]:
    """parse_cell over a whole column, fast: repeated texts are read once, typed values directly.

    Returns the typed values and the notes, one of each per raw value, in order.
    """
    values, notes = parse_column_notes(raws, column, sheet_tz=sheet_tz)
    problems: list[str | None] = [None] * len(values)
    for position, note in notes.items():
        problems[position] = note
    return values, problems


def parse_column_notes(
    raws: Sequence, column: Column, *, sheet_tz: str | None = None
) -> tuple[list, dict[int, str]]:
    """parse_column with the notes as {position: note}, in order (most cells have none)."""
    kind = column.type
    if kind == "text":
        values = [(r.strip() or None) if r.__class__ is str else r for r in raws]
        # Counting the kinds of cells runs in C; most text columns hold only text and blanks.
        only_text = set(map(type, raws)) <= {str, type(None)}
        todo = (
            []
            if only_text
            else [i for i, r in enumerate(raws) if r is not None and r.__class__ is not str]
        )
    else:
        values = list(raws)  # typed cells that need no work stay as they are
        todo = _needing_a_look(values, kind)
    notes: dict[int, str] = {}
    seen: dict[str, Parsed] = {}
    serials: list[int] = []
    moments = kind in ("date", "datetime")
    for i in todo:
        raw = values[i]
        cls = raw.__class__
        if cls is str:
            parsed = seen.get(raw)
            if parsed is None:
                parsed = seen[raw] = parse_cell(raw, column, sheet_tz=sheet_tz)
        elif moments and (cls is float or cls is int) and _SERIAL_MIN <= raw < _SERIAL_MAX:
            serials.append(i)  # every Google date cell is a serial: read them all at once below
            continue
        else:
            parsed = parse_cell(raw, column, sheet_tz=sheet_tz)
        values[i] = parsed.value
        if parsed.problem is not None:
            notes[i] = parsed.problem
    if serials:
        _read_serials(values, notes, serials, column, sheet_tz)
        notes = dict(sorted(notes.items()))
    return values, notes


def _needing_a_look(raws: list, kind: str) -> list[int]:
    """Positions of the cells of a typed column that are not already what the column holds."""
    lo, hi = MIN_YEAR, MAX_YEAR
    if kind == "datetime":
        cls = dt.datetime
        return [
            i
            for i, r in enumerate(raws)
            if r is not None
            and not (
                r.__class__ is cls and r.tzinfo is None and not r.microsecond and lo <= r.year <= hi
            )
        ]
    if kind == "date":
        cls = dt.date
        return [
            i
            for i, r in enumerate(raws)
            if r is not None and not (r.__class__ is cls and lo <= r.year <= hi)
        ]
    if kind == "time":
        cls = dt.time
        return [
            i
            for i, r in enumerate(raws)
            if r is not None and not (r.__class__ is cls and not r.microsecond and r.tzinfo is None)
        ]
    if kind == "int":
        if (
            raws
            and set(map(type, raws)) == {int}
            and -_INT_LIMIT < min(raws) <= max(raws) < _INT_LIMIT
        ):
            return []  # a column of whole numbers, all in range: checked in C
        return [
            i
            for i, r in enumerate(raws)
            if r is not None and not (r.__class__ is int and -_INT_LIMIT < r < _INT_LIMIT)
        ]
    return [i for i, r in enumerate(raws) if r is not None]


def _read_serials(
    values: list, notes: dict[int, str], where: list[int], column: Column, sheet_tz: str | None
) -> None:
    """Date serials (days since 1899-12-30) as moments, by whole arrays; a year out of range
    gets parse_cell's note."""
    seconds = np.rint(np.array([values[i] for i in where], dtype=float) * 86400)
    stamps = (_SERIAL_EPOCH64 + seconds.astype("timedelta64[s]")).astype(object)
    as_date = column.type == "date"
    for i, moment in zip(where, stamps, strict=True):
        if MIN_YEAR <= moment.year <= MAX_YEAR:
            values[i] = moment.date() if as_date else moment
            continue
        parsed = parse_cell(values[i], column, sheet_tz=sheet_tz)
        values[i] = parsed.value
        if parsed.problem is not None:
            notes[i] = parsed.problem
