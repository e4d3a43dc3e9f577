"""The «Изменения» tab: an append-only history of the key fields of every request.

Each sync compares what it sees with the last value the history holds for that request and field,
and appends one row per difference. The history is what pauses the deadline clock (time spent in
«Ждём заявителя») and what keeps № unique after rows are deleted.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from journaldesk.sheet.schema import load_schema
from journaldesk.sheet.textfmt import is_blank, moment

TRACKED = ("status", "assignee", "topic", "resolved_at", "consultation")


# «Было» of the first rows the history holds for a request.
FIRST_SIGHT = "новое обращение"


def display(value: object) -> str:
    """A value as the history shows it: moments as ДД.ММ.ГГГГ ЧЧ:ММ, empty as ''."""
    if value.__class__ is str:
        return value.strip()  # the common case first; blank text gives '' (NBSP included)
    if is_blank(value):
        return ""
    if isinstance(value, dt.datetime | pd.Timestamp):
        return moment(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def display_all(values: object) -> np.ndarray:
    """display() over a whole column: each distinct value of each type is shown once (1, 1.0
    and True are equal keys, but shown differently, so they are told apart by type first)."""
    cells = np.asarray(values, dtype=object).ravel()
    out = np.empty(len(cells), dtype=object)
    kinds = list(map(type, cells.tolist()))
    distinct = set(kinds)
    if len(distinct) == 1:
        groups: list = [slice(None)]
    else:
        number = {kind: i for i, kind in enumerate(distinct)}
        by_kind = np.fromiter(map(number.__getitem__, kinds), dtype=np.intp, count=len(kinds))
        groups = [np.flatnonzero(by_kind == i) for i in number.values()]
    for where in groups:
        codes, uniques = pd.factorize(cells[where], use_na_sentinel=True)
        shown = np.array([display(u) for u in uniques] + [""], dtype=object)
        out[where] = shown[codes]  # code -1 (None, NaN, NaT) takes the last: ''
    return out


def last_known(audit: pd.DataFrame) -> dict[str, pd.Series]:
    """The latest value the history holds: field header -> shown value by № (one Series each)."""
    if audit.empty:
        return {}
    rows = audit[audit["number"].notna() & audit["field"].notna()]
    rows = rows.assign(number=pd.to_numeric(rows["number"], errors="coerce")).dropna(
        subset=["number"]
    )
    rows = rows.assign(number=rows["number"].astype(int))
    # Appended in order, so the last row of a group is the latest observation. An empty «Стало»
    # is an observation too (a slot cleared): skipping it would re-record the change every run.
    latest = rows.drop_duplicates(["number", "field"], keep="last")
    shown = display_all(latest["new"].to_numpy(dtype=object))
    numbers = latest["number"].to_numpy()
    return {
        header: pd.Series(shown[where], index=numbers[where], dtype=object)
        for header, where in latest.groupby("field", sort=False).indices.items()
    }


def audit_rows(
    effective: pd.DataFrame,
    audit: pd.DataFrame,
    *,
    at: dt.datetime,
    job: str,
    fields: tuple[str, ...] = TRACKED,
    known: dict[str, pd.Series] | None = None,
) -> list[dict[str, object]]:
    """New history rows: one per (request, tracked field) whose value differs from the last held.

    `effective` is the requests frame after the sync's fills (with a unique № per row; rows with a
    missing or repeated № are left out: their history would be ambiguous).
    """
    req = load_schema()["requests"]
    numbers = pd.to_numeric(effective["number"], errors="coerce")
    usable = (numbers.notna() & ~numbers.duplicated(keep=False)).to_numpy()
    if not usable.any():
        return []
    ids = numbers.to_numpy()[usable].astype(int)
    # `known`: last_known(audit) when the caller already has it (it groups the whole history).
    known = last_known(audit) if known is None else known
    found: list[tuple[int, int, str, object, str]] = []  # (row position, field order, ...)
    for order, name in enumerate(fields):
        header = req.header(name)
        new = display_all(effective[name].to_numpy(dtype=object)[usable])
        held = known.get(header)
        before = (
            held.reindex(ids).to_numpy(dtype=object)
            if held is not None
            else np.full(len(ids), None, dtype=object)
        )
        unseen = pd.isna(before)
        changed = (unseen & (new != "")) | (~unseen & (new != np.where(unseen, "", before)))
        found.extend(
            (int(i), order, header, None if unseen[i] else before[i], new[i])
            for i in np.flatnonzero(changed)
        )
    # A request the history has never seen: «Было» says so instead of an empty quote.
    seen_numbers: set[int] = set()
    if any(f[3] is None for f in found):
        for held in known.values():
            seen_numbers.update(held.index.tolist())
    out = []
    for i, _, header, old, new in sorted(found, key=lambda f: (f[0], f[1])):
        number = int(ids[i])
        if old is None:
            old = "" if number in seen_numbers else FIRST_SIGHT
        out.append(
            {"number": number, "field": header, "old": old, "new": new, "at": at, "job": job}
        )
    return out
