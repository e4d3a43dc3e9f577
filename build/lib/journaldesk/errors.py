"""The project's exceptions. Messages are Russian: they reach school staff as they are."""

from __future__ import annotations


class JournaldeskError(Exception):
    """Base of every error the project raises on purpose."""

    exit_code = 1


class UserError(JournaldeskError):
    """Something a person can fix: a setting, a credentials file, the sheet's structure (exit 2)."""

    exit_code = 2


class SettingsError(UserError):
    """A bad or missing setting."""


class StructureError(UserError):
    """A missing tab or header: the sync stops before any write."""


class StoreUnavailable(UserError):
    """The workbook is missing, not a workbook, or locked by another program or job."""


class OutsideFailure(JournaldeskError):
    """A network or service failure that persisted through the retries (exit 1)."""
