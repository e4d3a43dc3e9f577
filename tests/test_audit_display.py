"""The history shows values the same way whether it shows one or a whole column at once."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from journaldesk.rules.audit import display_all
from journaldesk.sheet.textfmt import blank_mask

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


@settings(max_examples=150, deadline=None)
@given(st.lists(CELLS, max_size=25))
def test_a_column_is_shown_cell_by_cell_even_when_equal_values_differ_in_type(cells):
    # 1, 1.0 and True are equal keys in a hash table, yet shown as «1», «1» and «True».
    assert list(display_all(np.array([*cells, None], dtype=object)[:-1])) == [
        shown(c) for c in cells
    ]


@settings(max_examples=150, deadline=None)
@given(st.lists(CELLS, max_size=25))
def test_blank_mask_is_the_blank_rule_cell_by_cell(cells):
    def blank(value: object) -> bool:
        if isinstance(value, str):
            return value.replace("\xa0", " ").strip() == ""
        return value is None or value is pd.NaT or (isinstance(value, float) and value != value)

    array = np.array([*cells, None], dtype=object)[:-1]
    assert list(blank_mask(array)) == [blank(c) for c in cells]
