"""The commands on a Google Sheet: the local Sheets API server, the real google-auth flow."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from journaldesk.cli.main import main
from tests.helpers import REQ, SEED_DAY


def _config(tmp_path: Path, server, sid: str) -> Path:
    path = tmp_path / "settings.yaml"
    data = {
        "backend": "google",
        "google": {
            "spreadsheet": f"https://docs.google.com/spreadsheets/d/{sid}/edit",
            "api_url": server.url,
        },
        "log_file": "logs/journaldesk.log",
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _run(info: dict, *args: str):
    env = {"JOURNALDESK_CREDENTIALS_JSON": json.dumps(info), "JOURNALDESK_CREDENTIALS": ""}
    return CliRunner().invoke(main, list(args), env=env)


def test_init_twice_on_google_changes_nothing_the_second_time(
    tmp_path: Path, sheets_server, service_account_info
) -> None:
    sid = sheets_server.create_spreadsheet()
    config = str(_config(tmp_path, sheets_server, sid))
    first = _run(service_account_info, "init", "--config", config)
    assert first.exit_code == 0, first.output
    assert "созданы листы" in first.output
    sheets_server.reset_calls()
    second = _run(service_account_info, "init", "--config", config)
    assert second.exit_code == 0 and "менять нечего" in second.output, second.output
    assert all(method == "GET" for method, _, _ in sheets_server.calls)
    doctor = _run(service_account_info, "doctor", "--config", config)
    assert "✔ Лист «Обращения»: все столбцы на месте" in doctor.output, doctor.output


def test_sync_on_google_through_the_cli(
    tmp_path: Path, sheets_server, service_account_info
) -> None:
    sid = sheets_server.create_spreadsheet()
    config = str(_config(tmp_path, sheets_server, sid))
    _run(service_account_info, "init", "--config", config)
    sheets_server.set_cell(sid, REQ.title, 2, REQ.fields.index("requester") + 1, "Иванова")
    sheets_server.set_cell(
        sid, REQ.title, 2, REQ.fields.index("topic") + 1, "Техническая неисправность"
    )
    result = _run(service_account_info, "sync", "--config", config)
    assert result.exit_code == 0, result.output
    assert sheets_server.values(sid, REQ.title)[1][0] == 1


def test_permission_denied_names_the_service_account_to_share_with(
    tmp_path: Path, sheets_server, service_account_info
) -> None:
    sid = sheets_server.create_spreadsheet()
    sheets_server.deny(sid)
    config = str(_config(tmp_path, sheets_server, sid))
    result = _run(service_account_info, "sync", "--config", config)
    assert result.exit_code == 2
    assert service_account_info["client_email"] in result.output
    assert service_account_info["private_key_id"] not in result.output
    doctor = _run(service_account_info, "doctor", "--config", config)
    assert doctor.exit_code == 2 and service_account_info["client_email"] in doctor.output


def test_init_puts_back_a_dropdown_list_that_differs_from_the_schema(
    tmp_path: Path, sheets_server, service_account_info
) -> None:
    from journaldesk.jobs.init import plan_init
    from journaldesk.store.google import GoogleStore

    sid = sheets_server.create_spreadsheet()
    config = str(_config(tmp_path, sheets_server, sid))
    _run(service_account_info, "init", "--config", config)
    store = GoogleStore(sid, service_account_info=service_account_info, api_url=sheets_server.url)
    described = store.describe()
    topic_col = REQ.fields.index("topic") + 1
    assert described[REQ.title]["dropdown_values"][topic_col] == list(REQ.col("topic").values)
    # An older sheet whose topic list lacks a topic the schema has now.
    described[REQ.title]["dropdown_values"][topic_col] = list(REQ.col("topic").values)[:-1]
    plan = plan_init(store.read(), described, today=SEED_DAY)
    assert (REQ.title, topic_col, list(REQ.col("topic").values)) in plan.dropdowns
