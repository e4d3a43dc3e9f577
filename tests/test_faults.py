"""Outside failures: quota errors, server errors, lost connections, replies that are not JSON,
slow replies, a workbook process killed mid-save, a full disk.

For each: the sheet is unchanged or fully written (never half), and the CLI exits 1 (an outside
failure that outlasted the retries) or 2, with one Russian line.
"""

from __future__ import annotations

import contextlib
import errno
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from journaldesk.cli.main import main
from journaldesk.errors import OutsideFailure
from journaldesk.jobs.sync import sync
from journaldesk.store import workbook as workbook_store
from journaldesk.store.retry import RetryPolicy
from journaldesk.store.workbook import WorkbookStore
from tests.corpus.grids import google_grid, workbook_grid
from tests.helpers import REQ, at, make_workbook, request
from tests.sheets_api.fixtures import is_reread

NOW = at("01.12.2026 15:10")
ROWS = [request(description=f"обращение {i}") for i in range(5)]


def _is_reread(method: str, path: str, query: dict, body: Any) -> bool:
    return is_reread(method, path, query, body)


def _expected_after_a_clean_sync(make_google_sheet) -> dict:
    """The grid a fault-free sync leaves on a twin sheet (the journal row's timing aside)."""
    twin = make_google_sheet({"requests": ROWS})
    sync(twin.reopen(), twin.settings, now=NOW)
    return _comparable(google_grid(twin.server, twin.spreadsheet_id))


def _comparable(grid: dict) -> dict:
    # The Журнал row holds the run's duration and call count, which differ between runs.
    return {t: cells for t, cells in grid.items() if t != "Журнал"}


@pytest.fixture
def google_sheet(make_google_sheet):
    """A Google sheet with five new requests."""
    return make_google_sheet({"requests": ROWS})


# --- Google: faults the retries absorb ---------------------------------------------------------


@pytest.mark.parametrize(
    "inject",
    [
        pytest.param(lambda s: s.fail_next(3, status=429), id="three_429s"),
        pytest.param(lambda s: s.fail_next(2, status=503), id="two_503s"),
        pytest.param(lambda s: s.not_json_next(2), id="two_html_pages"),
    ],
)
def test_transient_faults_on_every_call_then_success(
    google_sheet, make_google_sheet, inject
) -> None:
    server, sid = google_sheet.server, google_sheet.spreadsheet_id
    # One fault before the first read and one before the write (armed at the re-read).
    inject(server)
    server.before_next(_is_reread, lambda srv: inject(srv))
    report = sync(google_sheet.reopen(), google_sheet.settings, now=NOW)
    assert report.wrote and report.new_numbers == len(ROWS)
    assert _comparable(google_grid(server, sid)) == _expected_after_a_clean_sync(make_google_sheet)


def test_one_slow_reply_past_the_timeout_is_retried(google_sheet, make_google_sheet) -> None:
    server, sid = google_sheet.server, google_sheet.spreadsheet_id
    store = google_sheet.reopen()
    store._client.set_timeout(0.2)
    server.slow_next(0.6)  # the metadata read: the client gives up, tries again
    # Later calls (the batch that tags rows) may take the local server longer than 0.2 s.
    server.before_next(is_reread, lambda srv: store._client.set_timeout(10.0))
    report = sync(store, google_sheet.settings, now=NOW)
    assert report.wrote
    assert _comparable(google_grid(server, sid)) == _expected_after_a_clean_sync(make_google_sheet)


# --- Google: faults that outlast the retries leave the sheet as it was ------------------------


@pytest.mark.parametrize(
    ("where", "inject", "words"),
    [
        ("write", lambda s: s.fail_next(50, status=500), "код 500"),
        ("write", lambda s: s.fail_next(50, status=429), "лимит запросов"),
        ("write", lambda s: s.not_json_next(50), "не JSON"),
        ("read", lambda s: s.fail_next(50, status=500), "код 500"),
        ("read", lambda s: s.not_json_next(50), "не JSON"),
        ("read", lambda s: s.slow_next(0.5, n=5), "не ответил вовремя"),
    ],
    ids=["500_write", "429_write", "html_write", "500_read", "html_read", "slow_read"],
)
def test_persistent_fault_leaves_the_sheet_unchanged(google_sheet, where, inject, words) -> None:
    server, sid = google_sheet.server, google_sheet.spreadsheet_id
    store = google_sheet.reopen()
    store._client.set_timeout(0.2)
    before = google_grid(server, sid)
    if where == "write":
        # Faults are taken before hooks run: armed at the re-read, they hit every write attempt.
        server.before_next(_is_reread, inject)
    else:
        inject(server)
    with pytest.raises(OutsideFailure) as err:
        sync(store, google_sheet.settings, now=NOW)
    assert words in str(err.value)
    assert google_grid(server, sid) == before
    server._faults.clear()


def test_connection_lost_before_the_write_leaves_the_sheet_unchanged(google_sheet) -> None:
    server, sid = google_sheet.server, google_sheet.spreadsheet_id
    before = google_grid(server, sid)
    # The re-read is the last request served; then the server is gone (connection refused).
    server.before_next(_is_reread, lambda srv: srv.stop())
    with pytest.raises(OutsideFailure) as err:
        sync(google_sheet.reopen(), google_sheet.settings, now=NOW)
    assert "соединения" in str(err.value) or "не ответил" in str(err.value)
    assert google_grid(server, sid) == before


# --- Google through the CLI: exit codes and one Russian line -----------------------------------


def _google_config(tmp_path: Path, server: Any, sid: str, key: dict, api_url: str = "") -> Path:
    import json

    key_file = tmp_path / "key.json"
    key_file.write_text(json.dumps(key), encoding="utf-8")
    config = tmp_path / "settings.yaml"
    config.write_text(
        textwrap.dedent(
            f"""\
            backend: google
            google:
              spreadsheet: "{sid}"
              credentials: key.json
              api_url: "{api_url or server.url}"
              timeout: 2
            log_file: logs/journaldesk.log
            """
        ),
        encoding="utf-8",
    )
    return config


@pytest.fixture
def no_wait(monkeypatch):
    """The CLI's stores retry without sleeping."""
    monkeypatch.setattr("journaldesk.store.google.RetryPolicy", RetryPolicy.no_sleep)


@pytest.mark.parametrize(
    ("fault", "code"),
    [("none", 0), ("429_then_ok", 0), ("500_write", 1), ("refused", 1), ("denied", 2)],
)
def test_cli_exit_codes_on_google_faults(
    google_sheet, service_account_info, tmp_path, no_wait, fault, code
) -> None:
    server, sid = google_sheet.server, google_sheet.spreadsheet_id
    api_url = ""
    if fault == "429_then_ok":
        server.fail_next(4, status=429)
    elif fault == "500_write":
        server.before_next(_is_reread, lambda srv: srv.fail_next(50, status=500))
    elif fault == "refused":
        api_url = "http://127.0.0.1:9"  # the discard port: nothing listens there
    elif fault == "denied":
        server.deny(sid)
    config = _google_config(tmp_path, server, sid, service_account_info, api_url)
    before = google_grid(server, sid)
    result = CliRunner().invoke(main, ["sync", "--config", str(config)])
    assert result.exit_code == code, result.output
    if code:
        line = result.stderr.strip().splitlines()[-1]
        assert line.startswith("Ошибка: ") and "Traceback" not in result.output
        assert any("а" <= ch <= "я" for ch in line)
        assert google_grid(server, sid) == before
    else:
        assert "Записано ячеек" in result.stdout
    server._faults.clear()


# --- the workbook: a process killed mid-save, a full disk ---------------------------------------

_WRITER = textwrap.dedent(
    """\
    import sys
    from pathlib import Path
    from journaldesk.store.base import CellWrite
    from journaldesk.store.workbook import WorkbookStore

    store = WorkbookStore(Path(sys.argv[1]))
    cells = [CellWrite(sys.argv[2], r, 8, f"новое {r}") for r in range(2, int(sys.argv[3]))]
    print("ready", flush=True)
    store.write(cells)
    """
)


def _big_workbook(path: Path, rows: int) -> None:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = REQ.title
    ws.append(REQ.headers)
    for i in range(rows):
        ws.append([i + 1, None, f"Заявитель {i}", "Учитель", "5А", None, "Текущие отметки",
                   f"старое {i}", "Администратор ЭЖ", "Новое"])  # fmt: skip
    book.save(path)


def test_workbook_killed_mid_save_is_old_or_new_never_broken(tmp_path: Path) -> None:
    rows = 4000
    original = tmp_path / "original.xlsx"
    _big_workbook(original, rows)
    target = tmp_path / "journal.xlsx"
    script = tmp_path / "writer.py"
    script.write_text(_WRITER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    landed = outcomes = 0
    seen = {"old": 0, "new": 0}
    for _attempt in range(12):
        target.write_bytes(original.read_bytes())
        for leftover in tmp_path.glob(".journal.xlsx.*.tmp"):
            leftover.unlink()
        proc = subprocess.Popen(
            [sys.executable, str(script), str(target), REQ.title, str(rows + 2)],
            env=env,
            stdout=subprocess.PIPE,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        # Wait for the temp file of the atomic save to appear, then kill the writer at once.
        killed_in_save = False
        while proc.poll() is None:
            if any(tmp_path.glob(".journal.xlsx.*.tmp")):
                os.kill(proc.pid, signal.SIGKILL)
                killed_in_save = True
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=0.002)
        proc.wait()
        proc.stdout.close()
        outcomes += 1
        cells = workbook_grid(target)[REQ.title]  # opens: the file is a whole workbook
        description = [cells.get((r, 8), (None,))[0] for r in range(2, rows + 2)]
        if description == [f"старое {i}" for i in range(rows)]:
            seen["old"] += 1
            assert target.read_bytes() == original.read_bytes()
        else:
            assert description == [f"новое {r}" for r in range(2, rows + 2)]
            seen["new"] += 1
        WorkbookStore(target).read()  # and calamine reads it too
        if killed_in_save:
            landed += 1
            if landed >= 1:
                break
    assert landed >= 1, "no kill landed during a save"
    assert seen["old"] + seen["new"] == outcomes


def test_disk_full_on_save_leaves_the_workbook_unchanged(tmp_path: Path, monkeypatch) -> None:
    store, settings = make_workbook(tmp_path, {"requests": ROWS})
    before = settings.workbook_path.read_bytes()

    def full_disk(source, target, *args, **kwargs) -> None:
        target.write(b"PK\x03\x04 half a zip")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(workbook_store.xlsx_patch, "write_package", full_disk)
    with pytest.raises(OutsideFailure, match="не хватает места"):
        sync(store, settings, now=NOW)
    assert settings.workbook_path.read_bytes() == before
    assert not list(tmp_path.glob(".journal.xlsx.*.tmp"))  # the half-written temp file is gone

    config = tmp_path / "settings.yaml"
    config.write_text("workbook:\n  path: journal.xlsx\nlog_file: logs/j.log\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["sync", "--config", str(config)])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith("Ошибка: Не удалось сохранить книгу")
    assert settings.workbook_path.read_bytes() == before


# --- the workbook: another program saves the book while a sync is under way ---------------------


def _staff_reverse_rows(path: Path) -> None:
    """A person sorts «Обращения» (reversed) and saves, as a program without a lock file does."""
    book = openpyxl.load_workbook(path, rich_text=True)
    ws = book[REQ.title]
    width = len(REQ.fields)
    last = max(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=8).value)
    rows = [
        [ws.cell(row=r, column=c).value for c in range(1, width + 1)] for r in range(2, last + 1)
    ]
    for r, values in enumerate(reversed(rows), start=2):
        for c, value in enumerate(values, start=1):
            ws.cell(row=r, column=c).value = value
    book.save(path)


def _statuses(path: Path) -> dict[str, Any]:
    """Description -> status, as stored."""
    cells = workbook_grid(path)[REQ.title]
    status_col, text_col = REQ.fields.index("status") + 1, REQ.fields.index("description") + 1
    rows = {r for r, _ in cells if r > 1}
    return {
        cells[(r, text_col)][0]: cells.get((r, status_col), (None,))[0]
        for r in rows
        if (r, text_col) in cells
    }


def _resolved_and_one_new(tmp_path: Path) -> tuple[WorkbookStore, Any, Path]:
    """Three resolved requests (numbered by a sync) and a new one typed at the bottom: its №,
    date and status «Новое» are due, by position, in the last row."""
    rows = [request(description=f"решённое {i}", status="Решено") for i in range(3)]
    store, settings = make_workbook(tmp_path, {"requests": rows})
    sync(store, settings, now=NOW)
    path = settings.workbook_path
    book = openpyxl.load_workbook(path, rich_text=True)
    ws = book[REQ.title]
    fields = request(description="новое")
    row = max(r for r in range(1, ws.max_row + 1) if ws.cell(row=r, column=8).value) + 1
    for name, value in fields.items():
        ws.cell(row=row, column=REQ.fields.index(name) + 1).value = value
    book.save(path)
    return store, settings, path


def test_workbook_saved_between_the_reread_and_the_write_is_not_written(tmp_path: Path) -> None:
    store, settings, path = _resolved_and_one_new(tmp_path)
    write = store.write

    def staff_save_then_write(cells: Any) -> Any:
        store.__dict__.pop("write")
        _staff_reverse_rows(path)  # the new request is now on top, a resolved one at the bottom
        return write(cells)

    store.write = staff_save_then_write  # type: ignore[method-assign]
    report = sync(store, settings, now=NOW)
    assert not report.wrote
    staff_saved = _statuses(path)
    # Nothing written over what the person saved: «Новое» did not land on a resolved request.
    assert staff_saved == {"решённое 0": "Решено", "решённое 1": "Решено",
                           "решённое 2": "Решено", "новое": None}  # fmt: skip
    again = sync(WorkbookStore(path), settings, now=NOW)
    assert again.wrote and again.new_numbers == 1
    assert _statuses(path) == {**staff_saved, "новое": "Новое"}


def test_workbook_saved_while_the_job_writes_its_copy_is_not_overwritten(
    tmp_path: Path, monkeypatch
) -> None:
    store, settings, path = _resolved_and_one_new(tmp_path)
    original = workbook_store.xlsx_patch.write_package

    def write_while_staff_save(source: Any, target: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(source, target, *args, **kwargs)
        _staff_reverse_rows(path)  # saved after the job read the book, before it replaces it
        return result

    monkeypatch.setattr(workbook_store.xlsx_patch, "write_package", write_while_staff_save)
    report = sync(store, settings, now=NOW)
    monkeypatch.undo()
    assert not report.wrote
    staff_saved = path.read_bytes()
    assert _statuses(path)["новое"] is None and not list(tmp_path.glob(".journal.xlsx.*.tmp"))
    assert path.read_bytes() == staff_saved
