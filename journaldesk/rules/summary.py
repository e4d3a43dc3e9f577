"""The weekly figures: how the help service and the rollout went in one week (pure).

A week runs from Monday 00:00 to the next Monday 00:00 in the school's time zone. The figures are
built from the same parsed tabs and the same `SheetPlan` the sync computes, so due states and
automatic fills agree with the sheet. Statistics use medians, not means.

A past week (`week_start` well before `now`) is rebuilt from the data, and some of it can only be
approximated; `WeekFigures.approximations` says what, in Russian, and the reports print it:
- a request's status at the end of the week comes from the «Изменения» history when the sync saw
  it by then; otherwise a resolved request counts as open until its «Решено» moment, a rejected
  one as rejected from the start, any other as open since it arrived, in its current status;
- deadlines are today's (today's calendar and every pause known now);
- consent forms are rolled back by their dates (handed out, submitted, revoked, login issued);
  the personal-data consent is taken as signed on the day the application was submitted;
- the problems found in the sheet («Проверка») are those of the moment the summary is built.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from journaldesk.rules.booking import BookingRules, parse_slot, quarter_end_ahead
from journaldesk.rules.calendar import build_calendar, quarter_end_dates
from journaldesk.rules.consent import ConsentRules, coverage, staff_readiness
from journaldesk.rules.journal_fill import JournalWeek, journal_week
from journaldesk.rules.plan import SheetPlan
from journaldesk.rules.privacy import NameIndex, name_index, quote
from journaldesk.rules.requests import (
    AT_RISK,
    ON_HOLD,
    OVERDUE,
    PAUSED,
    REJECTED,
    RESOLVED,
    RESOLVED_ON_TIME,
    local_now,
)
from journaldesk.rules.worktime import WorkCalendar, to_minutes
from journaldesk.settings import Settings
from journaldesk.sheet.frames import ParsedTab
from journaldesk.sheet.schema import load_schema
from journaldesk.sheet.textfmt import is_blank
from journaldesk.sheet.vocab import (
    APP_ISSUED,
    APP_LEFT,
    APP_NOT_ISSUED,
    APP_SUBMITTED,
    KIND_HOLIDAY,
    MARKS_TOPICS,
    PD_NONE,
    PD_REVOKED,
    PD_SIGNED,
    WITH_VENDOR,
)

_SCHEMA = load_schema()

NO_TOPIC = "(тема не указана)"
# A topic typed but not one of the list (a note in «Проверка» asks to fix it).
OTHER_TOPIC = "(тема не из списка)"
TREND_WEEKS = 8
OVERDUE_LIST_LIMIT = 15
QUOTE_LIMIT = 90
APPROX_STATUS = (
    "Состояние обращений на конец недели восстановлено по листу «Изменения»; где наблюдений "
    "нет, решённое обращение считается открытым до даты в столбце «Решено», отклонённое — "
    "отклонённым сразу, остальные — открытыми в нынешнем статусе."
)
APPROX_DEADLINES = "Сроки посчитаны по нынешнему графику, календарю и известным сейчас паузам."
APPROX_CONSENT = (
    "Согласия на конец недели восстановлены по датам выдачи, подачи, отзыва и выдачи логина; "
    "согласие на обработку ПД считается подписанным в день подачи заявления."
)
APPROX_CHECKS = "Замечания в таблице — на момент формирования сводки."


# --- the figures -------------------------------------------------------------------------------


@dataclass
class TopicLine:
    """One topic in the week: requests received, resolved, median working minutes to resolve."""

    topic: str
    received: int
    resolved: int
    median_minutes: float | None


@dataclass
class ClassLine:
    """One class of the consent campaign at the end of the week, with the change in a week."""

    class_name: str
    pupils: int
    submitted: int
    signed: int
    ready: int
    ready_share: float
    target: float
    behind: bool
    change: float | None  # ready_share minus last week's, in shares (0.05 = 5 points)
    class_teacher: str | None


@dataclass
class OverdueItem:
    """An overdue request as the summary shows it: its №, never the requester (unless allowed)."""

    number: int | None
    topic: str
    class_name: str | None
    due_at: dt.datetime | None
    late_minutes: float | None
    quote: str
    requester: str | None = None
    # Calendar days since the deadline, shown beside the working hours past a week.
    late_days: int | None = None


@dataclass
class VendorWait:
    """A request handed to the journal's own support longer than the settings allow."""

    number: int | None
    topic: str
    class_name: str | None
    since: dt.date | None  # when it was handed over (from «Изменения»)
    working_days: int  # school working days since then (weekdays that are not holidays)


@dataclass
class WeekPoint:
    """One week of the trend charts."""

    week_start: dt.date
    by_topic: dict[str, int]
    received: int
    resolved: int
    in_time_share: float | None


@dataclass
class WeekFigures:
    """Everything the weekly summary shows, as plain Python values."""

    week_start: dt.date
    week_end: dt.date  # the next Monday (exclusive)
    built_at: dt.datetime  # local wall time
    complete: bool  # the week is over
    school: str
    received: int = 0
    resolved: int = 0
    resolved_in_time: int = 0
    in_time_share: float | None = None
    rejected: int = 0
    open_at_end: int = 0
    overdue_at_end: int = 0
    at_risk_at_end: int = 0
    open_now: int = 0
    overdue_now: int = 0
    at_risk_now: int = 0
    paused_now: int = 0
    median_resolve_minutes: float | None = None
    backlog_median_minutes: float | None = None
    backlog_max_minutes: float | None = None
    topics: list[TopicLine] = field(default_factory=list)
    top_topics: list[TopicLine] = field(default_factory=list)
    slots_booked: int = 0
    slots_available: int = 0
    consultation_minutes: float = 0.0
    classes: list[ClassLine] = field(default_factory=list)
    pupils: int = 0
    applications_share: float | None = None
    consent_share: float | None = None
    ready_share: float | None = None
    applications_change: float | None = None
    consent_change: float | None = None
    ready_change: float | None = None
    previous_source: str | None = None  # "history" | "recomputed" | None
    target_share: float = 0.9
    no_manual: list[str] = field(default_factory=list)
    no_training: list[str] = field(default_factory=list)
    behind_classes: list[str] = field(default_factory=list)
    problems: dict[str, int] = field(default_factory=dict)  # tab title -> cells with notes
    overdue_list: list[OverdueItem] = field(default_factory=list)
    with_vendor_now: int = 0  # requests in «Передано в поддержку ЭлЖур» now
    vendor_days: int = 5  # the settings' limit, for the heading
    vendor_waits: list[VendorWait] = field(default_factory=list)  # longer than vendor_days
    quarter_end: dt.date | None = None  # a quarter end within a week of the summary's end
    marks_open: int = 0  # requests about marks (2.3, 2.4) open now, shown before a quarter end
    trend: list[WeekPoint] = field(default_factory=list)
    approximations: list[str] = field(default_factory=list)
    show_names: bool = False
    journal: JournalWeek | None = None  # section I: how the journal is filled in (its own tab)

    @property
    def problems_total(self) -> int:
        """Cells with a note in «Проверка», all tabs together."""
        return sum(self.problems.values())

    @property
    def last_day(self) -> dt.date:
        """The week's Sunday."""
        return self.week_end - dt.timedelta(days=1)

    def history_row(self) -> dict[str, object]:
        """The «Сводка» row of this week (field -> plain value; shares in per cent)."""
        return {
            "week_start": self.week_start,
            "received": self.received,
            "resolved": self.resolved,
            "open": self.open_at_end,
            "overdue": self.overdue_at_end,
            "at_risk": self.at_risk_at_end,
            "in_time_share": _percent(self.in_time_share),
            "median_hours": (
                None
                if self.median_resolve_minutes is None
                else round(self.median_resolve_minutes / 60, 1)
            ),
            "applications_share": _percent(self.applications_share),
            "consent_share": _percent(self.consent_share),
            "problems": self.problems_total,
            "built_at": self.built_at,
        }


def _percent(share: float | None) -> float | None:
    return None if share is None else round(share * 100, 1)


# --- weeks -------------------------------------------------------------------------------------


def monday_of(day: dt.date) -> dt.date:
    """The Monday of the week a day belongs to."""
    return day - dt.timedelta(days=day.weekday())


def default_week(now: dt.datetime, tz: str) -> dt.date:
    """The last complete week before `now` (its Monday), in the school's time zone."""
    today = now.astimezone(ZoneInfo(tz)).date()
    return monday_of(today) - dt.timedelta(days=7)


def _midnight_m(day: dt.date, tz: str) -> float:
    return float(to_minutes(dt.datetime.combine(day, dt.time(0)).replace(tzinfo=ZoneInfo(tz)), tz))


def _median(values: np.ndarray) -> float | None:
    values = values[~np.isnan(values)]
    return float(np.median(values)) if len(values) else None


# --- statuses as they were ---------------------------------------------------------------------


def _status_at(
    numbers: pd.Series, audit: pd.DataFrame, moment_m: float, tz: str
) -> tuple[pd.Series, pd.Series]:
    """Per request row: the status the history last saw at or before the moment (or None), and
    whether the history saw the request at all by then."""
    status_header = _SCHEMA["requests"].header("status")
    empty = pd.Series([None] * len(numbers), index=numbers.index, dtype=object)
    if audit.empty:
        return empty, pd.Series(False, index=numbers.index)
    rows = audit[(audit["field"] == status_header) & audit["number"].notna() & audit["at"].notna()]
    if rows.empty:
        return empty, pd.Series(False, index=numbers.index)
    at_m = to_minutes(rows["at"], tz)
    rows = rows[at_m <= moment_m]
    rows = rows.assign(number=pd.to_numeric(rows["number"], errors="coerce")).dropna(
        subset=["number"]
    )
    last = rows.groupby(rows["number"].astype(int))["new"].last()
    seen = numbers.map(last)
    return seen.where(seen.notna(), None).astype(object), seen.notna()


@dataclass
class _Requests:
    """The requests as arrays, one entry per sheet row (the rows of RequestPlan.effective)."""

    index: pd.Index
    number: np.ndarray
    topic: np.ndarray
    status: np.ndarray
    received_m: np.ndarray
    resolved_m: np.ndarray
    due_m: np.ndarray
    budget_m: np.ndarray
    due_state: np.ndarray


def _request_arrays(plan: SheetPlan, tz: str, raw_topic: pd.Series | None = None) -> _Requests:
    eff = plan.requests.effective
    missing = NO_TOPIC
    if raw_topic is not None:
        typed = raw_topic.reindex(eff.index).map(lambda v: not is_blank(v))
        missing = pd.Series(NO_TOPIC, index=eff.index, dtype=object).where(~typed, OTHER_TOPIC)
    topics = eff["topic"].astype(object).where(eff["topic"].notna(), missing)
    return _Requests(
        index=eff.index,
        number=pd.to_numeric(eff["number"], errors="coerce").to_numpy(float),
        topic=topics.to_numpy(object),
        status=eff["status"].astype(object).to_numpy(object),
        received_m=np.asarray(to_minutes(eff["received_at"], tz), dtype=float),
        resolved_m=np.asarray(to_minutes(eff["resolved_at"], tz), dtype=float),
        due_m=np.asarray(plan.requests.due_minutes, dtype=float),
        budget_m=np.asarray(plan.requests.budget_minutes, dtype=float),
        due_state=plan.requests.derived["due_state"].reindex(eff.index).to_numpy(object),
    )


def _open_at(
    req: _Requests, audit: pd.DataFrame, moment_m: float, now_m: float, tz: str
) -> tuple[np.ndarray, np.ndarray]:
    """Which requests were open at a moment, and which of those were paused (waiting)."""
    arrived = req.received_m < moment_m
    if moment_m >= now_m:
        status = req.status
        closed = (status == REJECTED) | ((status == RESOLVED) & (req.resolved_m < moment_m))
        closed |= (status == RESOLVED) & np.isnan(req.resolved_m)
        paused = np.isin(status, ON_HOLD)
        return arrived & ~closed, arrived & ~closed & paused
    seen_status, seen = _status_at(pd.Series(req.number, index=req.index), audit, moment_m, tz)
    seen_status = seen_status.to_numpy(object)
    seen = seen.to_numpy(bool)
    resolved_by_then = (req.status == RESOLVED) & (req.resolved_m < moment_m)
    rejected_by_then = (req.status == REJECTED) & (~seen | (seen_status == REJECTED))
    closed = resolved_by_then | rejected_by_then | (seen & (seen_status == REJECTED))
    closed |= seen & (seen_status == RESOLVED) & ~(req.resolved_m >= moment_m)
    # Unseen by the history: the current status is the best guess of whether it waited.
    paused = np.where(seen, np.isin(seen_status, ON_HOLD), np.isin(req.status, ON_HOLD))
    open_ = arrived & ~closed
    return open_, open_ & paused


# --- consultation slots ------------------------------------------------------------------------


def _slot_start(value: object, year_hint: int, minutes: int) -> dt.datetime | None:
    """When a «Консультация» cell's slot starts (a date-time cell starts there), or None."""
    if isinstance(value, dt.datetime | pd.Timestamp):
        return pd.Timestamp(value).to_pydatetime().replace(tzinfo=None)
    slot = parse_slot(value, year_hint, minutes=minutes) if isinstance(value, str) else None
    return None if slot is None else slot.start


def available_slots(
    calendar: WorkCalendar, first: dt.date, last: dt.date, booking: BookingRules
) -> tuple[int, float]:
    """Bookable slots (times capacity) of the consultation sessions on days first..last, and the
    consultation minutes. A slot never straddles two sessions; a buffer sits between slots."""
    step = booking.slot_minutes + booking.buffer_minutes
    per_day: dict[dt.date, int] = {}
    minutes = 0.0
    for start, end in calendar.sessions(first, last):
        length = (end - start).total_seconds() / 60
        minutes += length
        fits = 0
        if length >= booking.slot_minutes:
            fits = int((length + booking.buffer_minutes) // step)
        per_day[start.date()] = per_day.get(start.date(), 0) + fits * booking.capacity
    total = 0
    for n in per_day.values():
        total += min(n, booking.daily_cap) if booking.daily_cap else n
    return total, minutes


# --- consent as it was -------------------------------------------------------------------------


def _dates(frame: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_datetime(frame[name].astype(object), errors="coerce").dt.normalize()


def consent_as_of(consent: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    """The consent rows as they stood at the end of `day`, rolled back by their own dates."""
    if consent.empty:
        return consent
    out = consent.copy()
    limit = pd.Timestamp(day)
    issued = _dates(consent, "issued_on")
    submitted = _dates(consent, "submitted_on")
    revoked = _dates(consent, "revoked_on")
    login = _dates(consent, "login_issued_on")
    app = out["application"].astype(object)
    pdc = out["pd_consent"].astype(object)

    later_revoke = revoked > limit
    # A pupil who left after the day was still at school: as far along as the dates show.
    left_later = later_revoke & app.eq(APP_LEFT)
    before_leaving = np.select(
        [submitted.notna(), issued.notna()], [APP_SUBMITTED, APP_ISSUED], APP_NOT_ISSUED
    )
    app = app.where(~left_later, pd.Series(before_leaving, index=app.index, dtype=object))
    pdc = pdc.where(~(later_revoke & pdc.eq(PD_REVOKED)), PD_SIGNED)
    later_submit = submitted > limit
    pdc = pdc.where(~(later_submit & pdc.eq(PD_SIGNED)), PD_NONE)
    app = app.where(~(later_submit & app.eq(APP_SUBMITTED)), APP_ISSUED)
    later_issue = issued > limit
    app = app.where(~(later_issue & app.isin([APP_ISSUED, APP_SUBMITTED])), APP_NOT_ISSUED)
    out["application"] = app
    out["pd_consent"] = pdc
    for name, later in (
        ("issued_on", later_issue),
        ("submitted_on", later_submit),
        ("revoked_on", later_revoke),
        ("login_issued_on", login > limit),
    ):
        out[name] = out[name].astype(object).where(~later, None)
    return out


def _staff_as_of(staff: pd.DataFrame, day: dt.date) -> pd.DataFrame:
    out = staff.copy()
    limit = pd.Timestamp(day)
    for name in ("manual_given_on", "trained_on"):
        out[name] = out[name].astype(object).where(~(_dates(staff, name) > limit), None)
    return out


def _shares(cov: pd.DataFrame) -> tuple[int, float | None, float | None, float | None]:
    pupils = int(cov["pupils"].sum()) if len(cov) else 0
    if not pupils:
        return 0, None, None, None
    return (
        pupils,
        float(cov["submitted"].sum()) / pupils,
        float(cov["signed"].sum()) / pupils,
        float(cov["ready"].sum()) / pupils,
    )


def _history_row(summary: pd.DataFrame, week_start: dt.date) -> dict[str, object] | None:
    """The «Сводка» row of a week, if the history holds one (the lowest row when repeated)."""
    if summary.empty:
        return None
    days = pd.to_datetime(summary["week_start"].astype(object), errors="coerce").dt.date
    rows = summary[days == week_start]
    if rows.empty:
        return None
    return rows.iloc[-1].to_dict()


def _share_from_history(value: object) -> float | None:
    if is_blank(value):
        return None
    try:
        return float(value) / 100
    except (TypeError, ValueError):
        return None


# --- privacy -----------------------------------------------------------------------------------


def sheet_names(parsed: dict[str, ParsedTab]) -> NameIndex:
    """Everyone named on the sheet, to keep pupils', parents' and applicants' names out of
    the report (rules.privacy; staff names may stay)."""
    return name_index(parsed["consent"].frame, parsed["requests"].frame, parsed["staff"].frame)


# --- building the figures ----------------------------------------------------------------------


def week_figures(
    parsed: dict[str, ParsedTab],
    plan: SheetPlan,
    settings: Settings,
    *,
    now: dt.datetime,
    week_start: dt.date | None = None,
    sheet_tz: str | None = None,
    calendar: WorkCalendar | None = None,
) -> WeekFigures:
    """The figures of one week from the parsed tabs and the sync's plan (built with this `now`).

    `week_start` is any day of the week wanted (default: the last complete week before `now`).
    """
    tz = settings.timezone
    sheet_tz = sheet_tz or tz
    start = monday_of(week_start) if week_start else default_week(now, tz)
    end = start + dt.timedelta(days=7)
    start_m, end_m = _midnight_m(start, tz), _midnight_m(end, tz)
    now_m = float(to_minutes(now, tz))
    trend_first = start - dt.timedelta(days=7 * (TREND_WEEKS - 1))
    if calendar is None:
        calendar = _week_calendar(parsed, plan, settings, now=now, since=trend_first)
    req = _request_arrays(plan, sheet_tz, parsed["requests"].raw.get("topic"))
    audit = parsed["changes"].frame

    figures = WeekFigures(
        week_start=start,
        week_end=end,
        built_at=local_now(now, tz),
        complete=end_m <= now_m,
        school=settings.school.name,
        show_names=settings.show_names,
        target_share=settings.consent.target_share,
    )
    _requests_of_the_week(figures, req, calendar, start_m, end_m)
    _state_at_the_end(figures, req, audit, calendar, min(end_m, now_m), now_m, sheet_tz, settings)
    _state_now(figures, req, audit, now_m, sheet_tz)
    names = None if settings.show_names else sheet_names(parsed)
    figures.overdue_list = _overdue_list(req, parsed, plan, calendar, now_m, names, settings)
    _vendor_figures(figures, req, parsed, plan, settings, now=now)
    figures.quarter_end = quarter_end_ahead(
        end - dt.timedelta(days=1), quarter_end_dates(parsed["calendar"].frame)
    )
    if figures.quarter_end is not None:
        open_now, _ = _open_at(req, audit, now_m, now_m, sheet_tz)
        figures.marks_open = int((open_now & np.isin(req.topic, MARKS_TOPICS)).sum())
    _consultation_slots(figures, parsed, plan, calendar, settings, now=now)
    _consent_figures(figures, parsed, settings)
    figures.problems = {
        _SCHEMA[key].title: int((~checks.map(is_blank)).sum())
        for key, checks in plan.checks.items()
    }
    figures.trend = _trend(req, calendar, trend_first, start, tz)
    if "journal_fill" in parsed:  # section I: only when the school loads lesson exports
        figures.journal = journal_week(
            parsed["journal_fill"].frame, start, threshold=settings.journal.threshold
        )
    if now_m - end_m > 24 * 60:
        figures.approximations = [APPROX_STATUS, APPROX_DEADLINES, APPROX_CONSENT, APPROX_CHECKS]
    return figures


def _vendor_figures(
    figures: WeekFigures,
    req: _Requests,
    parsed: dict[str, ParsedTab],
    plan: SheetPlan,
    settings: Settings,
    *,
    now: dt.datetime,
) -> None:
    """Requests with the journal's own support now, and those waiting on it too long."""
    figures.with_vendor_now = int((req.status == WITH_VENDOR).sum())
    figures.vendor_days = settings.deadlines.vendor_days
    figures.vendor_waits = vendor_waits(
        plan.requests.effective,
        parsed["changes"].frame,
        holidays=public_holiday_dates(parsed["calendar"].frame),
        today=local_now(now, settings.timezone).date(),
        limit_days=settings.deadlines.vendor_days,
    )


def _week_calendar(
    parsed: dict[str, ParsedTab],
    plan: SheetPlan,
    settings: Settings,
    *,
    now: dt.datetime,
    since: dt.date,
) -> WorkCalendar:
    """The working-time calendar reaching back to the trend's first week."""
    earliest = pd.concat(
        [
            plan.requests.effective["received_at"],
            pd.Series([dt.datetime.combine(since, dt.time(0))], dtype=object),
        ],
        ignore_index=True,
    )
    return build_calendar(
        parsed["schedule"].frame,
        parsed["calendar"].frame,
        tz=settings.timezone,
        earliest=earliest,
        now=now,
        vacation_consultations=settings.school.vacation_consultations,
    )


def _requests_of_the_week(
    figures: WeekFigures, req: _Requests, calendar: WorkCalendar, start_m: float, end_m: float
) -> None:
    """Received, resolved (in time), rejected, the median time to resolve, per topic."""
    in_week = (req.received_m >= start_m) & (req.received_m < end_m)
    resolved = (req.status == RESOLVED) & (req.resolved_m >= start_m) & (req.resolved_m < end_m)
    figures.received = int(in_week.sum())
    figures.resolved = int(resolved.sum())
    figures.resolved_in_time = int((resolved & (req.due_state == RESOLVED_ON_TIME)).sum())
    if figures.resolved:
        figures.in_time_share = figures.resolved_in_time / figures.resolved
    figures.rejected = int((in_week & (req.status == REJECTED)).sum())
    spent = np.asarray(calendar.between(req.received_m, req.resolved_m), dtype=float)
    figures.median_resolve_minutes = _median(spent[resolved])

    topics = pd.unique(np.concatenate([req.topic[in_week], req.topic[resolved]]))
    lines = [
        TopicLine(
            topic=str(t),
            received=int((in_week & (req.topic == t)).sum()),
            resolved=int((resolved & (req.topic == t)).sum()),
            median_minutes=_median(spent[resolved & (req.topic == t)]),
        )
        for t in topics
    ]
    lines.sort(key=lambda line: (-line.received, -line.resolved, line.topic))
    figures.topics = lines
    figures.top_topics = [line for line in lines if line.received][:3]


def _state_at_the_end(
    figures: WeekFigures,
    req: _Requests,
    audit: pd.DataFrame,
    calendar: WorkCalendar,
    moment_m: float,
    now_m: float,
    sheet_tz: str,
    settings: Settings,
) -> None:
    """Open, overdue and at-risk requests and the backlog's age at the end of the week."""
    open_end, paused_end = _open_at(req, audit, moment_m, now_m, sheet_tz)
    running = open_end & ~paused_end & ~np.isnan(req.due_m)
    overdue_end = running & (req.due_m <= moment_m)
    remaining = np.asarray(calendar.between(np.full(len(req.due_m), moment_m), req.due_m))
    share = settings.deadlines.at_risk_share
    at_risk_end = running & ~overdue_end & (remaining <= (1 - share) * req.budget_m)
    figures.open_at_end = int(open_end.sum())
    figures.overdue_at_end = int(overdue_end.sum())
    figures.at_risk_at_end = int(at_risk_end.sum())
    age = np.asarray(calendar.between(req.received_m, np.full(len(req.received_m), moment_m)))
    figures.backlog_median_minutes = _median(age[open_end])
    backlog = age[open_end]
    backlog = backlog[~np.isnan(backlog)]
    figures.backlog_max_minutes = float(backlog.max()) if len(backlog) else None


def _state_now(
    figures: WeekFigures, req: _Requests, audit: pd.DataFrame, now_m: float, sheet_tz: str
) -> None:
    """The deadline states now, exactly as the sync computes them."""
    state = req.due_state
    figures.overdue_now = int((state == OVERDUE).sum())
    figures.at_risk_now = int((state == AT_RISK).sum())
    figures.paused_now = int((state == PAUSED).sum())
    open_now, _ = _open_at(req, audit, now_m, now_m, sheet_tz)
    figures.open_now = int(open_now.sum())


def _consultation_slots(
    figures: WeekFigures,
    parsed: dict[str, ParsedTab],
    plan: SheetPlan,
    calendar: WorkCalendar,
    settings: Settings,
    *,
    now: dt.datetime,
) -> None:
    """The week's consultation time, slots available and slots booked."""
    start, end = figures.week_start, figures.week_end
    figures.slots_available, figures.consultation_minutes = available_slots(
        calendar, start, end - dt.timedelta(days=1), BookingRules.from_settings(settings)
    )
    # The slots the rules want when they book, else the cells as they stand.
    derived = plan.requests.derived
    cells = derived.get("consultation", parsed["requests"].frame["consultation"])
    # Read by the booking's own parser, with the booking's year hint: a slot the booking keeps
    # is a slot counted here, whatever shape a person typed it in.
    year_hint = local_now(now, settings.timezone).year
    starts = [_slot_start(v, year_hint, settings.booking.slot_minutes) for v in cells.dropna()]
    figures.slots_booked = sum(1 for s in starts if s is not None and start <= s.date() < end)


def _calendar_days(due_at: object, now_m: float, tz: str) -> int | None:
    """Whole calendar days from a deadline (naive local) to now."""
    if is_blank(due_at):
        return None
    due_m = float(to_minutes([pd.Timestamp(due_at).to_pydatetime()], tz)[0])
    return int((now_m - due_m) // (24 * 60)) if np.isfinite(due_m) else None


def _overdue_list(
    req: _Requests,
    parsed: dict[str, ParsedTab],
    plan: SheetPlan,
    calendar: WorkCalendar,
    now_m: float,
    names: NameIndex | None,
    settings: Settings,
) -> list[OverdueItem]:
    eff = plan.requests.effective
    due_at = plan.requests.derived["due_at"].reindex(eff.index)
    late = np.asarray(calendar.between(req.due_m, np.full(len(req.due_m), now_m)), dtype=float)
    rows = np.flatnonzero(req.due_state == OVERDUE)
    rows = sorted(rows, key=lambda i: -(0 if np.isnan(late[i]) else late[i]))
    out = []
    for i in rows[:OVERDUE_LIST_LIMIT]:
        row = eff.index[i]
        number = req.number[i]
        class_name = eff.at[row, "class_name"]
        out.append(
            OverdueItem(
                number=None if np.isnan(number) else int(number),
                topic=str(req.topic[i]),
                class_name=None if is_blank(class_name) else str(class_name),
                due_at=None if is_blank(due_at[row]) else pd.Timestamp(due_at[row]).to_pydatetime(),
                late_minutes=None if np.isnan(late[i]) else float(late[i]),
                late_days=_calendar_days(due_at[row], now_m, calendar.tz),
                quote=quote(eff.at[row, "description"], names, QUOTE_LIMIT),
                requester=(
                    str(eff.at[row, "requester"])
                    if settings.show_names and not is_blank(eff.at[row, "requester"])
                    else None
                ),
            )
        )
    return out


def public_holiday_dates(calendar_tab: pd.DataFrame) -> set[dt.date]:
    """The days of the «Праздник» rows of «Календарь» (the days no one works, vendors included)."""
    out: set[dt.date] = set()
    if calendar_tab.empty:
        return out
    for first, last, kind in calendar_tab[["date_from", "date_to", "kind"]].itertuples(index=False):
        if kind != KIND_HOLIDAY or is_blank(first):
            continue
        first = pd.Timestamp(first).date()
        last = first if is_blank(last) else pd.Timestamp(last).date()
        out.update(first + dt.timedelta(days=i) for i in range(max(0, (last - first).days) + 1))
    return out


def working_days_after(since: dt.date, today: dt.date, holidays: set[dt.date]) -> int:
    """School working days after `since` up to and including `today` (Mon–Fri, not a holiday)."""
    days = pd.bdate_range(since + dt.timedelta(days=1), today) if today > since else []
    return sum(1 for d in days if d.date() not in holidays)


def vendor_waits(
    requests: pd.DataFrame,
    audit: pd.DataFrame,
    *,
    holidays: set[dt.date],
    today: dt.date,
    limit_days: int,
) -> list[VendorWait]:
    """Requests with the journal's support for more than `limit_days` working days, longest first.

    The hand-over is the last «Изменения» row that set the status to «Передано в поддержку
    ЭлЖур»; a request never seen changing (typed so from the start) counts from its arrival."""
    waiting = requests[requests["status"] == WITH_VENDOR]
    if waiting.empty:
        return []
    status_header = _SCHEMA["requests"].header("status")
    handed: dict[int, dt.date] = {}
    if not audit.empty:
        rows = audit[
            (audit["field"] == status_header)
            & (audit["new"] == WITH_VENDOR)
            & audit["number"].notna()
            & audit["at"].notna()
        ]
        for number, at in rows[["number", "at"]].itertuples(index=False):
            day = pd.Timestamp(at).date()
            handed[int(number)] = max(day, handed.get(int(number), day))
    out = []
    for number, topic, class_name, received in waiting[
        ["number", "topic", "class_name", "received_at"]
    ].itertuples(index=False):
        n = None if is_blank(number) else int(number)
        since = handed.get(n) if n is not None else None
        if since is None and not is_blank(received):
            since = pd.Timestamp(received).date()
        days = working_days_after(since, today, holidays) if since else 0
        if days > limit_days:
            out.append(
                VendorWait(
                    number=n,
                    topic=str(topic) if not is_blank(topic) else NO_TOPIC,
                    class_name=None if is_blank(class_name) else str(class_name),
                    since=since,
                    working_days=days,
                )
            )
    out.sort(key=lambda w: (-w.working_days, w.number or 0))
    return out


def _consent_figures(
    figures: WeekFigures, parsed: dict[str, ParsedTab], settings: Settings
) -> None:
    rules = ConsentRules.from_settings(settings.consent)
    # consent.coverage keeps the sheet row in a column named "row": an index of the same name
    # (as parse_tab names it) makes pandas refuse to sort, so the index goes unnamed here.
    consent = parsed["consent"].frame.rename_axis(None)
    staff = parsed["staff"].frame.rename_axis(None)
    last_day = figures.last_day
    prev_day = last_day - dt.timedelta(days=7)
    staff_now = _staff_as_of(staff, last_day)
    cov = coverage(consent_as_of(consent, last_day), today=last_day, rules=rules, staff=staff_now)
    prev = coverage(
        consent_as_of(consent, prev_day),
        today=prev_day,
        rules=rules,
        staff=_staff_as_of(staff, prev_day),
    )
    prev_share = prev["ready_share"].to_dict()
    prev_pupils = prev["pupils"].to_dict()
    figures.classes = [
        ClassLine(
            class_name=str(name),
            pupils=int(line["pupils"]),
            submitted=int(line["submitted"]),
            signed=int(line["signed"]),
            ready=int(line["ready"]),
            ready_share=float(line["ready_share"]),
            target=float(line["target"]),
            behind=bool(line["behind"]),
            change=(
                float(line["ready_share"]) - float(prev_share[name])
                if prev_pupils.get(name)
                else None
            ),
            class_teacher=None if is_blank(line["class_teacher"]) else str(line["class_teacher"]),
        )
        for name, line in cov.iterrows()
    ]
    figures.pupils, figures.applications_share, figures.consent_share, figures.ready_share = (
        _shares(cov)
    )
    _, prev_apps, prev_consent, prev_ready = _shares(prev)
    history = _history_row(parsed["summary"].frame, figures.week_start - dt.timedelta(days=7))
    figures.previous_source = "recomputed" if prev_apps is not None else None
    if history is not None:
        from_history = (
            _share_from_history(history.get("applications_share")),
            _share_from_history(history.get("consent_share")),
        )
        if None not in from_history:
            prev_apps, prev_consent = from_history
            figures.previous_source = "history"

    def change(now: float | None, before: float | None) -> float | None:
        return None if now is None or before is None else now - before

    figures.applications_change = change(figures.applications_share, prev_apps)
    figures.consent_change = change(figures.consent_share, prev_consent)
    figures.ready_change = change(figures.ready_share, prev_ready)

    ready = staff_readiness(staff_now, cov)
    figures.no_manual = [str(n) for n in ready["no_manual"]["full_name"]]
    figures.no_training = [str(n) for n in ready["no_training"]["full_name"]]
    order = [line.class_name for line in figures.classes]
    behind = {str(c) for c in ready["behind_classes"]["class_name"]}
    figures.behind_classes = [c for c in order if c in behind]


def _trend(
    req: _Requests, calendar: WorkCalendar, first: dt.date, last: dt.date, tz: str
) -> list[WeekPoint]:
    """Requests by topic, resolved and the share resolved in time, week by week."""
    points = []
    week = first
    while week <= last:
        lo, hi = _midnight_m(week, tz), _midnight_m(week + dt.timedelta(days=7), tz)
        got = (req.received_m >= lo) & (req.received_m < hi)
        done = (req.status == RESOLVED) & (req.resolved_m >= lo) & (req.resolved_m < hi)
        in_time = int((done & (req.due_state == RESOLVED_ON_TIME)).sum())
        counts = pd.Series(req.topic[got]).value_counts()
        points.append(
            WeekPoint(
                week_start=week,
                by_topic={str(k): int(v) for k, v in counts.items()},
                received=int(got.sum()),
                resolved=int(done.sum()),
                in_time_share=in_time / int(done.sum()) if done.any() else None,
            )
        )
        week += dt.timedelta(days=7)
    return points
