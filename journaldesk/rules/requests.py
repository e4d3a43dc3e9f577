"""Pure rules for the «Обращения» tab: numbers, automatic fills, deadlines and their state.

Everything here takes typed frames and `now` and returns desired values; nothing reads a sheet or
a clock. The sync compares the desired values with the cells and writes only the differences.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from journaldesk.rules.audit import FIRST_SIGHT, audit_rows
from journaldesk.rules.worktime import WorkCalendar, from_minutes, minute_to_datetime, to_minutes
from journaldesk.settings import Settings
from journaldesk.sheet.schema import Schema, TopicRule, load_schema
from journaldesk.sheet.textfmt import blank_frame, moment
from journaldesk.sheet.vocab import (
    AT_RISK,
    NEW,
    ON_HOLD,
    ON_TIME,
    OVERDUE,
    PAUSED,
    REJECTED,
    RESOLVED,
    RESOLVED_LATE,
    RESOLVED_ON_TIME,
)

_REQ = load_schema()["requests"]


@dataclass(frozen=True)
class DeadlineRules:
    """What the deadline rules need of the settings: each topic's rule and default assignee."""

    topics: Mapping[str, TopicRule]
    assignees: Mapping[str, str] = field(default_factory=dict)
    at_risk_share: float = 0.75
    default_assignee: str = ""

    def assignee(self, topic: str) -> str:
        """Who answers a topic by default."""
        return self.assignees.get(topic) or self.default_assignee

    @classmethod
    def from_settings(cls, settings: Settings) -> DeadlineRules:
        """Each topic's rule and default assignee with this school's overrides."""
        topics = load_schema().enums["topic"]
        return cls(
            topics={t: settings.topic_rule(t) for t in topics},
            assignees={t: settings.assignee(t) for t in topics},
            at_risk_share=settings.deadlines.at_risk_share,
            default_assignee=settings.administrator.name,
        )


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


_Note = Callable[[int, str], None]


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


@dataclass
class Pauses:
    """The «Ждём заявителя» spans of each request, by №, from the status history."""

    spans: dict[int, list[tuple[float, float]]]  # (start, end); end NaN while it lasts
    # Requests first seen already waiting: when their wait began is not known, so it is taken
    # as begun in time (a breach is final only when the history shows it).
    unknown: set[tuple[int, float]] = field(default_factory=set)  # (№, start)


def pause_spans(audit: pd.DataFrame, tz: str, schema: Schema | None = None) -> Pauses:
    """When each request entered and left «Ждём заявителя», from the «Изменения» status rows."""
    schema = schema or load_schema()
    status_header = schema["requests"].header("status")
    spans: dict[int, list[tuple[float, float]]] = {}
    if audit.empty:
        return Pauses(spans)
    rows = audit[(audit["field"] == status_header) & audit["number"].notna() & audit["at"].notna()]
    if rows.empty:
        return Pauses(spans)
    # A request that never waited has no span: only those that did are walked through below.
    ever_waited = rows.loc[rows["new"].isin(ON_HOLD), "number"].unique()
    rows = rows[rows["number"].isin(ever_waited)]
    if rows.empty:
        return Pauses(spans)
    rows = rows.assign(_m=to_minutes(rows["at"], tz)).sort_values(["number", "_m"], kind="stable")
    # Plain lists: the walk below reads them cell by cell.
    numbers = rows["number"].astype(int).to_numpy().tolist()
    waiting = rows["new"].isin(ON_HOLD).to_numpy().tolist()
    first_sight = (rows["old"] == FIRST_SIGHT).to_numpy().tolist()
    moments = rows["_m"].to_numpy(dtype=float).tolist()
    unknown: set[tuple[int, float]] = set()
    began: float | None = None
    for i in range(len(rows)):
        if i and numbers[i] != numbers[i - 1]:
            if began is not None:
                spans.setdefault(int(numbers[i - 1]), []).append((began, np.nan))
            began = None
        if waiting[i] and began is None:
            began = moments[i]
            if first_sight[i]:
                unknown.add((int(numbers[i]), float(moments[i])))
        elif not waiting[i] and began is not None:
            spans.setdefault(int(numbers[i]), []).append((began, moments[i]))
            began = None
    if began is not None:
        spans.setdefault(int(numbers[-1]), []).append((began, np.nan))
    return Pauses(spans, unknown)


def paused_minutes(
    audit: pd.DataFrame, calendar: WorkCalendar, tz: str, schema: Schema | None = None
) -> pd.Series:
    """Working minutes each request spent in «Ждём заявителя» in finished pauses, by №."""
    found = pause_spans(audit, tz, schema).spans
    total = {
        n: float(sum(calendar.between(a, b) for a, b in spans if np.isfinite(b)))
        for n, spans in found.items()
    }
    return pd.Series({n: v for n, v in total.items() if v}, dtype=float)


def _budgets(
    start_m: np.ndarray, topics: pd.Series, rules: DeadlineRules, calendar: WorkCalendar
) -> np.ndarray:
    """Each request's allowance in working minutes, from its topic's rule.

    Hour topics get their working hours. A consultation topic (`sla_sessions: n`) is due at the
    close of the n-th session after the one its clock starts in; its allowance is the working
    time up to that close, so a pause later adds to it like to any other."""
    budget = np.full(len(start_m), np.nan)
    topic_values = topics.to_numpy(dtype=object)
    for topic in pd.unique(topics.dropna()):
        mask = (topic_values == topic) & ~np.isnan(start_m)
        rule = rules.topics.get(topic)
        if rule is None or not mask.any():
            continue
        if rule.sla_hours is not None:
            budget[mask] = rule.sla_hours * 60.0
        else:
            t = start_m[mask]
            budget[mask] = calendar.between(t, calendar.close_after_sessions(t, rule.sla_sessions))
    return budget


@dataclass
class _Deadlines:
    due: np.ndarray  # minutes; NaN when none
    paused: np.ndarray  # working minutes of finished pauses that moved the deadline
    held_since: np.ndarray  # start of the pause running now; NaN when none
    held_in_time: np.ndarray  # that pause began before the deadline


def _deadlines(
    received_m: np.ndarray,
    budget: np.ndarray,
    numbers: np.ndarray,
    pauses: Pauses,
    calendar: WorkCalendar,
) -> _Deadlines:
    """Deadlines with the pauses that count: only a pause that began before the deadline (as
    moved by the pauses before it) moves it. A breach is final."""
    due = np.asarray(calendar.add(received_m, budget), dtype=float).reshape(-1)
    paused = np.zeros(len(due))
    held = np.full(len(due), np.nan)
    in_time = np.zeros(len(due), dtype=bool)
    paused_numbers = np.fromiter(pauses.spans, dtype=float, count=len(pauses.spans))
    with_pauses = np.isin(numbers, paused_numbers)  # the other rows keep their deadline as is
    for i in np.flatnonzero(np.isfinite(numbers) & np.isfinite(due) & with_pauses):
        for start, end in sorted(pauses.spans.get(int(numbers[i]), ())):
            if not np.isfinite(end):
                known = (int(numbers[i]), float(start)) not in pauses.unknown
                held[i], in_time[i] = start, start < due[i] or not known
                break
            if start >= due[i]:
                continue  # already overdue when put on hold: the wait does not excuse it
            spent = float(calendar.between(max(start, received_m[i]), end))
            if np.isfinite(spent) and spent > 0:
                paused[i] += spent
                due[i] = float(calendar.add(due[i], spent))
    return _Deadlines(due, paused, held, in_time)


@dataclass
class _Filled:
    """The request cells after the automatic fills, as the rules see them."""

    numbers: pd.Series
    new_numbers: dict[int, int]
    fills: pd.DataFrame
    received: pd.Series
    status: pd.Series
    resolved: pd.Series


def _number_notes(numbers: pd.Series, note: _Note) -> None:
    dupes = numbers[numbers.notna() & numbers.duplicated(keep=False)]
    for number, group in dupes.groupby(dupes):
        where = ", ".join(str(r) for r in group.index)
        for row in group.index:
            note(row, f"№ {int(number)} повторяется в строках {where}: у каждого обращения свой №")
    number_header = _REQ.header("number")
    for row in numbers.index[numbers.notna() & (numbers < 1)]:
        note(row, f"{number_header}: номер должен быть больше нуля")


def _auto_fills(
    frame: pd.DataFrame,
    empty: pd.DataFrame,
    audit: pd.DataFrame,
    now_local: dt.datetime,
    rules: DeadlineRules,
    note: _Note,
) -> _Filled:
    """№ for new rows, and the automatic date, assignee, status and resolved-at fills."""
    rows = frame.index
    # № — typed numbers stay; empty cells get the next numbers, top to bottom.
    numbers = pd.to_numeric(frame["number"], errors="coerce")
    _number_notes(numbers, note)
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
        fills.at[row, "assignee"] = rules.assignee(topics[row])

    status = frame["status"].copy()
    fill_status = empty["status"].to_numpy() & named
    fills.loc[fill_status, "status"] = NEW
    status[fill_status] = NEW

    resolved = frame["resolved_at"].copy()
    fill_resolved = (empty["resolved_at"].to_numpy()) & (status == RESOLVED).to_numpy()
    fills.loc[fill_resolved, "resolved_at"] = now_local
    resolved[fill_resolved] = now_local
    return _Filled(numbers, new_numbers, fills, received, status, resolved)


def _contradictions(
    rows: pd.Index,
    status: pd.Series,
    received_m: np.ndarray,
    resolved_m: np.ndarray,
    now_m: float,
    note: _Note,
) -> None:
    """Notes on dates and statuses that contradict each other (a person would miss them)."""
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


def _due_states(
    rows: pd.Index,
    status: pd.Series,
    deadlines: _Deadlines,
    budget: np.ndarray,
    used: np.ndarray,
    resolved_m: np.ndarray,
    now_m: float,
    at_risk_share: float,
) -> np.ndarray:
    """«Состояние срока» of every row (None where the request has no deadline)."""
    due_m = deadlines.due
    rejected = (status == REJECTED).to_numpy()
    waiting = status.isin(ON_HOLD).to_numpy()
    done = (status == RESOLVED).to_numpy()
    state = np.full(len(rows), None, dtype=object)
    has_due = ~np.isnan(due_m)
    open_ = has_due & ~rejected & ~done & status.notna().to_numpy()
    state[open_] = ON_TIME
    state[open_ & (used >= at_risk_share * budget)] = AT_RISK
    state[open_ & (now_m >= due_m)] = OVERDUE
    # On hold in time: the clock stops. On hold after the deadline: the breach stands.
    state[open_ & waiting & deadlines.held_in_time] = PAUSED
    state[open_ & waiting & np.isnan(deadlines.held_since) & (now_m < due_m)] = PAUSED
    finished = has_due & done & ~np.isnan(resolved_m)
    state[finished] = np.where(
        resolved_m[finished] <= due_m[finished], RESOLVED_ON_TIME, RESOLVED_LATE
    )
    return state


def _late_hold_notes(
    rows: pd.Index,
    state: np.ndarray,
    status: pd.Series,
    deadlines: _Deadlines,
    calendar: WorkCalendar,
    note: _Note,
) -> None:
    """A request put on hold after its deadline stays overdue; the note says since when it
    waits (a date, not a running count: the cell does not change every sync)."""
    late = (state == OVERDUE) & status.isin(ON_HOLD).to_numpy() & ~np.isnan(deadlines.held_since)
    for i in np.flatnonzero(late):
        since = minute_to_datetime(float(deadlines.held_since[i]), calendar.tz)
        due = minute_to_datetime(float(deadlines.due[i]), calendar.tz)
        if since is None or due is None:
            continue
        note(
            rows[i],
            f"{status.iloc[i]} с {moment(since.replace(tzinfo=None))}, но срок "
            f"{moment(due.replace(tzinfo=None))} был нарушен раньше: обращение остаётся "
            f"просроченным",
        )


def plan_requests(
    frame: pd.DataFrame,
    raw: pd.DataFrame,
    *,
    now: dt.datetime,
    rules: DeadlineRules,
    calendar: WorkCalendar,
    audit: pd.DataFrame,
    sheet_tz: str,
    audit_known: dict[str, pd.Series] | None = None,
    blank: pd.DataFrame | None = None,
) -> RequestPlan:
    """Apply the regulation's rules to the requests tab.

    `frame` holds typed values (None where a cell is empty or could not be understood), `raw` the
    cells as typed; both are indexed by sheet row. `audit` is the typed «Изменения» tab
    (`audit_known`: its last_known(), when the caller already grouped it; `blank`:
    blank_frame(raw), when the caller already has it).
    """
    rows = frame.index
    notes: dict[int, list[str]] = {}

    def note(row: int, text: str) -> None:
        notes.setdefault(int(row), []).append(text)

    now_local = local_now(now, sheet_tz)
    now_m = float(to_minutes([now_local], sheet_tz)[0])
    empty = blank_frame(raw) if blank is None else blank
    f = _auto_fills(frame, empty, audit, now_local, rules, note)
    received_m = to_minutes(f.received, sheet_tz)
    resolved_m = to_minutes(f.resolved, sheet_tz)
    _contradictions(rows, f.status, received_m, resolved_m, now_m, note)

    # Deadlines in working time. The status changes this very run observes count at once: a
    # request that just left «Ждём заявителя» gets its pause added now, not one sync later.
    budget = _budgets(received_m, frame["topic"], rules, calendar)
    seen_now = audit_rows(
        pd.DataFrame({"number": f.numbers, "status": f.status}),
        audit,
        at=now_local,
        job="",
        fields=("status",),
        known=audit_known,
    )
    history = pd.concat([audit, pd.DataFrame(seen_now)]) if seen_now else audit
    deadlines = _deadlines(
        received_m, budget, f.numbers.to_numpy(float), pause_spans(history, sheet_tz), calendar
    )
    due_m = deadlines.due
    for row in rows[np.isnan(due_m) & ~np.isnan(budget)]:
        note(
            row,
            "Не удалось рассчитать срок: в «Графике» и «Календаре» нет часов консультаций впереди",
        )
    used = calendar.between(received_m, np.full(len(rows), now_m)) - deadlines.paused
    state = _due_states(
        rows, f.status, deadlines, budget, used, resolved_m, now_m, rules.at_risk_share
    )
    _late_hold_notes(rows, state, f.status, deadlines, calendar, note)

    rejected = (f.status == REJECTED).to_numpy()
    due_local = from_minutes(np.where(rejected, np.nan, due_m), sheet_tz)
    derived = pd.DataFrame(index=rows)
    due_at = due_local.to_pydatetime().astype(object)  # one conversion for the whole column
    due_at[due_local.isna()] = None
    derived["due_at"] = due_at
    derived["due_state"] = state
    derived["check"] = None
    return RequestPlan(
        fills=f.fills,
        derived=derived,
        numbers=f.numbers,
        new_numbers=f.new_numbers,
        notes=notes,
        effective=_effective(frame, f),
        due_minutes=due_m,
        budget_minutes=budget,
    )


def _effective(frame: pd.DataFrame, f: _Filled) -> pd.DataFrame:
    """The request cells as they will be after the fills (for the audit and the summary)."""
    effective = frame.copy()
    effective["number"] = f.numbers
    effective["received_at"] = f.received
    effective["status"] = f.status
    effective["resolved_at"] = f.resolved
    assignee = frame["assignee"].copy()
    filled_assignee = f.fills["assignee"].notna()
    assignee[filled_assignee] = f.fills.loc[filled_assignee, "assignee"]
    effective["assignee"] = assignee
    return effective
