"""`init` merges the «Календарь» seed and never forgets; `doctor` checks the calendar."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest
import yaml

from journaldesk.errors import SettingsError
from journaldesk.jobs.doctor import run_doctor
from journaldesk.jobs.init import load_calendar_plan, plan_init
from journaldesk.resources import default_file
from journaldesk.settings import parse_settings
from journaldesk.store.base import Snapshot
from journaldesk.store.workbook import WorkbookStore
from tests.helpers import SCHEMA, SEED_DAY, make_workbook

CAL = SCHEMA["calendar"]
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


def calendar_rows(path: Path) -> list[tuple]:
    ws = openpyxl.load_workbook(path)[CAL.title]
    return [tuple(c.value for c in row[:6]) for row in ws.iter_rows(min_row=2) if row[0].value]


def seeded_rows(plan) -> list[list]:
    return next((rows for title, rows in plan.seed_rows if title == CAL.title), [])


def _plan_file(tmp_path: Path, extra_vacation: bool) -> Path:
    data = yaml.safe_load(default_file("calendar.yaml").read_text(encoding="utf-8"))
    if extra_vacation:
        data["school_years"][2026]["vacations"].append(
            {"from": "15.02.2027", "to": "19.02.2027", "name": "дополнительные"}
        )
    path = tmp_path / "calendar.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_a_second_init_adds_nothing_and_a_new_entry_adds_one_row(tmp_path: Path) -> None:
    store, _ = make_workbook(tmp_path)
    snap = store.read()
    assert seeded_rows(plan_init(snap, store.describe(), today=SEED_DAY)) == []
    plan = load_calendar_plan(_plan_file(tmp_path, extra_vacation=True))
    added = seeded_rows(plan_init(snap, store.describe(), today=SEED_DAY, calendar_plan=plan))
    assert [(r[0], r[1], r[2], r[5]) for r in added] == [
        (dt.date(2027, 2, 15), dt.date(2027, 2, 19), "Каникулы", "дополнительные")
    ]


def test_init_never_changes_or_re_adds_a_row_a_person_edited(tmp_path: Path) -> None:
    store, settings = make_workbook(tmp_path)
    book = openpyxl.load_workbook(settings.workbook_path)
    ws = book[CAL.title]
    # The school moved its autumn vacation by a day and deleted 4 November.
    for r in range(2, ws.max_row + 1):
        first = ws.cell(r, 1).value
        if ws.cell(r, 3).value == "Каникулы" and first and first.date() == dt.date(2026, 10, 26):
            ws.cell(r, 1).value = dt.datetime(2026, 10, 27)
    before = calendar_rows(settings.workbook_path)
    book.save(settings.workbook_path)
    edited = calendar_rows(settings.workbook_path)
    assert edited != before
    store = WorkbookStore(settings.workbook_path)
    plan = plan_init(store.read(), store.describe(), today=SEED_DAY)
    assert seeded_rows(plan) == []  # the edited vacation still covers the seed's days
    store.apply_init(plan)
    assert calendar_rows(settings.workbook_path) == edited


def test_a_new_school_year_adds_its_rows(tmp_path: Path) -> None:
    store, _ = make_workbook(tmp_path)
    plan = plan_init(store.read(), store.describe(), today=dt.date(2027, 9, 6))
    added = seeded_rows(plan)
    days = {r[0] for r in added}
    assert dt.date(2027, 11, 4) in days and dt.date(2028, 3, 18) in days
    assert all(dt.date(2027, 9, 1) <= d <= dt.date(2028, 8, 31) for d in days)
    # From July the coming year is seeded too.
    july = seeded_rows(plan_init(Snapshot(tabs={}), {}, today=dt.date(2027, 7, 10)))
    assert {r[0].year for r in july} >= {2026, 2027, 2028}


def test_the_region_decides_18_march() -> None:
    crimea = seeded_rows(plan_init(Snapshot(tabs={}), {}, today=SEED_DAY))
    none = seeded_rows(plan_init(Snapshot(tabs={}), {}, today=SEED_DAY, region="нет"))
    march = dt.date(2027, 3, 18)
    assert [r[5] for r in crimea if r[0] == march] == ["День воссоединения Крыма с Россией"]
    assert not [r for r in none if r[0] == march]


def test_an_unknown_region_is_a_russian_settings_error() -> None:
    with pytest.raises(SettingsError, match=r"school\.region: неизвестный регион «Крым»"):
        parse_settings({"school": {"region": "Крым"}}, Path("."))
    # The old form, the school's name alone, still reads.
    assert parse_settings({"school": "МБОУ «СОШ № 2»"}, Path(".")).school.name == "МБОУ «СОШ № 2»"


def _settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "settings.yaml"
    data = {"workbook": {"path": "journal.xlsx"}, "log_file": "logs/j.log"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_doctor_says_the_calendar_is_in_order(tmp_path: Path) -> None:
    make_workbook(tmp_path)
    _, lines = run_doctor(_settings_file(tmp_path), now=NOW)
    assert "✔ Лист «Календарь»: учебный год 2026/27 заполнен" in lines
    assert "✔ Часы консультаций в ближайшие 30 дней есть" in lines
    assert "✔ Лист «Календарь»: строки не пересекаются, даты не перепутаны" in lines


def test_doctor_finds_missing_rows_no_hours_and_overlaps(tmp_path: Path) -> None:
    _, settings = make_workbook(tmp_path, seed=False)
    book = openpyxl.load_workbook(settings.workbook_path)
    ws = book[CAL.title]
    # Everything cancelled for six weeks, twice over (two overlapping rows of one type).
    ws.append([dt.datetime(2026, 11, 23), dt.datetime(2027, 1, 10), "Нет консультаций"])
    first = ws.max_row
    ws.append([dt.datetime(2026, 12, 1), dt.datetime(2026, 12, 5), "Нет консультаций"])
    book.save(settings.workbook_path)
    ok, lines = run_doctor(_settings_file(tmp_path), now=NOW)
    assert not ok
    text = "\n".join(lines)
    assert "! Лист «Календарь»: на учебный год 2026/27 не хватает" in text
    assert "✘ В ближайшие 30 дней нет ни одного часа консультаций" in text
    assert (
        f"✘ Лист «Календарь»: строки {first}, {first + 1} — даты перепутаны или пересекаются"
        in text
    )


def test_init_says_how_many_calendar_rows_it_added(tmp_path: Path) -> None:
    import time_machine
    from click.testing import CliRunner

    from journaldesk.cli.main import main

    config = _settings_file(tmp_path)
    with time_machine.travel(NOW, tick=False):
        first = CliRunner().invoke(main, ["init", "--config", str(config)])
        again = CliRunner().invoke(main, ["init", "--config", str(config)])
    assert first.exit_code == 0, first.output
    added = len(plan_init(Snapshot(tabs={}), {}, today=NOW.date()).seed_rows[1][1])
    assert f"лист «Календарь»: добавлено {added} строк" in first.output
    assert "уже готова: менять нечего" in again.output
