"""A stateful property test of the sync on the workbook store.

Hypothesis plays staff (add requests, type valid and invalid values, delete, insert blank rows,
sort, change statuses, type into the jobs' own columns) and runs syncs in between. After each
sync: no cell a job may not change has changed, № are unique and never reused (a deleted
request's № stays used), every new № is above every № given before, a second sync writes
nothing, and «Журнал» grows only when the sync wrote something. The run must reach depth: many
requests and several syncs that write, or the test fails (a shallow run proves little).

`JOURNALDESK_HYPOTHESIS=long` runs ten times as many sequences; add
`--hypothesis-show-statistics` to see how deep they went (`make test-long` does both).
"""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path
from typing import Any

import openpyxl
from hypothesis import HealthCheck, event, settings, target
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from journaldesk.jobs.sync import sync
from journaldesk.sheet.textfmt import is_blank
from journaldesk.store.base import CellWrite
from tests.corpus.grids import forbidden_changes, workbook_grid
from tests.helpers import REQ, at, examples, local, make_workbook, request, tab_rows

START = at("30.11.2026 14:05")
COL = {f: i + 1 for i, f in enumerate(REQ.fields)}
STAFF_EDITABLE = ["requester", "role", "class_name", "channel", "topic"]
DERIVED = [c.field for c in REQ.columns if c.owner == "derived"]

GOOD = {
    "requester": ["Петрова Анна", "Сидоров И.И."],
    "role": list(REQ.col("role").values),
    "class_name": ["5А", "11Б"],
    "channel": list(REQ.col("channel").values),
    "topic": list(REQ.col("topic").values),
}
BAD = [
    "31.02.2026",
    "вчера",
    "=1+1",
    "+7 999",
    12345,
    True,
    "Peшено",
    "\u00a0",
    "😀",
    "Х" * 3000,
    -5,
    "12Б",
]


def _copy_cell(src: Any, dst: Any) -> None:
    """Move one cell's value as Excel does on a sort: type and format travel with it."""
    dst.value = src.value
    if src.data_type == "s" and isinstance(src.value, str):
        dst.data_type = "s"  # text stays text, even when it looks like a formula
    dst.number_format = src.number_format


class SheetUnderEdit(RuleBasedStateMachine):
    """The workbook, a model of the requests staff typed, and every № ever seen."""

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="jd-state-"))
        self.store, self.settings = make_workbook(self.folder, seed=False)
        self.path = self.settings.workbook_path
        self.now = START
        self.counter = 0
        self.descriptions: list[str] = []  # the requests that exist, by their description
        self.number_of: dict[int, str] = {}  # № -> the request that got it, forever
        self.high_water = 0  # the largest № seen after any sync
        self.syncs = 0
        self.writing_syncs = 0
        self.edits_since_sync = 0
        self.most_requests = 0

    def teardown(self) -> None:
        DEPTH.append((self.most_requests, self.writing_syncs))
        target(float(self.writing_syncs), label="syncs that wrote")  # steer towards depth
        event(f"syncs that wrote: {self.writing_syncs}")
        event(f"most requests at once: {self.most_requests // 5 * 5}+")
        shutil.rmtree(self.folder, ignore_errors=True)

    # -- staff -----------------------------------------------------------------------------

    def _edit(self) -> tuple[openpyxl.Workbook, Any]:
        self.edits_since_sync += 1
        book = openpyxl.load_workbook(self.path, rich_text=True)
        return book, book[REQ.title]

    def _rows(self, ws: Any) -> list[int]:
        """Sheet rows that hold a request (found by its description)."""
        col = COL["description"]
        return [
            r for r in range(2, ws.max_row + 1) if not is_blank(ws.cell(row=r, column=col).value)
        ]

    def _last_row(self, ws: Any) -> int:
        last = 1
        for r in range(2, ws.max_row + 1):
            if any(not is_blank(c.value) for c in ws[r]):
                last = r
        return last

    def _add(self, kinds: list[tuple[str, str]]) -> None:
        """Type requests under the last row, one per (topic, role), in one save."""
        book, ws = self._edit()
        row = self._last_row(ws)
        for topic, role in kinds:
            self.counter += 1
            row += 1
            description = f"обращение {self.counter}"
            for field, value in request(topic=topic, role=role, description=description).items():
                ws.cell(row=row, column=COL[field]).value = value
            self.descriptions.append(description)
        book.save(self.path)
        self.most_requests = max(self.most_requests, len(self.descriptions))

    KINDS = st.tuples(st.sampled_from(GOOD["topic"]), st.sampled_from(GOOD["role"]))

    @initialize(kinds=st.lists(KINDS, min_size=6, max_size=12))
    def a_sheet_in_use(self, kinds: list[tuple[str, str]]) -> None:
        self._add(kinds)

    @rule(kinds=st.lists(KINDS, min_size=1, max_size=4))
    def add_requests(self, kinds: list[tuple[str, str]]) -> None:
        self._add(kinds)

    @precondition(lambda self: self.descriptions)
    @rule(
        pick=st.integers(0, 50),
        field=st.sampled_from(STAFF_EDITABLE),
        good=st.booleans(),
        data=st.data(),
    )
    def edit_staff_cell(self, pick: int, field: str, good: bool, data: st.DataObject) -> None:
        value = data.draw(st.sampled_from(GOOD[field] if good else BAD))
        book, ws = self._edit()
        rows = self._rows(ws)
        if not rows:
            return
        cell = ws.cell(row=rows[pick % len(rows)], column=COL[field])
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"
        book.save(self.path)

    @precondition(lambda self: self.descriptions)
    @rule(pick=st.integers(0, 50))
    def delete_row(self, pick: int) -> None:
        book, ws = self._edit()
        rows = self._rows(ws)
        if not rows:
            return
        row = rows[pick % len(rows)]
        self.descriptions.remove(ws.cell(row=row, column=COL["description"]).value)
        ws.delete_rows(row)
        book.save(self.path)

    @rule(pick=st.integers(2, 12))
    def insert_blank_row(self, pick: int) -> None:
        book, ws = self._edit()
        if pick <= self._last_row(ws):
            ws.insert_rows(pick)
            book.save(self.path)

    @precondition(lambda self: len(self.descriptions) > 1)
    @rule(field=st.sampled_from(REQ.fields), reverse=st.booleans())
    def sort_rows(self, field: str, reverse: bool) -> None:
        book, ws = self._edit()
        last = self._last_row(ws)
        width = len(REQ.fields)

        def key(r: int) -> tuple:
            value = ws.cell(row=r, column=COL[field]).value
            if value is None:
                return (2, "")
            return (0, f"{value:020.6f}") if isinstance(value, int | float) else (1, str(value))

        order = sorted(range(2, last + 1), key=key, reverse=reverse)
        scratch = book.create_sheet("_sort")
        for i, r in enumerate(order, start=2):
            for c in range(1, width + 1):
                _copy_cell(ws.cell(row=r, column=c), scratch.cell(row=i, column=c))
        for r in range(2, last + 1):
            for c in range(1, width + 1):
                _copy_cell(scratch.cell(row=r, column=c), ws.cell(row=r, column=c))
        book.remove(scratch)
        book.save(self.path)

    @precondition(lambda self: self.descriptions)
    @rule(pick=st.integers(0, 50), status=st.sampled_from([*REQ.col("status").values, "Решен"]))
    def change_status(self, pick: int, status: str) -> None:
        book, ws = self._edit()
        rows = self._rows(ws)
        if rows:
            ws.cell(row=rows[pick % len(rows)], column=COL["status"]).value = status
            book.save(self.path)

    @precondition(lambda self: self.descriptions)
    @rule(
        pick=st.integers(0, 50),
        field=st.sampled_from(DERIVED),
        value=st.sampled_from(["ерунда", "=1+1", 7, None, "В срок"]),
    )
    def type_into_derived_cell(self, pick: int, field: str, value: Any) -> None:
        book, ws = self._edit()
        rows = self._rows(ws)
        if rows:
            cell = ws.cell(row=rows[pick % len(rows)], column=COL[field])
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"
            book.save(self.path)

    # -- the job ---------------------------------------------------------------------------

    @rule(minutes=st.sampled_from([0, 7, 95, 60 * 24]))
    def sync(self, minutes: int) -> None:
        self.now += dt.timedelta(minutes=minutes)
        before = workbook_grid(self.path)
        journal = len(tab_rows(self.store, "log"))
        first = sync(self.store, self.settings, now=self.now)
        after = workbook_grid(self.path)
        assert forbidden_changes(before, after) == []
        assert len(tab_rows(self.store, "log")) == journal + (1 if first.wrote else 0)

        # Idempotent: nothing changed since, so nothing to write, and no Журнал row.
        second = sync(self.store, self.settings, now=self.now)
        assert not second.wrote and second.cells == 0, second
        assert workbook_grid(self.path) == after
        self.syncs += 1
        self.edits_since_sync = 0
        self.writing_syncs += first.wrote
        self._check_numbers()

    @invariant()
    def the_job_runs_now_and_then(self) -> None:
        # However the rules are drawn, the job runs after every few staff edits, as the
        # timetable runs it: sequences without syncs would prove nothing about the sync.
        if self.edits_since_sync >= 3:
            self.sync(95)

    def _check_numbers(self) -> None:
        rows = tab_rows(self.store, "requests")[1:]
        i_number, i_desc = REQ.fields.index("number"), REQ.fields.index("description")
        pairs = [
            (row[i_number], row[i_desc])
            for row in rows
            if len(row) > i_desc and not is_blank(row[i_desc])
        ]
        numbers = [n for n, _ in pairs]
        assert all(isinstance(n, int) for n in numbers), numbers  # every request got its №
        assert len(numbers) == len(set(numbers)), numbers
        self._numbers_only_grow(pairs)
        for number, description in pairs:
            owner = self.number_of.setdefault(number, description)
            assert owner == description, f"№ {number} given to {owner!r} and {description!r}"
        assert sorted(d for _, d in pairs) == sorted(self.descriptions)

    def _numbers_only_grow(self, pairs: list[tuple[int, str]]) -> None:
        """Every № given since the last sync is above every № seen before, deleted rows' too."""
        numbered = set(self.number_of.values())
        new = [n for n, description in pairs if description not in numbered]
        if new:
            assert min(new) > self.high_water, (
                f"new № {sorted(new)} after № {self.high_water} was given"
            )
        self.high_water = max([self.high_water, *(n for n, _ in pairs)])


# (most requests at once, syncs that wrote) of every sequence the last run played
DEPTH: list[tuple[int, int]] = []


def test_staff_edits_and_syncs_in_any_order_keep_the_invariants() -> None:
    DEPTH.clear()
    run_state_machine_as_test(
        SheetUnderEdit,
        settings=settings(
            max_examples=examples(6),
            stateful_step_count=examples(16, long=2),
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
    print(
        f"{len(DEPTH)} sequences; most requests at once: {max(r for r, _ in DEPTH)}; "
        f"syncs that wrote: {sum(w for _, w in DEPTH)} in all, {max(w for _, w in DEPTH)} at most"
    )  # shown by `make test-long` (-rP), next to hypothesis' own statistics
    # Depth, not just a pass: sequences with many requests, and syncs that wrote in each.
    assert max(requests for requests, _ in DEPTH) >= 10, DEPTH
    assert sum(wrote for _, wrote in DEPTH) >= len(DEPTH), DEPTH
    assert max(wrote for _, wrote in DEPTH) >= 3, DEPTH


def test_a_cleared_slot_is_recorded_once_in_the_history(tmp_path: Path) -> None:
    # A consultation slot that empties (the request is rejected) is one history row, not one
    # per sync: an empty «Стало» is an observation too.
    store, settings = make_workbook(
        tmp_path,
        {"requests": [request(topic="Текущие отметки", received_at=local("30.11.2026 14:00"))]},
    )
    sync(store, settings, now=START)
    assert tab_rows(store, "requests")[1][REQ.fields.index("consultation")]
    store.write([CellWrite(REQ.title, 2, REQ.fields.index("status") + 1, "Отклонено")])
    sync(store, settings, now=START + dt.timedelta(minutes=5))
    history = len(tab_rows(store, "changes"))
    journal = len(tab_rows(store, "log"))
    later = sync(store, settings, now=START + dt.timedelta(minutes=10))
    assert not later.wrote
    assert len(tab_rows(store, "changes")) == history
    assert len(tab_rows(store, "log")) == journal
    slots = [r for r in tab_rows(store, "changes")[1:] if r[1] == REQ.header("consultation")]
    assert [r[3] for r in slots][-1] in (None, "")
