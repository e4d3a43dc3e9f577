"""How dates, moments and counts are shown to people: ДД.ММ.ГГГГ, ЧЧ:ММ, Russian plural forms."""

from __future__ import annotations

import datetime as dt
import math
import re

import numpy as np
import pandas as pd

WEEKDAYS_SHORT = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")

# Latin letters that look like Russian ones (typed by a keyboard left in English): the one table.
# Lower-case b, h, m, t are there for text compared after casefold (В, Н, М, Т -> в, н, м, т).
LOOKALIKES = str.maketrans(
    "AaBbCcEeHhKkMmOoPpTtXxYy",
    "АаВвСсЕеНнКкМмОоРрТтХхУу",
)
LATIN = re.compile(r"[A-Za-z]")


def is_blank(value: object) -> bool:
    """True for an empty cell: None, NaN/NaT, or text of only spaces (NBSP included)."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.replace("\xa0", " ").strip()
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def blank_mask(values: object) -> np.ndarray:
    """is_blank over a whole column (any sequence, Series or array), as a boolean array."""
    array = np.asarray(values, dtype=object)
    if array.ndim != 1:
        array = array.ravel()
    # pandas' null check runs in C; only the texts need a look of their own.
    out = pd.isna(array)
    cells = array.tolist()
    kinds = set(map(type, cells))
    if str not in kinds:
        return out
    if any(issubclass(k, str) and k is not str for k in kinds):
        # str.strip() takes NBSP too
        out |= np.array([c.__class__ is str and not c.strip() for c in cells], dtype=bool)
        return out
    # Each distinct text is looked at once; the look-up over the column runs in C.
    blank_texts = {c for c in set(cells) if c.__class__ is str and not c.strip()}
    if blank_texts:
        out |= np.fromiter(map(blank_texts.__contains__, cells), dtype=bool, count=len(cells))
    return out


def blank_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """is_blank over every cell of a frame, column by column."""
    return pd.DataFrame(
        {c: blank_mask(frame[c].to_numpy(dtype=object)) for c in frame.columns},
        index=frame.index,
        columns=frame.columns,
        dtype=bool,
    )


def as_date(value: object) -> dt.date | None:
    """The day of a date or a moment; None for anything else (text, a number, an empty cell)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return None


def moment(value: dt.datetime | None) -> str:
    """ДД.ММ.ГГГГ ЧЧ:ММ, or an empty string."""
    return "" if is_blank(value) else value.strftime("%d.%m.%Y %H:%M")


def day(value: dt.date | None) -> str:
    """ДД.ММ.ГГГГ, or an empty string."""
    return "" if is_blank(value) else value.strftime("%d.%m.%Y")


def clock(value: dt.time | dt.datetime | None) -> str:
    """ЧЧ:ММ, or an empty string."""
    return "" if is_blank(value) else value.strftime("%H:%M")


def plural(n: int, one: str, few: str, many: str) -> str:
    """The Russian plural form for n: 1 обращение, 2 обращения, 5 обращений, 21 обращение."""
    n = abs(int(n))
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def count(n: int, one: str, few: str, many: str) -> str:
    """A number with its noun: «3 обращения»."""
    return f"{n} {plural(n, one, few, many)}"


def decimal(x: float, digits: int = 1) -> str:
    """A number with a decimal comma, as Russian reports write it: «0,4», «12,5»."""
    return f"{x:.{digits}f}".replace(".", ",")


def hours(minutes: float) -> str:
    """Working minutes as hours for people: «1,5 ч», «40 мин»."""
    if minutes < 60:
        return f"{round(minutes)} мин"
    return f"{minutes / 60:.1f}".rstrip("0").rstrip(".").replace(".", ",") + " ч"


def percent(share: float | None, digits: int = 1) -> str:
    """A share as Russian per cent: 0.875 -> «87,5 %», None -> «—»."""
    if share is None or (isinstance(share, float) and math.isnan(share)):
        return "—"
    text = f"{share * 100:.{digits}f}".replace(".", ",")
    if "," in text:
        text = text.rstrip("0").rstrip(",")
    return f"{text} %"


def points(change: float | None) -> str:
    """A change of a share in percentage points: «+3,8 п. п.», «−1 п. п.», «без изменений»."""
    if change is None:
        return "—"
    value = round(change * 100, 1)
    if value == 0:
        return "без изменений"
    text = f"{abs(value):.1f}".replace(".", ",").rstrip("0").rstrip(",")
    return f"{'+' if value > 0 else '−'}{text} п. п."


def working_hours(minutes: float | None) -> str:
    """Working minutes for people, saying they are working time: «3,5 раб. ч», «40 раб. мин»,
    «—» when unknown."""
    if minutes is None or (isinstance(minutes, float) and math.isnan(minutes)):
        return "—"
    number, unit = hours(minutes).rsplit(" ", 1)
    return f"{number} раб. {unit}"


def late_by(minutes: float | None, due_at: dt.date | dt.datetime | None, days: int | None) -> str:
    """How late an overdue request is, as the summary and the notebook both say it: working
    hours, the deadline's day, and past a week the calendar days: «12,5 раб. ч (с 23.11,
    9 календарных дней)»."""
    text = working_hours(minutes)
    if is_blank(due_at):
        return text
    since = f"с {due_at:%d.%m}"
    if days is not None and days > 7:
        since += f", {count(days, 'календарный день', 'календарных дня', 'календарных дней')}"
    return f"{text} ({since})"
