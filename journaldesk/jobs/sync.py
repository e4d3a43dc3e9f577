"""One sync: read the sheet, apply the rules, write back only what differs, in one batch.

    read -> parse -> rules -> diff -> narrow re-read (find moved rows) -> one write -> log

The invariants of design.md are enforced here, in one place: a staff cell is never in the diff,
an auto-filled cell only while it is empty (checked again just before writing), and every write
is aimed at the row that still holds the same request, found by its identity, never by position.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from journaldesk.rules.audit import audit_rows
from journaldesk.rules.booking import BookingPlan, plan_bookings, rooms_by_weekday
from journaldesk.rules.calendar import build_calendar, calendar_notes
from journaldesk.rules.consent import consent_rows, school_classes
from journaldesk.rules.privacy import mask_all, password_notes
from journaldesk.rules.requests import RequestPlan, local_now, plan_requests
from journaldesk.rules.worktime import WorkCalendar
from journaldesk.settings import Settings
from journaldesk.sheet.frames import ParsedTab, parse_tab
from journaldesk.sheet.schema import Column, Schema, Tab, load_schema
from journaldesk.sheet.textfmt import is_blank
from journaldesk.store.base import (
    NUMBER_FORMATS,
    CellValue,
    CellWrite,
    Snapshot,
    Store,
)

log = logging.getLogger(__name__)

JOB_SYNC = "Синхронизация"


@dataclass(frozen=True)
class Pending:
    """A cell the rules want: tab, the sheet row it was read from, field, value."""

    tab: str
    row: int
    field: str
    value: CellValue
    only_if_empty: bool = False


@dataclass
class SyncReport:
    """What one sync did, for the Журнал row, the local log and the CLI."""

    started: dt.datetime
    rows: int = 0
    cells: int = 0
    new_numbers: int = 0
    problems: int = 0
    new_problems: int = 0
    moved: int = 0
    api_calls: int = 0
    seconds: float = 0.0
    wrote: bool = False
    open: int = 0
    at_risk: int = 0
    overdue: int = 0
    notes: list[str] = field(default_factory=list)

    def summary_ru(self) -> str:
        """One Russian line for the console and the log."""
        return (
            f"прочитано обращений: {self.rows}; изменено ячеек: {self.cells}; "
            f"новых №: {self.new_numbers}; строк с замечаниями: {self.problems}; "
            f"отложено до следующего запуска: {self.moved}; вызовов API: {self.api_calls}; "
            f"{self.seconds:.1f} с"
        )


# --- comparing what is there with what should be ------------------------------------------------


def _minute(value: object) -> object:
    if isinstance(value, dt.datetime | pd.Timestamp):
        return pd.Timestamp(value).round("min").to_pydatetime().replace(tzinfo=None)
    return value


def same_value(current: object, desired: object, column: Column, sheet_tz: str) -> bool:
    """Whether a cell already holds the desired value (dates compared to the minute)."""
    if is_blank(desired):
        return is_blank(current)
    if is_blank(current):
        return False
    if column.type in ("datetime", "date", "time"):
        from journaldesk.sheet.cells import parse_cell

        parsed = parse_cell(current, column, sheet_tz=sheet_tz)
        return parsed.problem is None and _minute(parsed.value) == _minute(desired)
    if column.type in ("int", "number"):
        try:
            return float(current) == float(desired)
        except (TypeError, ValueError):
            return False
    # Text columns: a number or a date a person typed is kept as typed, never "corrected".
    return current == desired if isinstance(current, str) else str(desired) == str(current)


def plain(value: object) -> CellValue:
    """A value safe to send to a store: no NaN, no numpy or pandas scalars."""
    if is_blank(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value  # type: ignore[return-value]


def diff_tab(
    parsed: ParsedTab,
    desired: pd.DataFrame,
    *,
    sheet_tz: str,
    only_if_empty: bool,
) -> list[Pending]:
    """The cells of `desired` (index: sheet row, columns: fields) that differ from the sheet.

    Staff columns are refused outright: this is the choke point of "staff cells are sacred".
    """
    tab = parsed.tab
    out: list[Pending] = []
    for field_name in desired.columns:
        column = tab.col(field_name)
        if column.owner == "staff":
            raise AssertionError(
                f"rules tried to write the staff column {tab.title}/{column.header}"
            )
        if only_if_empty and column.owner != "auto":
            raise AssertionError(f"fill of a non-auto column {tab.title}/{column.header}")
        wanted = desired[field_name]
        current = parsed.raw[field_name].reindex(wanted.index)
        for row, value, cur in zip(
            wanted.index, wanted.to_numpy(), current.to_numpy(), strict=True
        ):
            if only_if_empty and (is_blank(value) or not is_blank(cur)):
                continue
            if not only_if_empty and same_value(cur, value, column, sheet_tz):
                continue
            out.append(Pending(tab.key, int(row), field_name, plain(value), only_if_empty))
    return out


def _checks(index: pd.Index, notes: dict[int, list[str]], parsed: ParsedTab) -> pd.Series:
    """The Проверка text per row: the cell problems and the rules' notes, secrets masked."""
    texts = []
    for row in index:
        items = [*parsed.problems.get(int(row), []), *notes.get(int(row), [])]
        texts.append(mask_all("; ".join(dict.fromkeys(items))) if items else None)
    return pd.Series(texts, index=index, dtype=object)


# --- finding rows again just before writing -----------------------------------------------------


def _key(value: object) -> str:
    if is_blank(value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\xa0", " ").strip()


def identity_fields(tab: Tab) -> list[str]:
    """The fields that identify a row of this tab (its identity plus the same-content fallback)."""
    return list(dict.fromkeys([*tab.identity, *tab.fallback_identity]))


def remap_rows(before: list[tuple[str, ...]], after: list[tuple[str, ...]]) -> dict[int, int]:
    """Map positions in `before` to positions in `after` by identity key.

    Rows with a unique key are found wherever they moved. Rows sharing a key (e.g. the same
    request typed twice) are paired in order only when both sides hold the same number of them;
    otherwise they are left for the next run. Rows whose key is all empty are never matched.
    """
    where_before: dict[tuple[str, ...], list[int]] = {}
    where_after: dict[tuple[str, ...], list[int]] = {}
    for i, k in enumerate(before):
        if any(k):
            where_before.setdefault(k, []).append(i)
    for i, k in enumerate(after):
        if any(k):
            where_after.setdefault(k, []).append(i)
    mapping: dict[int, int] = {}
    for k, olds in where_before.items():
        news = where_after.get(k, [])
        if len(news) == len(olds):
            mapping.update(zip(olds, news, strict=True))
    return mapping


def aim(
    store: Store, pending: list[Pending], parsed: dict[str, ParsedTab], schema: Schema
) -> tuple[list[CellWrite], int]:
    """Turn pending cells into writes aimed at where their rows are *now*.

    One narrow re-read of every tab with pending row cells, in one call (the identity columns
    and the auto-filled columns). A row that moved is followed; a row that vanished or became
    ambiguous is skipped; an auto-fill whose cell a person filled meanwhile is dropped.
    Returns (writes, skipped).
    """
    writes: list[CellWrite] = []
    skipped = 0
    by_tab: dict[str, list[Pending]] = {}
    for p in pending:
        by_tab.setdefault(p.tab, []).append(p)
    layout: dict[str, tuple[list[str], list[str], list[int]]] = {}
    for key, items in by_tab.items():
        p_tab = parsed[key]
        ids = identity_fields(p_tab.tab)
        fills = sorted({p.field for p in items if p.only_if_empty})
        layout[key] = (ids, fills, [p_tab.col_index[f] for f in ids + fills])
    fresh_by_title = store.read_columns_many(
        {parsed[key].tab.title: cols for key, (_, _, cols) in layout.items()}
    )
    for key, items in by_tab.items():
        p_tab = parsed[key]
        tab = p_tab.tab
        ids, fills, cols = layout[key]
        fresh = fresh_by_title[tab.title]
        snap_rows = list(p_tab.raw.index)
        before = [tuple(_key(p_tab.raw.at[r, f]) for f in ids) for r in snap_rows]
        after = [tuple(_key(v) for v in _pad(row, len(cols))[: len(ids)]) for row in fresh[1:]]
        mapping = remap_rows(before, after)
        row_pos = {r: i for i, r in enumerate(snap_rows)}
        for p in items:
            pos = mapping.get(row_pos[p.row])
            if pos is None:
                skipped += 1
                continue
            now_row = pos + 2  # fresh[0] is the header row, sheet rows are 1-based
            if p.only_if_empty:
                current = _pad(fresh[pos + 1], len(cols))[len(ids) + fills.index(p.field)]
                if not is_blank(current):
                    skipped += 1
                    continue
            column = tab.col(p.field)
            writes.append(
                CellWrite(
                    tab.title,
                    now_row,
                    p_tab.col_index[p.field],
                    p.value,
                    NUMBER_FORMATS.get(column.type),
                )
            )
    return writes, skipped


def _pad(row: list, n: int) -> list:
    return list(row) + [None] * (n - len(row))


def append_cells(parsed: ParsedTab, rows: list[dict[str, object]]) -> list[CellWrite]:
    """Cells that append rows at the end of an append-only tab."""
    tab = parsed.tab
    out = []
    for i, values in enumerate(rows):
        sheet_row = parsed.last_row + 1 + i
        for field_name, value in values.items():
            column = tab.col(field_name)
            out.append(
                CellWrite(
                    tab.title,
                    sheet_row,
                    parsed.col_index[field_name],
                    plain(value),
                    NUMBER_FORMATS.get(column.type),
                )
            )
    return out


# --- the run --------------------------------------------------------------------------------------


def parse_snapshot(snap: Snapshot, schema: Schema, sheet_tz: str) -> dict[str, ParsedTab]:
    """Every tab of the contract parsed; a missing tab or header raises StructureError first."""
    return {
        key: parse_tab(snap.tabs.get(tab.title), tab, sheet_tz=sheet_tz)
        for key, tab in schema.tabs.items()
    }


@dataclass
class SheetPlan:
    """Everything the rules want for one sync."""

    pending: list[Pending]
    requests: RequestPlan
    history: list[dict[str, object]]
    checks: dict[str, pd.Series]  # tab key -> desired Проверка per row
    # tab key -> sheet rows left alone because nothing identifies them (e.g. only a status typed)
    unfound: dict[str, list[int]] = field(default_factory=dict)
    bookings: BookingPlan | None = None
    calendar: WorkCalendar | None = None


def plan_sheet(
    parsed: dict[str, ParsedTab], settings: Settings, *, now: dt.datetime, sheet_tz: str
) -> SheetPlan:
    """Everything the rules want written: auto fills, derived cells and new history rows."""
    req = parsed["requests"]
    calendar = build_calendar(
        parsed["schedule"].frame,
        parsed["calendar"].frame,
        tz=settings.timezone,
        earliest=req.frame["received_at"],
        now=now,
    )
    audit_frame = parsed["changes"].frame
    plan = plan_requests(
        req.frame,
        req.raw,
        now=now,
        settings=settings,
        calendar=calendar,
        audit=audit_frame,
        sheet_tz=sheet_tz,
    )
    bookings = plan_bookings(
        plan.effective,
        req.raw["consultation"],
        calendar=calendar,
        settings=settings,
        now=now,
        sheet_tz=sheet_tz,
        schedule_rooms=rooms_by_weekday(parsed["schedule"].frame),
    )
    plan.derived["consultation"] = bookings.desired
    plan.effective["consultation"] = bookings.desired  # the history shows old -> new slot
    for row, items in bookings.notes.items():
        plan.notes.setdefault(row, []).extend(items)
    for row, items in password_notes(req.frame["description"]).items():
        plan.notes.setdefault(row, []).extend(items)
    checks = {"requests": _checks(req.frame.index, plan.notes, req)}
    plan.derived["check"] = checks["requests"]
    pending = diff_tab(req, plan.fills, sheet_tz=sheet_tz, only_if_empty=True)
    pending += diff_tab(req, plan.derived, sheet_tz=sheet_tz, only_if_empty=False)

    cal = parsed["calendar"]
    checks["calendar"] = _checks(cal.frame.index, calendar_notes(cal.frame, now=now), cal)
    pending += diff_tab(
        cal, checks["calendar"].to_frame("check"), sheet_tz=sheet_tz, only_if_empty=False
    )

    con = parsed["consent"]
    rules = settings.consent_rules()
    con_rows = consent_rows(
        con.frame,
        today=local_now(now, settings.timezone).date(),
        rules=rules,
        known_classes=school_classes(rules, staff=parsed["staff"].frame),
    )
    con_notes = {int(r): [t] for r, t in con_rows["check"].items() if not is_blank(t)}
    checks["consent"] = _checks(con.frame.index, con_notes, con)
    con_desired = pd.DataFrame(
        {"state": con_rows["state"], "check": checks["consent"]}, index=con.frame.index
    )
    pending += diff_tab(con, con_desired, sheet_tz=sheet_tz, only_if_empty=False)

    history = audit_rows(plan.effective, audit_frame, at=local_now(now, sheet_tz), job=JOB_SYNC)
    pending, unfound = _identifiable(pending, parsed)
    return SheetPlan(
        pending=pending,
        requests=plan,
        history=history,
        checks=checks,
        unfound=unfound,
        bookings=bookings,
        calendar=calendar,
    )


def _identifiable(
    pending: list[Pending], parsed: dict[str, ParsedTab]
) -> tuple[list[Pending], dict[str, list[int]]]:
    """Drop cells of rows whose identity cells are all empty: they could not be found again."""
    blank: dict[str, set[int]] = {}
    for key, p_tab in parsed.items():
        ids = identity_fields(p_tab.tab)
        if ids and len(p_tab.raw):
            empty = p_tab.raw[ids].map(is_blank).all(axis=1)
            blank[key] = set(p_tab.raw.index[empty.to_numpy()])
    kept = [p for p in pending if p.row not in blank.get(p.tab, ())]
    unfound = {
        k: sorted({p.row for p in pending if p.tab == k and p.row in rows})
        for k, rows in blank.items()
    }
    return kept, {k: v for k, v in unfound.items() if v}


def unchecked_notes(parsed: dict[str, ParsedTab]) -> list[str]:
    """Cell problems of tabs without a «Проверка» column (График, Сотрудники...): with no cell
    to show them in, they go to the run's notes, so they are logged instead of lost."""
    out = []
    for p_tab in parsed.values():
        if "check" in p_tab.tab.fields:
            continue
        for row, items in p_tab.problems.items():
            text = "; ".join(dict.fromkeys(items))
            out.append(mask_all(f"Лист «{p_tab.tab.title}», строка {row}: {text}"))
    return out


def sync(
    store: Store,
    settings: Settings,
    *,
    now: dt.datetime,
    schema: Schema | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> SyncReport:
    """Run one sync against a store. Raises UserError/OutsideFailure; writes nothing on error."""
    schema = schema or load_schema()
    t0 = clock()
    report = SyncReport(started=now)
    with store.lock():
        calls0 = store.api_calls
        snap = store.read()
        sheet_tz = snap.time_zone or settings.timezone
        parsed = parse_snapshot(snap, schema, sheet_tz)
        plan = plan_sheet(parsed, settings, now=now, sheet_tz=sheet_tz)
        _count(report, plan, parsed)
        for key, rows in plan.unfound.items():
            report.notes.append(
                f"Лист «{schema[key].title}», строки {', '.join(map(str, rows))}: не заполнен "
                f"ни один из столбцов "
                f"{', '.join(schema[key].header(f) for f in identity_fields(schema[key]))} — "
                f"строки пропущены, пока их не заполнят"
            )
        report.notes += unchecked_notes(parsed)
        for text in report.notes:
            log.warning(text)
        if not plan.pending and not plan.history:
            return _no_write(report, store.api_calls - calls0, clock() - t0, "без изменений")

        writes, report.moved = aim(store, plan.pending, parsed, schema)
        number_col = (schema["requests"].title, parsed["requests"].col_index["number"])
        given = {w.value for w in writes if (w.title, w.col) == number_col}
        # A new row that moved before its № was written gets a new № next time: keep its
        # history out, or the history would hold a request that never existed.
        unwritten = set(plan.requests.new_numbers.values()) - given
        history = [h for h in plan.history if h["number"] not in unwritten]
        if not writes and not history:
            return _no_write(
                report, store.api_calls - calls0, clock() - t0, "всё отложено до следующего запуска"
            )
        history_cells = append_cells(parsed["changes"], history)
        report.cells = len(writes)
        report.new_numbers = len(given)
        report.seconds = clock() - t0
        # The write itself is the last call: count it in the row that goes with it.
        report.api_calls = store.api_calls - calls0 + 1
        journal = append_cells(parsed["log"], [journal_row(report, local_now(now, sheet_tz))])
        store.write(writes + history_cells + journal)
        report.wrote = True
        report.api_calls = store.api_calls - calls0
    log.info("Синхронизация: %s", report.summary_ru())
    return report


def _no_write(report: SyncReport, calls: int, seconds: float, why: str) -> SyncReport:
    """Finish a run that writes nothing: no quota spent, no noise in the sheet; the log has it."""
    report.api_calls, report.seconds = calls, seconds
    log.info("Синхронизация (%s): %s", why, report.summary_ru())
    return report


def _count(report: SyncReport, plan: SheetPlan, parsed: dict[str, ParsedTab]) -> None:
    """Fill the report's headline figures from the plan."""
    state = plan.requests.derived["due_state"]
    on_time, at_risk, overdue, paused = load_schema()["requests"].col("due_state").values[:4]
    report.rows = len(parsed["requests"].frame)
    report.open = int(state.isin([on_time, at_risk, overdue, paused]).sum())
    report.at_risk = int((state == at_risk).sum())
    report.overdue = int((state == overdue).sum())
    report.problems = int(sum((~c.map(is_blank)).sum() for c in plan.checks.values()))
    report.new_problems = sum(1 for p in plan.pending if p.field == "check" and p.value)


def journal_row(report: SyncReport, at: dt.datetime) -> dict[str, object]:
    """The Журнал row of a run."""
    results = load_schema().enums["run_result"]
    message = report.summary_ru()
    if report.moved:
        message += "; часть строк сдвинули во время записи — допишем при следующем запуске"
    return {
        "at": at,
        "job": JOB_SYNC,
        "result": results[1] if report.problems else results[0],
        "rows": report.rows,
        "cells": report.cells,
        "new_numbers": report.new_numbers,
        "problems": report.problems,
        "api_calls": report.api_calls,
        "seconds": round(report.seconds, 2),
        "message": message,
    }
