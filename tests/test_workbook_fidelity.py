"""Nothing a school made is lost: a book keeps every part and every cell it did not ask to change.

The books in tests/fixtures (rebuilt by tests/fixtures/make_books.py) are the journal `init` makes,
saved by LibreOffice Calc, and the same journal with a chart, an image, notes, defined names, an
extra validation and conditional format. Each goes through many syncs, each after staff typed a
new request or changed a status. Then every part of the package the syncs had no cell to write
into must be the same bytes, and in the sheets they wrote into every other cell and every other
element must be as it was.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from journaldesk.jobs.sync import sync
from journaldesk.store.base import CellWrite
from journaldesk.store.workbook import WorkbookStore
from tests.helpers import REQ, TZ, settings_for

FIXTURES = Path(__file__).parent / "fixtures"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
BOOKS = ["journal_libreoffice.xlsx", "journal_rich.xlsx", "journal_rich_libreoffice.xlsx"]
# JOURNALDESK_FIDELITY_SYNCS=100 for the full run; the default keeps the suite quick.
SYNCS = int(os.environ.get("JOURNALDESK_FIDELITY_SYNCS", "8"))


class Spy(WorkbookStore):
    """The workbook store, remembering every cell it was asked to write."""

    written: set[tuple[str, int, int]]

    def write(self, cells: list[CellWrite], **kwargs: object) -> None:
        super().write(cells, **kwargs)
        self.written.update((c.title, c.row, c.col) for c in cells)


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def sheet_parts(path: Path) -> dict[str, str]:
    """Sheet title -> its worksheet part, read from the package with ElementTree."""
    with zipfile.ZipFile(path) as z:
        book = ElementTree.fromstring(z.read("xl/workbook.xml"))
        rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "").lstrip("/") for r in rels}
    out = {}
    for sheet in book.iter(f"{MAIN}sheet"):
        target = targets[sheet.get(f"{REL}id")]
        out[sheet.get("name")] = target if target.startswith("xl/") else f"xl/{target}"
    return out


def cells_of(xml: bytes) -> dict[tuple[int, int], bytes]:
    """(row, col) -> the cell element as canonical XML (value, type, style and all)."""
    out = {}
    root = ElementTree.fromstring(xml)
    for row in root.iter(f"{MAIN}row"):
        for c in row.iter(f"{MAIN}c"):
            ref = c.get("r")
            letters = "".join(ch for ch in ref if ch.isalpha())
            col = 0
            for ch in letters:
                col = col * 26 + ord(ch) - 64
            out[(int(ref[len(letters) :]), col)] = ElementTree.tostring(c)
    return out


def others_of(xml: bytes) -> list[bytes]:
    """Every element of the worksheet but its cells, its dimension and its filter's range."""
    root = ElementTree.fromstring(xml)
    out = []
    for child in root:
        if child.tag == f"{MAIN}sheetData":
            continue
        if child.tag in (f"{MAIN}dimension", f"{MAIN}autoFilter"):
            child.attrib.pop("ref", None)
        out.append(ElementTree.tostring(child))
    return out


@pytest.mark.parametrize("name", BOOKS)
def test_a_book_keeps_everything_through_many_syncs(tmp_path: Path, name: str) -> None:
    settings = settings_for(tmp_path)
    path = settings.workbook_path
    shutil.copy(FIXTURES / name, path)
    before = parts(path)
    store = Spy(path)
    store.written = set()
    now = dt.datetime(2026, 12, 7, 15, 0, tzinfo=TZ)
    cols = {f: REQ.fields.index(f) + 1 for f in ("requester", "topic", "description", "status")}
    wrote = 0
    for i in range(SYNCS):
        rows = store.read().tabs[REQ.title].rows
        if i % 3 == 2:  # a person changes a status
            row = 2 + i % (len(rows) - 1)
            old = rows[row - 1][cols["status"] - 1]
            status = "Ждём заявителя" if old == "В работе" else "В работе"
            store.write([CellWrite(REQ.title, row, cols["status"], status)])
        else:  # a person types a new request under the others
            row = len(rows) + 1
            store.write(
                [
                    CellWrite(REQ.title, row, cols["requester"], f"Учитель {i}"),
                    CellWrite(REQ.title, row, cols["topic"], "Текущие отметки"),
                    CellWrite(REQ.title, row, cols["description"], f"=не формула {i} & <b>"),
                ]
            )
        wrote += sync(store, settings, now=now + dt.timedelta(hours=i)).wrote
    assert wrote == SYNCS  # every sync had something to write

    after = parts(path)
    assert sorted(after) == sorted(before)  # no part lost, none added
    titles = sheet_parts(path)
    touched = {titles[title] for title, _, _ in store.written}
    assert titles[REQ.title] in touched and len(touched) >= 3
    for part in sorted(set(before) - touched):
        assert after[part] == before[part], f"{part} changed"
    for title, part in titles.items():
        if part not in touched:
            continue
        old, new = cells_of(before[part]), cells_of(after[part])
        mine = {(r, c) for t, r, c in store.written if t == title}
        for where, cell in old.items():
            if where not in mine:
                assert new.get(where) == cell, f"{title} {where}"
        assert set(new) <= set(old) | mine, f"{title}: cells nobody wrote"
        assert others_of(after[part]) == others_of(before[part]), title

    # The book is whole: openpyxl and calamine open it, and the new rows read back as written.
    openpyxl.load_workbook(path)
    with CalamineWorkbook.from_path(str(path)) as book:
        grid = book.get_sheet_by_name(REQ.title).to_python(skip_empty_area=False)
    descriptions = [r[cols["description"] - 1] for r in grid[1:]]
    typed = [f"=не формула {i} & <b>" for i in range(SYNCS) if i % 3 != 2]
    assert descriptions[-len(typed) :] == typed  # text stays text, never a formula
    numbers = [r[0] for r in grid[1:] if r[0] != ""]
    assert len(numbers) == len(set(numbers)) == len(grid) - 1
