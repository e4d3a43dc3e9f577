"""Run every benchmark in this folder, one after another (`make bench`).

Figures depend on the machine: quote them with the machine they came from.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Smaller sizes by default so `make bench` finishes in a few minutes; run a script by hand
# with its own arguments for the 100k figures.
RUNS = [
    ("bench_worktime.py", []),
    ("bench_workbook_store.py", ["1000", "10000"]),
    ("bench_sync.py", ["1000", "10000"]),
    ("bench_google_api.py", []),
    ("bench_journal.py", ["40", "40"]),
    ("bench_privacy.py", ["1000", "10000"]),
]


def main() -> int:
    failed = 0
    for script, args in RUNS:
        print(f"\n== {script} {' '.join(args)}", flush=True)
        failed += subprocess.run([sys.executable, str(HERE / script), *args]).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
