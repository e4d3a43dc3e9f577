"""The re-read before a write finds rows again: its shortcut for rows that did not move."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from journaldesk.jobs.sync import _in_place, remap_rows
from tests.helpers import examples

KEYS = st.tuples(st.sampled_from(["", "1", "2", "3"]), st.sampled_from(["", "а", "б"]))


@settings(max_examples=examples(300), deadline=None)
@given(
    after=st.lists(KEYS, max_size=8),
    picked=st.sets(st.integers(0, 7)),
    moved=st.booleans(),
)
def test_rows_in_place_map_as_remap_rows_maps_them(
    after: list[tuple[str, str]], picked: set[int], moved: bool
) -> None:
    """Where the shortcut answers, it answers what remap_rows answers; and rows read at the
    same places with nothing else keyed always take it."""
    positions = sorted(p for p in picked if p < len(after))
    before = [after[p] for p in positions]
    if moved and len(before) > 1:
        before = before[1:] + before[:1]
    if _in_place(before, after, positions):
        expected = remap_rows(before, after)
        assert {i: positions[i] for i in range(len(before)) if any(before[i])} == expected
    elif not moved:
        rest = [after[p] for p in range(len(after)) if p not in positions]
        assert any(map(any, rest)), "rows in place, nothing else keyed, and no shortcut"


def test_a_row_keyed_elsewhere_or_moved_is_not_in_place() -> None:
    a, b = ("1", "а"), ("2", "б")
    assert _in_place([a, b], [a, b], [0, 1])
    assert _in_place([a, b], [a, ("", ""), b], [0, 2])
    assert not _in_place([a, b], [a, b, a], [0, 1])  # a second row keyed a: pair again
    assert not _in_place([a, b], [b, a], [0, 1])
    assert not _in_place([a, b], [a], [0, 1])
