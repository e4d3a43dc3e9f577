"""`journaldesk doctor` says what matters: each case with the exact line a person acts on."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from journaldesk.cli.main import main
from journaldesk.jobs.doctor import run_doctor, same_clock
from journaldesk.sheet.schema import load_schema
from tests.helpers import make_workbook

SCHEMA = load_schema()
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=dt.UTC)


def _google_settings(tmp_path: Path, server, sid: str, **extra: object) -> Path:
    path = tmp_path / "settings.yaml"
    data = {
        "backend": "google",
        "google": {"spreadsheet": sid, "api_url": server.url},
        "log_file": "logs/journaldesk.log",
        **extra,
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture
def doctor(monkeypatch: pytest.MonkeyPatch, service_account_info: dict):
    """run_doctor with the service account's key in the environment, at NOW."""
    monkeypatch.setenv("JOURNALDESK_CREDENTIALS_JSON", json.dumps(service_account_info))
    monkeypatch.delenv("JOURNALDESK_CREDENTIALS", raising=False)
    return lambda config: run_doctor(config, now=NOW)


def _initialised(server, info: dict, tmp_path: Path, time_zone: str) -> Path:
    sid = server.create_spreadsheet(time_zone=time_zone)
    config = _google_settings(tmp_path, server, sid, timezone="Europe/Simferopol")
    env = {"JOURNALDESK_CREDENTIALS_JSON": json.dumps(info), "JOURNALDESK_CREDENTIALS": ""}
    assert CliRunner().invoke(main, ["init", "--config", str(config)], env=env).exit_code == 0
    return config


def test_zones_with_the_same_clock_all_year_are_the_same() -> None:
    # Written from the rule: Moscow and Simferopol are UTC+3 all year; Kyiv has summer time.
    assert same_clock("Europe/Moscow", "Europe/Simferopol", NOW)
    assert not same_clock("Europe/Kyiv", "Europe/Simferopol", NOW)  # +2 in winter
    assert not same_clock("Europe/Samara", "Europe/Simferopol", NOW)  # +4
    assert not same_clock("Nowhere/City", "Europe/Simferopol", NOW)


def test_no_warning_when_the_sheets_zone_differs_only_in_name(
    tmp_path: Path, sheets_server, service_account_info, doctor
) -> None:
    config = _initialised(sheets_server, service_account_info, tmp_path, "Europe/Moscow")
    _, lines = doctor(config)
    text = "\n".join(lines)
    assert "! Часовой пояс" not in text
    assert (
        "✔ Часовой пояс таблицы Europe/Moscow и настроек Europe/Simferopol: время одно и то же "
        "(UTC+3)" in lines
    )


def test_a_warning_when_the_sheets_clock_really_differs(
    tmp_path: Path, sheets_server, service_account_info, doctor
) -> None:
    config = _initialised(sheets_server, service_account_info, tmp_path, "Europe/Samara")
    _, lines = doctor(config)
    assert any(
        ln.startswith("! Часовой пояс таблицы Europe/Samara, а в настройках ") for ln in lines
    )


def test_a_sheet_not_shared_gets_the_exact_line_to_act_on(
    tmp_path: Path, sheets_server, service_account_info, doctor
) -> None:
    sid = sheets_server.create_spreadsheet()
    sheets_server.deny(sid)
    ok, lines = doctor(_google_settings(tmp_path, sheets_server, sid))
    assert not ok
    email = service_account_info["client_email"]
    assert lines[-1] == (
        f"✘ Доступ к таблице: нет доступа для {email}\n"
        f"    → Откройте таблицу → Настройки доступа → добавьте {email} как редактора"
    )


def _workbook_settings(tmp_path: Path, **extra: object) -> Path:
    path = tmp_path / "settings.yaml"
    data = {"workbook": {"path": "journal.xlsx"}, "log_file": "logs/j.log", **extra}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_example_values_left_in_the_settings_are_flagged(tmp_path: Path) -> None:
    make_workbook(tmp_path)
    example = {
        "school": "МБОУ «Владиславовская ОШ»",  # as in config/settings.example.yaml
        "administrator": {"name": "Иванова", "email": "ezh-admin@example.org"},
    }
    _, lines = run_doctor(_workbook_settings(tmp_path, **example), now=NOW)
    assert (
        "! В настройках осталось значение из образца: school.name: «МБОУ «Владиславовская ОШ»»\n"
        "    → впишите название своей школы"
    ) in lines
    assert (
        "! В настройках осталось значение из образца: administrator.email: "
        "«ezh-admin@example.org»\n    → впишите настоящий адрес"
    ) in lines
    own = {"school": "МБОУ «СОШ № 2»", "administrator": {"email": "ezh@school2.ru"}}
    _, lines = run_doctor(_workbook_settings(tmp_path, **own), now=NOW)
    assert not [ln for ln in lines if "из образца" in ln]


def _rename_header(tmp_path: Path, old: str, new: str) -> None:
    import openpyxl

    book = tmp_path / "journal.xlsx"
    wb = openpyxl.load_workbook(book)
    ws = wb[SCHEMA["requests"].title]
    cell = next(c for c in ws[1] if c.value == old)
    cell.value = new
    wb.save(book)


def _letter(header: str) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[SCHEMA["requests"].headers.index(header)]


def test_a_renamed_header_gets_a_did_you_mean(tmp_path: Path) -> None:
    make_workbook(tmp_path)
    _rename_header(tmp_path, "Тема", "Тема обращения")
    ok, lines = run_doctor(_workbook_settings(tmp_path), now=NOW)
    assert not ok
    bad = next(ln for ln in lines if ln.startswith("✘ На листе «Обращения»"))
    assert bad.splitlines()[-1] == (
        f"    → Может быть, «Тема обращения» — это «Тема»? Переименуйте столбец {_letter('Тема')} "
        "обратно в «Тема»"
    )


def test_a_header_retyped_with_latin_letters_says_so(tmp_path: Path) -> None:
    make_workbook(tmp_path)
    _rename_header(tmp_path, "Роль", "Poль")  # Latin P and o
    _, lines = run_doctor(_workbook_settings(tmp_path), now=NOW)
    bad = next(ln for ln in lines if ln.startswith("✘ На листе «Обращения»"))
    assert bad.splitlines()[-1] == (
        f"    → Может быть, «Poль» — это «Роль»? Переименуйте столбец {_letter('Роль')} "
        "обратно в «Роль» (русскими буквами)"
    )


def test_a_bad_setting_is_named_once(tmp_path: Path) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text("backend: excel\n", encoding="utf-8")
    ok, lines = run_doctor(config, now=NOW)
    assert not ok
    assert lines == [
        "✘ Настройки: backend: недопустимое значение, допустимо: «workbook», «google»\n"
        "    → исправьте файл настроек и запустите doctor снова"
    ]
