"""The one place that reaches into openpyxl's internals: loading a book with its date numbers exact.

openpyxl (only `init` and `doctor` still load a book with it; syncs patch the file directly)
turns a number in a date-formatted cell into a datetime on load. Two things then go wrong on save:
an out-of-range "date" (say -989278 in a Решено column) becomes a #VALUE! error, destroying what a
person typed, and a date's serial is rounded to the millisecond, so a pasted =NOW() value comes
back a hair different. `load_exact` swaps the date conversion of openpyxl's worksheet reader for
one that keeps such numbers as the numbers they are, for our own loads only.

Written for openpyxl 3.1.x (SUPPORTED): the cell reader calls the module-level name
`openpyxl.worksheet._reader.from_excel(value, epoch, timedelta=...)` for every number in a
date-formatted cell, and catches OverflowError and ValueError from it. tests/test_openpyxl_compat.py
checks exactly that, and fails loudly when a new openpyxl changes it; requirements.txt pins the
range.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.utils.datetime import to_excel
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet import _reader

#: The openpyxl versions this module is written for (also pinned in requirements.txt).
SUPPORTED = ((3, 1, 5), (3, 2, 0))  # from, up to (excluded)

_strict_from_excel = _reader.from_excel
_swap = threading.Lock()


class KeptNumber(float):
    """A number in a date-formatted cell that is no exact date (say -989278): kept as it is."""


def supported(version: str = openpyxl.__version__) -> bool:
    """Whether this openpyxl version is one the workaround was written for."""
    parts = tuple(int(p) for p in version.split(".")[:3] if p.isdigit())
    low, high = SUPPORTED
    return low <= parts < high


def _lenient_from_excel(value: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        moment = _strict_from_excel(value, *args, **kwargs)
        exact = moment is None or to_excel(moment, *args[:1]) == value
    except (OverflowError, ValueError, TypeError):
        exact = False
    if exact:
        return moment
    _kept[0] += 1
    return KeptNumber(value)


_kept = [0]  # numbers kept so far: a load scans its cells only when it met one


@contextmanager
def _exact_dates() -> Iterator[None]:
    with _swap:
        _reader.from_excel = _lenient_from_excel
        try:
            yield
        finally:
            _reader.from_excel = _strict_from_excel


def load_exact(path: Path) -> tuple[Workbook, list[str]]:
    """openpyxl's load_workbook (rich text kept), numbers in date cells exactly as stored.

    Returns the book and openpyxl's warnings (e.g. an extension it will drop on save).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with _exact_dates():
            before = _kept[0]
            # rich_text keeps the staff's partly bold or coloured text as it is.
            book = openpyxl.load_workbook(path, rich_text=True)
            met = _kept[0] != before
    for ws in book.worksheets if met else ():
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, KeptNumber):
                    cell.value = float(cell.value)  # a plain number again, type "n"
    return book, [str(w.message) for w in caught]
