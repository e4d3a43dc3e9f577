"""The history shows values the same way whether it shows one or a whole column at once."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from journaldesk.rules.audit import display_all
from journaldesk.sheet.textfmt import blank_mask
from tests.helpers import examples

CELLS = st.one_of(
    st.none(),
    st.just(float("nan")),
    st.just(pd.NaT),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([1.0, 2.5, -0.0, 3.0]),
    st.sampled_from(["", " ", "\xa0", "Решено", " Решено ", "1", "True"]),
    st.datetimes(min_value=dt.datetime(2025, 1, 1), max_value=dt.datetime(2027, 1, 1)),
    st.dates(min_value=dt.date(2025, 1, 1), max_value=dt.date(2027, 1, 1)),
)


def shown(value: object) -> str:
    """The history's way of showing one value, written from the rule."""
    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dt.datetime):
        return value.strftime("%d.%m.%Y %H:%M")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(CELLS, max_size=25))
def test_a_column_is_shown_cell_by_cell_even_when_equal_values_differ_in_type(cells):
    # 1, 1.0 and True are equal keys in a hash table, yet shown as «1», «1» and «True».
    assert list(display_all(np.array([*cells, None], dtype=object)[:-1])) == [
        shown(c) for c in cells
    ]


@settings(max_examples=examples(150), deadline=None)
@given(st.lists(CELLS, max_size=25))
def test_blank_mask_is_the_blank_rule_cell_by_cell(cells):
    def blank(value: object) -> bool:
        if isinstance(value, str):
            return value.replace("\xa0", " ").strip() == ""
        return value is None or value is pd.NaT or (isinstance(value, float) and value != value)

    array = np.array([*cells, None], dtype=object)[:-1]
    assert list(blank_mask(array)) == [blank(c) for c in cells]


# --- new history rows: one per (request, field) whose value differs from the last one held ----

TRACKED_HEADERS = {"status": "Статус", "assignee": "Ответственный"}


@settings(max_examples=examples(80), deadline=None)
@given(
    st.lists(  # the history: (№, field, «Стало»), appended in order
        st.tuples(
            st.integers(1, 6),
            st.sampled_from(["Статус", "Ответственный"]),
            st.sampled_from(["Новое", "Решено", "", " Решено"]),
        ),
        max_size=20,
    ),
    st.lists(  # the requests now: (№ or None, status, assignee)
        st.tuples(
            st.one_of(st.none(), st.integers(1, 8)),
            st.sampled_from([None, "Новое", "Решено", " Решено "]),
            st.sampled_from([None, "Петров", ""]),
        ),
        max_size=10,
    ),
)
def test_history_rows_are_the_changes_since_the_last_value_held(history, requests):
    from journaldesk.rules.audit import FIRST_SIGHT, audit_rows

    audit = pd.DataFrame(history, columns=["number", "field", "new"], dtype=object)
    effective = pd.DataFrame(requests, columns=["number", "status", "assignee"], dtype=object)
    at = dt.datetime(2026, 12, 2, 15, 30)
    got = audit_rows(effective, audit, at=at, job="Синхронизация", fields=tuple(TRACKED_HEADERS))

    last: dict[tuple[int, str], str] = {}
    for number, header, new in history:
        last[(number, header)] = new.strip()
    counts: dict[object, int] = {}
    for number, *_ in requests:
        counts[number] = counts.get(number, 0) + 1
    expected = []
    for number, *values in requests:
        if number is None or counts[number] > 1:
            continue  # no № or a repeated one: its history would be ambiguous
        for header, value in zip(TRACKED_HEADERS.values(), values, strict=True):
            new = (value or "").strip()
            if (number, header) in last:
                if last[(number, header)] != new:
                    expected.append((number, header, last[(number, header)], new))
            elif new:
                seen = any(n == number for n, _ in last)
                expected.append((number, header, "" if seen else FIRST_SIGHT, new))
    assert [(r["number"], r["field"], r["old"], r["new"]) for r in got] == expected
    assert all(r["at"] == at and r["job"] == "Синхронизация" for r in got)
