"""`journaldesk demo`: a realistic demo school in a local workbook, synced, with a short report."""

from __future__ import annotations

import datetime as dt
import shutil
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from journaldesk.jobs.demo_data import FORM_QUESTIONS, FORM_TAB, TIMEZONE, demo_rows, form_answers
from journaldesk.jobs.demo_journal import lesson_rows, write_export
from journaldesk.jobs.init import load_calendar_plan, plan_init
from journaldesk.jobs.journal_import import JournalImport, import_lessons
from journaldesk.jobs.sync import SyncReport, sync
from journaldesk.rules.journal_fill import closed_days
from journaldesk.settings import Settings, load_settings
from journaldesk.sheet.frames import parse_tab
from journaldesk.sheet.schema import Schema, load_schema
from journaldesk.sheet.textfmt import percent
from journaldesk.store.base import NUMBER_FORMATS, CellWrite, InitPlan, Snapshot
from journaldesk.store.workbook import WorkbookStore

WORKBOOK_NAME = "journaldesk.xlsx"
EXPORT_DIR = "выгрузка"
EXPORT_NAME = "уроки.xlsx"
SETTINGS_NAME = "settings.yaml"


def demo_settings() -> dict[str, object]:
    """The demo's settings file: the example settings, pointed at the demo workbook."""
    return {
        "backend": "workbook",
        "workbook": {"path": WORKBOOK_NAME},
        "timezone": "Europe/Simferopol",
        "administrator": {"name": "Администратор ЭЖ", "email": "ezh-admin@example.org"},
        "consent": {"wait_days": 14, "target_share": 0.9, "deadline": dt.date(2026, 11, 20)},
        "booking": {"room": "12"},
        "log_file": "logs/journaldesk.log",
        "reports_dir": "reports",
    }


def fill_cells(
    schema: Schema,
    rows: dict[str, list[dict[str, object]]],
    offsets: dict[str, int] | None = None,
) -> list[CellWrite]:
    """Rows by field name as cell writes under each tab's header, after `offsets` rows already
    there (e.g. the calendar rows `init` seeded), with the formats the sync itself writes."""
    cells = []
    for key, items in rows.items():
        tab = schema[key]
        first = 2 + (offsets or {}).get(key, 0)
        for i, values in enumerate(items):
            for col, column in enumerate(tab.columns, start=1):
                value = values.get(column.field)
                if value is not None:
                    fmt = NUMBER_FORMATS.get(column.type)
                    cells.append(CellWrite(tab.title, first + i, col, value, fmt))
    return cells


def build_demo(target: Path, *, now: dt.datetime, seed: int = 2026) -> str:
    """Build demo/ from nothing (replacing an earlier demo), sync it, return the Russian report."""
    schema = load_schema()
    target.mkdir(parents=True, exist_ok=True)
    book = target / WORKBOOK_NAME
    # Only the demo's book and settings are made anew; its log and reports are kept.
    replaced = book.exists()
    if replaced:
        book.unlink()
    settings_file = target / SETTINGS_NAME
    settings_file.write_text(
        "# Demo settings: `journaldesk sync --config demo/settings.yaml`\n"
        + yaml.safe_dump(demo_settings(), allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    settings = load_settings(settings_file)

    rows = demo_rows(now, seed=seed, history=True)
    store = WorkbookStore(book, create=True)
    with store.lock():
        plan = plan_init(
            Snapshot(tabs={}),
            {},
            today=now.date(),
            room=settings.booking.room,
            consultant=settings.administrator.name,
            calendar_plan=load_calendar_plan(),
            region=settings.school.region,
        )
        # The demo's own «График» (with the consultant's name) replaces the plain seed; the
        # staff-typed «Календарь» rows go after the seeded holidays and vacations.
        schedule_title = schema["schedule"].title
        if rows.get("schedule"):
            plan.seed_rows = [(t, r) for t, r in plan.seed_rows if t != schedule_title]
        # The look goes on last, over the filled and synced rows: the filter then covers
        # them and rows with long wrapped text get their height.
        looks, plan.looks = plan.looks, []
        store.apply_init(plan)
        seeded = {t: len(r) for t, r in plan.seed_rows}
        offsets = {key: seeded.get(schema[key].title, 0) for key in rows}
        cells = fill_cells(schema, rows, offsets)
        store.write(cells)
        # The form's answers, as Google leaves them in their own tab: the sync imports them.
        store.apply_init(InitPlan(new_tabs=[(FORM_TAB, list(FORM_QUESTIONS))]))
        store.append_rows(FORM_TAB, form_answers(now, seed=seed))
    report = sync(WorkbookStore(book), settings, now=now)
    if report.imported:  # the form's answers got their № now: deadlines and slots next
        imported, report = report.imported, sync(WorkbookStore(book), settings, now=now)
        report.imported = imported
    export = demo_export(target, book, rows, now=now, seed=seed)
    journal = import_lessons(WorkbookStore(book), settings, [export], now=now, mail=False)
    with store.lock():
        store.apply_init(InitPlan(looks=looks))
    return demo_report(
        book, settings_file, report, rows, journal, settings=settings, replaced=replaced
    )


def demo_export(
    target: Path, book: Path, rows: dict, *, now: dt.datetime, seed: int = 2026
) -> Path:
    """The journal's lesson export of the demo school, in target/выгрузка/ (section I)."""
    schema = load_schema()
    snap = WorkbookStore(book).read()
    calendar = parse_tab(snap.tabs[schema["calendar"].title], schema["calendar"]).frame
    today = now.astimezone(ZoneInfo(TIMEZONE)).date()
    lessons = lesson_rows(rows.get("staff", []), closed_days(calendar), today=today, seed=seed)
    folder = target / EXPORT_DIR
    if folder.exists():
        shutil.rmtree(folder)
    title = f"Выгрузка уроков за период по {(today - dt.timedelta(days=1)):%d.%m.%Y}"
    return write_export(folder / EXPORT_NAME, lessons, title)


def command_name() -> str:
    """How to call the command from here: the venv's script, relative when it can be."""
    script = Path(sys.executable).parent / "journaldesk"
    if not script.exists() and not script.with_suffix(".exe").exists():
        return "journaldesk"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def demo_report(
    book: Path,
    settings_file: Path,
    report: SyncReport,
    rows: dict,
    journal: JournalImport | None = None,
    *,
    settings: Settings | None = None,
    replaced: bool = False,
) -> str:
    """The short Russian report `make demo` prints (it says what it replaced and what it kept)."""
    cmd = command_name()
    pupils = len(rows.get("consent", []))
    staff = len(rows.get("staff", []))
    kept = []
    if settings is not None:
        # Shown beside the settings file, as the user typed its folder.
        log_file = settings_file.parent / settings.log_file
        reports = settings_file.parent / settings.reports_dir
        kept = [
            f"  Журнал работы: {log_file}; сводки: {reports} (новая демонстрация их не удаляет)"
        ]
    return "\n".join(
        [
            "Демонстрационная школа готова.",
            f"  Книга: {book}" + (" (прежняя демонстрационная книга заменена)" if replaced else ""),
            f"  Настройки: {settings_file}",
            *kept,
            f"  Учеников: {pupils}, сотрудников: {staff}, обращений: {report.rows}.",
            f"  Открыто: {report.open}, под угрозой: {report.at_risk}, "
            f"просрочено: {report.overdue}.",
            f"  Новых номеров выдано: {report.new_numbers}; строк с замечаниями: "
            f"{report.problems} (см. столбец «Проверка»).",
            "  Когда решены обращения, смоделировано: администратор отвечает в часы консультаций,",
            "  сначала тем, у кого срок раньше; были отменённые дни и неделя болезни.",
            *_journal_lines(journal),
            "",
            "Что дальше:",
            f"  • откройте {book} — листы «Обращения», «Согласия», «Журнал»;",
            f"  • ещё одна синхронизация:  {cmd} sync --config {settings_file}",
            f"  • консультации на неделю:  {cmd} slots --config {settings_file}",
            f"  • согласия по классам:     {cmd} consent --config {settings_file}",
            f"  • недельная сводка:        {cmd} summary --config {settings_file}",
            *(
                [
                    f"  • заполнение ЭЖ:           {cmd} journal --config {settings_file} "
                    f"{journal.files[0]}"
                ]
                if journal and journal.files
                else []
            ),
            "  • блокнот администратора:  make notebook (notebooks/administrator.ipynb)",
        ]
    )


def _journal_lines(journal: JournalImport | None) -> list[str]:
    """The report's lines about the lesson export (section I)."""
    if journal is None or not journal.weeks:
        return []
    share = percent(journal.share)
    sums = journal.table.groupby("teacher")[["lessons", "complete"]].sum()
    behind = int((sums["complete"] < 0.9 * sums["lessons"]).sum())
    return [
        f"  Заполнение ЭЖ: выгрузка {journal.files[0].name}, уроков {journal.lessons} за "
        f"{len(journal.weeks)} нед.; заполнено полностью {share}; учителей ниже 90 %: "
        f"{behind} (лист «Заполнение ЭЖ»)."
    ]
