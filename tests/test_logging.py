"""The log helps: lines in the school's time zone, errors at ERROR, one line per run."""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path

import time_machine
import yaml
from click.testing import CliRunner

from journaldesk.cli.common import SchoolTimeFormatter
from journaldesk.cli.main import main
from tests.helpers import make_workbook, request

# 06:00 UTC; Simferopol is UTC+3 all year, Vladivostok UTC+10 (no summer time in Russia).
MOMENT_UTC = dt.datetime(2026, 11, 30, 6, 0, tzinfo=dt.UTC)


def _record(level: int = logging.INFO) -> logging.LogRecord:
    record = logging.LogRecord("journaldesk", level, __file__, 1, "строка", None, None)
    record.created = MOMENT_UTC.timestamp()
    return record


def test_log_lines_are_stamped_in_the_schools_zone_whatever_the_machines() -> None:
    simferopol = SchoolTimeFormatter("Europe/Simferopol").format(_record())
    assert simferopol == "2026-11-30 09:00:00+0300 INFO строка"
    vladivostok = SchoolTimeFormatter("Asia/Vladivostok").format(_record(logging.ERROR))
    assert vladivostok == "2026-11-30 16:00:00+1000 ERROR строка"


def _settings(tmp_path: Path, **extra: object) -> Path:
    path = tmp_path / "settings.yaml"
    data = {"workbook": {"path": "journal.xlsx"}, "log_file": "logs/journaldesk.log", **extra}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _log(tmp_path: Path) -> list[str]:
    return (tmp_path / "logs" / "journaldesk.log").read_text(encoding="utf-8").splitlines()


def test_a_sync_leaves_one_line_with_its_result_in_the_schools_time(tmp_path: Path) -> None:
    make_workbook(tmp_path, {"requests": [request()]})
    config = _settings(tmp_path, timezone="Asia/Vladivostok")
    with time_machine.travel(MOMENT_UTC, tick=False):
        result = CliRunner().invoke(main, ["sync", "--config", str(config)])
    assert result.exit_code == 0, result.output
    lines = _log(tmp_path)
    assert len(lines) == 1, lines
    assert lines[0].startswith("2026-11-30 16:00:00+1000 INFO journaldesk sync: Записано ячеек: ")
    assert re.search(r"новых №: 1\. \(\d+,\d с\)$", lines[0]), lines[0]


def test_a_failed_run_is_one_error_line_in_the_log_and_one_on_screen(tmp_path: Path) -> None:
    config = _settings(tmp_path)  # the workbook does not exist
    result = CliRunner().invoke(main, ["sync", "--config", str(config)])
    assert result.exit_code == 2
    assert result.output.count("Ошибка") == 1, result.output
    lines = _log(tmp_path)
    assert len(lines) == 1, lines
    level, rest = lines[0].split(" ")[2], lines[0].split(" ", 3)[3]
    assert level == "ERROR"
    assert rest.startswith("journaldesk sync: Ошибка: ")
    assert str(tmp_path / "journal.xlsx") in rest  # a clean path, no «config/../»


def test_a_retry_says_when_in_russian_numbers(caplog) -> None:
    import requests

    from journaldesk.store.retry import RetryPolicy, call_with_retry

    tries = iter([requests.ConnectionError("нет сети"), requests.ConnectionError("нет"), "ok"])

    def flaky() -> str:
        item = next(tries)
        if isinstance(item, Exception):
            raise item
        return item

    # Exact waits without jitter (0,75 s, then 1,5 s); with base 0 the retry is immediate.
    policy = RetryPolicy.no_sleep(base=0.75, jitter=False, max_attempts=3)
    with caplog.at_level(logging.WARNING, logger="journaldesk"):
        assert call_with_retry(flaky, what="чтение таблицы", policy=policy) == "ok"
    waits = [r.getMessage().rsplit("повтор ", 1)[1] for r in caplog.records]
    assert all(re.fullmatch(r"через \d+,\d с", w) for w in waits), waits
    caplog.clear()
    tries = iter([requests.ConnectionError("нет сети"), "ok"])
    with caplog.at_level(logging.WARNING, logger="journaldesk"):
        call_with_retry(
            flaky, what="чтение таблицы", policy=RetryPolicy.no_sleep(base=0, jitter=False)
        )
    assert caplog.records[-1].getMessage().endswith("повтор сразу")
