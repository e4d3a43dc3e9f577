"""What every `journaldesk` command shares: the --config option, settings and logging, the clock,
and turning the project's exceptions into one Russian line and an exit code.
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

from journaldesk.errors import JournaldeskError
from journaldesk.settings import Settings, load_settings

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


def open_settings(config_path: Path | None) -> Settings:
    """Load the settings and send this run to their log file."""
    reset_logging()
    settings = load_settings(config_path)
    setup_logging(settings)
    return settings
