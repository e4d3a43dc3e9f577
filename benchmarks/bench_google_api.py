"""Benchmark: GoogleStore's batch read + write against a naive gspread script, same changes.

Both run against the local Sheets API server (tests/sheets_api) over loopback, with the real
google-auth token flow. The store reads every tab in 2 calls and writes in 1; the naive script
opens the spreadsheet, calls get_all_records() per tab and update_cell() per changed cell.
Seconds here measure local overhead only; on the real API each call also costs a network round
trip (~100-300 ms) and counts against the per-minute quota, so the call counts matter most.

Run: .venv/bin/python benchmarks/bench_google_api.py [ROWS ...]   (default: 1000 10000)
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gspread
from google.oauth2.service_account import Credentials

from journaldesk.sheet.schema import load_schema
from journaldesk.store.base import CellWrite
from journaldesk.store.google import SCOPES, GoogleStore, RoutedSession
from journaldesk.store.retry import RetryPolicy
from tests.sheets_api.keys import make_service_account_key
from tests.sheets_api.server import SheetsApiServer

SCHEMA = load_schema()
REQUESTS = SCHEMA["requests"]
CHANGED_SHARE = 0.05  # a sync typically rewrites the derived cells of a few rows


def build_rows(n: int) -> list[list[Any]]:
    """A header row and n filled request rows."""
    role, status = SCHEMA.enums["role"][0], SCHEMA.enums["status"][1]
    topic = SCHEMA.enums["topic"][4]
    rows: list[list[Any]] = [list(REQUESTS.headers)]
    start = dt.datetime(2025, 9, 1, 9, 0)
    for i in range(1, n + 1):
        received = start + dt.timedelta(minutes=53 * i)
        due = received + dt.timedelta(days=3)
        rows.append([i, received, f"Заявитель {i}", role, "7Б", "Лично", topic, f"Описание {i}"])
        rows[-1] += ["Петров", status, None, due, SCHEMA.enums["due_state"][0], "", ""]
    return rows


def changes(n: int) -> list[tuple[int, int, str]]:
    """(row, col, value): the derived state and check cells of every 20th row."""
    state_col = REQUESTS.fields.index("due_state") + 1
    check_col = REQUESTS.fields.index("check") + 1
    out = []
    for row in range(2, n + 2, int(1 / CHANGED_SHARE)):
        out.append((row, state_col, SCHEMA.enums["due_state"][1]))
        out.append((row, check_col, f"Строка {row}: проверьте класс"))
    return out


def run_store(server: SheetsApiServer, sid: str, info: dict, todo: list) -> tuple[int, float]:
    store = GoogleStore(
        sid, service_account_info=info, api_url=server.url, retry=RetryPolicy.no_sleep()
    )
    store.read()  # warm the token, as the naive run below does
    server.reset_calls()
    started = time.perf_counter()
    store.read()
    store.write([CellWrite(REQUESTS.title, r, c, v) for r, c, v in todo])
    return len(server.calls), time.perf_counter() - started


def run_naive(server: SheetsApiServer, sid: str, info: dict, todo: list) -> tuple[int, float]:
    credentials = Credentials.from_service_account_info(info, scopes=SCOPES)
    session = RoutedSession(credentials, server.url, lambda: None)
    client = gspread.Client(auth=credentials, session=session)
    client.open_by_key(sid)  # warm the token
    server.reset_calls()
    started = time.perf_counter()
    spreadsheet = client.open_by_key(sid)
    for worksheet in spreadsheet.worksheets():
        worksheet.get_all_records()
    target = spreadsheet.worksheet(REQUESTS.title)
    for row, col, value in todo:
        target.update_cell(row, col, value)
    return len(server.calls), time.perf_counter() - started


def main(sizes: list[int]) -> None:
    print(
        f"{'rows':>6} {'changed':>8} | {'store calls':>11} {'s':>7} | "
        f"{'naive calls':>11} {'s':>7} | {'calls ×':>8} {'time ×':>7}"
    )
    for n in sizes:
        with SheetsApiServer() as server:
            info, public_pem = make_service_account_key(server.token_uri)
            server.register_key(info["client_email"], public_pem)
            tabs = {t.title: [list(t.headers)] for t in SCHEMA.tabs.values()}
            tabs[REQUESTS.title] = build_rows(n)
            todo = changes(n)
            sid_store = server.create_spreadsheet("Бенчмарк", tabs)
            sid_naive = server.create_spreadsheet("Бенчмарк", tabs)
            store_calls, store_s = run_store(server, sid_store, info, todo)
            naive_calls, naive_s = run_naive(server, sid_naive, info, todo)
            assert server.values(sid_store, REQUESTS.title) == server.values(
                sid_naive, REQUESTS.title
            ), "both runs must leave the same sheet"
            print(
                f"{n:>6} {len(todo):>8} | {store_calls:>11} {store_s:>7.2f} | "
                f"{naive_calls:>11} {naive_s:>7.2f} | {naive_calls / store_calls:>8.0f} "
                f"{naive_s / store_s:>7.1f}"
            )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [1000, 10_000])
