"""`journaldesk init`: what a sheet lacks of the contract, as a plan a store applies.

The plan holds only what is missing, so a second `init` finds nothing to do, and it never asks to
delete or overwrite anything: headers go only into an empty first row, seed rows only into an
empty «График» or «Календарь».
"""

from __future__ import annotations

from typing import Any

from journaldesk.rules.school_year import regulation_hours, school_year_entries
from journaldesk.sheet.frames import find_headers
from journaldesk.sheet.schema import Schema, Tab, load_schema
from journaldesk.sheet.textfmt import is_blank
from journaldesk.store.base import NUMBER_FORMATS, InitPlan, Snapshot

# Which state column gets colours, and which colour each value gets.
_HIGHLIGHTS = {
    "requests": (
        "due_state",
        {"Просрочено": "red", "Под угрозой": "amber", "Решено с опозданием": "amber"},
    ),
    "consent": ("state", {"Отозвано": "red", "Ждём дольше срока": "amber", "Готово": "green"}),
}


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


def seed_rows(
    schema: Schema, key: str, *, year_start: int, room: str = "", consultant: str = ""
) -> list[list[Any]]:
    """Rows that `init` puts into an empty «График» (the regulation's hours) or «Календарь»."""
    tab = schema[key]
    if key == "schedule":
        weekdays = schema.enums["weekday"]
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
            {
                "date_from": e.date_from,
                "date_to": e.date_to,
                "kind": e.kind,
                "time_from": e.time_from,
                "time_to": e.time_to,
                "comment": e.comment,
            }
            for e in school_year_entries(year_start)
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
    year_start: int = 2026,
    room: str = "",
    consultant: str = "",
    schema: Schema | None = None,
) -> InitPlan:
    """What the sheet lacks: tabs, headers, frozen rows, dropdowns, formats, colours, seeds."""
    schema = schema or load_schema()
    plan = InitPlan()
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
        if spec and cols.get(spec[0]) and cols[spec[0]] not in info.get("highlight_cols", set()):
            plan.highlights.append((tab.title, cols[spec[0]], spec[1]))
        if key in ("schedule", "calendar"):
            has_rows = data is not None and any(
                not all(is_blank(v) for v in r) for r in data.rows[1:]
            )
            if not has_rows:
                plan.seed_rows.append(
                    (
                        tab.title,
                        seed_rows(
                            schema, key, year_start=year_start, room=room, consultant=consultant
                        ),
                    )
                )
    return plan
