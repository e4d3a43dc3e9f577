"""Time the working-time calendar: build the 2026/27 school year, then due dates for 100,000
random requests in one vectorised call."""

from __future__ import annotations

import time

import numpy as np

from journaldesk.jobs.init import load_calendar_plan
from journaldesk.rules.school_year import regulation_hours, school_year_bounds, school_year_entries
from journaldesk.rules.worktime import WorkCalendar, from_minutes

N = 100_000
TZ = "Europe/Simferopol"


def main() -> None:
    """Print build time and the time of add(), between() and from_minutes() over N requests."""
    t0 = time.perf_counter()
    plan = load_calendar_plan()
    start, end = school_year_bounds(2026, plan)
    entries = school_year_entries(2026, plan)
    cal = WorkCalendar.build(regulation_hours(), entries, tz=TZ, start=start, end=end)
    built = time.perf_counter() - t0

    rng = np.random.default_rng(2026)
    received = rng.uniform(cal.span_start, cal.span_end - 60 * 24 * 120, N)
    sla = rng.choice([60.0, 120.0, 240.0, 600.0, 1200.0], N)

    t1 = time.perf_counter()
    due = cal.add(received, sla)
    added = time.perf_counter() - t1

    t2 = time.perf_counter()
    used = cal.between(received, due)
    measured = time.perf_counter() - t2

    t3 = time.perf_counter()
    from_minutes(due, TZ)
    converted = time.perf_counter() - t3

    assert np.allclose(used[~np.isnan(due)], sla[~np.isnan(due)])
    print(f"calendar 2026/27: {len(cal.starts)} sessions, {cal.total / 60:.0f} h open")
    print(f"build (holidays + YAML + intervals): {built * 1000:.1f} ms")
    print(f"add() for {N:,} requests:          {added * 1000:.1f} ms")
    print(f"between() for {N:,} requests:      {measured * 1000:.1f} ms")
    print(f"from_minutes() for {N:,} moments:  {converted * 1000:.1f} ms")
    print(f"due dates past the calendar's end: {int(np.isnan(due).sum())}")


if __name__ == "__main__":
    main()
