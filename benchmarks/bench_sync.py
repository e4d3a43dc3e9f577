"""Sync time and peak memory on the workbook store at 1k / 10k / 100k requests.

    .venv/bin/python benchmarks/bench_sync.py [ROWS ...]

For each size: builds a workbook of the whole contract (every tab, the regulation's hours, the
school calendar) with ROWS requests spread over the school year, then runs, each in a fresh
process so its peak memory (max RSS) is its own:
  first    the first sync of that sheet: numbers, deadlines, states and the history of every request
  steady   a sync after staff changed 20 statuses (the everyday case)
  no-op    a sync with nothing to change (two reads, no write)
"""

from __future__ import annotations

import datetime as dt
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl

from journaldesk.jobs.init import seed_rows
from journaldesk.settings import parse_settings
from journaldesk.sheet.schema import load_schema

TZ = ZoneInfo("Europe/Simferopol")
NOW = dt.datetime(2026, 12, 2, 15, 30, tzinfo=TZ)


def build(path: Path, rows: int) -> None:
    """The whole contract in write-only mode (fast), with ROWS requests."""
    schema = load_schema()
    rng = random.Random(rows)
    topics = schema.enums["topic"]
    statuses = schema.enums["status"]
    book = openpyxl.Workbook(write_only=True)
    for key, tab in schema.tabs.items():
        ws = book.create_sheet(tab.title)
        ws.append(tab.headers)
        if key in ("schedule", "calendar"):
            for row in seed_rows(schema, key, year_start=2026):
                ws.append(row)
        if key == "requests":
            start = dt.datetime(2026, 9, 1, 8, 0)
            span = (NOW.replace(tzinfo=None) - start).total_seconds()
            for _ in range(rows):
                received = start + dt.timedelta(seconds=rng.random() * span)
                values = {
                    "received_at": received.replace(second=0, microsecond=0),
                    "requester": f"Сотрудник {rng.randint(1, 60)}",
                    "role": "Учитель",
                    "topic": rng.choice(topics),
                    "description": "Не сохраняются отметки за урок " * rng.randint(1, 3),
                    "status": rng.choice(statuses),
                }
                ws.append([values.get(c.field) for c in tab.columns])
    book.save(path)


def run_one(path: Path, phase: str) -> dict:
    """One sync in this process; the parent reads our peak memory."""
    from journaldesk.jobs.sync import sync
    from journaldesk.store.workbook import WorkbookStore

    settings = parse_settings({"workbook": {"path": str(path)}}, path.parent)
    store = WorkbookStore(path)
    if phase == "steady":
        from journaldesk.store.base import CellWrite

        schema = load_schema()
        col = schema["requests"].fields.index("status") + 1
        rows = store.read().tabs[schema["requests"].title].rows
        step = max(1, (len(rows) - 1) // 20)
        store.write(
            [
                CellWrite(schema["requests"].title, r, col, "В работе")
                for r in range(2, len(rows), step)
            ]
        )
        store = WorkbookStore(path)
    now = NOW + dt.timedelta(minutes={"first": 0, "steady": 1, "noop": 1}[phase])
    t0, c0 = time.perf_counter(), time.process_time()
    report = sync(store, settings, now=now)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {
        "seconds": round(seconds, 2),
        "cpu": round(cpu, 2),
        "cells": report.cells,
        "wrote": report.wrote,
        "calls": report.api_calls,
        "peak_mb": round(peak_mb(), 1),
    }


def peak_mb() -> float:
    """This process's peak memory in MB. On Linux the high-water mark of its own memory
    (VmHWM): ru_maxrss there also counts what the parent held when it started this process
    (the benchmark's parent holds the whole book it built)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(sizes: list[int]) -> None:
    print(f"{'rows':>7} {'phase':>7} {'seconds':>8} {'cells':>8} {'calls':>5} {'peak MB':>8}")
    for rows in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "journal.xlsx"
            t0 = time.perf_counter()
            build(path, rows)
            built = time.perf_counter() - t0
            for phase in ("first", "steady", "noop"):
                out = subprocess.run(
                    [sys.executable, __file__, "--one", str(path), phase],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                r = json.loads(out.stdout.strip().splitlines()[-1])
                print(
                    f"{rows:>7} {phase:>7} {r['seconds']:>8} {r['cells']:>8} {r['calls']:>5} "
                    f"{r['peak_mb']:>8}   (sheet built in {built:.1f} s)"
                    if phase == "first"
                    else f"{rows:>7} {phase:>7} {r['seconds']:>8} {r['cells']:>8} {r['calls']:>5} "
                    f"{r['peak_mb']:>8}",
                    flush=True,
                )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--one":
        print(json.dumps(run_one(Path(sys.argv[2]), sys.argv[3])))
    else:
        main([int(a) for a in sys.argv[1:]] or [1_000, 10_000, 100_000])
