"""`journaldesk doctor`: a Russian checklist of what is right and what to fix, top to bottom.

Each check says what it looked at; a failed one says what to do. Checks stop at the first one the
rest depend on (no settings, no sheet), so the list never shows a cascade of follow-on failures.
"""

from __future__ import annotations

import os
from pathlib import Path

from journaldesk.errors import JournaldeskError, StructureError
from journaldesk.jobs.init import plan_init
from journaldesk.settings import Settings, load_settings, settings_path
from journaldesk.sheet.frames import find_headers
from journaldesk.sheet.schema import load_schema

OK = "✔"
BAD = "✘"
WARN = "!"


# One line, on the Google backend only: where the personal data of «Согласия» and «Обращения» is.
GOOGLE_PERSONAL_DATA = (
    f"{WARN} Персональные данные учеников и родителей хранятся в таблице Google, на серверах за "
    "пределами России (152-ФЗ, ст. 18 ч. 5, строже с 01.07.2025): школа может перейти на книгу "
    "Excel на школьном компьютере (backend: workbook) — см. README, «Персональные данные»"
)


class Checklist:
    """Lines of the checklist and whether anything failed."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ok = True

    def good(self, text: str) -> None:
        self.lines.append(f"{OK} {text}")

    def bad(self, text: str, fix: str) -> None:
        self.ok = False
        self.lines.append(f"{BAD} {text}\n    → {fix}")

    def warn(self, text: str, fix: str) -> None:
        self.lines.append(f"{WARN} {text}\n    → {fix}")


def _credentials(settings: Settings, out: Checklist) -> bool:
    from journaldesk.store.google import load_service_account

    credentials = settings.google.credentials
    try:
        info = load_service_account(
            str(settings.path(Path(credentials))) if credentials else None, os.environ
        )
    except JournaldeskError as exc:
        out.bad(f"Ключ сервисного аккаунта: {exc}", "укажите google.credentials в настройках")
        return False
    out.good(f"Ключ сервисного аккаунта прочитан: {info.get('client_email', '')}")
    return True


def run_doctor(config_path: Path | None) -> tuple[bool, list[str]]:
    """Run every check; return (all good, the checklist lines)."""
    from journaldesk.store import open_store

    out = Checklist()
    path = settings_path(config_path)
    try:
        settings = load_settings(config_path)
    except JournaldeskError as exc:
        out.bad(f"Настройки: {exc}", "исправьте файл настроек и запустите doctor снова")
        return out.ok, out.lines
    out.good(f"Настройки прочитаны: {path}")
    if settings.backend == "google" and not _credentials(settings, out):
        return out.ok, out.lines

    try:
        store = open_store(settings)
        snap = store.read()
        described = store.describe()
    except JournaldeskError as exc:
        out.bad(f"Доступ к таблице: {exc}", "исправьте то, что сказано, и запустите doctor снова")
        return out.ok, out.lines
    out.good(f"Таблица открыта: {store.location()}")
    if settings.backend == "google":
        out.lines.append(GOOGLE_PERSONAL_DATA)
    if settings.backend == "workbook":
        from journaldesk.store.office_lock import find_office_lock

        office = find_office_lock(settings.workbook_path)
        if office is not None:
            out.warn(
                office.message(settings.workbook_path),
                "пока книга открыта в Excel или LibreOffice, синхронизация ничего не записывает",
            )

    sheet_tz = snap.time_zone
    if sheet_tz and sheet_tz != settings.timezone:
        out.warn(
            f"Часовой пояс таблицы {sheet_tz}, а в настройках {settings.timezone}",
            "даты в таблице читаются в поясе таблицы; поменяйте пояс в «Файл → Настройки» "
            "или timezone в настройках, чтобы они совпадали",
        )

    schema = load_schema()
    structure_ok = True
    for tab in schema.tabs.values():
        data = snap.tabs.get(tab.title)
        if data is None and tab.optional:
            out.warn(f"Листа «{tab.title}» нет", "journaldesk init создаст его, когда понадобится")
            continue
        if data is None:
            structure_ok = False
            out.bad(f"Лист «{tab.title}» не найден", "journaldesk init создаст его")
            continue
        try:
            find_headers(data.rows[0] if data.rows else [], tab)
        except StructureError as exc:
            structure_ok = False
            out.bad(str(exc), "верните заголовок или запустите journaldesk init для пустого листа")
            continue
        out.good(f"Лист «{tab.title}»: все столбцы на месте")
    if structure_ok:
        plan = plan_init(snap, described)
        if plan.is_empty():
            out.good("Списки, форматы дат и оформление на месте")
        else:
            out.warn(
                "Не хватает оформления (списки, форматы дат, закрепление, подсветка)",
                "запустите journaldesk init: он добавит недостающее, данные не тронет",
            )

    if settings.mail.host:
        if settings.mail.user and not os.environ.get(settings.mail.password_env):
            out.bad(
                f"Почта: пароль не задан в переменной окружения {settings.mail.password_env}",
                "задайте её перед запуском (в файле службы или планировщика)",
            )
        elif not settings.mail.recipients:
            out.bad("Почта: не указаны получатели (mail.recipients)", "добавьте адреса")
        else:
            out.good(f"Почта: {settings.mail.host}:{settings.mail.port}")
    else:
        out.warn("Почта не настроена: сводка и напоминания не уходят", "заполните раздел mail")
    return out.ok, out.lines
