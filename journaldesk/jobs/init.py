"""`journaldesk init`: what a sheet lacks of the contract, as a plan a store applies.

The plan holds only what is missing, so a second `init` finds nothing to do, and it never asks to
delete or overwrite anything: headers go only into an empty first row, the regulation's hours
only into an empty «График». «Календарь» is merged: the rows of the current school year (and of
the next one from July) that the tab lacks are added after the rows already there; a row a person
made is never changed. The seed comes from the `holidays` package, the region's days off and
config/calendar.yaml, which is read here (the rules take it as data).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from journaldesk.errors import SettingsError
from journaldesk.resources import default_file
from journaldesk.rules.school_year import (
    REGION_CRIMEA,
    regulation_hours,
    school_year_entries,
    school_year_start,
    year_plan,
)
from journaldesk.rules.worktime import CalendarEntry
from journaldesk.sheet.frames import find_headers, parse_tab
from journaldesk.sheet.schema import Column, Schema, Tab, load_schema
from journaldesk.sheet.textfmt import is_blank
from journaldesk.sheet.vocab import (
    AT_RISK,
    OVERDUE,
    STATE_READY,
    STATE_REVOKED,
    STATE_WAITING_LONG,
    WEEKDAYS,
)
from journaldesk.store.base import NUMBER_FORMATS, InitPlan, Snapshot, TabLook, header_width

# Which state column gets colours, and which colour each value gets. A colour means one thing:
# red — late, amber — about to be late; finished rows stay neutral (a request resolved late is
# history, not a warning), so no value of a closed row is painted.
_HIGHLIGHTS = {
    "requests": ("due_state", {OVERDUE: "red", AT_RISK: "amber"}),
    "consent": ("state", {STATE_REVOKED: "red", STATE_WAITING_LONG: "amber", STATE_READY: "green"}),
}

# Column widths in characters (the width of a digit). A moment «29.11.2026 14:30» is 16
# characters of digits and narrower separators; 18 keeps it clear of `###` in Excel and
# LibreOffice at 100 % with either's default font.
TYPE_WIDTHS = {
    "datetime": 18.0,
    "date": 12.5,
    "time": 8.0,
    "int": 8.0,
    "number": 11.0,
    "class": 8.0,
    "email": 38.0,
}
# Long free text wraps inside a fixed width instead of running under the next column.
WRAP_WIDTHS = {
    "description": 50.0,
    "check": 50.0,
    "comment": 40.0,
    "message": 60.0,
    "position": 30.0,
    "old": 30.0,
    "new": 30.0,
}
# Names and other short text: wide enough for a full Russian name (surname, name, patronymic).
TEXT_WIDTHS = {
    "requester": 34.0,
    "pupil": 34.0,
    "parent": 34.0,
    "full_name": 34.0,
    "assignee": 30.0,
    "consultant": 30.0,
    "consultation": 36.0,
    "room": 10.0,
    "job": 22.0,
}
TEXT_WIDTH = 20.0
TEXT_MAX = 45.0
# The header row wraps, so a long header needs its longest word and at most two lines' worth;
# the filter button takes about three digits.
HEADER_MAX = 16.0
FILTER_BUTTON = 3.0


def column_width(column: Column, values: list[Any] | tuple[Any, ...] = ()) -> float:
    """The width a column gets from its type, its header and (text) the widest value in it."""
    if column.field in WRAP_WIDTHS and column.type == "text":
        base = WRAP_WIDTHS[column.field]
    elif column.type in TYPE_WIDTHS:
        base = TYPE_WIDTHS[column.type]
    elif column.type == "enum" and column.values:
        base = min(max(len(v) for v in column.values) + 2.0, TEXT_MAX)
    else:
        base = TEXT_WIDTHS.get(column.field, TEXT_WIDTH)
        lengths = [len(str(v)) for v in values if not is_blank(v)]
        if lengths:
            base = max(base, min(max(lengths) + 2.0, TEXT_MAX))
    word = max(len(w) for w in column.header.split()) * 1.15 + FILTER_BUTTON
    header = max(word, min(len(column.header) * 1.1 + FILTER_BUTTON, HEADER_MAX))
    return round(max(base, header), 1)


def wraps(column: Column) -> bool:
    """Whether the column's text wraps (long free text: descriptions, notes, comments)."""
    return column.type == "text" and column.field in WRAP_WIDTHS


def _look(
    tab: Tab, cols: dict[str, int], data_rows: list[list[Any]], info: dict[str, Any]
) -> TabLook | None:
    """What the tab lacks of its look; None when it has it all. A width is set only where the
    column has none, or still has the one the first `init` gave it: a width a person set stays."""
    known = info.get("widths")
    if known is None and info.get("filtered"):
        return None  # a store that cannot tell widths: the filter says the look was given
    widths: dict[int, float] = {}
    for column in tab.columns:
        col = cols.get(column.field)
        if col is None:
            continue
        values = [r[col - 1] for r in data_rows if col - 1 < len(r)]
        want = column_width(column, values)
        if known is None:
            widths[col] = want
            continue
        have = known.get(col)
        if have is None or (
            abs(have - header_width(column.header)) < 0.01 and abs(have - want) >= 0.01
        ):
            widths[col] = want
    if info.get("filtered") and not widths:
        return None
    return TabLook(
        title=tab.title,
        columns=max(cols.values()),
        widths=widths,
        wrap=[cols[c.field] for c in tab.columns if c.field in cols and wraps(c)],
        program=[cols[c.field] for c in tab.columns if c.field in cols and c.owner == "derived"],
    )


def _highlight_spec(schema: Schema, key: str) -> tuple[str, dict[str, str]] | None:
    spec = _HIGHLIGHTS.get(key)
    if spec is None:
        return None
    field, colours = spec
    allowed = set(schema[key].col(field).values)
    # The colours name enum values; a renamed value in schema.yaml must not go unnoticed.
    unknown = set(colours) - allowed
    if unknown:
        raise ValueError(f"init highlights name values not in the schema: {sorted(unknown)}")
    return field, colours


def load_calendar_plan(path: Path | None = None) -> dict[str, Any]:
    """The school's calendar plan (config/calendar.yaml): school years, vacations, regional days."""
    source = Path(path) if path is not None else default_file("calendar.yaml")
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SettingsError(f"Не найден файл календаря школы: {source}.") from exc
    except yaml.YAMLError as exc:
        raise SettingsError(f"Файл календаря {source} не читается как YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"Файл календаря {source}: ожидался раздел school_years.")
    data["_path"] = str(source)
    return data


def seed_years(today: dt.date) -> list[int]:
    """The school years `init` seeds: the current one, and from July the next one too."""
    year = school_year_start(today)
    return [year, year + 1] if today.month in (7, 8) else [year]


def calendar_seed(
    years: Iterable[int], plan: Mapping[str, Any] | None = None, *, region: str = REGION_CRIMEA
) -> list[CalendarEntry]:
    """Every seed row of «Календарь» for the given school years."""
    plan = load_calendar_plan() if plan is None else plan
    return [e for y in years for e in school_year_entries(y, plan, region=region)]


def missing_years(today: dt.date, plan: Mapping[str, Any]) -> list[int]:
    """Seeded school years the calendar plan has no section for (so no vacations are known)."""
    return [y for y in seed_years(today) if year_plan(plan, y) is None]


def _calendar_missing(
    seeds: list[CalendarEntry], existing: list[tuple[Any, Any, Any]]
) -> list[CalendarEntry]:
    """Seed rows the tab lacks: no row of the same type covers any of their days."""
    spans: dict[str, list[tuple[dt.date, dt.date]]] = {}
    for date_from, date_to, kind in existing:
        if isinstance(date_from, dt.date) and not is_blank(kind):
            last = date_to if isinstance(date_to, dt.date) else date_from
            spans.setdefault(str(kind), []).append((min(date_from, last), max(date_from, last)))
    return [
        e
        for e in seeds
        if not any(a <= e.date_to and e.date_from <= b for a, b in spans.get(e.kind, ()))
    ]


def calendar_row_values(e: CalendarEntry) -> dict[str, Any]:
    """A «Календарь» row by field name."""
    return {
        "date_from": e.date_from,
        "date_to": e.date_to,
        "kind": e.kind,
        "time_from": e.time_from,
        "time_to": e.time_to,
        "comment": e.comment,
    }


def _as_row(values: dict[str, Any], cols: Mapping[str, int]) -> list[Any]:
    row: list[Any] = [None] * max(cols.values(), default=0)
    for name, col in cols.items():
        row[col - 1] = values.get(name)
    return row


def seed_rows(
    schema: Schema,
    key: str,
    *,
    year_start: int,
    room: str = "",
    consultant: str = "",
    calendar_plan: Mapping[str, Any] | None = None,
    region: str = REGION_CRIMEA,
) -> list[list[Any]]:
    """Rows that `init` puts into an empty «График» (the regulation's hours) or «Календарь»."""
    tab = schema[key]
    if key == "schedule":
        weekdays = WEEKDAYS
        rows = [
            {
                "weekday": weekdays[h.weekday],
                "start": h.start,
                "end": h.end,
                "room": room,
                "consultant": consultant,
            }
            for h in regulation_hours()
        ]
    elif key == "calendar":
        rows = [
            calendar_row_values(e)
            for e in calendar_seed([year_start], calendar_plan, region=region)
        ]
    else:
        return []
    return [[r.get(c.field) for c in tab.columns] for r in rows]


def _columns(tab: Tab, snap: Snapshot) -> dict[str, int] | None:
    data = snap.tabs.get(tab.title)
    if data is None or not data.rows or all(is_blank(v) for v in data.rows[0]):
        return {c.field: i + 1 for i, c in enumerate(tab.columns)}
    try:
        return find_headers(data.rows[0], tab)
    except Exception:  # a broken header row is doctor's business; init leaves it alone
        return None


def plan_init(
    snap: Snapshot,
    described: dict[str, Any],
    *,
    today: dt.date | None = None,
    room: str = "",
    consultant: str = "",
    calendar_plan: Mapping[str, Any] | None = None,
    region: str = REGION_CRIMEA,
    schema: Schema | None = None,
) -> InitPlan:
    """What the sheet lacks: tabs, headers, frozen rows, dropdowns, formats, colours, seeds and
    the look (widths, wrap, filter, print setup)."""
    schema = schema or load_schema()
    plan = InitPlan()
    # The school year is the one of `today` (the caller's clock; the computer's when not given).
    today = today or dt.date.today()
    seeds = calendar_seed(seed_years(today), calendar_plan, region=region)
    for key, tab in schema.tabs.items():
        data = snap.tabs.get(tab.title)
        info = described.get(tab.title, {})
        if data is None:
            plan.new_tabs.append((tab.title, tab.headers))
        elif not data.rows or all(is_blank(v) for v in data.rows[0]):
            plan.headers.append((tab.title, tab.headers))
        cols = _columns(tab, snap)
        if cols is None:
            continue
        if not info.get("frozen"):
            plan.frozen_header.append(tab.title)
        for column in tab.columns:
            col = cols.get(column.field)
            if col is None:
                continue
            if column.type == "enum" and column.owner != "derived":
                known = info.get("dropdown_values", {}).get(col)
                missing = col not in info.get("dropdown_cols", set())
                # A list that changed in schema.yaml (a new topic) is put in again.
                stale = known is not None and list(known) != list(column.values)
                if missing or stale:
                    plan.dropdowns.append((tab.title, col, list(column.values)))
            fmt = NUMBER_FORMATS.get(column.type)
            if fmt and info.get("format_cols", {}).get(col) != fmt:
                plan.number_formats.append((tab.title, col, fmt))
            if column.owner == "derived" and col not in info.get("protected_cols", set()):
                plan.protected.append((tab.title, col))
        spec = _highlight_spec(schema, key)
        if spec and cols.get(spec[0]):
            col = cols[spec[0]]
            known = info.get("highlight_values", {}).get(col)
            # Colours from an older contract (a finished row painted amber) are put right.
            stale = known is not None and dict(known) != spec[1]
            if col not in info.get("highlight_cols", set()) or stale:
                plan.highlights.append((tab.title, col, spec[1]))
        look = _look(tab, cols, data.rows[1:] if data is not None else [], info)
        if look is not None:
            plan.looks.append(look)
        if key == "schedule":
            has_rows = data is not None and any(
                not all(is_blank(v) for v in r) for r in data.rows[1:]
            )
            if not has_rows:
                hours = seed_rows(schema, key, year_start=0, room=room, consultant=consultant)
                plan.seed_rows.append((tab.title, hours))
        elif key == "calendar":
            missing = calendar_rows_missing(snap, seeds, schema)
            if missing:
                plan.seed_rows.append(
                    (tab.title, [_as_row(calendar_row_values(e), cols) for e in missing])
                )
    return plan


def calendar_rows_missing(
    snap: Snapshot, seeds: list[CalendarEntry], schema: Schema | None = None
) -> list[CalendarEntry]:
    """The seed rows «Календарь» lacks (all of them when the tab is missing or empty)."""
    tab = (schema or load_schema())["calendar"]
    data = snap.tabs.get(tab.title)
    if data is None or not data.rows or all(is_blank(v) for v in data.rows[0]):
        return list(seeds)
    try:
        frame = parse_tab(data, tab).frame
    except Exception:  # a broken header row is doctor's business; init leaves it alone
        return []
    existing = list(zip(frame["date_from"], frame["date_to"], frame["kind"], strict=True))
    return _calendar_missing(seeds, existing)
