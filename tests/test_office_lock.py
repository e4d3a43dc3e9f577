"""The workbook is never written while Excel or LibreOffice has it open (their lock files say so),
on any OS: `sync` exits 2 with one Russian line naming who, `doctor` says it, the runner retries."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from journaldesk.cli.main import main
from journaldesk.runner.scheduler import Runner
from journaldesk.runner.timetable import SYNC
from journaldesk.store.office_lock import (
    BookOpenElsewhere,
    find_office_lock,
    parse_excel_owner,
    parse_libreoffice_lock,
)
from journaldesk.store.workbook import WorkbookStore
from tests.helpers import make_workbook, request

DAY = 86400


def libreoffice_lock(book: Path, line: str) -> Path:
    path = book.with_name(f".~lock.{book.name}#")
    path.write_text(line, encoding="utf-8")
    return path


def excel_owner_bytes(name: str) -> bytes:
    """An owner file as Excel writes it: length + ANSI name padded to 54 bytes, then the name
    again as a 2-byte length and UTF-16 (built here from that layout, not from the parser)."""
    ansi = name.encode("cp1251")
    head = bytes([len(ansi)]) + ansi
    head += b"\x20" * (54 - len(head))
    wide = len(name).to_bytes(2, "little") + name.encode("utf-16-le")
    return (head + wide).ljust(162, b"\x00")


def excel_owner(book: Path, name: str) -> Path:
    path = book.with_name(f"~${book.name}")
    path.write_bytes(excel_owner_bytes(name))
    return path


def settings_file(tmp_path: Path) -> Path:
    path = tmp_path / "settings.yaml"
    data = {"workbook": {"path": "journal.xlsx"}, "log_file": "logs/journaldesk.log"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def fingerprint(book: Path) -> tuple[bytes, int]:
    return book.read_bytes(), book.stat().st_mtime_ns


# --- reading the lock files ---------------------------------------------------------------------


def test_the_libreoffice_lock_names_the_person_and_the_computer() -> None:
    line = "Ольга Сергеевна Ким,okim,kab-12,29.11.2026 14:03,file:///home/okim/.config/lo/4;"
    assert parse_libreoffice_lock(line.encode()) == ("Ольга Сергеевна Ким", "kab-12")
    # No name in LibreOffice's user data: the login names the person.
    assert parse_libreoffice_lock(b",okim,kab-12,29.11.2026 14:03,file:///x;") == ("okim", "kab-12")
    assert parse_libreoffice_lock(b"") == ("", "")


def test_the_excel_owner_file_names_the_person() -> None:
    assert parse_excel_owner(excel_owner_bytes("Завуч Петрова")) == "Завуч Петрова"
    # Only the ANSI part (older files or a truncated copy).
    assert parse_excel_owner(excel_owner_bytes("Director")[:54]) == "Director"
    assert parse_excel_owner(b"") == ""


# --- sync, doctor, runner -----------------------------------------------------------------------


def test_sync_does_not_write_while_libreoffice_has_the_book_open(tmp_path: Path) -> None:
    make_workbook(tmp_path, {"requests": [request()]})
    config = settings_file(tmp_path)
    book = tmp_path / "journal.xlsx"
    lock = libreoffice_lock(book, "Ольга Ким,okim,kab-12,29.11.2026 14:03,file:///h;")
    before = fingerprint(book)
    result = run("sync", "--config", str(config))
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert "открыта в LibreOffice" in lines[0]
    assert "«Ольга Ким»" in lines[0] and "«kab-12»" in lines[0]
    assert "Traceback" not in result.output
    assert fingerprint(book) == before
    # Closed: the next run writes what was held back.
    lock.unlink()
    after = run("sync", "--config", str(config))
    assert after.exit_code == 0 and "новых №: 1" in after.output, after.output
    assert fingerprint(book) != before


def test_sync_does_not_write_while_excel_has_the_book_open(tmp_path: Path) -> None:
    make_workbook(tmp_path, {"requests": [request()]})
    book = tmp_path / "journal.xlsx"
    excel_owner(book, "Завуч Петрова")
    before = fingerprint(book)
    result = run("sync", "--config", str(settings_file(tmp_path)))
    assert result.exit_code == 2
    assert "открыта в Excel: пользователь «Завуч Петрова»" in result.output
    assert fingerprint(book) == before


def test_a_run_with_nothing_to_write_is_not_stopped_by_an_open_book(tmp_path: Path) -> None:
    make_workbook(tmp_path, {"requests": [request()]})
    config = settings_file(tmp_path)
    assert run("sync", "--config", str(config)).exit_code == 0
    libreoffice_lock(tmp_path / "journal.xlsx", ",okim,kab-12,29.11.2026 14:03,file:///h;")
    again = run("sync", "--config", str(config))
    assert again.exit_code == 0 and again.output.startswith("Изменений нет."), again.output


def test_a_lock_older_than_a_day_still_stops_the_write_and_says_how_to_clear_it(
    tmp_path: Path,
) -> None:
    make_workbook(tmp_path, {"requests": [request()]})
    book = tmp_path / "journal.xlsx"
    lock = libreoffice_lock(book, "Ольга Ким,okim,kab-12,26.11.2026 14:03,file:///h;")
    old = time.time() - 2 * DAY
    os.utime(lock, (old, old))
    found = find_office_lock(book)
    assert found is not None and found.stale
    assert find_office_lock(book, now=old + DAY - 60).stale is False  # a day not yet passed
    with pytest.raises(BookOpenElsewhere) as caught:
        WorkbookStore(book).write(store_cells())
    text = str(caught.value)
    assert "больше суток назад" in text and f"удалите файл «{lock}»" in text
    assert "Ольга Ким" in text


def store_cells():
    from journaldesk.store.base import CellWrite
    from tests.helpers import REQ

    return [CellWrite(REQ.title, 2, REQ.fields.index("check") + 1, "x")]


def test_init_does_not_touch_an_open_book_either(tmp_path: Path) -> None:
    make_workbook(tmp_path, {})
    book = tmp_path / "journal.xlsx"
    excel_owner(book, "Director")
    from openpyxl import load_workbook

    wb = load_workbook(book)
    del wb["Календарь"]
    wb.save(book)
    before = fingerprint(book)
    result = run("init", "--config", str(settings_file(tmp_path)))
    assert result.exit_code == 2 and "«Director»" in result.output
    assert fingerprint(book) == before


def test_doctor_says_who_has_the_book_open(tmp_path: Path) -> None:
    make_workbook(tmp_path, {})
    config = settings_file(tmp_path)
    libreoffice_lock(tmp_path / "journal.xlsx", "Ольга Ким,okim,kab-12,29.11.2026 14:03,file:///h;")
    result = run("doctor", "--config", str(config))
    assert "! Книга" in result.output and "открыта в LibreOffice" in result.output, result.output


def test_the_runner_skips_the_write_logs_it_and_writes_at_the_next_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, settings = make_workbook(tmp_path, {"requests": [request()]})
    book = settings.workbook_path
    lock = excel_owner(book, "Завуч Петрова")
    before = fingerprint(book)
    runner = Runner(settings)
    tz = dt.timezone(dt.timedelta(hours=3))
    first = runner.run_due(dt.datetime(2026, 12, 1, 10, 0, tzinfo=tz))
    sync = next(r for r in first if r.job == SYNC)
    assert not sync.ok and sync.exit_code == 2
    assert "«Завуч Петрова»" in caplog.text
    assert fingerprint(book) == before  # not even the «Журнал» row
    lock.unlink()
    second = runner.run_due(dt.datetime(2026, 12, 1, 10, 15, tzinfo=tz))
    assert [r.ok for r in second if r.job == SYNC] == [True]
    assert fingerprint(book) != before
