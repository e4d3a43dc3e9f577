"""Pytest fixtures for the local Sheets API v4 server (loaded as a plugin by tests/conftest.py)."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

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


# --- the moments of a sync, as predicates for SheetsApiServer.before_next ----------------------


def is_read(method: str, path: str, query: dict, body: Any) -> bool:
    """The sync's first call: the light metadata read (no ranges)."""
    return method == "GET" and "/values" not in path and "ranges" not in query


def is_reread(method: str, path: str, query: dict, body: Any) -> bool:
    """The re-read of rows with their tags just before a write (a GET with ranges asking for
    row metadata, or the batch update that tags rows and answers with the sheet)."""
    fields = (query.get("fields") or [""])[-1]
    if method == "GET" and "rowMetadata" in fields and "ranges" in query:
        return True
    return method == "POST" and path.endswith(":batchUpdate") and "rowMetadata" in fields


def is_write(method: str, path: str, query: dict, body: Any) -> bool:
    """The sync's write: values by data filter (or by range, for a store writing positions)."""
    return method == "POST" and (
        path.endswith("values:batchUpdateByDataFilter") or path.endswith("values:batchUpdate")
    )


# --- serving a store in-process (no socket): for trials that make thousands of calls ----------


class InProcessAdapter(requests.adapters.BaseAdapter):
    """A requests transport that hands each request straight to SheetsApiServer.handle():
    the same routing, wire format, faults and hooks, without a socket or a thread."""

    def __init__(self, server: SheetsApiServer) -> None:
        super().__init__()
        self.server = server

    def send(self, request: Any, **kwargs: Any) -> requests.Response:
        parts = urllib.parse.urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode()
        headers = {k.lower(): v for k, v in request.headers.items()}
        status, out_headers, data = self.server.handle(request.method, path, headers, body)
        response = requests.Response()
        response.status_code = status
        response.headers.update(out_headers)
        response._content = data
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response

    def close(self) -> None:
        pass


def in_process(store: Any, server: SheetsApiServer) -> Any:
    """Route a GoogleStore's API calls to `server` in-process (the token is fetched over HTTP
    once, as before)."""
    store._http.session.mount(server.url, InProcessAdapter(server))
    store._http.session.trust_env = False  # no proxy look-ups in the environment per call
    return store
