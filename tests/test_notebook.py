"""The administrator's notebook: committed without outputs, only calls the package, and runs top to
bottom on a demo workbook without an error."""

from __future__ import annotations

import ast
import datetime as dt
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import nbformat
import pandas as pd
import pytest

from journaldesk.jobs import notebook as nh
from journaldesk.jobs.demo import build_demo
from journaldesk.settings import load_settings
from journaldesk.sheet.schema import load_schema

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "administrator.ipynb"
TZ = ZoneInfo("Europe/Simferopol")
KERNEL = "journaldesk-test"


def _notebook() -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK, as_version=4)


def test_the_notebook_is_committed_without_outputs() -> None:
    nb = _notebook()
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], cell.source[:60]
            assert cell.execution_count is None


def test_the_notebook_holds_no_logic_of_its_own() -> None:
    nb = _notebook()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.startswith("%"))
        for node in ast.walk(ast.parse(source)):
            assert not isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Lambda), cell.source
    # Every step is explained in Russian before its code.
    kinds = [c.cell_type for c in nb.cells]
    assert kinds[0] == "markdown"
    assert all(kinds[i - 1] == "markdown" for i, k in enumerate(kinds) if k == "code" and i > 1)


def test_settings_are_the_environments_then_the_schools_and_the_demo_only_without_both(
    tmp_path: Path,
) -> None:
    root = tmp_path / "school"
    (root / "notebooks").mkdir(parents=True)
    start = root / "notebooks"
    school = root / "config" / "settings.yaml"
    demo = root / "demo" / "settings.yaml"
    # Nothing at all: the school's file, whose absence load_settings explains.
    assert nh.find_settings({}, start) == nh.SettingsChoice(Path("config/settings.yaml"), "config")
    demo.parent.mkdir()
    demo.write_text("{}", encoding="utf-8")
    assert nh.find_settings({}, start) == nh.SettingsChoice(demo, "demo")
    school.parent.mkdir()
    school.write_text("{}", encoding="utf-8")
    # The school's own settings win over the demo left from the first try.
    assert nh.find_settings({}, start) == nh.SettingsChoice(school, "config")
    env = {"JOURNALDESK_CONFIG": "x.yaml"}
    assert nh.find_settings(env, start) == nh.SettingsChoice(Path("x.yaml"), "env")


def test_the_first_note_says_which_settings_and_why(tmp_path: Path) -> None:
    now = dt.datetime(2026, 11, 30, 10, 0, tzinfo=TZ)
    settings = load_settings(_settings_file(tmp_path))
    for source, words in (
        ("env", "из переменной окружения JOURNALDESK_CONFIG"),
        ("config", "рабочие настройки школы"),
        ("demo", "ДЕМОНСТРАЦИОННАЯ школа"),
    ):
        choice = nh.SettingsChoice(tmp_path / "settings.yaml", source)
        first = nh.settings_note(settings, choice, now).splitlines()[0]
        assert first == f"Настройки: `{tmp_path / 'settings.yaml'}` — " + first.split(" — ", 1)[1]
        assert words in first


def _settings_file(folder: Path) -> Path:
    path = folder / "settings.yaml"
    path.write_text("workbook:\n  path: journal.xlsx\n", encoding="utf-8")
    return path


def test_request_tables_use_the_sheets_headers_and_hide_names(tmp_path: Path) -> None:
    now = dt.datetime(2026, 12, 1, 10, 0, tzinfo=TZ)
    build_demo(tmp_path / "demo", now=now)
    settings = load_settings(tmp_path / "demo" / "settings.yaml")
    view = nh.read_view(settings, now=now)
    tables = nh.request_tables(view)
    tab = load_schema()["requests"]
    overdue = tables["Просроченные"]
    assert len(overdue) > 0
    assert list(overdue.columns[:2]) == [tab.header("number"), tab.header("received_at")]
    assert tab.header("requester") not in overdue.columns
    assert set(overdue[tab.header("due_state")]) == {"Просрочено"}
    # «Просрочено на» in the summary's words: working hours «раб. ч», the deadline's day and,
    # past a week, the calendar days (expected text rebuilt here from the deadline and now).
    for due, said in zip(overdue[tab.header("due_at")], overdue[nh.LATE_COLUMN], strict=True):
        days = (now.replace(tzinfo=None) - due).days
        tail = f", {days} календарн" if days > 7 else ")"
        assert re.fullmatch(r"\d+(,\d)? раб\. (ч|мин) \(с \d\d\.\d\d.*\)", said), said
        assert f"(с {due:%d.%m}{tail}" in said, said
        assert "рабочих часов" not in said
    assert set(tables["Под угрозой"][tab.header("due_state")]) <= {"Под угрозой"}
    opened = tables["Открытые"]
    assert len(opened) >= len(overdue)
    assert opened[tab.header("due_at")].is_monotonic_increasing
    consent = nh.consent_table(view)
    assert consent.index.name == load_schema()["consent"].header("class_name")
    assert consent["Учеников"].sum() > 0
    assert {"Готово, %", "Отстаёт"} <= set(consent.columns)


@pytest.fixture
def kernel_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernel spec that starts this very interpreter (the venv's), found through JUPYTER_PATH."""
    folder = tmp_path / "jupyter" / "kernels" / KERNEL
    folder.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "journaldesk (tests)",
        "language": "python",
    }
    (folder / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    # The kernel's history database and profile in this test's folder, not the user's: kernels
    # of tests running in parallel share no file.
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return KERNEL


def test_the_notebook_runs_top_to_bottom_on_the_demo(
    tmp_path: Path, kernel_spec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbclient import NotebookClient

    demo = tmp_path / "demo"
    build_demo(demo, now=dt.datetime.now(TZ))
    monkeypatch.setenv("JOURNALDESK_CONFIG", str(demo / "settings.yaml"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = _notebook()
    client = NotebookClient(
        nb,
        kernel_name=kernel_spec,
        timeout=120,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()  # raises CellExecutionError on any error
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    text = "\n".join(
        str(o.get("text", "")) + str(o.get("data", {}).get("text/plain", "")) for o in outputs
    )
    assert not [o for o in outputs if o.output_type == "error"]
    first = next(str(o.get("data", {}).get("text/markdown", "")) for o in outputs)
    assert first.startswith(f"Настройки: `{demo / 'settings.yaml'}` — из переменной окружения")
    assert "Обращений:" in text  # the sync's line
    assert "Сводка: неделя с " in text
    assert "недоступн" not in text  # agenda and weekly figures are part of this installation
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 3  # consent coverage, the weekly trend, the journal's filling
    # Tables as a person writes them: no None/NaN/<NA>, no index column, no ISO dates.
    tables = [str(o["data"]["text/html"]) for o in outputs if "text/html" in o.get("data", {})]
    assert len(tables) >= 8, len(tables)
    cells = [
        html.unescape(re.sub(r"<[^>]+>", "", c))
        for t in tables
        for c in re.findall(r"<td[^>]*>.*?</td>", t, re.S)
    ]
    assert len(cells) > 100
    missing = [c for c in cells if c.strip() in ("None", "NaN", "nan", "<NA>", "NaT")]
    assert missing == []
    assert not any(re.search(r"\b(None|NaN|<NA>|NaT)\b", c) for c in cells)
    assert not any(re.search(r"\d{4}-\d{2}-\d{2}", c) for c in cells)
    assert not any("row_heading" in t or '<th class="blank' in t for t in tables)
    moments = [c for c in cells if re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", c)]
    assert len(moments) > 10  # received, due: ДД.ММ.ГГГГ ЧЧ:ММ
    assert list((demo / "reports").iterdir())


def test_make_notebook_opens_the_notebook_with_the_projects_venv() -> None:
    root = NOTEBOOK.parent.parent
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    # -n prints the commands; -o treats the venv as installed, so nothing is rebuilt.
    # Under `make test` this runs inside another make: drop its flags and directory lines.
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    out = subprocess.run(
        [make, "-n", "--no-print-directory", "-o", ".venv/.installed", "notebook"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout
    assert (
        out.strip().splitlines()[-1] == ".venv/bin/jupyter notebook notebooks/administrator.ipynb"
    )
    # What requirements.txt installs provides that command, next to the kernel's Python.
    requirements = (root / "requirements.txt").read_text(encoding="utf-8").splitlines()
    assert any(line.startswith("notebook>=") for line in requirements)
    assert (Path(sys.executable).parent / "jupyter-notebook").exists()


def test_cells_read_as_a_person_writes_them() -> None:
    frame = pd.DataFrame(
        {
            "Когда": [dt.datetime(2026, 11, 23, 15, 20), pd.NaT, None],
            "День": [pd.Timestamp("2026-11-23"), pd.Timestamp("2026-11-24"), pd.NaT],
            "№": pd.array([5, None, 7], dtype="Int64"),
            "Доля": [91.666, float("nan"), 90.0],
            "Замечание": ["x" * 300, None, "Коротко"],
        }
    )
    text = nh.as_text(frame)
    assert list(text.columns) == list(frame.columns)  # no index column added
    assert text.to_dict("list") == {
        "Когда": ["23.11.2026 15:20", "", ""],
        "День": ["23.11.2026", "24.11.2026", ""],
        "№": ["5", "", "7"],
        "Доля": ["91,7", "", "90"],
        "Замечание": ["x" * 300, "", "Коротко"],  # in full
    }
    # A named index (the class of the consent table) becomes the first column.
    by_class = pd.DataFrame({"Учеников": [12]}, index=pd.Index(["5А"], name="Класс"))
    assert nh.as_text(by_class).to_dict("list") == {"Класс": ["5А"], "Учеников": ["12"]}
    rendered = nh.show(frame).to_html()
    assert "row_heading" not in rendered and "x" * 300 in rendered
    assert "white-space: pre-wrap" in rendered
    assert "white-space: nowrap" in rendered  # a moment is never broken over two lines


@pytest.mark.parametrize(
    ("today", "monday"),
    [
        (dt.date(2026, 11, 25), dt.date(2026, 11, 23)),  # Wednesday: this week
        (dt.date(2026, 11, 27), dt.date(2026, 11, 23)),  # Friday: this week
        (dt.date(2026, 11, 28), dt.date(2026, 11, 30)),  # Saturday: the coming week
        (dt.date(2026, 11, 29), dt.date(2026, 11, 30)),  # Sunday: the coming week
    ],
)
def test_consultations_of_the_week_on_a_weekend_are_the_coming_weeks(
    today: dt.date, monday: dt.date
) -> None:
    from journaldesk.cli.slots import week_of

    now = dt.datetime.combine(today, dt.time(12, 0), tzinfo=TZ)
    assert nh.week_bounds(now, "Europe/Simferopol") == (monday, monday + dt.timedelta(days=6))
    assert week_of(None, today) == (monday, monday + dt.timedelta(days=6))


def test_notebook_tables_write_decimals_with_a_comma() -> None:
    import pandas as pd

    before = pd.get_option("display.float_format")
    try:
        nh.use_russian_numbers()
        text = pd.DataFrame({"Готово, %": [91.66, 1234.5]}).to_string()
        html = pd.DataFrame({"Готово, %": [91.66]}).to_html()
    finally:
        pd.set_option("display.float_format", before)
    assert "91,7" in text and "1\u202f234,5" in text and "91.7" not in text
    assert "91,7" in html
