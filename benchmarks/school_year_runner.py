"""A whole school year, simulated through the runner on the workbook store
(tests/simulation_runner.py): 1 September to 31 May; the runner's own timetable wakes the jobs
(a sync every `--sync-every` minutes in school hours, the digest before each consultation
session, the Monday summary, the journal inbox); staff, parents and an office program act between
its moments; every invariant is checked after every step. (benchmarks/school_year.py runs the
store faults on both stores.)

    .venv/bin/python benchmarks/school_year_runner.py [--pupils N] [--sync-every MIN] [--seed S]
        [--first YYYY-MM-DD] [--last YYYY-MM-DD] [--profile FILE]

Prints steps, jobs, syncs, edits and faults, e-mails, the invariant violations (goal 0), the
time of a sync and the workbook's size at the start and the end, rows of «Журнал» and
«Изменения» per request, what a quiet week (no one at work) added, and the wall time with where
it went. Exits 1 on a violation.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.simulation import print_report
from tests.simulation_runner import RunnerYear


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pupils", type=int, default=600)
    parser.add_argument("--sync-every", type=int, default=15, help="minutes (the timetable's)")
    parser.add_argument("--sittings-per-day", type=float, default=6.0)
    parser.add_argument("--fault-rate", type=float, default=0.3, help="book-open windows a day")
    parser.add_argument("--shuffle-every", type=int, default=25)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--first", type=dt.date.fromisoformat, default=dt.date(2026, 9, 1))
    parser.add_argument("--last", type=dt.date.fromisoformat, default=dt.date(2027, 5, 31))
    parser.add_argument("--quiet-week", type=dt.date.fromisoformat, default=dt.date(2026, 10, 19))
    parser.add_argument("--profile", type=Path, help="write a cProfile of the run here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="jd-year-") as folder:
        year = RunnerYear(
            Path(folder),
            seed=args.seed,
            pupils=args.pupils,
            first=args.first,
            last=args.last,
            sync_every=args.sync_every,
            sittings_per_day=args.sittings_per_day,
            fault_rate=args.fault_rate,
            shuffle_every=args.shuffle_every,
            quiet_week=args.quiet_week if args.first <= args.quiet_week <= args.last else None,
        )
        year.progress = lambda day, r: print(
            f"{day}: steps {r.steps}, syncs {r.syncs}, violations {len(r.violations)}, "
            f"{time.perf_counter() - t0:.0f} s",
            file=sys.stderr,
            flush=True,
        )
        t0 = time.perf_counter()
        if args.profile:
            profiler = cProfile.Profile()
            report = profiler.runcall(year.run)
            profiler.dump_stats(args.profile)
            pstats.Stats(str(args.profile)).sort_stats("cumulative").print_stats(30)
        else:
            report = year.run()
    return print_report(
        f"school year {year.first} .. {year.last}, a sync every {args.sync_every} min", report
    )


if __name__ == "__main__":
    sys.exit(main())
