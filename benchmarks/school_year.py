"""A whole school year, simulated on the workbook store (tests/simulation.py): 1 September to
31 May over the timetable's school days, staff edits between syncs, the book open in an office
program now and then, every invariant checked after every sync.

    .venv/bin/python benchmarks/school_year.py [--syncs-per-day N] [--requests-per-day R]
        [--fault-rate P] [--seed S] [--last YYYY-MM-DD]

Prints steps, syncs, edits and faults, the invariant violations (goal 0), the time of a sync and
the workbook's size at the start and the end, rows of «Журнал» and «Изменения» per request, what a
quiet week (the autumn holiday, no edits) added, and the wall time. Exits 1 on a violation.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.simulation import SchoolYear


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--syncs-per-day", type=int, default=4)
    parser.add_argument("--requests-per-day", type=float, default=3.0)
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--shuffle-every", type=int, default=10)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--last", type=dt.date.fromisoformat, default=dt.date(2027, 5, 31))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jd-year-") as folder:
        year = SchoolYear(
            Path(folder),
            seed=args.seed,
            last=args.last,
            syncs_per_day=args.syncs_per_day,
            requests_per_day=args.requests_per_day,
            fault_rate=args.fault_rate,
            shuffle_every=args.shuffle_every,
            quiet_week=dt.date(2026, 11, 2),
        )
        report = year.run()
    print(
        f"school year {year.first} .. {year.last}, sync slots {[f'{t:%H:%M}' for t in year.slots]}"
    )
    for line in report.lines():
        print(line)
    for line in report.violations[:30]:
        print("  violation:", line)
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
