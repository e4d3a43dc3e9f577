"""`journaldesk ...` commands. Thin: each opens the store, calls one library function, and turns
the project's exceptions into one Russian line and an exit code (2: fix it yourself, 1: outside
failure).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from zoneinfo import ZoneInfo

import click

from journaldesk import __version__
from journaldesk.cli.common import (
    config_option,
    friendly,
    now_in,
    open_settings,
    reset_logging,
    setup_logging,
)
from journaldesk.cli.russian import RussianGroup
from journaldesk.sheet.textfmt import count


@click.group(
    "journaldesk",
    cls=RussianGroup,
    help="journaldesk: служба помощи по электронному журналу и дневнику школы.",
)
@click.version_option(__version__, prog_name="journaldesk", help="Показать версию и выйти.")
def main() -> None:
    """The command group."""


@main.command(help="Синхронизировать таблицу: номера, сроки, проверки, журнал.")
@config_option
@friendly
def sync(config_path: Path | None) -> str:
    """One sync of the sheet."""
    from journaldesk.jobs.sync import sync as run_sync
    from journaldesk.store import open_store

    settings = open_settings(config_path)
    store = open_store(settings)
    report = run_sync(store, settings, now=now_in(settings))
    line = report.outcome_ru()
    click.echo(line)
    return line


@main.command(help="Создать недостающие листы, заголовки, списки и оформление таблицы.")
@config_option
@friendly
def init(config_path: Path | None) -> str:
    """Bring the sheet's structure up to the contract without touching data."""
    from journaldesk.jobs.init import load_calendar_plan, missing_years, plan_init
    from journaldesk.store import open_store

    settings = open_settings(config_path)
    calendar_plan = load_calendar_plan()
    today = now_in(settings).date()
    store = open_store(settings, create=True)
    with store.lock():
        snap = store.read()
        plan = plan_init(
            snap,
            store.describe(),
            today=today,
            room=settings.booking.room,
            consultant=settings.administrator.name,
            calendar_plan=calendar_plan,
            region=settings.school.region,
        )
        if plan.is_empty():
            line = f"Таблица {store.location()} уже готова: менять нечего."
            click.echo(line)
            return line
        store.apply_init(plan)
    lines = [f"Таблица {store.location()} подготовлена:"]
    if plan.new_tabs:
        lines.append("  созданы листы: " + ", ".join(t for t, _ in plan.new_tabs))
    if plan.headers:
        lines.append("  вписаны заголовки: " + ", ".join(t for t, _ in plan.headers))
    for title, rows in plan.seed_rows:
        lines.append(f"  лист «{title}»: добавлено {count(len(rows), 'строка', 'строки', 'строк')}")
    if plan.dropdowns:
        lines.append(f"  выпадающих списков: {len(plan.dropdowns)}")
    for year in missing_years(today, calendar_plan):
        lines.append(
            f"  в config/calendar.yaml нет учебного года {year}/{(year + 1) % 100:02d}: "
            f"каникулы не добавлены — впишите их в файл и запустите init снова"
        )
    click.echo("\n".join(lines))
    return "; ".join(line.strip() for line in lines)


@main.command(help="Собрать демонстрационную школу в demo/ и синхронизировать её.")
@click.option(
    "--dir",
    "target",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo"),
    help="Папка для демо (по умолчанию demo/).",
)
@friendly
def demo(target: Path) -> str:
    """Build the demo school and run the jobs on it."""
    from journaldesk.jobs.demo import build_demo, demo_settings
    from journaldesk.settings import parse_settings

    reset_logging()
    # The demo's runs go to its own log (demo/logs/), which a new demo keeps.
    setup_logging(parse_settings(demo_settings(), target.resolve()))
    text = build_demo(target, now=dt.datetime.now(ZoneInfo("Europe/Simferopol")))
    click.echo(text)
    return text.splitlines()[0]


@main.command(help="Проверить настройки, доступ к таблице и её структуру.")
@config_option
@friendly
def doctor(config_path: Path | None) -> None:
    """A Russian checklist of what is right and what to fix."""
    from journaldesk.jobs.doctor import run_doctor

    reset_logging()
    ok, lines = run_doctor(config_path)
    click.echo("\n".join(lines))
    if not ok:
        sys.exit(2)


def _register() -> None:
    """Commands that live in their own modules (each is thin, like the ones above)."""
    from journaldesk.cli.consent import consent
    from journaldesk.cli.journal import journal
    from journaldesk.cli.run import run
    from journaldesk.cli.slots import slots
    from journaldesk.cli.summary import summary

    for command in (summary, slots, consent, journal, run):
        main.add_command(command)


_register()
