"""`journaldesk run`: the unattended runner (a loop for systemd / a console, `--once` for cron
and the Windows Task Scheduler). Thin: the decisions live in journaldesk/runner/.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from journaldesk.cli.common import config_option, friendly, now_in, open_settings
from journaldesk.runner.scheduler import JobResult, Runner
from journaldesk.runner.timetable import Timetable


def _echo(result: JobResult) -> None:
    # Failures are already on stderr through the log; stdout gets what worked.
    if result.ok:
        click.echo(f"{result.at:%d.%m.%Y %H:%M} {result.title}: {result.message}")


def _plan_line(tt: Timetable) -> str:
    days = ", ".join(("пн", "вт", "ср", "чт", "пт", "сб", "вс")[d] for d in sorted(tt.workdays))
    return (
        f"Синхронизация каждые {tt.sync_every} мин с {tt.day_start:%H:%M} до "
        f"{tt.day_end:%H:%M} ({days}); напоминание за {tt.reminder_before} мин до консультации; "
        f"сводка: {('пн', 'вт', 'ср', 'чт', 'пт', 'сб', 'вс')[tt.summary_weekday]} "
        f"{tt.summary_time:%H:%M} ({tt.tz})."
    )


@click.command(
    "run",
    help="Выполнять задания по расписанию: синхронизацию в учебные часы, напоминание перед "
    "консультацией, еженедельную сводку. Остановка: Ctrl+C (задача доработает до конца).",
)
@config_option
@click.option(
    "--once",
    is_flag=True,
    help="Выполнить то, что положено сейчас, и выйти (для cron и Планировщика заданий Windows).",
)
@friendly
def run(config_path: Path | None, once: bool) -> None:
    """The runner: a loop until SIGINT/SIGTERM, or one pass with --once."""
    settings = open_settings(config_path)
    runner = Runner(settings, clock=lambda: now_in(settings), on_result=_echo)
    if once:
        results = runner.run_once()
        if not results:
            click.echo("Сейчас по расписанию делать нечего.")
        failed = [r for r in results if not r.ok]
        if failed:
            sys.exit(max(r.exit_code for r in failed))
        return
    click.echo("journaldesk run запущен. " + _plan_line(runner.timetable))
    click.echo(f"Журнал: {settings.path(settings.log_file)}. Остановка: Ctrl+C.")
    runner.loop()
    click.echo("Остановлено.")
