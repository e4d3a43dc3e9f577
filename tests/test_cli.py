"""The command line: exit codes and the one Russian line a user sees."""

from __future__ import annotations

from pathlib import Path

import filelock
import yaml
from click.testing import CliRunner

from journaldesk.cli.main import main
from tests.helpers import make_workbook, request


def write_settings(tmp_path: Path, **data: object) -> Path:
    path = tmp_path / "settings.yaml"
    base = {"workbook": {"path": "journal.xlsx"}, "log_file": "logs/journaldesk.log"}
    base.update(data)
    path.write_text(yaml.safe_dump(base, allow_unicode=True), encoding="utf-8")
    return path


def run(*args: str) -> object:
    return CliRunner().invoke(main, list(args))


def test_sync_prints_a_russian_summary_and_logs_to_the_file(tmp_path: Path) -> None:
    make_workbook(tmp_path, {"requests": [request()]})
    config = write_settings(tmp_path)
    result = run("sync", "--config", str(config))
    assert result.exit_code == 0, result.output
    assert "Записано ячеек" in result.output and "новых №: 1" in result.output
    assert "journaldesk sync: Записано" in (tmp_path / "logs" / "journaldesk.log").read_text(
        "utf-8"
    )
    again = run("sync", "--config", str(config))
    assert again.exit_code == 0 and again.output.startswith("Изменений нет.")


def test_missing_workbook_is_exit_2_with_the_path(tmp_path: Path) -> None:
    config = write_settings(tmp_path)
    result = run("sync", "--config", str(config))
    assert result.exit_code == 2
    assert "journal.xlsx" in result.output and "не найден" in result.output
    assert "Traceback" not in result.output


def test_not_a_workbook_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "journal.xlsx").write_text("это не книга", encoding="utf-8")
    result = run("sync", "--config", str(write_settings(tmp_path)))
    assert result.exit_code == 2 and "journal.xlsx" in result.output


def test_locked_workbook_is_exit_2(tmp_path: Path) -> None:
    _, settings = make_workbook(tmp_path, {"requests": [request()]})
    config = write_settings(tmp_path)
    with filelock.FileLock(str(settings.workbook_path) + ".lock"):
        result = run("sync", "--config", str(config))
    assert result.exit_code == 2 and "занята" in result.output


def test_bad_setting_is_one_line_naming_the_key(tmp_path: Path) -> None:
    config = write_settings(tmp_path, backend="excel")
    result = run("sync", "--config", str(config))
    assert result.exit_code == 2
    assert result.output.strip() == (
        "Ошибка в настройках: backend: недопустимое значение, допустимо: «workbook», «google»"
    )


def test_missing_settings_file_is_exit_2(tmp_path: Path) -> None:
    result = run("sync", "--config", str(tmp_path / "nope.yaml"))
    assert result.exit_code == 2 and "nope.yaml" in result.output


def test_init_creates_the_sheet_and_a_second_init_changes_nothing(tmp_path: Path) -> None:
    config = write_settings(tmp_path)
    first = run("init", "--config", str(config))
    assert first.exit_code == 0, first.output
    assert "созданы листы" in first.output
    book = tmp_path / "journal.xlsx"
    before = (book.read_bytes(), book.stat().st_mtime_ns)
    second = run("init", "--config", str(config))
    assert second.exit_code == 0 and "менять нечего" in second.output
    assert (book.read_bytes(), book.stat().st_mtime_ns) == before


def test_doctor_lists_what_is_right_and_what_to_fix(tmp_path: Path) -> None:
    config = write_settings(tmp_path)
    missing = run("doctor", "--config", str(config))
    assert missing.exit_code == 2 and "✘" in missing.output
    run("init", "--config", str(config))
    ok = run("doctor", "--config", str(config))
    assert ok.exit_code == 0, ok.output
    assert "✔ Лист «Обращения»: все столбцы на месте" in ok.output


def test_demo_builds_a_school_and_reports_in_russian(tmp_path: Path) -> None:
    # What an earlier demo left: its log and a report, which a new demo keeps, and says so.
    (tmp_path / "demo" / "logs").mkdir(parents=True)
    (tmp_path / "demo" / "logs" / "journaldesk.log").write_text("прежняя строка\n", "utf-8")
    (tmp_path / "demo" / "reports").mkdir()
    (tmp_path / "demo" / "reports" / "old.md").write_text("сводка", "utf-8")
    result = run("demo", "--dir", str(tmp_path / "demo"))
    assert result.exit_code == 0, result.output
    assert "Демонстрационная школа готова." in result.output
    assert (tmp_path / "demo" / "reports" / "old.md").exists()
    log = (tmp_path / "demo" / "logs" / "journaldesk.log").read_text("utf-8").splitlines()
    assert log[0] == "прежняя строка" and "journaldesk demo: Демонстрационная" in log[-1]
    assert f"Журнал работы: {tmp_path / 'demo' / 'logs' / 'journaldesk.log'}; " in result.output
    assert "(новая демонстрация их не удаляет)" in result.output
    assert (tmp_path / "demo" / "journaldesk.xlsx").exists()
    again = run("sync", "--config", str(tmp_path / "demo" / "settings.yaml"))
    assert again.exit_code == 0 and again.output.startswith("Изменений нет."), again.output


def test_consent_table_and_a_class_teachers_list(tmp_path: Path) -> None:
    run("demo", "--dir", str(tmp_path / "demo"))
    config = str(tmp_path / "demo" / "settings.yaml")
    table = run("consent", "--config", config)
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[2].split()[:3] == ["Класс", "Учеников", "Заявлений"]
    behind = [ln.split()[0] for ln in lines if ln.endswith("ОТСТАЁТ")]
    assert behind == ["7А", "10А"]  # the demo's two classes behind, after the deadline
    assert "Отстают после срока: 7А, 10А" in table.output
    out = tmp_path / "7a.txt"
    chase = run("consent", "--config", config, "--class", "7а", "--out", str(out))
    assert chase.exit_code == 0 and str(out) in chase.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("Класс 7А: кому напомнить")
    assert "Ждём дольше срока" in text
    unknown = run("consent", "--config", config, "--class", "12Ж")
    assert unknown.exit_code == 2 and "Класса «12Ж» нет" in unknown.output
