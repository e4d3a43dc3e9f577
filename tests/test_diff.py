"""The diff writes a derived moment only where the cell does not already hold it, to the minute."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from journaldesk.rules.plan import diff_tab
from journaldesk.sheet.frames import parse_tab
from journaldesk.sheet.grid import TabData
from journaldesk.sheet.schema import load_schema

REQ = load_schema()["requests"]
WANT = dt.datetime(2026, 12, 3, 15, 40)


def parsed_with_due(cells: list[object]):
    rows = [list(REQ.headers)]
    for i, cell in enumerate(cells, start=1):
        row: list[object] = [None] * len(REQ.fields)
        row[REQ.fields.index("number")] = i
        row[REQ.fields.index("requester")] = f"Сотрудник {i}"
        row[REQ.fields.index("due_at")] = cell
        rows.append(row)
    return parse_tab(TabData(REQ.title, rows), REQ, sheet_tz="Europe/Simferopol")


@pytest.mark.parametrize("unit", ["s", "us", "ns"])
def test_a_due_moment_is_written_only_where_it_differs(unit):
    cells = [
        WANT,  # the same
        WANT + dt.timedelta(seconds=20),  # the same minute
        WANT + dt.timedelta(minutes=1),  # another minute
        WANT.date(),  # a day, not the moment
        "03.12.2026 15:40",  # typed as text: read, the same
        "не дата",  # unreadable: rewritten
        None,  # empty: written
    ]
    parsed = parsed_with_due(cells)
    wanted = pd.Series([WANT] * len(cells), index=parsed.frame.index).astype(f"datetime64[{unit}]")
    pending = diff_tab(
        parsed, wanted.to_frame("due_at"), sheet_tz="Europe/Simferopol", only_if_empty=False
    )
    assert [p.row for p in pending] == [4, 5, 7, 8]
    assert all(p.value == WANT and type(p.value) is dt.datetime for p in pending)


def test_a_cleared_due_moment_empties_the_cell():
    parsed = parsed_with_due([WANT, None])
    wanted = pd.Series([pd.NaT, pd.NaT], index=parsed.frame.index).astype("datetime64[us]")
    pending = diff_tab(
        parsed, wanted.to_frame("due_at"), sheet_tz="Europe/Simferopol", only_if_empty=False
    )
    assert [(p.row, p.value) for p in pending] == [(2, None)]
