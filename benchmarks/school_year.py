"""A whole school year, simulated (tests/simulation.py) on the workbook, on Google (the local
Sheets API server) or on both, one after the other: 1 September to 31 May over the timetable's
school days, staff edits between syncs, the store's faults at random moments of a sync
(tests/simulation_stores.py), every invariant checked after every sync.

    .venv/bin/python benchmarks/school_year.py [--store workbook|google|both]
        [--syncs-per-day N] [--requests-per-day R] [--fault-rate P] [--seed S]
        [--last YYYY-MM-DD]

Prints, per store: steps, syncs, edits, faults simulated by kind, the invariant violations
(goal 0), the time of a sync and the sheet's size at the start and the end (the workbook's
bytes; on Google its values as JSON), rows of «Журнал» and «Изменения» per request, what a quiet
week (the autumn holiday, no edits) added, and the wall time. Exits 1 on a violation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import simulation_stores
from tests.simulation import SchoolYear, print_report


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--store", choices=["workbook", "google", "both"], default="both")
    parser.add_argument("--syncs-per-day", type=int, default=4)
    parser.add_argument("--requests-per-day", type=float, default=3.0)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--shuffle-every", type=int, default=10)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--last", type=dt.date.fromisoformat, default=dt.date(2027, 5, 31))
    args = parser.parse_args()
    # The retries' warnings (one per simulated fault) would drown the figures.
    logging.disable(logging.WARNING)
    stores = ["workbook", "google"] if args.store == "both" else [args.store]
    return max(run_year(args, store) for store in stores)


def run_year(args: argparse.Namespace, store: str) -> int:
    """Simulate the year on one store and print its figures; 1 on a violation."""
    with tempfile.TemporaryDirectory(prefix="jd-year-") as folder:
        year = SchoolYear(
            Path(folder),
            backend=getattr(simulation_stores, store),
            seed=args.seed,
            last=args.last,
            syncs_per_day=args.syncs_per_day,
            requests_per_day=args.requests_per_day,
            fault_rate=args.fault_rate,
            shuffle_every=args.shuffle_every,
            quiet_week=dt.date(2026, 11, 2),
        )
        report = year.run()
    return print_report(
        f"{store}: school year {year.first} .. {year.last}, "
        f"sync slots {[f'{t:%H:%M}' for t in year.slots]}",
        report,
    )


if __name__ == "__main__":
    sys.exit(main())
