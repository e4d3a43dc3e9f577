"""A sync's cost as ratios to a floor measured in the same run (medians of REPEAT runs).

    .venv/bin/python benchmarks/bench_sync_floor.py [ROWS ...]      (default: 10000 100000)

For each size the book of bench_sync.py (ROWS requests over the school year, every tab) is built
and synced once, so every later run starts from a settled sheet. Then:

  steady    a sync after staff changed 20 statuses, each in a fresh process (its own peak
            memory, max RSS), wall and CPU seconds (on a shared machine the wall clock mostly
            measures the neighbours); floor: calamine reading every sheet of the same book
  no-op     a sync with nothing to change, CPU seconds; floor: the same calamine read
  plan      parse + rules + diff of a snapshot already read, CPU seconds; floor: json.loads of
            the batchGet reply holding the same rows (what the Google store parses)
  google    a no-op sync against the local Sheets API server, CPU seconds of the syncing
            thread only (the server runs in another thread); floor: the same json.loads
            (only at sizes up to 10,000: the local server is not built for more)
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_sync import NOW, build
from python_calamine import CalamineWorkbook

from journaldesk.jobs.sync import plan_snapshot, sync
from journaldesk.settings import parse_settings
from journaldesk.store.workbook import WorkbookStore

REPEAT = 3
SERIAL_EPOCH = dt.datetime(1899, 12, 30)


def median(action: Callable[[], Any], clock: Callable[[], float] = time.process_time) -> float:
    """The median of REPEAT runs of action, by `clock`."""
    times = []
    for _ in range(REPEAT):
        t0 = clock()
        action()
        times.append(clock() - t0)
    return statistics.median(times)


def calamine_read(path: Path) -> None:
    """The floor of a workbook read: calamine turns every sheet into Python lists."""
    with CalamineWorkbook.from_path(str(path)) as book:
        for name in book.sheet_names:
            book.get_sheet_by_name(name).to_python(skip_empty_area=False)


def as_google(value: Any) -> Any:
    """A raw workbook value as the Sheets API holds it (dates as serial numbers)."""
    if isinstance(value, dt.datetime):
        return (value - SERIAL_EPOCH).total_seconds() / 86400
    if isinstance(value, dt.date):
        return float((value - SERIAL_EPOCH.date()).days)
    if isinstance(value, dt.time):
        return (value.hour * 60 + value.minute) / 1440
    return value


def google_tabs(path: Path) -> dict[str, list[list[Any]]]:
    snap = WorkbookStore(path).read()
    return {
        title: [[as_google(v) for v in row] for row in tab.rows] for title, tab in snap.tabs.items()
    }


def batch_get_reply(tabs: dict[str, list[list[Any]]]) -> str:
    """The JSON body of a values:batchGet reply holding these tabs."""
    return json.dumps(
        {
            "spreadsheetId": "bench",
            "valueRanges": [
                {"range": f"'{title}'!A1:ZZ{len(rows)}", "majorDimension": "ROWS", "values": rows}
                for title, rows in tabs.items()
            ],
        },
        ensure_ascii=False,
    )


def steady(path: Path, work: Path) -> tuple[float, float, float]:
    """Median wall and CPU seconds and peak MB of a sync after 20 staff edits (fresh processes)."""
    seconds, cpus, peaks = [], [], []
    for _ in range(REPEAT):
        shutil.copy(path, work)
        script = str(Path(__file__).parent / "bench_sync.py")
        out = subprocess.run(
            [sys.executable, script, "--one", str(work), "steady"],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        seconds.append(result["seconds"])
        cpus.append(result["cpu"])
        peaks.append(result["peak_mb"])
    return statistics.median(seconds), statistics.median(cpus), statistics.median(peaks)


def google_noop(tabs: dict[str, list[list[Any]]], folder: Path) -> float:
    """CPU seconds of the syncing thread for a no-op Google sync (median)."""
    from journaldesk.store.google import GoogleStore
    from journaldesk.store.retry import RetryPolicy
    from tests.sheets_api.keys import make_service_account_key
    from tests.sheets_api.server import SheetsApiServer

    with SheetsApiServer() as server:
        info, public_pem = make_service_account_key(server.token_uri)
        server.register_key(info["client_email"], public_pem)
        sid = server.create_spreadsheet("Бенчмарк", tabs)
        settings = parse_settings({"backend": "google", "google": {"spreadsheet": sid}}, folder)

        def store() -> GoogleStore:
            return GoogleStore(
                sid,
                service_account_info=info,
                api_url=server.url,
                retry=RetryPolicy.no_sleep(),
                lock_dir=folder,
                timeout=120.0,
            )

        now = NOW + dt.timedelta(minutes=1)
        sync(store(), settings, now=now)  # tags the rows, settles what differs
        warm = store()
        warm.read()  # the token
        report = sync(warm, settings, now=now)
        assert not report.wrote, "the Google sync is not a no-op"
        return median(lambda: sync(warm, settings, now=now), clock=time.thread_time)


def bench(rows: int, folder: Path) -> list[tuple[str, float, str, float, str]]:
    path = folder / f"book{rows}.xlsx"
    build(path, rows)
    settings = parse_settings({"workbook": {"path": str(path)}}, folder)
    sync(WorkbookStore(path), settings, now=NOW)  # the first sync: numbers, history, states

    floor_read = median(lambda: calamine_read(path))
    steady_s, steady_cpu, peak = steady(path, folder / "work.xlsx")
    now = NOW + dt.timedelta(minutes=1)
    noop = median(lambda: sync(WorkbookStore(path), settings, now=now))
    snap = WorkbookStore(path).read()
    plan = median(lambda: plan_snapshot(snap, settings, now=now))
    tabs = google_tabs(path)
    reply = batch_get_reply(tabs)
    floor_json = median(lambda: json.loads(reply))
    out = [
        ("steady, 20 changed (wall s)", steady_s, "calamine read", floor_read, f"{peak:.0f} MB"),
        ("steady, 20 changed (CPU s)", steady_cpu, "calamine read", floor_read, ""),
        ("no-op (CPU s)", noop, "calamine read", floor_read, ""),
        ("parse+rules+diff (CPU s)", plan, "JSON parse", floor_json, ""),
    ]
    if rows <= 10_000:
        google = google_noop(tabs, folder)
        out.append(("Google no-op (CPU s)", google, "JSON parse", floor_json, ""))
    return out


def main(sizes: list[int]) -> None:
    print(f"medians of {REPEAT}; ratio = measure / floor, both from this run")
    print(f"{'rows':>7} {'measure':<30} {'s':>7} {'floor':<14} {'s':>6} {'ratio':>6}  peak")
    for rows in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            for name, value, floor_name, floor, extra in bench(rows, Path(tmp)):
                print(
                    f"{rows:>7} {name:<30} {value:>7.2f} {floor_name:<14} {floor:>6.2f} "
                    f"{value / floor:>6.1f}  {extra}",
                    flush=True,
                )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [10_000, 100_000])
