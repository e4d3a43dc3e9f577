"""The openpyxl workaround: written for one version range, and this test says when that changed.

If a test here fails after an openpyxl upgrade, the internals journaldesk/store/openpyxl_compat.py
patches have moved: read the new openpyxl reader, mend the module, then widen SUPPORTED and the
pin in requirements.txt together.
"""

from __future__ import annotations

import inspect
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.utils.datetime import from_excel
from openpyxl.worksheet import _reader

from journaldesk.store import openpyxl_compat


def test_the_installed_openpyxl_is_one_the_workaround_was_written_for() -> None:
    assert openpyxl_compat.supported(), (
        f"openpyxl {openpyxl.__version__} is outside {openpyxl_compat.SUPPORTED}: "
        "check store/openpyxl_compat.py against it"
    )
    assert openpyxl_compat.supported("3.1.5") and not openpyxl_compat.supported("3.2.0")
    assert not openpyxl_compat.supported("3.1.4")


def test_the_reader_still_converts_date_numbers_through_the_patched_name() -> None:
    # The worksheet reader must look `from_excel` up in its own module at call time, call it
    # with (value, epoch, timedelta=...), and turn its ValueError into an error cell.
    assert (
        _reader.from_excel is from_excel or _reader.from_excel is openpyxl_compat._strict_from_excel
    )
    source = inspect.getsource(_reader.WorkSheetParser.parse_cell)
    assert "from_excel(" in source and "timedelta=" in source
    assert "except (OverflowError, ValueError)" in source
    assert list(inspect.signature(from_excel).parameters) == ["value", "epoch", "timedelta"]


def _book_with_numbers(path: Path) -> Path:
    """A date-formatted column holding a number that is no date and a serial finer than a ms."""
    book = openpyxl.Workbook()
    ws = book.active
    ws["A1"], ws["A2"] = -989278.0, 46000.12345678901  # year 0, and a fine serial
    for cell in (ws["A1"], ws["A2"]):
        cell.number_format = "dd.mm.yyyy hh:mm"
    book.save(path)
    return path


def _stored(path: Path) -> str:
    with zipfile.ZipFile(path) as z:
        return z.read("xl/worksheets/sheet1.xml").decode()


def test_without_the_workaround_openpyxl_still_damages_such_numbers(tmp_path: Path) -> None:
    # The reason the module exists: if this starts failing, openpyxl fixed it and the module
    # can go.
    path = _book_with_numbers(tmp_path / "plain.xlsx")
    openpyxl.load_workbook(path).save(path)
    assert "#VALUE!" in _stored(path) and "46000.12345678901" not in _stored(path)


def test_the_workaround_keeps_the_numbers_exactly_through_a_save(tmp_path: Path) -> None:
    path = _book_with_numbers(tmp_path / "exact.xlsx")
    book, _ = openpyxl_compat.load_exact(path)
    ws = book.active
    assert (ws["A1"].value, ws["A1"].data_type) == (-989278.0, "n")
    assert ws["A2"].value == 46000.12345678901
    book.save(path)
    stored = _stored(path)
    assert "<v>-989278</v>" in stored and "46000.12345678901" in stored and "#VALUE!" not in stored
    assert _reader.from_excel is openpyxl_compat._strict_from_excel  # others' loads untouched
