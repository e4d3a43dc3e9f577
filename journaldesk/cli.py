"""`journaldesk ...` commands. Thin: each opens the store, calls one library function, and turns
the project's exceptions into one Russian line and an exit code (2: fix it yourself, 1: outside
failure).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import logging.handlers
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from journaldesk import __version__
from journaldesk.config import Settings, load_settings
from journaldesk.errors import JournaldeskError

log = logging.getLogger("journaldesk")


def now_in(settings: Settings) -> dt.datetime:
    """The current moment in the school's time zone (the only place the CLI reads the clock)."""
    return dt.datetime.now(ZoneInfo(settings.timezone))


def setup_logging(settings: Settings | None) -> None:
    """Every run goes to the local log file (rotated), warnings also to the console."""
    root = logging.getLogger("journaldesk")
    root.setLevel(logging.INFO)
    if getattr(root, "_journaldesk_configured", False):
        return
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("%(message)s"))
    root.addHandler(console)
    if settings is not None:
        path = settings.path(settings.log_file)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
            )
        except OSError as exc:
            root.warning("Не удалось открыть журнал %s: %s", path, exc.strerror)
        else:
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
            root.addHandler(handler)
    root._journaldesk_configured = True  # type: ignore[attr-defined]


def reset_logging() -> None:
    """Drop the handlers set up by a previous command (tests run many in one process)."""
    root = logging.getLogger("journaldesk")
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    root._journaldesk_configured = False  # type: ignore[attr-defined]


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the project's errors into one Russian line on stderr and the right exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except JournaldeskError as exc:
            log.info("Ошибка: %s", exc)
            click.echo(f"Ошибка: {exc}", err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            click.echo("Остановлено.", err=True)
            sys.exit(130)

    return wrapper


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Файл настроек (по умолчанию config/settings.yaml или $JOURNALDESK_CONFIG).",
)


def _settings(config_path: Path | None) -> Settings:
    reset_logging()
    settings = load_settings(config_path)
    setup_logging(settings)
    return settings


@click.group(help="journaldesk: служба помощи по электронному журналу и дневнику школы.")
@click.version_option(__version__, prog_name="journaldesk")
def main() -> None:
    """The command group."""


@main.command(help="Синхронизировать таблицу: номера, сроки, проверки, журнал.")
@config_option
@friendly
def sync(config_path: Path | None) -> None:
    """One sync of the sheet."""
    from journaldesk.store import open_store
    from journaldesk.sync import sync as run_sync

    settings = _settings(config_path)
    store = open_store(settings)
    report = run_sync(store, settings, now=now_in(settings))
    click.echo(report_line(report))


def report_line(report: Any) -> str:
    """The console line of a sync."""
    head = "Изменений нет." if not report.wrote else f"Записано ячеек: {report.cells}."
    return (
        f"{head} Обращений: {report.rows}, открытых: {report.open}, под угрозой: "
        f"{report.at_risk}, просрочено: {report.overdue}, строк с замечаниями: "
        f"{report.problems}, новых №: {report.new_numbers}."
        + (f" Отложено до следующего запуска: {report.moved}." if report.moved else "")
    )


@main.command(help="Создать недостающие листы, заголовки, списки и оформление таблицы.")
@config_option
@friendly
def init(config_path: Path | None) -> None:
    """Bring the sheet's structure up to the contract without touching data."""
    from journaldesk.init import plan_init
    from journaldesk.store import open_store

    settings = _settings(config_path)
    store = open_store(settings, create=True)
    with store.lock():
        snap = store.read()
        plan = plan_init(
            snap,
            store.describe(),
            room=settings.booking.room,
            consultant=settings.administrator.name,
        )
        if plan.is_empty():
            click.echo(f"Таблица {store.location()} уже готова: менять нечего.")
            return
        store.apply_init(plan)
    lines = [f"Таблица {store.location()} подготовлена:"]
    if plan.new_tabs:
        lines.append("  созданы листы: " + ", ".join(t for t, _ in plan.new_tabs))
    if plan.headers:
        lines.append("  вписаны заголовки: " + ", ".join(t for t, _ in plan.headers))
    for title, rows in plan.seed_rows:
        lines.append(f"  лист «{title}» заполнен: {len(rows)} строк")
    if plan.dropdowns:
        lines.append(f"  выпадающих списков: {len(plan.dropdowns)}")
    click.echo("\n".join(lines))


@main.command(help="Собрать демонстрационную школу в demo/ и синхронизировать её.")
@click.option(
    "--dir",
    "target",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("demo"),
    help="Папка для демо (по умолчанию demo/).",
)
@friendly
def demo(target: Path) -> None:
    """Build the demo school and run the jobs on it."""
    from journaldesk.demo import build_demo

    reset_logging()
    click.echo(build_demo(target, now=dt.datetime.now(ZoneInfo("Europe/Simferopol"))))


@main.command(help="Проверить настройки, доступ к таблице и её структуру.")
@config_option
@friendly
def doctor(config_path: Path | None) -> None:
    """A Russian checklist of what is right and what to fix."""
    from journaldesk.doctor import run_doctor

    reset_logging()
    ok, lines = run_doctor(config_path)
    click.echo("\n".join(lines))
    if not ok:
        sys.exit(2)


def _register() -> None:
    """Commands that live in their own modules (each is thin, like the ones above)."""
    from journaldesk.cli_consent import consent
    from journaldesk.cli_run import run
    from journaldesk.cli_slots import slots
    from journaldesk.cli_summary import summary

    for command in (summary, slots, consent, run):
        main.add_command(command)


_register()
