"""Shared fixtures. The local Sheets API server's fixtures live in tests/sheets_api/fixtures.py.

`sheet` builds the same small sheet on either store (parametrised: workbook and google), so the
sync's behaviour is tested once and proven on both; the two stores cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from journaldesk.jobs.init import plan_init
from journaldesk.settings import Settings
from journaldesk.store.base import Store
from tests.helpers import SEED_DAY, fill_under_seeds, make_workbook, settings_for

pytest_plugins = ["tests.sheets_api.fixtures"]


@dataclass
class Sheet:
    """A sheet under test: its store, the settings, and a way to open a fresh store on it."""

    kind: str
    store: Store
    settings: Settings
    reopen: Callable[[], Store]
    server: Any = None
    spreadsheet_id: str | None = None


def _google_sheet(server: Any, factory: Callable[..., Any], tmp_path: Path, tabs: dict) -> Sheet:
    sid = server.create_spreadsheet()
    store = factory(sid)
    plan = plan_init(store.read(), store.describe(), today=SEED_DAY)
    store.apply_init(plan)
    fill_under_seeds(store, plan, tabs)
    settings = settings_for(tmp_path)
    return Sheet("google", factory(sid), settings, lambda: factory(sid), server, sid)


@pytest.fixture(params=["workbook", "google"])
def make_sheet(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Sheet]:
    """Factory: `make_sheet({"requests": [...]})` -> a Sheet on the parametrised store."""
    kind = request.param

    def make(tabs: dict[str, list[dict[str, Any]]] | None = None) -> Sheet:
        if kind == "workbook":
            store, settings = make_workbook(tmp_path, tabs)
            from journaldesk.store.workbook import WorkbookStore

            return Sheet(kind, store, settings, lambda: WorkbookStore(settings.workbook_path))
        server = request.getfixturevalue("sheets_server")
        factory = request.getfixturevalue("google_store")
        return _google_sheet(server, factory, tmp_path, tabs or {})

    return make


@pytest.fixture
def make_google_sheet(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[..., Sheet]:
    """Factory: the same as `make_sheet`, Google only (for what only the Sheets API has)."""

    def make(tabs: dict[str, list[dict[str, Any]]] | None = None) -> Sheet:
        server = request.getfixturevalue("sheets_server")
        factory = request.getfixturevalue("google_store")
        return _google_sheet(server, factory, tmp_path, tabs or {})

    return make
