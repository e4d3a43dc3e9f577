"""The command line speaks Russian: help, usage, errors of a bad option, the bare command."""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from click.testing import CliRunner

from journaldesk.cli.main import main
from tests.helpers import make_workbook

# Words click prints in English when it is not translated.
ENGLISH = re.compile(
    r"Usage|Options|Commands|Show this|Show the|Error|Try '|No such|Missing|\[OPTIONS\]|"
    r"\bTEXT\b|\bFILE\b|\bINTEGER\b|\bDIRECTORY\b|\bPATH\b|Did you mean"
)


def run(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def test_sync_help_is_russian_word_for_word() -> None:
    result = run("sync", "--help")
    assert result.exit_code == 0
    assert result.output == (
        "Использование: journaldesk sync [ПАРАМЕТРЫ]\n"
        "\n"
        "  Синхронизировать таблицу: номера, сроки, проверки, журнал.\n"
        "\n"
        "Параметры:\n"
        "  --config ФАЙЛ  Файл настроек (по умолчанию config/settings.yaml или "
        "$JOURNALDESK_CONFIG).\n"
        "  --help         Показать эту справку и выйти.\n"
    )


def test_consent_help_names_its_values_in_russian() -> None:
    result = run("consent", "--help")
    assert result.exit_code == 0
    assert "Использование: journaldesk consent [ПАРАМЕТРЫ]\n" in result.output
    assert "  --class ТЕКСТ  Класс, например 5А: список для классного руководителя.\n" in (
        result.output
    )
    assert "  --out ФАЙЛ     Записать в файл (UTF-8) вместо вывода на экран.\n" in result.output


def test_journaldesk_alone_lists_every_command_and_exits_0() -> None:
    result = run()
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[:8] == [
        "Использование: journaldesk [ПАРАМЕТРЫ] [КОМАНДА] [ПАРАМЕТРЫ]...",
        "",
        "  journaldesk: служба помощи по электронному журналу и дневнику школы.",
        "",
        "Параметры:",
        "  --version  Показать версию и выйти.",
        "  --help     Показать эту справку и выйти.",
        "",
    ]
    assert lines[8] == "Команды:"
    listed = [ln.split()[0] for ln in lines[9:] if ln.startswith("  ") and ln[2] != " "]
    assert listed == sorted(main.commands)
    # A description is wrapped, never cut off with «...».
    assert "..." not in "\n".join(lines[9:])
    assert result.output == run("--help").output


def test_every_help_page_is_free_of_english() -> None:
    for args in ([], ["--help"], *([name, "--help"] for name in main.commands)):
        result = run(*args)
        assert result.exit_code == 0, args
        assert not ENGLISH.search(result.output), (args, ENGLISH.search(result.output))


def test_a_bad_option_is_explained_in_russian() -> None:
    result = run("sync", "--bogus")
    assert result.exit_code == 2
    assert result.output == (
        "Использование: journaldesk sync [ПАРАМЕТРЫ]\n"
        "Справка: journaldesk sync --help\n"
        "\n"
        "Ошибка: нет параметра «--bogus».\n"
    )
    near = run("sync", "--conf", "x.yaml")
    assert near.output.splitlines()[-1] == "Ошибка: нет параметра «--conf». Может быть, «--config»?"
    value = run("slots", "--week")
    assert value.exit_code == 2
    assert value.output.splitlines()[-1] == "Ошибка: после «--week» нужно значение."
    command = run("synk")
    assert command.exit_code == 2
    assert command.output.splitlines()[-1].startswith("Ошибка: нет команды «synk».")
    extra = run("sync", "лишнее")
    assert extra.output.splitlines()[-1] == "Ошибка: лишний аргумент: лишнее"


def test_a_bad_setting_says_error_once(tmp_path: Path) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text("backend: excel\n", encoding="utf-8")
    result = run("sync", "--config", str(config))
    assert result.exit_code == 2
    assert result.output.count("Ошибка") == 1, result.output


def _consent_row(class_name: str, pupil: str) -> dict[str, object]:
    return {"class_name": class_name, "pupil": pupil, "application": "Выдано"}


def test_a_class_typed_with_latin_lookalikes_is_the_sheets_class(tmp_path: Path) -> None:
    make_workbook(
        tmp_path, {"consent": [_consent_row("5А", "Петров Пётр"), _consent_row("7Б", "Б")]}
    )
    config = tmp_path / "settings.yaml"
    config.write_text(
        yaml.safe_dump({"workbook": {"path": "journal.xlsx"}, "log_file": "logs/j.log"}),
        encoding="utf-8",
    )
    latin = run("consent", "--config", str(config), "--class", "5A")  # Latin A
    assert latin.exit_code == 0, latin.output
    assert latin.output.startswith("Класс 5А: кому напомнить")  # Cyrillic А, as in the sheet
    assert "Петров Пётр" in latin.output
    lower = run("consent", "--config", str(config), "--class", "7b")  # not a look-alike of Б
    assert lower.exit_code == 2
    assert (
        lower.output.strip() == "Ошибка: Класса «7b» нет на листе «Согласия». Есть классы: 5А, 7Б"
    )


def test_no_class_on_an_empty_sheet_says_so(tmp_path: Path) -> None:
    make_workbook(tmp_path)
    config = tmp_path / "settings.yaml"
    config.write_text(
        yaml.safe_dump({"workbook": {"path": "journal.xlsx"}, "log_file": "logs/j.log"}),
        encoding="utf-8",
    )
    result = run("consent", "--config", str(config), "--class", "5А")
    assert result.exit_code == 2
    assert result.output.strip() == "Ошибка: Класса «5А» нет: лист «Согласия» пока пуст."
