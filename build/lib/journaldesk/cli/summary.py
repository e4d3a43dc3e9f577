"""`journaldesk summary`: the weekly summary for the administration (register it in cli.py with
`main.add_command(summary)`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from journaldesk.cli.common import config_option, friendly, now_in, open_settings
from journaldesk.errors import SettingsError
from journaldesk.sheet.textfmt import count


def _week(value: str | None) -> dt.date | None:
    """--week as ГГГГ-ММ-ДД or ДД.ММ.ГГГГ (any day of the week wanted)."""
    if value is None:
        return None
    for fmt in ("%Y-%m-%d", "%d.%m.%Y"):
        try:
            return dt.datetime.strptime(value.strip(), fmt).date()
        except ValueError:
            continue
    raise click.BadParameter(
        f"«{value}» — не дата. Укажите понедельник недели как ГГГГ-ММ-ДД, например 2026-11-23.",
        param_hint="--week",
    )


@click.command(
    "summary", help="Недельная сводка: цифры, отчёт с графиками, строка на листе «Сводка»."
)
@config_option
@click.option(
    "--week",
    "week",
    default=None,
    metavar="ГГГГ-ММ-ДД",
    help="Неделя (её понедельник или любой её день); по умолчанию — прошлая полная неделя.",
)
@click.option("--send", is_flag=True, help="Отправить сводку по почте (раздел mail настроек).")
@click.option(
    "--no-history", is_flag=True, help="Не записывать строку на лист «Сводка» (только файлы)."
)
@friendly
def summary(config_path: Path | None, week: str | None, send: bool, no_history: bool) -> None:
    """Build the weekly summary, write its files and history row, optionally mail it."""
    from journaldesk.jobs.notify import sender_from_settings
    from journaldesk.jobs.report import CHART_NAMES, run_summary, week_label
    from journaldesk.store import open_store

    week_start = _week(week)
    settings = open_settings(config_path)
    if send and sender_from_settings(settings) is None:
        raise SettingsError(
            "Почта не настроена: заполните раздел mail (host, sender, recipients) в файле "
            "настроек или запустите сводку без --send."
        )
    store = open_store(settings)
    result = run_summary(
        store,
        settings,
        now=now_in(settings),
        week_start=week_start,
        send=send,
        write_history=not no_history,
    )
    f = result.figures
    lines = [
        f"Сводка за неделю {week_label(f)} готова.",
        f"  Поступило {count(f.received, 'обращение', 'обращения', 'обращений')}, "
        f"решено {f.resolved}, открыто на конец недели {f.open_at_end}, "
        f"просрочено сейчас {f.overdue_now}.",
        f"  Файлы: {result.folder} (summary.md, summary.html и "
        f"{count(len(CHART_NAMES), 'график', 'графика', 'графиков')}).",
    ]
    if result.history_row is not None:
        action = "обновлена" if result.replaced else "добавлена"
        lines.append(f"  Строка на листе «Сводка» {action} (строка {result.history_row}).")
    if result.sent:
        lines.append(
            "  Отправлено по почте: " + ", ".join(result.recipients)
            if result.recipients
            else "  Отправлено по почте."
        )
    click.echo("\n".join(lines))
