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


class RecipientRefused(SettingsError):
    """The mail server refused the recipients' addresses (a setting, or a person's address)."""

    def __init__(self, message: str, recipients: list[str]) -> None:
        super().__init__(message)
        self.recipients = recipients


class StructureError(UserError):
    """A missing tab or header: the sync stops before any write."""


class StoreUnavailable(UserError):
    """The workbook is missing, not a workbook, or locked by another program or job."""


class SheetNotShared(StoreUnavailable):
    """The Google Sheet is not shared with the service account (Google answered 403)."""

    def __init__(self, location: str, account: str) -> None:
        self.account = account
        super().__init__(f"Нет доступа к таблице Google {location}. {self.fix}.")

    @property
    def fix(self) -> str:
        """The one line to act on."""
        return f"Откройте таблицу → Настройки доступа → добавьте {self.account} как редактора"


class OutsideFailure(JournaldeskError):
    """A network or service failure that persisted through the retries (exit 1)."""
