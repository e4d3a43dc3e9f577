"""Pure rules for the «Обращения» tab: numbers, automatic fills, deadlines and their state.

Everything here takes typed frames and `now` and returns desired values; nothing reads a sheet or
a clock. The sync compares the desired values with the cells and writes only the differences.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from journaldesk.rules.audit import audit_rows
from journaldesk.rules.worktime import WorkCalendar, from_minutes, to_minutes
from journaldesk.settings import Settings
from journaldesk.sheet.schema import Schema, load_schema
from journaldesk.sheet.textfmt import blank_frame
from journaldesk.sheet.vocab import (
    AT_RISK,
    NEW,
    ON_TIME,
    OVERDUE,
    PAUSED,
    REJECTED,
    RESOLVED,
    RESOLVED_LATE,
    RESOLVED_ON_TIME,
    WAITING,
)

_REQ = load_schema()["requests"]


@dataclass
class RequestPlan:
    """What the rules want in the requests tab, by sheet row.

    `fills` holds auto-filled staff cells (written only where the cell is empty); `derived` holds
    the jobs' own columns. Both are indexed by sheet row with one column per field.
    """

    fills: pd.DataFrame
    derived: pd.DataFrame
    numbers: pd.Series  # effective № per row (assigned or typed), NaN when none
    new_numbers: dict[int, int] = field(default_factory=dict)
    notes: dict[int, list[str]] = field(default_factory=dict)
    # effective values after the fills, for the audit and the summary
    effective: pd.DataFrame = field(default_factory=pd.DataFrame)
    due_minutes: np.ndarray = field(default_factory=lambda: np.empty(0))
    budget_minutes: np.ndarray = field(default_factory=lambda: np.empty(0))


def high_water_mark(numbers: pd.Series, audit_numbers: pd.Series) -> int:
    """The largest № ever given: in the requests tab or in the audit (so deleted ones stay used)."""
    values = pd.concat(
        [pd.to_numeric(numbers, errors="coerce"), pd.to_numeric(audit_numbers, errors="coerce")]
    )
    values = values[values.notna()]
    return int(values.max()) if len(values) else 0


def local_now(now: dt.datetime, tz: str) -> dt.datetime:
    """`now` (aware) as naive wall time of the sheet's zone, to the minute (how cells store it)."""
    from zoneinfo import ZoneInfo

    return now.astimezone(ZoneInfo(tz)).replace(tzinfo=None, second=0, microsecond=0)


def paused_minutes(
    audit: pd.DataFrame, calendar: WorkCalendar, tz: str, schema: Schema | None = None
) -> pd.Series:
    """Working minutes each request spent in «Ждём заявителя» in finished pauses, by №.

    The audit rows of a request's status say when it entered and left the waiting status. A
    pause still running is not counted: while it lasts, Срок stays put and the state says
    «Приостановлено»; when the request comes back, the whole pause is added at once. So a sync
    during a pause rewrites nothing.
    """
    schema = schema or load_schema()
    status_header = schema["requests"].header("status")
    empty = pd.Series(dtype=float)
    if audit.empty:
        return empty
    rows = audit[(audit["field"] == status_header) & audit["number"].notna() & audit["at"].notna()]
    if rows.empty:
        return empty
    rows = rows.assign(_m=to_minutes(rows["at"], tz)).sort_values(["number", "_m"], kind="stable")
    numbers = rows["number"].astype(int).to_numpy()
    waiting = (rows["new"] == WAITING).to_numpy()
    moments = rows["_m"].to_numpy(dtype=float)
    starts: list[float] = []
    ends: list[float] = []
    owners: list[int] = []
    began: float | None = None
    for i in range(len(rows)):
        if i and numbers[i] != numbers[i - 1]:
            began = None
        if waiting[i] and began is None:
            began = moments[i]
        elif not waiting[i] and began is not None:
            starts.append(began)
            ends.append(moments[i])
            owners.append(int(numbers[i]))
            began = None
    if not owners:
        return empty
    spent = calendar.between(np.array(starts, dtype=float), np.array(ends, dtype=float))
    return pd.Series(spent, index=owners).groupby(level=0).sum()


def _budgets(
    start_m: np.ndarray, topics: pd.Series, settings: Settings, calendar: WorkCalendar
) -> np.ndarray:
    """Each request's allowance in working minutes, from its topic's rule."""
    budget = np.full(len(start_m), np.nan)
    topic_values = topics.to_numpy(dtype=object)
    for topic in pd.unique(topics.dropna()):
        mask = (topic_values == topic) & ~np.isnan(start_m)
        if not mask.any():
            continue
        rule = settings.topic_rule(topic)
        if rule.sla_hours is not None:
            budget[mask] = rule.sla_hours * 60.0
        else:
            t = start_m[mask]
            opened = calendar.next_open(t)
            # A request that arrives during a session is due by the close of the *next* one: the
            # administrator may be busy with the current session's queue.
            inside = opened == t
            n = np.where(inside, rule.sla_sessions + 1, rule.sla_sessions)
            due = np.full(len(t), np.nan)
            for k in np.unique(n):
                sel = n == k
                due[sel] = calendar.end_of_sessions(t[sel], int(k))
            budget[mask] = calendar.between(t, due)
    return budget


def plan_requests(
    frame: pd.DataFrame,
    raw: pd.DataFrame,
    *,
    now: dt.datetime,
    settings: Settings,
    calendar: WorkCalendar,
    audit: pd.DataFrame,
    sheet_tz: str,
) -> RequestPlan:
    """Apply the regulation's rules to the requests tab.

    `frame` holds typed values (None where a cell is empty or could not be understood), `raw` the
    cells as typed; both are indexed by sheet row. `audit` is the typed «Изменения» tab.
    """
    rows = frame.index
    notes: dict[int, list[str]] = {}

    def note(row: int, text: str) -> None:
        notes.setdefault(int(row), []).append(text)

    now_local = local_now(now, sheet_tz)
    now_m = float(to_minutes([now_local], sheet_tz)[0])
    empty = blank_frame(raw)

    # № — typed numbers stay; empty cells get the next numbers, top to bottom.
    numbers = pd.to_numeric(frame["number"], errors="coerce")
    dupes = numbers[numbers.notna() & numbers.duplicated(keep=False)]
    for number, group in dupes.groupby(dupes):
        where = ", ".join(str(r) for r in group.index)
        for row in group.index:
            note(row, f"№ {int(number)} повторяется в строках {where}: у каждого обращения свой №")
    number_header = _REQ.header("number")
    for row in numbers.index[numbers.notna() & (numbers < 1)]:
        note(row, f"{number_header}: номер должен быть больше нуля")
    audit_numbers = audit["number"] if "number" in audit else pd.Series(dtype=float)
    mark = high_water_mark(numbers[numbers >= 1], audit_numbers)
    # A row is a request once it names a requester, a topic or a description: a row holding
    # only, say, a status is someone's typing in progress, and could not be found again safely.
    named = (
        ~empty[list(_REQ.fallback_identity)].all(axis=1).to_numpy()
        if len(rows)
        else np.zeros(0, dtype=bool)
    )
    new_rows = rows[empty["number"].to_numpy() & named] if len(rows) else rows
    new_numbers = {int(r): mark + i + 1 for i, r in enumerate(new_rows)}
    numbers = numbers.astype(float)
    if new_numbers:
        numbers.loc[list(new_numbers)] = list(new_numbers.values())

    fills = pd.DataFrame(
        index=rows,
        columns=["number", "received_at", "assignee", "status", "resolved_at"],
        dtype=object,
    )
    if new_numbers:
        fills.loc[list(new_numbers), "number"] = list(new_numbers.values())

    received = frame["received_at"].copy()
    # Automatic fills only on named rows: a row holding just a № is not a request yet.
    fill_received = empty["received_at"].to_numpy() & named
    fills.loc[fill_received, "received_at"] = now_local
    received[fill_received] = now_local

    topics = frame["topic"]
    fill_assignee = empty["assignee"].to_numpy() & topics.notna().to_numpy()
    for row in rows[fill_assignee]:
        fills.at[row, "assignee"] = settings.assignee(topics[row])

    status = frame["status"].copy()
    fill_status = empty["status"].to_numpy() & named
    fills.loc[fill_status, "status"] = NEW
    status[fill_status] = NEW

    resolved = frame["resolved_at"].copy()
    fill_resolved = (empty["resolved_at"].to_numpy()) & (status == RESOLVED).to_numpy()
    fills.loc[fill_resolved, "resolved_at"] = now_local
    resolved[fill_resolved] = now_local

    # Contradictions a person would miss.
    received_m = to_minutes(received, sheet_tz)
    resolved_m = to_minutes(resolved, sheet_tz)
    res_header, rec_header, st_header = (
        _REQ.header("resolved_at"),
        _REQ.header("received_at"),
        _REQ.header("status"),
    )
    for row in rows[(resolved_m < received_m)]:
        note(row, f"{res_header} раньше, чем {rec_header}: проверьте даты")
    for row in rows[received_m > now_m + 24 * 60]:
        note(row, f"{rec_header}: дата в будущем")
    closed = status.isin([RESOLVED, REJECTED]).to_numpy()
    for row in rows[~np.isnan(resolved_m) & ~closed & status.notna().to_numpy()]:
        note(
            row,
            f"Указана дата в столбце «{res_header}», но {st_header.lower()} «{status[row]}»: "
            f"если обращение снова в работе, очистите дату",
        )

    # Deadlines in working time.
    budget = _budgets(received_m, topics, settings, calendar)
    # The status changes this very run observes count at once: a request that just left
    # «Ждём заявителя» gets its pause added now, not one sync later.
    seen_now = audit_rows(
        pd.DataFrame({"number": numbers, "status": status}),
        audit,
        at=now_local,
        job="",
        fields=("status",),
    )
    history = pd.concat([audit, pd.DataFrame(seen_now)]) if seen_now else audit
    paused = numbers.map(paused_minutes(history, calendar, sheet_tz)).fillna(0.0).to_numpy(float)
    due_m = calendar.add(received_m, budget + paused)
    missing_due = np.isnan(due_m) & ~np.isnan(budget)
    for row in rows[missing_due]:
        note(
            row,
            "Не удалось рассчитать срок: в «Графике» и «Календаре» нет часов консультаций впереди",
        )

    rejected = (status == REJECTED).to_numpy()
    waiting = (status == WAITING).to_numpy()
    done = (status == RESOLVED).to_numpy()
    used = calendar.between(received_m, np.full(len(rows), now_m)) - paused
    state = np.full(len(rows), None, dtype=object)
    has_due = ~np.isnan(due_m)
    open_ = has_due & ~rejected & ~done & status.notna().to_numpy()
    state[open_] = ON_TIME
    state[open_ & (used >= settings.deadlines.at_risk_share * budget)] = AT_RISK
    state[open_ & (now_m >= due_m)] = OVERDUE
    state[open_ & waiting] = PAUSED
    finished = has_due & done & ~np.isnan(resolved_m)
    state[finished] = np.where(
        resolved_m[finished] <= due_m[finished], RESOLVED_ON_TIME, RESOLVED_LATE
    )

    due_local = from_minutes(np.where(rejected, np.nan, due_m), sheet_tz)
    derived = pd.DataFrame(index=rows)
    derived["due_at"] = [None if pd.isna(v) else v.to_pydatetime() for v in due_local]
    derived["due_state"] = state
    derived["check"] = None

    effective = frame.copy()
    effective["number"] = numbers
    effective["received_at"] = received
    effective["status"] = status
    effective["resolved_at"] = resolved
    assignee = frame["assignee"].copy()
    filled_assignee = fills["assignee"].notna()
    assignee[filled_assignee] = fills.loc[filled_assignee, "assignee"]
    effective["assignee"] = assignee
    return RequestPlan(
        fills=fills,
        derived=derived,
        numbers=numbers,
        new_numbers=new_numbers,
        notes=notes,
        effective=effective,
        due_minutes=due_m,
        budget_minutes=budget,
    )
