"""A raw tab as the store read it, turned into a typed DataFrame plus per-row notes.

Columns are found by their header in row 1, so staff may reorder columns and add their own.
A missing tab or a missing or repeated header is a structural error (the sync stops before any
write); a cell that cannot be read is only a note for its row.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import itemgetter

import numpy as np
import pandas as pd

from journaldesk.errors import StructureError
from journaldesk.sheet.cells import parse_column_notes
from journaldesk.sheet.grid import Snapshot, TabData, column_letter
from journaldesk.sheet.schema import Schema, Tab
from journaldesk.sheet.textfmt import LATIN, LOOKALIKES, blank_frame

__all__ = ["ParsedTab", "column_letter", "find_headers", "parse_snapshot", "parse_tab"]

_SPACES = re.compile(r"\s+")


@dataclass
class ParsedTab:
    """One tab read and typed: the frame, the raw cells behind it, and the notes per sheet row.

    `frame` and `raw` are indexed by sheet row number (2 is the first row under the headers),
    hold one object-dtype column per schema field (empty cells are None) and leave out rows whose
    schema cells are all empty. `last_row` is the last sheet row holding anything at all, in any
    column, staff's own extra columns included, so an append never lands on someone's notes.
    """

    tab: Tab
    frame: pd.DataFrame
    raw: pd.DataFrame
    col_index: dict[str, int]
    problems: dict[int, list[str]]
    last_row: int
    _blank: pd.DataFrame | None = field(default=None, init=False, repr=False, compare=False)

    def blank(self) -> pd.DataFrame:
        """Which raw cells are empty (is_blank), computed once: the rules and the diff ask often."""
        if self._blank is None:
            self._blank = blank_frame(self.raw)
        return self._blank


def _header_key(cell: object) -> str:
    """How headers are compared: spaces of any kind collapsed, any case, е for ё."""
    if cell is None:
        return ""
    return _SPACES.sub(" ", str(cell)).strip().casefold().replace("ё", "е")


def _quoted(items: Sequence[str]) -> str:
    return ", ".join(f"«{item}»" for item in items)


def _letters(cols: Sequence[int]) -> str:
    letters = [column_letter(c) for c in cols]
    return letters[0] if len(letters) == 1 else ", ".join(letters[:-1]) + " и " + letters[-1]


def find_headers(header_row: list, tab: Tab) -> dict[str, int]:
    """Find every schema column in row 1 by its header: field -> 1-based column number.

    Raises StructureError when a header is missing or appears twice; blank cells and columns
    staff added are ignored.
    """
    wanted = {_header_key(c.header): c for c in tab.columns}
    found: dict[str, list[int]] = {}
    unknown: list[tuple[int, str]] = []
    for number, cell in enumerate(header_row, start=1):
        key = _header_key(cell)
        if not key:
            continue
        column = wanted.get(key)
        if column is None:
            unknown.append((number, str(cell).strip()))
        else:
            found.setdefault(column.field, []).append(number)

    for column in tab.columns:
        cols = found.get(column.field, [])
        if len(cols) > 1:
            times = "дважды" if len(cols) == 2 else "несколько раз"
            raise StructureError(
                f"На листе «{tab.title}» столбец «{column.header}» встречается {times}: "
                f"в столбцах {_letters(cols)}. Оставьте один такой столбец, а другие "
                "переименуйте или удалите."
            )

    missing = [c for c in tab.columns if c.field not in found]
    if missing:
        raise StructureError(_missing_message(tab, [c.header for c in missing], unknown))
    return {field: cols[0] for field, cols in found.items()}


def _missing_message(tab: Tab, missing: list[str], unknown: list[tuple[int, str]]) -> str:
    if not unknown and len(missing) == len(tab.columns):
        return (
            f"На листе «{tab.title}» в первой строке нет заголовков столбцов. Впишите их "
            f"({', '.join(tab.headers)}) или запустите `journaldesk init`, если лист пуст."
        )
    if len(missing) == 1:
        text = f"На листе «{tab.title}» нет столбца «{missing[0]}»."
    else:
        text = f"На листе «{tab.title}» нет столбцов {_quoted(missing)}."
    for hint in _rename_hints(missing, unknown):
        where = f"Столбец {column_letter(hint.column)} «{hint.typed}» похож на «{hint.header}»"
        if hint.lookalike:
            text += f" {where}: в названии есть латинские буквы вместо русских."
        else:
            text += f" {where} — возможно, его переименовали."
    names = "точное название" if len(missing) == 1 else "точные названия"
    return text + f" Заголовки должны стоять в первой строке листа — верните {names}."


@dataclass(frozen=True)
class RenameHint:
    """A header cell that most likely is a schema header someone retyped."""

    column: int  # 1-based
    typed: str
    header: str
    lookalike: bool  # the same word with Latin letters, not a different one


def _rename_hints(missing: list[str], unknown: list[tuple[int, str]]) -> list[RenameHint]:
    candidates = list(unknown)
    hints = []
    for header in missing:
        hint = _closest_unknown(header, candidates)
        if hint is None:
            continue
        number, typed, lookalike = hint
        candidates = [c for c in candidates if c[0] != number]
        hints.append(RenameHint(number, typed, header, lookalike))
    return hints


def rename_hints(header_row: list, tab: Tab) -> list[RenameHint]:
    """For each missing header of the tab, the header cell it was probably renamed to."""
    wanted = {_header_key(c.header) for c in tab.columns}
    unknown = [
        (number, str(cell).strip())
        for number, cell in enumerate(header_row, start=1)
        if _header_key(cell) and _header_key(cell) not in wanted
    ]
    present = {_header_key(cell) for cell in header_row}
    missing = [c.header for c in tab.columns if _header_key(c.header) not in present]
    return _rename_hints(missing, unknown)


def _closest_unknown(
    header: str, candidates: list[tuple[int, str]]
) -> tuple[int, str, bool] | None:
    """The header cell that most likely was this header before someone retyped it."""
    key = _header_key(header)
    for number, typed in candidates:
        if LATIN.search(typed) and _header_key(typed.translate(LOOKALIKES)) == key:
            return number, typed, True
    keys = {
        _header_key(typed.translate(LOOKALIKES)): (number, typed) for number, typed in candidates
    }
    close = difflib.get_close_matches(key, list(keys), n=1, cutoff=0.7)
    if not close:
        # A word added or dropped: «Тема» retyped as «Тема обращения».
        close = [k for k in keys if len(min(k, key, key=len)) >= 3 and (key in k or k in key)][:1]
    if not close:
        return None
    number, typed = keys[close[0]]
    return number, typed, False


def _is_blank(cell: object) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def _last_filled_row(rows: list[list]) -> int:
    for position in range(len(rows) - 1, 0, -1):
        if not all(_is_blank(cell) for cell in rows[position]):
            return position + 1
    return 1


def parse_tab(data: TabData | None, tab: Tab, *, sheet_tz: str | None = None) -> ParsedTab:
    """Read a raw tab into typed values by the schema; cells that can't be read become notes.

    Raises StructureError when the tab or one of its headers is missing, or a header repeats.
    """
    if data is None:
        raise StructureError(
            f"В таблице нет листа «{tab.title}». Создайте его командой `journaldesk init` "
            "или восстановите название листа."
        )
    rows = data.rows
    col_index = find_headers(rows[0] if rows else [], tab)
    body = rows[1:]
    n = len(body)
    index = pd.RangeIndex(2, n + 2, name="row")
    cells = _columns(body, [col_index[c.field] - 1 for c in tab.columns])

    # One (column, row) block per frame, filled row by contiguous row: pandas takes it as its
    # own storage, with no copy column by column.
    raw_block = np.empty((len(tab.columns), n), dtype=object)
    value_block = np.empty((len(tab.columns), n), dtype=object)
    note_columns: dict[str, dict[int, str]] = {}
    for j, column in enumerate(tab.columns):
        raws = cells[col_index[column.field] - 1]
        values, notes = parse_column_notes(raws, column, sheet_tz=sheet_tz)
        raw_block[j] = raws
        value_block[j] = values
        note_columns[column.field] = notes
    # A cell counts as filled when it gave a value or a note; whitespace gives neither.
    value_present = pd.notna(value_block)
    filled = value_present.any(axis=0) if len(tab.columns) else np.zeros(n, dtype=bool)
    for notes in note_columns.values():
        filled[list(notes)] = True

    problems_by_row: dict[int, list[str]] = {}
    for column in tab.columns:
        if column.owner == "derived":
            continue  # the job rewrites these cells: what a person typed there is no question
        for position, note in note_columns[column.field].items():
            problems_by_row.setdefault(position + 2, []).append(note)

    required = [c for c in tab.columns if c.required]
    if required:
        missing_by_row: dict[int, list[str]] = {}
        for column in required:
            # Empty in a row that has something else; an unreadable cell already has its note.
            missing = filled & ~value_present[tab.fields.index(column.field)]
            missing[list(note_columns[column.field])] = False
            for position in np.flatnonzero(missing):
                missing_by_row.setdefault(int(position) + 2, []).append(column.header)
        for row, headers in missing_by_row.items():
            problems_by_row.setdefault(row, []).append(f"Не заполнено: {', '.join(headers)}")

    if not filled.all():
        index = index[filled]
        value_block = value_block[:, filled]
        raw_block = raw_block[:, filled]
    frame = pd.DataFrame(value_block.T, index=index, columns=tab.fields, dtype=object, copy=False)
    raw = pd.DataFrame(raw_block.T, index=index, columns=tab.fields, dtype=object, copy=False)
    return ParsedTab(
        tab=tab,
        frame=frame,
        raw=raw,
        col_index=col_index,
        problems=dict(sorted(problems_by_row.items())),
        last_row=_last_filled_row(rows),
    )


def _columns(body: list[list], positions: list[int]) -> dict[int, list]:
    """The cells of the columns at these 0-based positions, one list per column (None past a
    row's end: a store may leave trailing empty cells out)."""
    shortest = min(map(len, body), default=0)
    out: dict[int, list] = {}
    for p in positions:
        if p < shortest:
            out[p] = list(map(itemgetter(p), body))  # every row reaches it: no check per row
        else:
            out[p] = [row[p] if p < len(row) else None for row in body]
    return out


def parse_snapshot(snap: Snapshot, schema: Schema, sheet_tz: str) -> dict[str, ParsedTab]:
    """Every tab of the contract parsed; a missing tab or header raises StructureError first.

    An optional tab that is missing is left out (the sync does not need it)."""
    return {
        key: parse_tab(snap.tabs.get(tab.title), tab, sheet_tz=sheet_tz)
        for key, tab in schema.tabs.items()
        if not (tab.optional and tab.title not in snap.tabs)
    }
