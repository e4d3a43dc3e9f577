"""Whole-sheet snapshots of either store, as stored (not as parsed), and the check that a sync
changed no cell it may not change.

A workbook cell is (value, data_type) as openpyxl loads it; a Google cell is (value, formula) as
the local Sheets API server stores it. Comparing these catches a number turned into text, a text
turned into a formula, a trimmed space, a date re-typed, not just a different parsed value.
"""

from __future__ import annotations

from typing import Any

import openpyxl

from journaldesk.errors import StructureError
from journaldesk.sheet.frames import find_headers
from journaldesk.sheet.schema import load_schema
from journaldesk.store.workbook import LISTS_SHEET

SCHEMA = load_schema()
BY_TITLE = {tab.title: tab for tab in SCHEMA.tabs.values()}

Grid = dict[str, dict[tuple[int, int], Any]]


def workbook_grid(path: Any) -> Grid:
    """Every non-empty cell of every sheet of the workbook: (value, data_type) by (row, col)."""
    book = openpyxl.load_workbook(path, rich_text=True)
    out: Grid = {}
    for ws in book.worksheets:
        if ws.title == LISTS_SHEET:
            continue
        cells = {}
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is not None:
                    cells[(cell.row, cell.column)] = (cell.value, cell.data_type)
        out[ws.title] = cells
    return out


def google_grid(server: Any, spreadsheet_id: str) -> Grid:
    """Every non-blank cell of every tab as the server stores it: (value, formula)."""
    out: Grid = {}
    with server._lock:
        for sheet in server.book(spreadsheet_id).sheets:
            cells = {}
            for r, row in enumerate(sheet.rows, start=1):
                for c, cell in enumerate(row, start=1):
                    if cell is not None and not cell.is_blank():
                        cells[(r, c)] = (cell.value, cell.formula)
            out[sheet.title] = cells
    return out


def grid_of(sheet: Any) -> Grid:
    """The grid of a conftest `Sheet` (either store)."""
    if sheet.kind == "workbook":
        return workbook_grid(sheet.settings.workbook_path)
    return google_grid(sheet.server, sheet.spreadsheet_id)


def _owners(cells: dict[tuple[int, int], Any], title: str) -> dict[int, str]:
    """Column -> owner by the header row, or {} when the headers are broken."""
    tab = BY_TITLE.get(title)
    if tab is None:
        return {}
    width = max((c for r, c in cells if r == 1), default=0)
    header = [cells.get((1, c), (None,))[0] for c in range(1, width + 1)]
    try:
        found = find_headers([None if h is None else str(h) for h in header], tab)
    except StructureError:
        return {}
    return {col: tab.col(field).owner for field, col in found.items()}


def forbidden_changes(before: Grid, after: Grid) -> list[str]:
    """Every cell changed against the rules: anything but a derived cell, or an auto cell (or an
    append-only tab's cell) that was empty before. Tabs added or removed count too."""
    problems = []
    for title in sorted(set(before) | set(after)):
        if title not in after or title not in before:
            problems.append(f"tab {title!r} {'removed' if title not in after else 'added'}")
            continue
        old, new = before[title], after[title]
        owners = _owners(old, title)
        tab = BY_TITLE.get(title)
        for key in sorted(set(old) | set(new)):
            was, now = old.get(key), new.get(key)
            if was == now:
                continue
            row, col = key
            owner = owners.get(col) if row > 1 else None
            if owner == "derived":
                continue
            if was is None and (owner == "auto" or (tab is not None and tab.append_only)):
                continue
            problems.append(f"{title}!R{row}C{col}: {was!r} -> {now!r}")
    return problems


def column_values(grid: Grid, title: str, field: str) -> dict[int, Any]:
    """One schema column's stored values by sheet row (rows below the header)."""
    cells = grid[title]
    tab = BY_TITLE[title]
    col = {v[0]: c for (r, c), v in cells.items() if r == 1}[tab.header(field)]
    return {r: v[0] for (r, c), v in cells.items() if c == col and r > 1}
