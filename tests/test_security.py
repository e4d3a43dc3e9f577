"""Secrets and personal data: the service-account key never leaks, pasted passwords are masked
wherever the jobs show text, a person's text is never written back as a formula, and reports and
e-mails name no pupil unless the settings say so."""

from __future__ import annotations

import json
import logging
import textwrap
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from journaldesk.cli.main import main
from journaldesk.jobs.report import run_summary
from journaldesk.jobs.sync import parse_snapshot, plan_sheet, sync
from journaldesk.runner.digest import digest_items, digest_text
from journaldesk.store.retry import RetryPolicy
from tests.corpus.grids import column_values, grid_of
from tests.helpers import REQ, SCHEMA, at, local, make_workbook, request
from tests.sheets_api.fixtures import is_reread

NOW = at("01.12.2026 15:10")
PASSWORD = "Qwerty123!"


# --- the service-account key --------------------------------------------------------------------


def _secrets(info: dict[str, Any]) -> list[str]:
    """What must never be shown: the key id, the key, and every line of the key's body."""
    body = [
        line
        for line in info["private_key"].splitlines()
        if line.strip() and not line.startswith("-----")
    ]
    return [info["private_key_id"], info["private_key"], *body]


def _config(tmp_path: Path, server: Any, sid: str) -> Path:
    config = tmp_path / "settings.yaml"
    config.write_text(
        textwrap.dedent(
            f"""\
            backend: google
            google:
              spreadsheet: "{sid}"
              api_url: "{server.url}"
              timeout: 2
            log_file: logs/journaldesk.log
            """
        ),
        encoding="utf-8",
    )
    return config


@pytest.mark.parametrize("failure", ["none", "500_on_write", "key_refused", "broken_json"])
def test_the_key_never_appears_in_logs_messages_output_or_the_journal(
    make_google_sheet, service_account_info, tmp_path, monkeypatch, caplog, failure
) -> None:
    sheet = make_google_sheet({"requests": [request(description=f"пароль {PASSWORD}")]})
    server, sid = sheet.server, sheet.spreadsheet_id
    monkeypatch.setattr("journaldesk.store.google.RetryPolicy", RetryPolicy.no_sleep)
    key_json = json.dumps(service_account_info)
    expected = 0
    if failure == "500_on_write":
        server.before_next(
            is_reread,
            lambda srv: srv.fail_next(50, status=500),
        )
        expected = 1
    elif failure == "key_refused":
        server.public_keys.clear()  # the token endpoint no longer knows the key
        server.tokens.clear()
        expected = 2
    elif failure == "broken_json":
        key_json = key_json[: len(key_json) // 2]
        expected = 2
    config = _config(tmp_path, server, sid)
    caplog.set_level(logging.DEBUG)
    result = CliRunner().invoke(
        main, ["sync", "--config", str(config)], env={"JOURNALDESK_CREDENTIALS_JSON": key_json}
    )
    server._faults.clear()
    assert result.exit_code == expected, result.output
    shown = [result.output]
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        shown.append(repr(result.exception))
    for record in caplog.records:
        shown.append(record.getMessage())
        if record.exc_info:
            shown.append(logging.Formatter().formatException(record.exc_info))
    log_file = tmp_path / "logs" / "journaldesk.log"
    shown.append(log_file.read_text(encoding="utf-8") if log_file.exists() else "")
    shown.append(json.dumps(server.values(sid, SCHEMA["log"].title), ensure_ascii=False))
    everything = "\n".join(shown)
    leaked = [s[:20] for s in _secrets(service_account_info) if s in everything]
    assert leaked == []
    if failure != "none":
        assert "Ошибка: " in result.stderr  # the user was told, in Russian, without the key


# --- pasted passwords -----------------------------------------------------------------------------


def test_passwords_in_bad_cells_are_masked_in_the_check_notes(make_sheet) -> None:
    sheet = make_sheet(
        {
            "requests": [
                request(received_at=f"пароль: {PASSWORD}"),
                request(status=f"логин ivanov пароль {PASSWORD}"),
                request(class_name=f"пароль {PASSWORD}"),
            ]
        }
    )
    sync(sheet.reopen(), sheet.settings, now=NOW)
    grid = grid_of(sheet)
    checks = column_values(grid, REQ.title, "check")
    assert len(checks) == 3 and all(checks.values())
    assert not [c for c in checks.values() if PASSWORD in c or "Qwerty" in c]
    # Staff cells keep what was typed: masking is for what the jobs show, not the sheet.
    assert f"пароль: {PASSWORD}" in column_values(grid, REQ.title, "received_at").values()
    journal = json.dumps([list(v) for v in grid[SCHEMA["log"].title].values()], default=str)
    assert "Qwerty" not in journal


def test_passwords_are_masked_in_the_runner_digest(tmp_path: Path) -> None:
    rows = [
        request(
            topic=f"пароль {PASSWORD}",  # a topic typed by hand, shown in the digest
            received_at=local("30.11.2026 14:00"),
        ),
        request(topic="Утерян логин или пароль", received_at=local("30.11.2026 14:00")),
    ]
    store, settings = make_workbook(tmp_path, {"requests": rows})
    parsed = parse_snapshot(store.read(), SCHEMA, settings.timezone)
    plan = plan_sheet(parsed, settings, now=at("01.12.2026 16:50"), sheet_tz=settings.timezone)
    items = digest_items(plan.requests)
    subject, text = digest_text(items, (local("01.12.2026 15:00"), local("01.12.2026 17:00")))
    assert "Утерян логин или пароль" in text  # a listed topic is shown as it is
    assert PASSWORD not in text and "Qwerty" not in subject + text


class _Outbox:
    """A Sender that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, str | None]] = []

    def send(self, subject: str, text: str, html: str | None = None, attachments=()) -> None:
        self.sent.append((subject, text, html))


@pytest.mark.parametrize("show_names", [False, True])
def test_reports_and_emails_name_no_pupil_unless_the_setting_says_so(
    tmp_path: Path, show_names: bool
) -> None:
    pupil, parent, teacher = "Смирнов Артём", "Смирнова Ольга Ивановна", "Кузнецова Анна"
    rows = [
        request(
            requester=teacher,
            topic="Текущие отметки",
            description=f"У {pupil} не видно отметок, пароль: {PASSWORD}",
            received_at=local("23.11.2026 15:00"),
        ),
    ]
    consent = [
        {"class_name": "5А", "pupil": pupil, "parent": parent, "relation": "Мать"},
    ]
    store, settings = make_workbook(tmp_path, {"requests": rows, "consent": consent})
    settings = settings.model_copy(update={"show_names": show_names})
    sync(store, settings, now=at("26.11.2026 15:10"))
    outbox = _Outbox()
    result = run_summary(store, settings, now=at("30.11.2026 08:00"), send=True, sender=outbox)
    [(subject, text, html)] = outbox.sent
    files = "".join(
        p.read_text(encoding="utf-8") for p in result.paths.values() if p.suffix in (".md", ".html")
    )
    everything = "\n".join([subject, text, html or "", files])
    assert PASSWORD not in everything
    assert parent not in everything
    if show_names:
        assert pupil in everything  # the setting is honoured (and this test can fail)
    else:
        assert pupil not in everything and pupil.split()[0] not in everything
        assert teacher not in everything


# --- formulas -------------------------------------------------------------------------------------

FORMULAS = [
    "=1+1",
    '=HYPERLINK("http://example.com","ссылка")',
    '=IMPORTXML("http://x.ru","//a")',
    "+SUM(A1:A2)",
    "=cmd|' /C calc'!A0",
    "@SUM(A1)",
]


def test_nothing_a_person_typed_is_written_back_as_a_formula(make_sheet, tmp_path) -> None:
    rows = [
        request(
            requester=formula,
            description=formula,
            assignee=formula,
            received_at=formula,  # a bad date: quoted in «Проверка», kept in its cell
            status=formula,
            class_name=formula,
        )
        for formula in FORMULAS
    ]
    schedule = [{"weekday": "Суббота", "start": "10:00", "end": "12:00", "room": "=1+1"}]
    sheet = make_sheet({"requests": rows, "schedule": schedule})
    sync(sheet.reopen(), sheet.settings, now=NOW)
    # A person edits the status afterwards (the history copies the old and new values).
    store = sheet.reopen()
    from journaldesk.store.base import CellWrite

    store.write([CellWrite(REQ.title, 2, REQ.fields.index("status") + 1, "=2+2")])
    sync(sheet.reopen(), sheet.settings, now=NOW)
    if sheet.kind == "google":
        formulas = [
            (s.title, r, c, cell.formula)
            for s in sheet.server.book(sheet.spreadsheet_id).sheets
            for r, row in enumerate(s.rows, start=1)
            for c, cell in enumerate(row, start=1)
            if cell is not None and cell.formula is not None
        ]
    else:
        book = openpyxl.load_workbook(sheet.settings.workbook_path)
        formulas = [
            (ws.title, cell.coordinate, cell.value)
            for ws in book.worksheets
            for row in ws.iter_rows()
            for cell in row
            if cell.data_type == "f"
        ]
    assert formulas == []
    grid = grid_of(sheet)
    assert set(column_values(grid, REQ.title, "description").values()) == set(FORMULAS)
