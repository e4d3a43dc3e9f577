"""What the administrator's notebook shows, as functions: the notebook only calls these.

Every table has Russian column names (the sheet's own headers from the schema where the column is
the sheet's); every chart is a matplotlib Figure. The optional parts (the consultation agenda, the
weekly figures) are imported when called and say in Russian when they are not available.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from journaldesk.jobs.sync import SheetPlan, SyncReport, read_and_plan
from journaldesk.rules.booking import agenda_week
from journaldesk.rules.consent import ConsentRules, coverage
from journaldesk.rules.privacy import NameIndex, safe_text
from journaldesk.rules.requests import AT_RISK, ON_TIME, OVERDUE, PAUSED, local_now
from journaldesk.rules.worktime import to_minutes
from journaldesk.settings import ENV_CONFIG, Settings, load_settings
from journaldesk.sheet.frames import ParsedTab
from journaldesk.sheet.schema import load_schema
from journaldesk.sheet.textfmt import is_blank, late_by
from journaldesk.sheet.vocab import (
    DUE_STATES,
    STATE_NOT_ISSUED,
    STATE_READY,
    STATE_REFUSED,
    STATE_REVOKED,
    STATE_WAITING,
    STATE_WAITING_LONG,
)
from journaldesk.store import open_store
from journaldesk.store.base import Snapshot

DEMO_SETTINGS = Path("demo/settings.yaml")
DEFAULT_SETTINGS = Path("config/settings.yaml")
OPEN_STATES = (ON_TIME, AT_RISK, OVERDUE, PAUSED)
REQUEST_FIELDS = [
    "number",
    "received_at",
    "role",
    "class_name",
    "topic",
    "assignee",
    "status",
    "due_at",
    "due_state",
    "consultation",
]
COVERAGE_LABELS = {
    "pupils": "Учеников",
    "submitted": "Заявлений подано",
    "signed": "Согласий ПД подписано",
    "ready": STATE_READY,
    "logins": "Логинов выдано",
    "waiting": STATE_WAITING,
    "waiting_long": STATE_WAITING_LONG,
    "refused": STATE_REFUSED,
    "revoked": STATE_REVOKED,
    "not_issued": STATE_NOT_ISSUED,
    "pd_refused": "Из них отказ от обработки ПД",
    "left": "Выбыли",
    "ready_share": "Готово, %",
    "target": "Цель, %",
    "deadline": "Срок",
    "behind": "Отстаёт",
    "class_teacher": "Классный руководитель",
}


def _russian_number(x: float) -> str:
    if x != x:  # NaN
        return "—"
    return f"{x:,.1f}".replace(",", "\u202f").replace(".", ",")


def use_russian_numbers() -> None:
    """Tables in the notebook show numbers as reports do: «91,7», «1 234,5» (not 91.7)."""
    pd.set_option("display.float_format", _russian_number)


@dataclass(frozen=True)
class SettingsChoice:
    """Which settings file the notebook uses, and why: "env", "config" or "demo"."""

    path: Path
    source: str


_SOURCE_NOTES = {
    "env": "из переменной окружения JOURNALDESK_CONFIG",
    "config": "рабочие настройки школы",
    "demo": "ДЕМОНСТРАЦИОННАЯ школа: рабочих настроек config/settings.yaml нет и "
    "JOURNALDESK_CONFIG не задана",
}


def _find_up(candidate: Path, start: Path | None) -> Path | None:
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / candidate).exists():
            return folder / candidate
    return None


def find_settings(
    environ: Mapping[str, str] | None = None, start: Path | None = None
) -> SettingsChoice:
    """$JOURNALDESK_CONFIG, else config/settings.yaml, and the demo's settings only when neither
    exists; files are looked for from the current folder up (the notebook runs in notebooks/)."""
    env = os.environ if environ is None else environ
    if env.get(ENV_CONFIG):
        return SettingsChoice(Path(env[ENV_CONFIG]), "env")
    school = _find_up(DEFAULT_SETTINGS, start)
    if school is not None:
        return SettingsChoice(school, "config")
    demo = _find_up(DEMO_SETTINGS, start)
    if demo is not None:
        return SettingsChoice(demo, "demo")
    # Nothing at all: loading it says which file to create.
    return SettingsChoice(DEFAULT_SETTINGS, "config")


def open_settings(choice: SettingsChoice | Path | None = None) -> Settings:
    """The settings the notebook works with (see find_settings)."""
    if choice is None:
        choice = find_settings()
    return load_settings(choice.path if isinstance(choice, SettingsChoice) else choice)


def settings_note(settings: Settings, choice: SettingsChoice | Path, now: dt.datetime) -> str:
    """Markdown: which settings file and why, which sheet, the school's zone and the moment."""
    if not isinstance(choice, SettingsChoice):
        choice = SettingsChoice(Path(choice), "config")
    sheet = settings.google.spreadsheet if settings.backend == "google" else settings.workbook_path
    return (
        f"Настройки: `{choice.path}` — {_SOURCE_NOTES[choice.source]}  \n"
        f"Таблица: `{sheet}`  \n"
        f"Часовой пояс школы: {settings.timezone}; сейчас {now:%d.%m.%Y %H:%M}"
    )


def now_in(settings: Settings) -> dt.datetime:
    """The current moment in the school's time zone."""
    return dt.datetime.now(ZoneInfo(settings.timezone))


def run_sync(settings: Settings, *, now: dt.datetime) -> tuple[SyncReport, str]:
    """One sync, as `journaldesk sync` does it; the report and its Russian line."""
    from journaldesk.jobs.sync import sync

    report = sync(open_store(settings), settings, now=now)
    return report, report.outcome_ru()


@dataclass
class SheetView:
    """One reading of the sheet with the rules applied (nothing written)."""

    settings: Settings
    now: dt.datetime
    snapshot: Snapshot
    parsed: dict[str, ParsedTab]
    plan: SheetPlan
    sheet_tz: str

    def names(self) -> NameIndex | None:
        """The sheet's name index, to keep names out of what the notebook shows (None when
        the settings allow names)."""
        if self.settings.show_names:
            return None
        from journaldesk.rules.summary import sheet_names

        return sheet_names(self.parsed)


def read_view(settings: Settings, *, now: dt.datetime) -> SheetView:
    """Read the sheet once and apply the rules, as a sync would, without writing."""
    reading = read_and_plan(open_store(settings), settings, now=now)
    return SheetView(
        settings, now, reading.snapshot, reading.parsed, reading.plan, reading.sheet_tz
    )


def _requests_frame(view: SheetView) -> pd.DataFrame:
    tab = load_schema()["requests"]
    eff = view.plan.requests.effective.copy()
    for name in ("due_at", "due_state", "consultation"):
        if name in view.plan.requests.derived:
            eff[name] = view.plan.requests.derived[name]
    fields = list(REQUEST_FIELDS)
    if view.settings.show_names:
        fields.insert(2, "requester")
    frame = eff[[f for f in fields if f in eff.columns]].copy()
    frame["number"] = pd.to_numeric(frame["number"], errors="coerce").astype("Int64")
    frame = frame.sort_values(["due_at", "number"], na_position="last")
    return frame.rename(columns={f: tab.header(f) for f in frame.columns})


def request_tables(view: SheetView) -> dict[str, pd.DataFrame]:
    """Open, at-risk and overdue requests, earliest deadline first, headers as in the sheet."""
    frame = _requests_frame(view)
    state = frame[load_schema()["requests"].header("due_state")]
    overdue = frame[state == OVERDUE].copy()
    overdue[LATE_COLUMN] = [_late_text(view, row) for row in overdue.index]
    return {
        "Открытые": frame[state.isin(OPEN_STATES)].reset_index(drop=True),
        "Под угрозой": frame[state == AT_RISK].reset_index(drop=True),
        "Просроченные": overdue.reset_index(drop=True),
    }


LATE_COLUMN = "Просрочено на"


def _late_text(view: SheetView, row: object) -> str:
    """The same words as the summary's «Просрочено на»: «12,5 раб. ч (с 23.11, 9 календарных
    дней)»."""
    plan = view.plan.requests
    pos = plan.effective.index.get_loc(row)
    due_m = float(plan.due_minutes[pos])
    now_m = float(to_minutes([local_now(view.now, view.sheet_tz)], view.sheet_tz)[0])
    if view.plan.calendar is None or not np.isfinite(due_m):
        return "—"
    late = float(view.plan.calendar.between(due_m, now_m))
    days = int((now_m - due_m) // (24 * 60))
    due_at = plan.derived["due_at"].get(row)
    return late_by(late if np.isfinite(late) else None, due_at, days)


def request_counts(view: SheetView) -> pd.DataFrame:
    """How many requests are in each deadline state (one row per state)."""
    states = view.plan.requests.derived["due_state"]
    values = DUE_STATES
    counts = [int((states == v).sum()) for v in values]
    return pd.DataFrame({"Состояние срока": values, "Обращений": counts})


def week_bounds(now: dt.datetime, tz: str) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the consultation week of `now` (local): this week on a weekday,
    the coming one on Saturday and Sunday, as `journaldesk slots` shows it."""
    return agenda_week(local_now(now, tz).date())


def agenda_table(
    view: SheetView, day_from: dt.date | None = None, day_to: dt.date | None = None
) -> pd.DataFrame | str:
    """The week's consultations, one row per booking or per day without bookings."""
    from journaldesk.rules.booking import BookingRules, agenda, rooms_by_weekday

    if day_from is None or day_to is None:
        day_from, day_to = week_bounds(view.now, view.settings.timezone)
    tab = load_schema()["requests"]
    # The sync's own calendar and bookings, as the next sync leaves them in the sheet.
    calendar, bookings = view.plan.calendar, view.plan.bookings
    rooms = rooms_by_weekday(view.parsed["schedule"].frame)
    effective = view.plan.requests.effective
    days = agenda(
        effective,
        bookings.desired,
        calendar=calendar,
        rules=BookingRules.from_settings(view.settings),
        day_from=day_from,
        day_to=day_to,
        schedule_rooms=rooms,
        groups=bookings.groups,
    )
    # Who booked is a person's name: shown only when the settings allow names (152-ФЗ).
    show_names = view.settings.show_names
    rows = []
    for d in days:
        hours = ", ".join(f"{a:%H:%M}–{z:%H:%M}" for a, z in d.sessions)
        base = {
            "День": f"{d.day:%d.%m.%Y}",
            "Часы": hours or (d.closed_reason or "нет консультаций"),
            "Кабинет": d.room,
            "Свободных мест": d.free if d.sessions else None,
        }
        if not d.bookings and not d.groups:
            rows.append({**base, "Время": "", tab.header("number"): None})
        for g in d.groups:
            # A group session: one row per person coming (staff, not pupils), or one empty row.
            when = f"{g.slot.start:%H:%M}–{g.slot.end:%H:%M}, групповое занятие, мест {g.places}"
            for b in g.coming or (None,):
                rows.append(
                    {
                        **base,
                        "Время": when,
                        tab.header("number"): None if b is None else b.number,
                        **(
                            {tab.header("topic"): b.topic, tab.header("status"): b.status}
                            if b is not None
                            else {}
                        ),
                        **(
                            {tab.header("requester"): b.requester}
                            if show_names and b is not None
                            else {}
                        ),
                    }
                )
        for b in d.bookings:
            rows.append(
                {
                    **base,
                    "Время": f"{b.slot.start:%H:%M}–{b.slot.end:%H:%M}",
                    tab.header("number"): b.number,
                    tab.header("topic"): b.topic,
                    **({tab.header("requester"): b.requester} if show_names else {}),
                    tab.header("status"): b.status,
                }
            )
    table = pd.DataFrame(rows)
    for name in (tab.header("number"), "Свободных мест"):
        if name in table:
            table[name] = pd.to_numeric(table[name], errors="coerce").astype("Int64")
    return table


def consent_table(view: SheetView) -> pd.DataFrame:
    """Consent coverage per class with Russian column names (shares in per cent)."""
    today = local_now(view.now, view.settings.timezone).date()
    # coverage() keeps the sheet row in a column named "row"; parse_tab names the index "row"
    # too, and pandas refuses to sort on the ambiguous name: the index goes unnamed.
    cov = coverage(
        view.parsed["consent"].frame.rename_axis(None),
        today=today,
        rules=ConsentRules.from_settings(view.settings.consent),
        staff=view.parsed["staff"].frame.rename_axis(None),
    )
    table = cov.copy()
    table["ready_share"] = (table["ready_share"] * 100).round(1)
    table["target"] = (pd.to_numeric(table["target"], errors="coerce") * 100).round(1)
    table["behind"] = table["behind"].map({True: "да", False: ""})
    table.index.name = load_schema()["consent"].header("class_name")
    return table.rename(columns=COVERAGE_LABELS)


def consent_chart(table: pd.DataFrame) -> Any:
    """A bar per class: the share ready (application and consent), with the target line."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.8))
    shares = table[COVERAGE_LABELS["ready_share"]]
    colours = ["#c0392b" if b else "#2e86c1" for b in table[COVERAGE_LABELS["behind"]] == "да"]
    ax.bar([str(c) for c in table.index], shares, color=colours)
    targets = table[COVERAGE_LABELS["target"]].dropna()
    if len(targets):
        ax.axhline(float(targets.median()), color="#555", linestyle="--", label="цель")
        ax.legend(loc="lower right")
    ax.set_ylim(0, 100)
    ax.set_ylabel("готово, %")
    ax.set_title("Заявления и согласия по классам (красным — отстающие после срока)")
    fig.tight_layout()
    return fig


def weekly_figures(view: SheetView, week_start: dt.date | None = None) -> Any:
    """The week's figures (rules.summary), or a Russian note when it is not available."""
    try:
        from journaldesk.rules.summary import week_figures
    except ImportError:
        return "Недельные показатели недоступны: в этой версии нет модуля сводки."
    return week_figures(
        view.parsed,
        view.plan,
        view.settings,
        now=view.now,
        week_start=week_start,
        sheet_tz=view.sheet_tz,
    )


def figures_table(figures: Any) -> pd.DataFrame:
    """The headline figures of a week as a two-column table."""
    from journaldesk.sheet.textfmt import percent, working_hours

    rows = [
        ("Неделя", f"{figures.week_start:%d.%m.%Y} – {figures.last_day:%d.%m.%Y}"),
        ("Поступило обращений", figures.received),
        ("Решено", figures.resolved),
        ("Решено в срок", percent(figures.in_time_share)),
        ("Медиана решения", working_hours(figures.median_resolve_minutes)),
        ("Открыто сейчас", figures.open_now),
        ("Под угрозой сейчас", figures.at_risk_now),
        ("Просрочено сейчас", figures.overdue_now),
        ("Заявлений подано", percent(figures.applications_share)),
        ("Согласий ПД подписано", percent(figures.consent_share)),
        ("Ячеек с замечаниями", figures.problems_total),
    ]
    return pd.DataFrame(rows, columns=["Показатель", "Значение"]).astype({"Значение": str})


def trend_table(figures: Any) -> pd.DataFrame:
    """Week by week: received, resolved, resolved in time (per cent)."""
    return pd.DataFrame(
        [
            {
                "Неделя с": f"{p.week_start:%d.%m.%Y}",
                "Поступило": p.received,
                "Решено": p.resolved,
                "Решено в срок, %": (
                    None if p.in_time_share is None else round(p.in_time_share * 100, 1)
                ),
            }
            for p in figures.trend
        ]
    )


def trend_chart(trend: pd.DataFrame) -> Any:
    """Received and resolved per week (bars) and the share resolved in time (line)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 3.8))
    if trend.empty:
        ax.text(0.5, 0.5, "Нет данных за эти недели", ha="center", va="center")
        ax.set_axis_off()
        return fig
    x = range(len(trend))
    ax.bar([i - 0.2 for i in x], trend["Поступило"], width=0.4, label="поступило")
    ax.bar([i + 0.2 for i in x], trend["Решено"], width=0.4, label="решено")
    ax.set_xticks(list(x), trend["Неделя с"], rotation=30, ha="right")
    ax.set_ylabel("обращений")
    right = ax.twinx()
    right.plot(list(x), trend["Решено в срок, %"], color="#27ae60", marker="o", label="в срок, %")
    right.set_ylim(0, 100)
    right.set_ylabel("решено в срок, %")
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="upper left")
    ax.set_title("Обращения по неделям")
    fig.tight_layout()
    return fig


def history_table(view: SheetView) -> pd.DataFrame:
    """The «Сводка» tab (one row per week built so far), with its own headers."""
    tab = load_schema()["summary"]
    frame = view.parsed["summary"].frame
    return frame.rename(columns={c.field: c.header for c in tab.columns}).reset_index(drop=True)


def build_summary(settings: Settings, *, now: dt.datetime, send: bool = False) -> str:
    """Build the weekly summary (files and the «Сводка» row); a Russian line on what was made."""
    try:
        from journaldesk.jobs.report import run_summary, summary_line
    except ImportError:
        return "Сводка недоступна: в этой версии нет модуля отчётов."

    result = run_summary(open_store(settings), settings, now=now, send=send)
    return f"Сводка: {summary_line(result)}"


def problems_table(view: SheetView) -> pd.DataFrame:
    """Rows with a note in «Проверка», every tab: the tab, the row and the note."""
    rows = []
    schema = load_schema()
    names = view.names()
    for key, checks in view.plan.checks.items():
        for row, text in checks.items():
            if not is_blank(text):
                # A note quotes what was typed, and a typed cell may hold a name.
                shown = safe_text(text, names)
                rows.append(
                    {
                        "Лист": schema[key].title,
                        "Строка": int(row),
                        "Замечание": "(замечание скрыто: в нём может быть имя; откройте "
                        "строку в таблице)"
                        if shown is None
                        else shown,
                    }
                )
    return pd.DataFrame(rows, columns=["Лист", "Строка", "Замечание"])


# --- showing a table as a person writes it ------------------------------------------------------

TABLE_STYLES = [
    {"selector": "th", "props": "text-align: left; vertical-align: bottom;"},
    {
        "selector": "td",
        "props": "text-align: left; vertical-align: top; white-space: pre-wrap; max-width: 40em;",
    },
]


def cell_text(value: Any, *, dates_only: bool = False) -> str:
    """One value as a person writes it: ДД.ММ.ГГГГ ЧЧ:ММ, ДД.ММ.ГГГГ, ЧЧ:ММ, «12,5», «да»;
    an empty string for a missing value (None, NaN, NaT, <NA>)."""
    if is_blank(value):
        return ""
    if isinstance(value, dt.datetime):
        return f"{value:%d.%m.%Y}" if dates_only else f"{value:%d.%m.%Y %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%d.%m.%Y}"
    if isinstance(value, dt.time):
        return f"{value:%H:%M}"
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, float) or hasattr(value, "is_integer"):
        number = float(value)
        if number.is_integer():
            return str(int(number))
        return f"{number:.1f}".replace(".", ",")
    return str(value)


def _midnight_only(column: pd.Series) -> bool:
    moments = [v for v in column if isinstance(v, dt.datetime) and not is_blank(v)]
    return bool(moments) and all(v.hour == 0 and v.minute == 0 for v in moments)


def as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """The table with every cell as text a person reads (see cell_text), the index (when it
    names something, e.g. the class) as the first column, numbered rows dropped."""
    table = frame.copy()
    if table.index.name is not None or not isinstance(table.index, pd.RangeIndex):
        table = table.reset_index(drop=table.index.name is None)
    out = pd.DataFrame(index=range(len(table)))
    for name in table.columns:
        column = table[name].astype(object)
        dates_only = _midnight_only(column)
        out[name] = [cell_text(v, dates_only=dates_only) for v in column]
    return out


_UNBROKEN = re.compile(r"\d\d\.\d\d\.\d{4}( \d\d:\d\d)?|\d\d:\d\d|[−+-]?[\d ,]+( %)?")


def show(frame: pd.DataFrame) -> Any:
    """A table for the notebook: text as a person writes it (as_text), no index column, long
    notes wrapped in full rather than cut; dates, moments and numbers never broken."""
    text = as_text(frame)
    unbroken = [
        name
        for name in text.columns
        if any(text[name]) and all(not v or _UNBROKEN.fullmatch(v) for v in text[name])
    ]
    styler = text.style.hide(axis="index").set_table_styles(TABLE_STYLES)
    if unbroken:
        # Keyed by column, the rule outranks the table-wide pre-wrap (td.colN within the table).
        nowrap = [{"selector": "td", "props": "white-space: nowrap;"}]
        styler = styler.set_table_styles({name: nowrap for name in unbroken}, overwrite=False)
    return styler


def journal_table(view: SheetView, week_start: dt.date | None = None) -> pd.DataFrame | str:
    """Section I: the teachers of one week of «Заполнение ЭЖ» (the latest loaded by default),
    least filled first, with the tab's own headers; a Russian note when nothing is loaded."""
    tab = load_schema()["journal_fill"]
    parsed = view.parsed.get("journal_fill")
    hint = "Загрузите выгрузку уроков из журнала: journaldesk journal ФАЙЛ."
    if parsed is None:
        return f"Листа «{tab.title}» нет: создайте его командой journaldesk init. {hint}"
    frame = parsed.frame[parsed.frame["week_start"].notna() & parsed.frame["teacher"].notna()]
    if frame.empty:
        return f"Лист «{tab.title}» пока пуст. {hint}"
    week = week_start or max(frame["week_start"])
    rows = frame[frame["week_start"] == week].copy()
    if rows.empty:
        return f"За неделю с {week:%d.%m.%Y} выгрузка не загружена. {hint}"
    rows["filled_share"] = pd.to_numeric(rows["filled_share"], errors="coerce")
    rows = rows.sort_values(["filled_share", "teacher"], na_position="last")
    shown = [c.field for c in tab.columns if c.field not in ("week_start", "imported_at")]
    table = rows[shown].rename(columns={c.field: c.header for c in tab.columns})
    table.attrs["week_start"] = week
    return table.reset_index(drop=True)


def journal_chart(table: pd.DataFrame, threshold: float) -> Any:
    """A bar per teacher: the share of lessons filled in completely, red below the threshold."""
    import matplotlib.pyplot as plt

    tab = load_schema()["journal_fill"]
    shares = pd.to_numeric(table[tab.header("filled_share")], errors="coerce").fillna(0)
    names = list(table[tab.header("teacher")])
    fig, ax = plt.subplots(figsize=(9, max(2.5, 0.32 * len(names) + 1)))
    colours = ["#c0392b" if s < threshold * 100 else "#2e86c1" for s in shares]
    ax.barh(names, shares, color=colours)
    ax.axvline(threshold * 100, color="#555", linestyle="--", label="порог")
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("заполнено полностью, %")
    week = table.attrs.get("week_start")
    when = f" за неделю с {week:%d.%m.%Y}" if week else ""
    ax.set_title(f"Заполнение ЭЖ по учителям{when} (красным — ниже порога)")
    ax.legend(loc="lower right")
    fig.tight_layout()
    return fig
