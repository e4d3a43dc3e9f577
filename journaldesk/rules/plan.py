"""What the rules want written into the sheet: one pure plan from the parsed tabs.

    parsed tabs + settings + now -> auto fills, derived cells, new history rows

`diff_tab` is the choke point of "staff cells are sacred": it refuses a staff column outright,
and fills an auto column only while it is empty. Nothing here reads or writes a sheet; the sync
job aims the plan at the rows as they are when the write lands.
"""

from __future__ import annotations

import datetime as dt
from contextlib import suppress
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from journaldesk.rules.audit import audit_rows, last_known
from journaldesk.rules.booking import BookingPlan, BookingRules, plan_bookings, rooms_by_weekday
from journaldesk.rules.calendar import build_calendar, calendar_notes, quarter_end_dates
from journaldesk.rules.consent import ConsentRules, consent_rows, school_classes
from journaldesk.rules.group import group_notes, group_sessions, trained_on
from journaldesk.rules.intake import FORM_CHANNEL, intake_notes
from journaldesk.rules.login_check import login_notes
from journaldesk.rules.privacy import mask_all, password_notes
from journaldesk.rules.requests import DeadlineRules, RequestPlan, local_now, plan_requests
from journaldesk.rules.worktime import WorkCalendar
from journaldesk.settings import Settings
from journaldesk.sheet.frames import ParsedTab
from journaldesk.sheet.grid import CellValue
from journaldesk.sheet.schema import Column, Tab
from journaldesk.sheet.textfmt import blank_mask, is_blank

JOB_SYNC = "Синхронизация"


@dataclass(frozen=True)
class Pending:
    """A cell the rules want: tab, the sheet row it was read from, field, value."""

    tab: str
    row: int
    field: str
    value: CellValue
    only_if_empty: bool = False


def _minute(value: object) -> object:
    """A moment to the minute as wall-clock time (half a minute to the even one, as pandas does)."""
    if isinstance(value, pd.Timestamp):
        return value.round("min").to_pydatetime().replace(tzinfo=None)
    if isinstance(value, dt.datetime):
        base = value.replace(second=0, microsecond=0, tzinfo=None)
        rest = value.second * 1_000_000 + value.microsecond
        if rest > 30_000_000 or (rest == 30_000_000 and base.minute % 2):
            base += dt.timedelta(minutes=1)
        return base
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
    Whole columns are compared at once; only the cells that are not plainly equal get a closer
    look, and dates are compared as the parse already read them, not parsed again.
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
        index = wanted.index
        if wanted.dtype.kind == "M":
            # Moments the rules computed: compared as datetime64, turned into Python objects
            # only for the cells that differ.
            values = _LazyMoments(wanted)
            want_blank = wanted.isna().to_numpy()
        else:
            values = wanted.to_numpy(dtype=object)
            want_blank = blank_mask(values)
        current = parsed.raw[field_name].reindex(index).to_numpy(dtype=object)
        cur_blank = parsed.blank()[field_name].reindex(index, fill_value=True).to_numpy(bool)
        if only_if_empty:
            rows = np.flatnonzero(~want_blank & cur_blank)
        else:
            differ = want_blank != cur_blank
            both = ~want_blank & ~cur_blank
            if column.type in ("datetime", "date", "time"):
                # The parse's typed value: None exactly when the cell could not be read.
                typed = parsed.frame[field_name].reindex(index).to_numpy(dtype=object)
                same = _same_moments(typed, values, both)
            else:
                same = _same_plain(current, values, both, column.type)
            rows = np.flatnonzero(differ | (both & ~same))
        out.extend(
            Pending(tab.key, int(index[i]), field_name, plain(values[i]), only_if_empty)
            for i in rows
        )
    return out


class _LazyMoments:
    """A datetime64 column that hands out Python objects (Timestamps) one cell at a time."""

    def __init__(self, series: pd.Series) -> None:
        self.series = series

    def __getitem__(self, i: int) -> object:
        return self.series.iloc[i]

    def __len__(self) -> int:
        return len(self.series)


def _same_moments(
    typed: np.ndarray, desired: np.ndarray | _LazyMoments, both: np.ndarray
) -> np.ndarray:
    """Where a date cell (as parsed) already holds the desired moment, to the minute."""
    if isinstance(desired, _LazyMoments):
        fast = _same_as_datetime64(typed, desired.series, both)
        if fast is not None:
            return fast
        desired = desired.series.to_numpy(dtype=object)
    fast = _same_moments_as_arrays(typed, desired, both)
    if fast is not None:
        return fast
    same = np.zeros(len(desired), dtype=bool)
    for i in np.flatnonzero(both):
        value = typed[i]
        if value is None or (value.__class__ is float and value != value):
            continue
        same[i] = _minute(value) == _minute(desired[i])
    return same


_MOMENT_KINDS = {dt.datetime: "moment", pd.Timestamp: "moment", dt.date: "day"}


def _same_moments_as_arrays(
    typed: np.ndarray, desired: np.ndarray, both: np.ndarray
) -> np.ndarray | None:
    """_same_moments by whole columns when each side holds one kind of value (None: it does not)."""
    a, b = typed[both], desired[both]
    kinds = {_MOMENT_KINDS.get(v.__class__) for v in a} | {
        _MOMENT_KINDS.get(v.__class__) for v in b
    }
    if len(kinds) != 1 or None in kinds:
        return None  # times, a parse that gave nothing, or days beside moments
    try:
        left, right = pd.DatetimeIndex(pd.Series(a)), pd.DatetimeIndex(pd.Series(b))
    except (TypeError, ValueError):  # moments in several time zones, or naive beside aware
        return None
    if left.tz is not None:
        left = left.tz_localize(None)  # wall clock, as _minute takes it
    if right.tz is not None:
        right = right.tz_localize(None)
    same = np.zeros(len(desired), dtype=bool)
    same[both] = left.round("min").asi8 == right.round("min").asi8
    return same


def _same_as_datetime64(
    typed: np.ndarray, desired: pd.Series, both: np.ndarray
) -> np.ndarray | None:
    """_same_moments_as_arrays when the desired side is a datetime64 column (None: the parsed
    side does not hold moments alone)."""
    a = typed[both]
    if {_MOMENT_KINDS.get(v.__class__) for v in a} - {"moment"}:
        return None
    try:
        left = pd.DatetimeIndex(pd.Series(a, dtype=object))
    except (TypeError, ValueError):
        return None
    right = pd.DatetimeIndex(desired.to_numpy()[both])
    if left.tz is not None:
        left = left.tz_localize(None)
    if right.tz is not None:
        right = right.tz_localize(None)
    same = np.zeros(len(desired), dtype=bool)
    # In one unit on both sides: the parse and the rules need not agree on pandas' resolution.
    same[both] = left.round("min").as_unit("s").asi8 == right.round("min").as_unit("s").asi8
    return same


def _same_plain(
    current: np.ndarray, desired: np.ndarray, both: np.ndarray, kind: str
) -> np.ndarray:
    """same_value over the cells that both hold something, for number and text columns."""
    same = np.zeros(len(desired), dtype=bool)
    numeric = kind in ("int", "number")
    for i in np.flatnonzero(both):
        cur, want = current[i], desired[i]
        if numeric:
            with suppress(TypeError, ValueError):
                same[i] = float(cur) == float(want)
        elif cur.__class__ is str:
            same[i] = cur == want
        else:
            same[i] = str(want) == str(cur)
    return same


def _checks(index: pd.Index, notes: dict[int, list[str]], parsed: ParsedTab) -> pd.Series:
    """The Проверка text per row: the cell problems and the rules' notes, secrets masked."""
    texts = np.full(len(index), None, dtype=object)
    rows = sorted(set(parsed.problems) | set(notes))
    masked: dict[str, str] = {}  # notes repeat from row to row: each text is masked once
    for row, position in zip(rows, index.get_indexer(rows), strict=True):
        items = [*parsed.problems.get(row, []), *notes.get(row, [])]
        if position < 0 or not items:
            continue
        text = "; ".join(dict.fromkeys(items))
        shown = masked.get(text)
        if shown is None:
            shown = masked[text] = mask_all(text)
        texts[position] = shown
    return pd.Series(texts, index=index, dtype=object)


def identity_fields(tab: Tab) -> list[str]:
    """The fields that identify a row of this tab (its identity plus the same-content fallback)."""
    return list(dict.fromkeys([*tab.identity, *tab.fallback_identity]))


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
        vacation_consultations=settings.school.vacation_consultations,
    )
    audit_frame = parsed["changes"].frame
    known = last_known(audit_frame)  # the history grouped once, for both looks at it
    plan = plan_requests(
        req.frame,
        req.raw,
        now=now,
        rules=DeadlineRules.from_settings(settings),
        calendar=calendar,
        audit=audit_frame,
        sheet_tz=sheet_tz,
        audit_known=known,
        blank=req.blank(),
    )
    cal = parsed["calendar"]
    groups = group_sessions(cal.frame)
    bookings = plan_bookings(
        plan.effective,
        req.raw["consultation"],
        calendar=calendar,
        rules=BookingRules.from_settings(settings),
        now=now,
        sheet_tz=sheet_tz,
        schedule_rooms=rooms_by_weekday(parsed["schedule"].frame),
        due=plan.due_minutes,
        quarter_ends=quarter_end_dates(parsed["calendar"].frame),
        groups=groups,
    )
    plan.derived["consultation"] = bookings.desired
    plan.effective["consultation"] = bookings.desired  # the history shows old -> new slot
    for row, items in bookings.notes.items():
        plan.notes.setdefault(row, []).extend(items)
    from_form = (req.frame["channel"] == FORM_CHANNEL).to_numpy()
    form = intake_notes(req.frame.loc[from_form, "description"].items())
    for row, items in form.items():
        plan.notes.setdefault(row, []).extend(items)
    for row, items in password_notes(req.frame["description"]).items():
        plan.notes.setdefault(row, []).extend(items)
    logins = login_notes(plan.effective, parsed["consent"].frame, parsed["staff"].frame)
    for row, items in logins.items():
        plan.notes.setdefault(row, []).extend(items)
    checks = {"requests": _checks(req.frame.index, plan.notes, req)}
    plan.derived["check"] = checks["requests"]
    pending = diff_tab(req, plan.fills, sheet_tz=sheet_tz, only_if_empty=True)
    pending += diff_tab(req, plan.derived, sheet_tz=sheet_tz, only_if_empty=False)

    cal_notes = calendar_notes(cal.frame, now=now)
    for row, items in group_notes(cal.frame).items():
        cal_notes.setdefault(row, []).extend(items)
    checks["calendar"] = _checks(cal.frame.index, cal_notes, cal)
    pending += diff_tab(
        cal, checks["calendar"].to_frame("check"), sheet_tz=sheet_tz, only_if_empty=False
    )

    con = parsed["consent"]
    rules = ConsentRules.from_settings(settings.consent)
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

    # «Обучение пройдено» from the group sessions attended, only into empty cells.
    staff = parsed["staff"]
    trained = trained_on(
        plan.effective,
        bookings.in_group,
        staff.frame,
        now=local_now(now, settings.timezone).replace(tzinfo=None),
    )
    pending += diff_tab(
        staff, trained.to_frame("trained_on"), sheet_tz=sheet_tz, only_if_empty=True
    )

    history = audit_rows(
        plan.effective, audit_frame, at=local_now(now, sheet_tz), job=JOB_SYNC, known=known
    )
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
            empty = p_tab.blank()[ids].all(axis=1)
            blank[key] = set(p_tab.raw.index[empty.to_numpy()])
    kept = [p for p in pending if p.row not in blank.get(p.tab, ())]
    unfound = {
        k: sorted({p.row for p in pending if p.tab == k and p.row in rows})
        for k, rows in blank.items()
    }
    return kept, {k: v for k, v in unfound.items() if v}
