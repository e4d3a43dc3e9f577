"""The only code that touches a spreadsheet: a local workbook or a Google Sheet, one interface."""

from __future__ import annotations

import os
from pathlib import Path

from journaldesk.settings import Settings
from journaldesk.store.base import CellWrite, InitPlan, Located, RowsGone, Snapshot, Store, TabData

__all__ = [
    "CellWrite",
    "InitPlan",
    "Located",
    "RowsGone",
    "Snapshot",
    "Store",
    "TabData",
    "open_store",
]


def open_store(settings: Settings, *, create: bool = False) -> Store:
    """The store the settings name. No network I/O happens here."""
    if settings.backend == "google":
        from journaldesk.store.google import GoogleStore, load_service_account

        credentials = settings.google.credentials
        info = load_service_account(
            str(settings.path(Path(credentials))) if credentials else None, os.environ
        )
        return GoogleStore(
            settings.google.spreadsheet,
            service_account_info=info,
            api_url=settings.google.api_url,
            timeout=settings.google.timeout,
        )
    from journaldesk.store.workbook import WorkbookStore

    return WorkbookStore(settings.workbook_path, create=create)
