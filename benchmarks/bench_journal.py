"""Time and peak memory of importing a school year of lessons (section I), against parsing the same
file with calamine / csv alone.

    .venv/bin/python benchmarks/bench_journal.py [CLASSES [DAYS]]

A 1,000-pupil school: 40 classes x 6 lessons x 170 days ≈ 40,800 lessons, as the journal's .xlsx
export and as a Windows-1251 CSV. Each measurement runs in a fresh process (peak memory is the
process's peak resident set, which also counts calamine's own memory outside Python):

* floor: calamine's rows of the first sheet / csv.reader's rows of the decoded text;
* read: `read_export` (headers found by alias, cells typed, dates parsed);
* rules: read + `check_lessons` + `teacher_weeks`;
* import: the whole `journaldesk journal` job into a local workbook built by `init` beforehand
  (read the book, judge, write the tab and «Журнал», save); runs after the first replace the
  same weeks in place.

Modules are loaded before the timed runs (the "modules loaded only" line is the memory of Python
with pandas and the package, before any file). Times are the best of three runs in the same
process; figures are ratios to the floor.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = ["Дата", "№ урока", "Класс", "Предмет", "Учитель", "Тема урока", "Домашнее задание",
          "Вид контроля", "Отметки", "Посещаемость", "Дата заполнения"]  # fmt: skip
SUBJECTS = ["Русский язык", "Литература", "Математика", "Английский язык", "История",
            "Физика", "Химия", "Биология", "География", "Физическая культура", "Информатика",
            "Музыка"]  # fmt: skip


def lessons(classes: int, days: int, seed: int = 1) -> list[list[object]]:
    """The export's rows (header first): every class, six lessons a day, school days only."""
    rng = random.Random(seed)
    teachers = [f"Учитель{i:02d} А. Б." for i in range(classes * 3 // 2)]
    rows: list[list[object]] = [HEADER]
    d, made = dt.date(2025, 9, 1), 0
    while made < days:
        if d.weekday() < 5:
            made += 1
            for c in range(classes):
                class_name = f"{c % 11 + 1}{'АБВГ'[c // 11]}"
                for n in range(1, 7):
                    filled = rng.random() < 0.93
                    rows.append(
                        [
                            d.strftime("%d.%m.%Y"),
                            n,
                            class_name,
                            SUBJECTS[(c + n + d.toordinal()) % len(SUBJECTS)],
                            teachers[(c * 7 + n) % len(teachers)],
                            "Решение задач по теме § 12" if filled else "",
                            "№ 14–18" if rng.random() < 0.95 else "",
                            "Работа на уроке" if filled else "",
                            "5 4 4" if rng.random() < 0.5 else "",
                            "отмечена" if rng.random() < 0.97 else "",
                            f"{d:%d.%m.%Y} 1{rng.randint(3, 9)}:30",
                        ]
                    )
        d += dt.timedelta(days=1)
    return rows


def write_files(folder: Path, rows: list[list[object]]) -> tuple[Path, Path]:
    from openpyxl import Workbook

    xlsx = folder / "уроки.xlsx"
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Уроки")
    for row in rows:
        sheet.append(row)
    book.save(xlsx)
    text = folder / "уроки.csv"
    with text.open("w", encoding="cp1251", newline="") as fh:
        csv.writer(fh, delimiter=";").writerows(rows)
    return xlsx, text


# --- the measured actions (run in a child process) ----------------------------------------------


def _floor(path: Path) -> int:
    if path.suffix == ".xlsx":
        from python_calamine import CalamineWorkbook

        return len(CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0).to_python())
    text = path.read_bytes().decode("cp1251")
    return len(list(csv.reader(text.splitlines(), delimiter=";")))


def _settings(folder: Path):
    from journaldesk.settings import parse_settings

    return parse_settings({"workbook": {"path": "bench.xlsx"}, "log_file": "logs/b.log"}, folder)


def _read(path: Path) -> int:
    from journaldesk.jobs.journal_import import read_export

    return len(read_export(path, _settings(path.parent).journal.aliases()).lessons)


def _rules(path: Path) -> int:
    from journaldesk.jobs.journal_import import fill_rules, read_export
    from journaldesk.rules.journal_fill import check_lessons, teacher_weeks

    settings = _settings(path.parent)
    frame = read_export(path, settings.journal.aliases()).lessons
    return len(teacher_weeks(check_lessons(frame, fill_rules(settings), set())))


def _workbook(path: Path) -> None:
    """A fresh workbook built by `init` beside the file (not timed)."""
    from journaldesk.jobs.init import plan_init
    from journaldesk.store.base import Snapshot
    from journaldesk.store.workbook import WorkbookStore

    book = _settings(path.parent).workbook_path
    if book.exists():
        book.unlink()
    WorkbookStore(book, create=True).apply_init(plan_init(Snapshot(tabs={}), {}))


def _import(path: Path) -> int:
    from zoneinfo import ZoneInfo

    from journaldesk.jobs.journal_import import import_lessons
    from journaldesk.store.workbook import WorkbookStore

    settings = _settings(path.parent)
    now = dt.datetime(2026, 8, 1, 12, 0, tzinfo=ZoneInfo("Europe/Simferopol"))
    store = WorkbookStore(settings.workbook_path)
    result = import_lessons(store, settings, [path], now=now, mail=False)
    return result.added + result.replaced


def _baseline(path: Path) -> int:
    import journaldesk.jobs.journal_import  # noqa: F401 - what the import job loads: pandas & co.

    return 0


ACTIONS = {
    "floor": _floor,
    "baseline": _baseline,
    "read": _read,
    "rules": _rules,
    "import": _import,
}
# Done before the timed runs: the modules loaded, the workbook built.
PREPARE = {"read": _baseline, "rules": _baseline, "import": _workbook}


def child(action: str, path: Path, repeat: int) -> None:
    best, size = float("inf"), 0
    if action in PREPARE:
        _baseline(path)
        PREPARE[action](path)
    for _ in range(repeat):
        t0 = time.perf_counter()
        size = ACTIONS[action](path)
        best = min(best, time.perf_counter() - t0)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": best, "peak_mb": peak_kb / 1024, "size": size}))


def measure(action: str, path: Path, repeat: int = 3) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", action, str(path), str(repeat)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    classes = int(argv[0]) if argv else 40
    days = int(argv[1]) if len(argv) > 1 else 170
    rows = lessons(classes, days)
    print(f"{len(rows) - 1} lessons ({classes} classes x 6 x {days} days)")
    with tempfile.TemporaryDirectory() as tmp:
        xlsx, text = write_files(Path(tmp), rows)
        for path, floor_name in ((xlsx, "calamine"), (text, "csv.reader")):
            print(f"\n{path.suffix[1:]} ({path.stat().st_size / 1e6:.1f} MB)")
            floor = measure("floor", path)
            print(
                f"  {'floor: ' + floor_name:<22} {floor['seconds']:7.2f} s  "
                f"{floor['peak_mb']:7.0f} MB peak"
            )
            base = measure("baseline", path, repeat=1)
            print(f"  {'modules loaded only':<22} {'':>9}  {base['peak_mb']:7.0f} MB peak")
            for action in ("read", "rules", "import"):
                got = measure(action, path)
                print(
                    f"  {action:<22} {got['seconds']:7.2f} s  {got['peak_mb']:7.0f} MB peak   "
                    f"x{got['seconds'] / floor['seconds']:.1f} time, "
                    f"x{got['peak_mb'] / floor['peak_mb']:.1f} memory  ({int(got['size'])})"
                )


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]))
    else:
        main(sys.argv[1:])
