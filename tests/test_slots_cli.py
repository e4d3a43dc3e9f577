"""`journaldesk slots`: the administrator's week on the demo school, read once, nothing written."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner, Result

from journaldesk.cli.slots import slots, week_of
from journaldesk.errors import UserError
from journaldesk.jobs.demo import build_demo
from journaldesk.jobs.sync import parse_snapshot
from journaldesk.settings import load_settings
from journaldesk.sheet.schema import load_schema
from journaldesk.store.base import CellWrite
from journaldesk.store.workbook import WorkbookStore

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=ZoneInfo("Europe/Simferopol"))  # a Wednesday


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("demo")
    build_demo(target, now=NOW)
    return target / "settings.yaml"


def run(*args: str) -> Result:
    with time_machine.travel(NOW, tick=False):
        return CliRunner().invoke(slots, list(args))


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_week_of_the_pedagogical_council(demo: Path) -> None:
    result = run("--week", "2026-11-30", "--config", str(demo))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Консультации с 30.11.2026 по 06.12.2026"
    # The council's Wednesday (a «Нет консультаций» row of the demo's «Календарь»).
    assert "ср 02.12.2026 — нет консультаций: педсовет" in lines
    days = [line[:13] for line in lines[1:-1] if not line.startswith(" ")]
    assert days == [
        "пн 30.11.2026",
        "вт 01.12.2026",
        "ср 02.12.2026",
        "чт 03.12.2026",
        "пт 04.12.2026",
    ]
    assert re.fullmatch(r"Всего записано: \d+, свободных мест: \d+\.", lines[-1])


def test_the_demos_group_session_lists_who_is_coming(demo: Path) -> None:
    lines = run("--week", "2026-11-30", "--config", str(demo)).output.splitlines()
    thursday = next(i for i, line in enumerate(lines) if line.startswith("чт 03.12.2026"))
    friday = next(i for i, line in enumerate(lines) if line.startswith("пт 04.12.2026"))
    day = lines[thursday:friday]
    heads = [
        re.fullmatch(r"  Групповое занятие 15:00–16:30, каб. 21: записано (\d) из 8", x)
        for x in day
    ]
    group = next(i for i, m in enumerate(heads) if m)
    coming = [re.fullmatch(r"    (.+) \(№ (\d+)\)", line) for line in day[group + 1 :]]
    assert all(coming) and len(coming) == int(heads[group].group(1))  # type: ignore[union-attr]
    settings = load_settings(demo)
    parsed = parse_snapshot(
        WorkbookStore(settings.workbook_path).read(), load_schema(), settings.timezone
    )
    staff = parsed["staff"].frame
    untrained = {
        str(n) for n, d in zip(staff["full_name"], staff["trained_on"], strict=True) if d is None
    }
    names = {m.group(1) for m in coming if m}
    # The demo's two newest requests: teachers not trained yet, booked into the session.
    assert len(names & untrained) >= 2 and names <= set(staff["full_name"])
    # The group's time is never an individual slot: Thursday's individual bookings start later.
    starts = [line.split()[0][:5] for line in day[1:group] if re.match(r"  \d\d:\d\d", line)]
    assert all(t >= "16:30" for t in starts), starts


@pytest.fixture
def typed_demo(demo: Path, tmp_path: Path) -> tuple[Path, dict[str, dict[str, object]]]:
    """A copy of the demo where staff typed slots for Tuesday 15.12.2026 into three requests."""
    copy = tmp_path / "demo"
    shutil.copytree(demo.parent, copy)
    book = copy / "journaldesk.xlsx"
    store = WorkbookStore(book)
    settings = load_settings(copy / "settings.yaml")
    parsed = parse_snapshot(store.read(), load_schema(), settings.timezone)
    req = parsed["requests"]
    frame = req.frame
    numbered = frame["number"].notna()
    consult = frame["topic"].map(
        lambda t: isinstance(t, str) and settings.topic_rule(t).consultation
    )
    picks = {
        "booked": frame[numbered & consult & (frame["status"] == "В работе")].iloc[0],
        "fault": frame[numbered & ~consult & (frame["status"] == "Новое")].iloc[0],
        "resolved": frame[numbered & consult & (frame["status"] == "Решено")].iloc[0],
    }
    texts = {
        "booked": "вт 15.12.2026 15:00–15:20, каб. 12",
        "fault": "15.12.2026 15:10-15:30",
        "resolved": "вт 15.12.2026 16:00–16:20, каб. 12",
    }
    col = req.col_index["consultation"]
    title = load_schema()["requests"].title
    with store.lock():
        store.write([CellWrite(title, int(picks[k].name), col, texts[k]) for k in picks])
    info = {
        k: {"number": int(r["number"]), "topic": r["topic"], "requester": r["requester"]}
        for k, r in picks.items()
    }
    return copy / "settings.yaml", info


def test_slots_typed_by_staff_in_the_agenda_exact_lines(
    typed_demo: tuple[Path, dict[str, dict[str, object]]],
) -> None:
    config, info = typed_demo
    result = run("--week", "2026-12-15", "--config", str(config))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    tuesday = lines.index("вт 15.12.2026 15:00–17:00, каб. 12 — записано: 2, свободных мест: 4")
    booked, fault = info["booked"], info["fault"]
    # The resolved request's future slot is freed; the overlap is shown as typed.
    assert lines[tuesday + 1 : tuesday + 4] == [
        f"  15:00–15:20  № {booked['number']}  {booked['topic']} — {booked['requester']}",
        f"  15:10–15:30  № {fault['number']}  {fault['topic']} — {fault['requester']}",
        "ср 16.12.2026 15:00–17:00, каб. 12 — записано: 0, свободных мест: 6",
    ]


def test_this_week_by_default_with_no_place_free_in_the_past(demo: Path) -> None:
    result = run("--config", str(demo))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Консультации с 23.11.2026 по 29.11.2026"
    assert "пн 23.11.2026 14:00–16:00, каб. 12 — записано: 0, свободных мест: 0" in lines
    # Today from 15:00 (two hours' notice after 12:00) the slots fill in order, one per slot,
    # and a quarter of the session (two of its six places) stays free for short topics.
    wednesday = lines.index("ср 25.11.2026 15:00–17:00, каб. 12 — записано: 4, свободных мест: 2")
    times = [line.split()[0] for line in lines[wednesday + 1 : wednesday + 5]]
    assert times == ["15:00–15:20", "15:20–15:40", "15:40–16:00", "16:00–16:20"]


def test_no_request_is_booked_twice_in_a_week(demo: Path) -> None:
    seen = []
    for week in ("2026-11-23", "2026-11-30"):
        output = run("--week", week, "--config", str(demo)).output
        numbers = re.findall(r"^  \S+  № (\d+)", output, flags=re.MULTILINE)
        assert len(numbers) == len(set(numbers))
        seen += numbers
    assert seen and len(seen) == len(set(seen))


def test_one_read_and_no_write(demo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    real_read = WorkbookStore.read

    def read(self: WorkbookStore):  # type: ignore[no-untyped-def]
        calls.append("read")
        return real_read(self)

    def write(self: WorkbookStore, cells: object) -> None:
        calls.append("write")

    monkeypatch.setattr(WorkbookStore, "read", read)
    monkeypatch.setattr(WorkbookStore, "write", write)
    book = demo.parent / "journaldesk.xlsx"
    before = digest(book)
    result = run("--week", "30.11.2026", "--config", str(demo))
    assert result.exit_code == 0, result.output
    assert calls == ["read"]
    assert digest(book) == before


def test_a_bad_week_is_one_russian_line_and_exit_2(demo: Path) -> None:
    result = run("--week", "завтра", "--config", str(demo))
    assert result.exit_code == 2
    assert result.output.strip() == (
        "Ошибка: --week: «завтра» — ожидалась дата, например 2026-11-30 или 30.11.2026"
    )


def test_week_of_any_day_is_monday_to_sunday() -> None:
    week = (dt.date(2026, 11, 30), dt.date(2026, 12, 6))
    assert week_of("2026-12-02", dt.date(2020, 1, 1)) == week
    assert week_of(" 06.12.2026 ", dt.date(2020, 1, 1)) == week
    assert week_of(None, dt.date(2026, 11, 30)) == week
    with pytest.raises(UserError):
        week_of("02/12/2026", dt.date(2026, 11, 30))


def test_the_command_has_help() -> None:
    result = CliRunner().invoke(slots, ["--help"])
    assert result.exit_code == 0 and "--week" in result.output and slots.help
