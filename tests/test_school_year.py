"""Three weeks of a school year, simulated (tests/simulation.py): syncs by the timetable, staff
edits between them, every fault of the store (tests/simulation_stores.py) at least once; no
invariant broken, and a quiet week adds (almost) nothing to «Журнал» and «Изменения». On both
stores: the workbook, and Google through the local Sheets API server. benchmarks/school_year.py
runs the whole year."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests import simulation_stores
from tests.simulation import SchoolYear


@pytest.mark.parametrize("store", ["workbook", "google"])
def test_three_weeks_of_syncs_edits_and_faults_break_no_invariant(
    tmp_path: Path, store: str
) -> None:
    year = SchoolYear(
        tmp_path,
        backend=getattr(simulation_stores, store),
        seed=21,
        first=dt.date(2026, 9, 1),
        last=dt.date(2026, 9, 19),
        syncs_per_day=2,
        requests_per_day=4.0,
        fault_rate=0.3,
        shuffle_every=5,
        quiet_week=dt.date(2026, 9, 14),
    )
    report = year.run()
    assert report.violations == [], "\n".join(report.violations[:20])
    # The run went deep enough to mean something.
    assert report.requests >= 15, report.lines()
    assert report.writing_syncs >= 10, report.lines()
    assert report.refused >= 1, report.lines()
    for kind in year.faults.kinds:  # each fault struck at least once
        assert report.fault_kinds[kind] >= 1, (kind, report.lines())
    for kind in ("add", "status", "sort", "insert blank row", "bad value"):
        assert report.edits[kind] >= 1, (kind, report.edits)
    # Growth by what happened: a quiet week's syncs write far fewer rows than they are syncs.
    assert report.quiet_week_syncs >= 20, report.lines()
    assert report.quiet_week_journal <= report.quiet_week_syncs // 4, report.lines()
