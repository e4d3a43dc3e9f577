"""The weekly summary for people: Markdown and HTML from templates/, charts, the «Сводка» history
row, the files in the reports folder and the e-mail.

`run_summary` is the one entry point the CLI, the scheduler and the notebook call.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np

from journaldesk.errors import UserError
from journaldesk.jobs.sync import plain, read_and_plan
from journaldesk.resources import template_file
from journaldesk.rules.requests import local_now
from journaldesk.rules.summary import WeekFigures, default_week, monday_of, week_figures
from journaldesk.settings import Settings
from journaldesk.sheet.cells import parse_column
from journaldesk.sheet.frames import ParsedTab
from journaldesk.sheet.schema import Schema, load_schema
from journaldesk.sheet.textfmt import (
    as_date,
    count,
    day,
    is_blank,
    late_by,
    moment,
    percent,
    plural,
    points,
    working_hours,
)
from journaldesk.sheet.vocab import RUN_OK, RUN_WITH_NOTES
from journaldesk.store.base import NUMBER_FORMATS, CellWrite, Store

log = logging.getLogger(__name__)

JOB_SUMMARY = "Сводка за неделю"
MARKDOWN_NAME = "summary.md"
HTML_NAME = "summary.html"
CHART_NAMES = {
    "requests": "requests_by_topic.png",
    "sla": "sla_trend.png",
    "consent": "consent_by_class.png",
}


# --- formatting for the templates --------------------------------------------------------------


def md_cell(value: object) -> str:
    """Text safe inside a Markdown table cell (no pipes, no line breaks)."""
    if is_blank(value):
        return "—"
    return " ".join(str(value).split()).replace("|", "\\|")


def week_label(figures: WeekFigures) -> str:
    """«23.11.2026–29.11.2026»."""
    return f"{day(figures.week_start)}–{day(figures.last_day)}"


def _template_source(name: str) -> str:
    return template_file(name).read_text(encoding="utf-8")


def environment() -> jinja2.Environment:
    """The Jinja2 environment of templates/: strict about undefined names, HTML autoescaped."""
    env = jinja2.Environment(
        loader=jinja2.FunctionLoader(_template_source),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "html.j2"), default_for_string=False
        ),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        count=count,
        plural=plural,
        day=day,
        moment=moment,
        hours=working_hours,
        late_by=late_by,
        percent=percent,
        points=points,
        md=md_cell,
    )
    return env


def render(template: str, figures: WeekFigures, charts: dict[str, str] | None = None) -> str:
    """Render one template of templates/ for these figures; `charts` maps chart key -> src."""
    env = environment()
    return env.get_template(template).render(
        f=figures,
        week=week_label(figures),
        charts=charts or {},
    )


# --- charts ------------------------------------------------------------------------------------

# Charts are drawn for a column about 500 px wide (the page shows them at most 640 px and scales
# them down on a phone), with fonts large enough to read at that scale. Legends sit below the
# plot, outside it, so they never cover a bar.
CHART_WIDTH = 5.0
CHART_DPI = 150
CHART_FONT = 11


def _figure(height: float = 3.6):
    from matplotlib.figure import Figure

    fig = Figure(figsize=(CHART_WIDTH, height), dpi=CHART_DPI, layout="constrained")
    return fig


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _style(ax) -> None:
    ax.tick_params(labelsize=CHART_FONT - 1)
    ax.title.set_fontsize(CHART_FONT + 2)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _legend_below(fig, ax, columns: int = 1) -> None:
    """The axes' legend under the plot (and under its axis labels), never over a bar."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        fig.legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=columns,
            fontsize=CHART_FONT - 1,
            frameon=False,
        )


def _no_data(ax, text: str = "Нет данных за эти недели") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#666666")
    ax.set_xticks([])
    ax.set_yticks([])


def _week_labels(ax, labels: list[str]) -> None:
    # Many weeks on a narrow chart: every label slanted, thinned out to at most 12.
    step = max(1, -(-len(labels) // 12))
    ax.set_xticks(range(len(labels))[::step], labels[::step], rotation=45, ha="right")


def figure_requests(figures: WeekFigures):
    """Requests per week by topic, stacked bars over the trend weeks (a matplotlib Figure)."""
    weeks = figures.trend
    topics = sorted({t for w in weeks for t in w.by_topic})
    fig = _figure(3.4 + 0.22 * len(topics))
    ax = fig.add_subplot()
    labels = [w.week_start.strftime("%d.%m") for w in weeks]
    if not topics:
        _no_data(ax)
    else:
        from matplotlib import colormaps

        palette = colormaps["tab20"]
        bottom = np.zeros(len(weeks))
        x = np.arange(len(weeks))
        for i, topic in enumerate(topics):
            values = np.array([w.by_topic.get(topic, 0) for w in weeks], dtype=float)
            ax.bar(x, values, bottom=bottom, label=topic, color=palette(i % 20))
            bottom += values
        _week_labels(ax, labels)
        ax.set_ylabel("Обращений", fontsize=CHART_FONT)
        _legend_below(fig, ax)
    ax.set_xlabel("Неделя с", fontsize=CHART_FONT)
    ax.set_title("Обращения по неделям и темам")
    _style(ax)
    return fig


def figure_sla(figures: WeekFigures):
    """The share resolved in time, week by week (a matplotlib Figure)."""
    fig = _figure()
    ax = fig.add_subplot()
    weeks = figures.trend
    labels = [w.week_start.strftime("%d.%m") for w in weeks]
    values = np.array([np.nan if w.in_time_share is None else w.in_time_share * 100 for w in weeks])
    if np.isnan(values).all():
        _no_data(ax, "За эти недели решённых обращений нет")
    else:
        ax.plot(np.arange(len(weeks)), values, marker="o", color="#1f77b4")
        _week_labels(ax, labels)
        ax.set_ylim(0, 105)
        ax.set_ylabel("Решено в срок, %", fontsize=CHART_FONT)
        ax.grid(axis="y", alpha=0.3)
    ax.set_title("Доля обращений, решённых в срок")
    _style(ax)
    return fig


def figure_consent(figures: WeekFigures):
    """Consent coverage per class (application and consent both in) with the target line."""
    fig = _figure(3.8)
    ax = fig.add_subplot()
    classes = [c for c in figures.classes if c.pupils]
    if not classes:
        _no_data(ax, "На листе согласий нет учеников")
    else:
        names = [c.class_name for c in classes]
        x = np.arange(len(classes))
        shares = [c.ready_share * 100 for c in classes]
        behind = [c.ready_share < c.target for c in classes]
        colours = ["#d62728" if b else "#2ca02c" for b in behind]
        bars = ax.bar(x, shares, color=colours)
        if any(behind):
            bars[behind.index(True)].set_label("Ниже цели")
        if not all(behind):
            bars[behind.index(False)].set_label("Цель достигнута")
        targets = [c.target * 100 for c in classes]
        if len(set(targets)) == 1:
            ax.axhline(targets[0], color="#333333", linestyle="--", label="Цель")
        else:
            ax.step(x, targets, where="mid", color="#333333", linestyle="--", label="Цель")
        ax.set_xticks(x, names, rotation=90 if len(names) > 14 else 0)
        ax.set_ylim(0, 105)
        ax.set_ylabel("Готово, %", fontsize=CHART_FONT)
        _legend_below(fig, ax, columns=3)
    ax.set_title("Заявления и согласия по классам")
    _style(ax)
    return fig


def chart_requests(figures: WeekFigures) -> bytes:
    """Requests per week by topic as PNG."""
    return _png(figure_requests(figures))


def chart_sla(figures: WeekFigures) -> bytes:
    """The share resolved in time as PNG."""
    return _png(figure_sla(figures))


def chart_consent(figures: WeekFigures) -> bytes:
    """Consent coverage per class as PNG."""
    return _png(figure_consent(figures))


def charts(figures: WeekFigures) -> dict[str, bytes]:
    """Every chart of the summary as PNG bytes, by key (see CHART_NAMES)."""
    return {
        "requests": chart_requests(figures),
        "sla": chart_sla(figures),
        "consent": chart_consent(figures),
    }


def data_uri(png: bytes) -> str:
    """A PNG as an inline data URI (the HTML page carries its pictures)."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


# --- the «Сводка» history ----------------------------------------------------------------------


def history_writes(
    parsed: ParsedTab,
    fresh: list[list],
    row_values: dict[str, object],
    *,
    sheet_tz: str,
) -> tuple[list[CellWrite], int, bool]:
    """The cells that put this week's row into «Сводка»: over the week's row if there is one,
    else appended. `fresh` is a re-read of the «Неделя с» column just before writing (header
    first), so the row is found where it is now. A second row of the same week (typed by hand or
    left by an old version) is emptied. Returns (writes, sheet row, replaced)."""
    tab = parsed.tab
    column = tab.col("week_start")
    values, _ = parse_column([r[0] if r else None for r in fresh[1:]], column, sheet_tz=sheet_tz)
    week = row_values["week_start"]
    rows = [i + 2 for i, v in enumerate(values) if as_date(v) == week]
    last_filled = max([parsed.last_row] + [i + 2 for i, v in enumerate(values) if v is not None])
    target = rows[0] if rows else last_filled + 1

    def cells(row: int, clear: bool = False) -> list[CellWrite]:
        out = []
        for c in tab.columns:
            value = None if clear else plain(row_values.get(c.field))
            out.append(
                CellWrite(
                    tab.title, row, parsed.col_index[c.field], value, NUMBER_FORMATS.get(c.type)
                )
            )
        return out

    writes = cells(target)
    for extra in rows[1:]:
        writes += cells(extra, clear=True)
    return writes, target, bool(rows)


def journal_cells(
    parsed: ParsedTab,
    figures: WeekFigures,
    *,
    rows: int,
    at: dt.datetime,
    cells: int,
    api_calls: int,
    seconds: float,
    replaced: bool,
) -> list[CellWrite]:
    """The «Журнал» row of a summary run, appended after the tab's last row."""
    tab = parsed.tab
    action = "заменена" if replaced else "добавлена"
    values = {
        "at": at,
        "job": JOB_SUMMARY,
        "result": RUN_WITH_NOTES if figures.problems_total else RUN_OK,
        "rows": rows,
        "cells": cells,
        "new_numbers": 0,
        "problems": figures.problems_total,
        "api_calls": api_calls,
        "seconds": round(seconds, 2),
        "message": f"Неделя {week_label(figures)}: строка на листе «Сводка» {action}",
    }
    row = parsed.last_row + 1
    return [
        CellWrite(
            tab.title,
            row,
            parsed.col_index[name],
            plain(value),
            NUMBER_FORMATS.get(tab.col(name).type),
        )
        for name, value in values.items()
    ]


# --- files -------------------------------------------------------------------------------------


@dataclass
class SummaryResult:
    """What one summary run produced."""

    figures: WeekFigures
    folder: Path
    paths: dict[str, Path] = field(default_factory=dict)  # "markdown", "html", chart keys
    history_row: int | None = None  # the «Сводка» row written (None: history not written)
    replaced: bool = False  # the week's row was already there and was replaced
    sent: bool = False
    recipients: list[str] = field(default_factory=list)


def summary_line(result: Any) -> str:
    """A Russian line about a summary run (a SummaryResult, or anything else a runner's summary
    job returned): the week, what came in and was solved, where the files are, whether sent."""
    figures = getattr(result, "figures", None)
    # The line follows the job's title («Еженедельная сводка: …»): it does not say «сводка» again.
    if figures is None:
        return "сформирована"
    line = (
        f"неделя с {day(figures.week_start)}: поступило {figures.received}, "
        f"решено {figures.resolved}"
    )
    folder = getattr(result, "folder", None)
    if folder:
        line += f"; файлы в {folder}"
    return line + ("; отправлена на почту" if getattr(result, "sent", False) else "")


def write_files(figures: WeekFigures, folder: Path) -> dict[str, Path]:
    """Write the PNG charts, summary.md and the self-contained summary.html into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    pngs = charts(figures)
    paths: dict[str, Path] = {}
    for key, png in pngs.items():
        path = folder / CHART_NAMES[key]
        path.write_bytes(png)
        paths[key] = path
    paths["markdown"] = folder / MARKDOWN_NAME
    paths["markdown"].write_text(
        render("summary.md.j2", figures, {k: CHART_NAMES[k] for k in pngs}), encoding="utf-8"
    )
    paths["html"] = folder / HTML_NAME
    paths["html"].write_text(
        render("summary.html.j2", figures, {k: data_uri(v) for k, v in pngs.items()}),
        encoding="utf-8",
    )
    return paths


def email_subject(figures: WeekFigures) -> str:
    """The e-mail's subject line."""
    return f"Сводка службы помощи по ЭЖ за неделю {week_label(figures)}"


# --- the run -----------------------------------------------------------------------------------


def run_summary(
    store: Store,
    settings: Settings,
    *,
    now: dt.datetime,
    week_start: dt.date | None = None,
    send: bool = False,
    write_history: bool = True,
    sender: object | None = None,
    schema: Schema | None = None,
) -> SummaryResult:
    """Build a week's summary: figures, files in reports_dir/ГГГГ-ММ-ДД/, the «Сводка» row (one
    write, under the store's lock) and, with `send`, the e-mail when mail is configured (else
    `sent` stays False). `sender` overrides the mail settings (a notify.Sender)."""
    from journaldesk.jobs.notify import Sender, sender_from_settings

    schema = schema or load_schema()
    t0 = time.perf_counter()
    start = monday_of(week_start) if week_start else default_week(now, settings.timezone)
    if start > local_now(now, settings.timezone).date():
        raise UserError(
            f"Неделя с {day(start)} ещё не началась: сводку можно построить за прошедшую "
            "или текущую неделю."
        )
    mailer: Sender | None = None
    if send:
        # Checked before any work: a half-configured mail setting is the user's to fix.
        mailer = sender if sender is not None else sender_from_settings(settings)  # type: ignore[assignment]
        if mailer is None:
            log.info("Почта не настроена (mail.host пуст): сводка не будет отправлена")

    with store.lock():
        calls0 = store.api_calls
        reading = read_and_plan(store, settings, now=now, schema=schema)
        sheet_tz, parsed, plan = reading.sheet_tz, reading.parsed, reading.plan
        figures = week_figures(parsed, plan, settings, now=now, week_start=start, sheet_tz=sheet_tz)
        result = SummaryResult(figures=figures, folder=Path())
        if write_history:
            summary_tab = parsed["summary"]
            fresh = store.read_columns(summary_tab.tab.title, [summary_tab.col_index["week_start"]])
            writes, result.history_row, result.replaced = history_writes(
                summary_tab, fresh, figures.history_row(), sheet_tz=sheet_tz
            )
            writes += journal_cells(
                parsed["log"],
                figures,
                rows=len(parsed["requests"].frame),
                at=local_now(now, sheet_tz),
                cells=len(writes),
                api_calls=store.api_calls - calls0 + 1,
                seconds=time.perf_counter() - t0,
                replaced=result.replaced,
            )
            store.write(writes)

    folder = settings.path(settings.reports_dir) / figures.week_start.isoformat()
    result.folder = folder
    result.paths = write_files(figures, folder)
    log.info(
        "Сводка за неделю %s: поступило %d, решено %d; файлы в %s",
        week_label(figures),
        figures.received,
        figures.resolved,
        folder,
    )
    if mailer is not None:
        text = render("email.txt.j2", figures)
        html = result.paths["html"].read_text(encoding="utf-8")
        mailer.send(email_subject(figures), text, html=html)
        result.sent = True
        result.recipients = list(getattr(mailer, "recipients", []) or [])
        log.info("Сводка за неделю %s отправлена по почте", week_label(figures))
    return result
