"""Time the workbook store at 1k / 10k / 100k rows x 15 columns.

    .venv/bin/python benchmarks/bench_workbook_store.py [ROWS ...]

Builds a requests-like sheet in a temp folder (openpyxl write-only mode), then times read(),
read_columns() with and without the snapshot, write() of 10 cells and describe().
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import openpyxl

from journaldesk.store.base import CellWrite
from journaldesk.store.workbook import WorkbookStore

TAB = "Обращения"
COLS = 15


def build(path: Path, rows: int) -> None:
    """A sheet shaped like the requests tab: ints, datetimes, enums and free text."""
    book = openpyxl.Workbook(write_only=True)
    ws = book.create_sheet(TAB)
    ws.append([f"Столбец {c}" for c in range(1, COLS + 1)])
    start = dt.datetime(2025, 9, 1, 9, 0)
    for i in range(1, rows + 1):
        at = start + dt.timedelta(minutes=37 * i)
        ws.append(
            [
                i,
                at,
                f"Иванова Мария Петровна {i % 300}",
                "Учитель",
                f"{i % 11 + 1}А",
                "Лично",
                "Текущие отметки",
                f"Не выставляется отметка за урок {i}, просьба помочь разобраться",
                "Администратор ЭЖ",
                "В работе" if i % 3 else "Решено",
                at + dt.timedelta(days=2) if i % 3 == 0 else None,
                at + dt.timedelta(days=3),
                "В срок",
                "",
                "",
            ]
        )
    book.save(path)


def timed(action: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - t0)
    return best


def bench(rows: int, folder: Path) -> dict[str, float]:
    path = folder / f"bench_{rows}.xlsx"
    t0 = time.perf_counter()
    build(path, rows)
    built = time.perf_counter() - t0
    store = WorkbookStore(path)
    repeat = 3 if rows <= 10_000 else 2
    read = timed(store.read, repeat)
    store.read()
    cached = timed(lambda: store.read_columns(TAB, [1]), repeat)
    cells = [CellWrite(TAB, 2 + i * (rows // 10), 14, f"запись {i}") for i in range(10)]
    write = timed(lambda: store.write(cells), repeat)
    fresh = timed(lambda: store.read_columns(TAB, [1]), repeat)
    describe = timed(store.describe, 1)
    return {
        "rows": rows,
        "MB": path.stat().st_size / 1e6,
        "build": built,
        "read": read,
        "read_columns (snapshot)": cached,
        "read_columns (file)": fresh,
        "write 10 cells": write,
        "describe": describe,
    }


def main(argv: list[str]) -> None:
    sizes = [int(a) for a in argv] or [1_000, 10_000, 100_000]
    with tempfile.TemporaryDirectory() as tmp:
        results = [bench(n, Path(tmp)) for n in sizes]
    keys = list(results[0])
    print(" | ".join(f"{k:>24}" if i else f"{k:>8}" for i, k in enumerate(keys)))
    for r in results:
        cells = [f"{r['rows']:>8}"] + [f"{r[k]:>24.3f}" for k in keys[1:]]
        print(" | ".join(cells))


if __name__ == "__main__":
    main(sys.argv[1:])
