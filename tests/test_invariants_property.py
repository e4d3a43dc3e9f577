"""Staff cells are sacred, on sheets full of random valid and invalid cells (hypothesis)."""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journaldesk.jobs.sync import sync
from tests.helpers import REQ, SCHEMA, at, examples, make_workbook, tab_rows

NOW = at("02.12.2026 15:30")

_junk = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "=1+1",
            '=HYPERLINK("http://x","y")',
            "31.02.2026",
            "вчера",
            "Peшено",
            "12Б",
            "\xa0Новое\xa0",
            "😀",
            "00123",
            "x" * 2000,
        ]
    ),
    st.integers(min_value=-5, max_value=50_000),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(2026, 9, 1), max_value=dt.datetime(2026, 12, 31)),
)


def _valid(column) -> st.SearchStrategy:
    if column.type == "enum":
        return st.sampled_from(column.values)
    if column.type == "datetime":
        return st.datetimes(min_value=dt.datetime(2026, 9, 1), max_value=dt.datetime(2026, 12, 2))
    if column.type == "int":
        return st.integers(min_value=1, max_value=500)
    if column.type == "class":
        return st.sampled_from(["1А", "5Б", "11А"])
    return st.text(min_size=1, max_size=20)


def _cell(column) -> st.SearchStrategy:
    return st.one_of(st.none(), _valid(column), _junk)


def _empty(value: object) -> bool:
    """The sheet's rule for an empty cell: nothing, or text of nothing but spaces (a no-break
    space from a copied web page included): the job may fill such an auto cell."""
    return value is None or (isinstance(value, str) and not value.strip())


_row = st.fixed_dictionaries({c.field: _cell(c) for c in REQ.columns if c.owner != "derived"})


def _empty(value: object) -> bool:
    """An empty cell as a person sees it: nothing, or only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def expected_new_numbers(sheet_rows: list[list[object]]) -> int:
    """How many rows should get a new №, from the rule alone: the № cell is empty and the row
    names a requester, a topic or a description (a row that names none of them could not be
    found again, so it waits)."""
    col = {f: REQ.fields.index(f) for f in ("number", "requester", "topic", "description")}
    count = 0
    for row in sheet_rows:
        row = row + [None] * (len(REQ.fields) - len(row))
        named = any(not _empty(row[col[f]]) for f in ("requester", "topic", "description"))
        count += _empty(row[col["number"]]) and named
    return count


@settings(
    max_examples=examples(25),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(rows=st.lists(_row, min_size=1, max_size=8))
def test_staff_cells_are_sacred_on_random_sheets(rows: list[dict]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store, cfg = make_workbook(Path(tmp), {"requests": rows}, seed=False)
        before = tab_rows(store, "requests")
        report = sync(store, cfg, now=NOW)
        after = tab_rows(store, "requests")
        assert len(after) == len(before)
        for i, (old, new) in enumerate(zip(before[1:], after[1:], strict=True), start=2):
            old = old + [None] * (len(REQ.columns) - len(old))
            new = new + [None] * (len(REQ.columns) - len(new))
            for j, column in enumerate(REQ.columns):
                if column.owner == "staff" or (column.owner == "auto" and not _empty(old[j])):
                    assert new[j] == old[j], (i, column.header, old[j], new[j])
        # Idempotent on the same sheet at the same moment.
        assert not sync(store, cfg, now=NOW).wrote
        # A № handed out is unique in the whole tab, and one is handed to every row that needs
        # one (counted from the rule, not from the sync's report).
        everything = [
            r[0]
            for r in after[1:]
            if r and isinstance(r[0], int | float) and not isinstance(r[0], bool)
        ]
        handed = [
            n[0]
            for o, n in zip(before[1:], after[1:], strict=True)
            if o[0] in (None, "") and n[0] not in (None, "")
        ]
        assert len(handed) == expected_new_numbers(before[1:])
        assert report.new_numbers == len(handed)
        for number in handed:
            assert everything.count(number) == 1, number
        assert SCHEMA["log"].title in store.read().tabs


@pytest.mark.parametrize("typed", [" ", "\xa0", " \xa0 "])
def test_an_auto_cell_of_only_spaces_is_empty_and_gets_filled(typed: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows = [{"requester": "Иванов И. И.", "description": "Не входит", "status": typed}]
        store, cfg = make_workbook(Path(tmp), {"requests": rows}, seed=False)
        sync(store, cfg, now=NOW)
        status = REQ.columns.index(next(c for c in REQ.columns if c.field == "status"))
        assert tab_rows(store, "requests")[1][status] == "Новое"


def test_an_auto_cell_with_text_between_spaces_is_kept_as_typed() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows = [
            {"requester": "Иванов И. И.", "description": "Не входит", "status": "\xa0В работе\xa0"}
        ]
        store, cfg = make_workbook(Path(tmp), {"requests": rows}, seed=False)
        sync(store, cfg, now=NOW)
        status = REQ.columns.index(next(c for c in REQ.columns if c.field == "status"))
        assert tab_rows(store, "requests")[1][status] == "\xa0В работе\xa0"
