"""`journaldesk doctor`: a Russian checklist of what is right and what to fix, top to bottom.

Each check says what it looked at; a failed one says what to do. Checks stop at the first one the
rest depend on (no settings, no sheet), so the list never shows a cascade of follow-on failures.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import replace
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from journaldesk.errors import JournaldeskError, SheetNotShared, StructureError
from journaldesk.jobs.init import (
    calendar_rows_missing,
    calendar_seed,
    load_calendar_plan,
    plan_init,
)
from journaldesk.resources import default_file
from journaldesk.rules.calendar import build_calendar, calendar_notes
from journaldesk.rules.school_year import school_year_start
from journaldesk.settings import Settings, load_settings, settings_path
from journaldesk.sheet.frames import find_headers, parse_tab, rename_hints
from journaldesk.sheet.grid import column_letter
from journaldesk.sheet.schema import Tab, load_schema
from journaldesk.sheet.textfmt import count
from journaldesk.store.base import Snapshot

# How far ahead doctor wants to see consultation hours.
AHEAD_DAYS = 30

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


# Domains reserved for examples (RFC 2606): an address there cannot be the school's.
_EXAMPLE_DOMAINS = ("example.org", "example.com", "example.net")


def same_clock(zone_a: str, zone_b: str, around: dt.datetime) -> bool:
    """Whether two time zones show the same wall time all year from `around` (Europe/Moscow and
    Europe/Simferopol do; a zone with summer time differs from one without half the year)."""
    try:
        a, b = ZoneInfo(zone_a), ZoneInfo(zone_b)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    start = around.astimezone(dt.UTC)
    moments = [start + dt.timedelta(days=15 * k) for k in range(25)]
    return all(m.astimezone(a).utcoffset() == m.astimezone(b).utcoffset() for m in moments)


def _utc_offset(zone: str, at: dt.datetime) -> str:
    offset = at.astimezone(ZoneInfo(zone)).utcoffset() or dt.timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    hours, rest = divmod(abs(minutes), 60)
    return f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def example_leftovers(settings: Settings) -> list[tuple[str, str, str]]:
    """Values copied from settings.example.yaml and never changed: (key, value, what to do)."""
    example = yaml.safe_load(default_file("settings.example.yaml").read_text(encoding="utf-8"))
    found = []
    school = example.get("school", "")
    example_name = school.get("name", "") if isinstance(school, dict) else school
    if settings.school.name.strip() == str(example_name).strip():
        found.append(("school.name", settings.school.name, "впишите название своей школы"))
    addresses = [
        ("administrator.email", settings.administrator.email),
        ("mail.sender", settings.mail.sender),
        *((f"mail.recipients[{i}]", a) for i, a in enumerate(settings.mail.recipients)),
    ]
    for key, address in addresses:
        domain = address.rpartition("@")[2].strip().lower()
        if domain in _EXAMPLE_DOMAINS:
            found.append((key, address, "впишите настоящий адрес"))
    return found


def _time_zones(sheet_tz: str | None, settings: Settings, now: dt.datetime, out: Checklist) -> None:
    if not sheet_tz or sheet_tz == settings.timezone:
        return
    if same_clock(sheet_tz, settings.timezone, now):
        out.good(
            f"Часовой пояс таблицы {sheet_tz} и настроек {settings.timezone}: время одно и то "
            f"же ({_utc_offset(settings.timezone, now)})"
        )
        return
    out.warn(
        f"Часовой пояс таблицы {sheet_tz}, а в настройках {settings.timezone}",
        "даты в таблице читаются в поясе таблицы; поменяйте пояс в «Файл → Настройки» "
        "или timezone в настройках, чтобы они совпадали",
    )


def _headers(tab: Tab, header_row: list, exc: StructureError, out: Checklist) -> None:
    hints = rename_hints(header_row, tab)
    if not hints:
        out.bad(str(exc), "верните заголовок или запустите journaldesk init для пустого листа")
        return
    fixes = [
        f"Может быть, «{h.typed}» — это «{h.header}»? Переименуйте столбец "
        f"{column_letter(h.column)} обратно в «{h.header}»"
        + (" (русскими буквами)" if h.lookalike else "")
        for h in hints
    ]
    out.bad(str(exc), "\n    → ".join(fixes))


def check_calendar(
    snap: Snapshot, settings: Settings, out: Checklist, *, now: dt.datetime, sheet_tz: str
) -> None:
    """«Календарь»: the school year is covered, the next 30 days have consultation hours, no
    row is inverted or overlaps another of its type."""
    schema = load_schema()
    tab = schema["calendar"]
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    year = school_year_start(today)
    label = f"{year}/{(year + 1) % 100:02d}"
    try:
        seeds = calendar_seed([year], load_calendar_plan(), region=settings.school.region)
    except JournaldeskError as exc:
        out.bad(f"Календарь школы: {exc}", "исправьте config/calendar.yaml")
        seeds = []
    missing = calendar_rows_missing(snap, seeds, schema)
    if missing:
        out.warn(
            f"Лист «{tab.title}»: на учебный год {label} не хватает "
            f"{count(len(missing), 'строки', 'строк', 'строк')} (праздники, каникулы, "
            f"региональные выходные)",
            "запустите journaldesk init: он добавит недостающие строки, ваши не тронет",
        )
    else:
        out.good(f"Лист «{tab.title}»: учебный год {label} заполнен")

    frames = {
        key: parse_tab(snap.tabs.get(schema[key].title), schema[key], sheet_tz=sheet_tz).frame
        for key in ("schedule", "calendar")
    }
    calendar = build_calendar(
        frames["schedule"],
        frames["calendar"],
        tz=settings.timezone,
        earliest=None,
        now=now,
        vacation_consultations=settings.school.vacation_consultations,
    )
    if calendar.sessions(today, today + dt.timedelta(days=AHEAD_DAYS)):
        out.good(f"Часы консультаций в ближайшие {AHEAD_DAYS} дней есть")
    else:
        text = f"В ближайшие {AHEAD_DAYS} дней нет ни одного часа консультаций"
        fix = "проверьте «График» и строки «Календаря» (каникулы, «Нет консультаций»)"
        if today.month in (6, 7, 8):
            out.warn(text + " (летние каникулы?)", fix)
        else:
            out.bad(text, fix + ": сроки обращений сейчас не считаются")

    notes = calendar_notes(frames["calendar"], now=now)
    broken = {
        row: texts
        for row, texts in notes.items()
        if any("Пересекается" in t or "поменяйте даты" in t for t in texts)
    }
    if broken:
        rows = ", ".join(str(r) for r in sorted(broken))
        out.bad(
            f"Лист «{tab.title}»: строки {rows} — даты перепутаны или пересекаются "
            f"с другой строкой того же типа",
            "исправьте их (подробности — в столбце «Проверка» после синхронизации)",
        )
    else:
        out.good(f"Лист «{tab.title}»: строки не пересекаются, даты не перепутаны")


def run_doctor(
    config_path: Path | None, *, now: dt.datetime | None = None
) -> tuple[bool, list[str]]:
    """Run every check; return (all good, the checklist lines)."""
    from journaldesk.store import open_store

    out = Checklist()
    path = settings_path(config_path)
    try:
        settings = load_settings(config_path)
    except JournaldeskError as exc:
        text = str(exc).removeprefix("Ошибка в настройках: ")  # «Настройки: Ошибка в …» no more
        out.bad(f"Настройки: {text}", "исправьте файл настроек и запустите doctor снова")
        return out.ok, out.lines
    out.good(f"Настройки прочитаны: {path}")
    now = now or dt.datetime.now(ZoneInfo(settings.timezone))
    for key, value, fix in example_leftovers(settings):
        out.warn(f"В настройках осталось значение из образца: {key}: «{value}»", fix)
    if settings.backend == "google" and not _credentials(settings, out):
        return out.ok, out.lines

    try:
        store = open_store(settings)
        snap = store.read()
        described = store.describe()
    except SheetNotShared as exc:
        out.bad(f"Доступ к таблице: нет доступа для {exc.account}", exc.fix)
        return out.ok, out.lines
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

    _time_zones(snap.time_zone, settings, now, out)

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
            _headers(tab, data.rows[0] if data.rows else [], exc, out)
            continue
        out.good(f"Лист «{tab.title}»: все столбцы на месте")
    if structure_ok:
        plan = plan_init(
            snap,
            described,
            today=now.astimezone(ZoneInfo(settings.timezone)).date(),
            calendar_plan={},
            region=settings.school.region,
        )
        # Missing calendar rows are the calendar check's business, below.
        plan = replace(plan, seed_rows=[])
        if plan.is_empty():
            out.good("Списки, форматы дат и оформление на месте")
        else:
            out.warn(
                "Не хватает оформления (списки, форматы дат, закрепление, подсветка)",
                "запустите journaldesk init: он добавит недостающее, данные не тронет",
            )
        check_calendar(snap, settings, out, now=now, sheet_tz=snap.time_zone or settings.timezone)

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
