"""What every `journaldesk` command shares: the --config option, settings and logging, the clock,
and turning the project's exceptions into one Russian line and an exit code.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import logging.handlers
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click

from journaldesk.errors import JournaldeskError
from journaldesk.settings import Settings, load_settings
from journaldesk.sheet.textfmt import decimal

log = logging.getLogger("journaldesk")


def now_in(settings: Settings) -> dt.datetime:
    """The current moment in the school's time zone (the only place the CLI reads the clock)."""
    return dt.datetime.now(ZoneInfo(settings.timezone))


# A record logged with this extra goes to the log file only (the console already got the line).
FILE_ONLY = {"console": False}


class SchoolTimeFormatter(logging.Formatter):
    """Log lines stamped in the school's time zone, with the offset, whatever the machine's zone."""

    def __init__(self, tz: str) -> None:
        super().__init__("%(asctime)s %(levelname)s %(message)s")
        self.zone = ZoneInfo(tz)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """The record's moment as ГГГГ-ММ-ДД ЧЧ:ММ:СС+ЧЧММ in the school's zone."""
        moment = dt.datetime.fromtimestamp(record.created, self.zone)
        return moment.strftime("%Y-%m-%d %H:%M:%S%z")


def _to_console(record: logging.LogRecord) -> bool:
    return getattr(record, "console", True)


def setup_logging(settings: Settings | None) -> None:
    """Every run goes to the local log file (rotated), warnings also to the console."""
    root = logging.getLogger("journaldesk")
    root.setLevel(logging.INFO)
    if getattr(root, "_journaldesk_configured", False):
        return
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.WARNING)
    console.setFormatter(logging.Formatter("%(message)s"))
    console.addFilter(_to_console)
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
            handler.setFormatter(SchoolTimeFormatter(settings.timezone))
            root.addHandler(handler)
    root._journaldesk_configured = True  # type: ignore[attr-defined]


def reset_logging() -> None:
    """Drop the handlers set up by a previous command (tests run many in one process)."""
    root = logging.getLogger("journaldesk")
    for h in list(root.handlers):
        root.removeHandler(h)
        h.close()
    root._journaldesk_configured = False  # type: ignore[attr-defined]


def error_line(exc: Exception) -> str:
    """«Ошибка: …», without saying «Ошибка» twice when the message already starts with it."""
    text = str(exc)
    return text if text.startswith("Ошибка") else f"Ошибка: {text}"


def friendly(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn the project's errors into one Russian line on stderr and the right exit code; log
    one line per run (the command's returned result line, or its error, at ERROR)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = click.get_current_context(silent=True)
        name = ctx.command_path if ctx is not None else fn.__name__
        started = time.monotonic()
        try:
            result = fn(*args, **kwargs)
        except JournaldeskError as exc:
            text = error_line(exc)
            log.error("%s: %s", name, text, extra=FILE_ONLY)
            click.echo(text, err=True)
            sys.exit(exc.exit_code)
        except KeyboardInterrupt:
            log.warning("%s: остановлено (Ctrl+C)", name, extra=FILE_ONLY)
            click.echo("Остановлено.", err=True)
            sys.exit(130)
        # One line per run in the log: the command, its result, how long it took.
        took = decimal(time.monotonic() - started)
        log.info("%s: %s (%s с)", name, result or "готово", took)
        return result

    return wrapper


config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Файл настроек (по умолчанию config/settings.yaml или $JOURNALDESK_CONFIG).",
)


def open_settings(config_path: Path | None) -> Settings:
    """Load the settings and send this run to their log file."""
    reset_logging()
    settings = load_settings(config_path)
    setup_logging(settings)
    return settings
