"""Pytest fixtures for the local Sheets API v4 server (loaded as a plugin by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.sheets_api.keys import make_service_account_key
from tests.sheets_api.server import SheetsApiServer


@pytest.fixture
def sheets_server() -> Iterator[SheetsApiServer]:
    """A fresh server for one test (starting one takes a few milliseconds)."""
    server = SheetsApiServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sheets_server_session() -> Iterator[SheetsApiServer]:
    """One server for the whole session; use `shared_sheets_server` to get it reset."""
    server = SheetsApiServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def shared_sheets_server(sheets_server_session: SheetsApiServer) -> SheetsApiServer:
    """The session's server, reset: no spreadsheets, calls, faults or hooks left over."""
    sheets_server_session.reset()
    return sheets_server_session


@pytest.fixture
def service_account_info(sheets_server: SheetsApiServer) -> dict[str, Any]:
    """A service-account key trusted by `sheets_server`, its token_uri pointing at it."""
    info, public_pem = make_service_account_key(sheets_server.token_uri)
    sheets_server.register_key(info["client_email"], public_pem)
    return info


@pytest.fixture
def google_store(
    sheets_server: SheetsApiServer, service_account_info: dict[str, Any], tmp_path: Any
) -> Callable[..., Any]:
    """Factory: `google_store(spreadsheet_id, **kwargs)` -> a GoogleStore on `sheets_server`
    with a retry policy that never sleeps and a lock file in a temporary folder."""
    from journaldesk.store.google import GoogleStore
    from journaldesk.store.retry import RetryPolicy

    def make(spreadsheet: str, **kwargs: Any) -> GoogleStore:
        kwargs.setdefault("service_account_info", service_account_info)
        kwargs.setdefault("api_url", sheets_server.url)
        kwargs.setdefault("retry", RetryPolicy.no_sleep())
        kwargs.setdefault("lock_dir", tmp_path)
        # Generous: a loaded CI machine can take seconds over a 10k-row write; fault tests set
        # their own.
        kwargs.setdefault("timeout", 60.0)
        return GoogleStore(spreadsheet, **kwargs)

    return make
