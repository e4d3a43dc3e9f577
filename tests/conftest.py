"""Shared fixtures. The local Sheets API server's fixtures live in tests/sheets_api/fixtures.py."""

from __future__ import annotations

import importlib.util

if importlib.util.find_spec("tests.sheets_api.fixtures") is not None:
    pytest_plugins = ["tests.sheets_api.fixtures"]
