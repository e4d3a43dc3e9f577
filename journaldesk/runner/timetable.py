"""When the runner's jobs run: the timetable from the settings, declared as `schedule` jobs,
and what is due at a moment (pure: the saved state, `now` and the timetable in, job ids out).

`declare` turns the timetable into jobs of the `schedule` library, each at a wall time of the
school's zone: a sync at every slot of a school day (day_start + k * sync_every before day_end),
the weekly summary, and a wake-up every minute for reminders before consultation sessions (the
sessions come from the sheet) and for lesson exports dropped into the inbox. `schedule` only
wakes the runner; what actually runs is decided by `due_jobs` from the saved state and the `now`
handed in, so a runner woken late runs what is due once and replays nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import schedule

from journaldesk.runner.state import RunnerState
from journaldesk.settings import Settings

SYNC = "sync"
REMINDER = "reminder"
SUMMARY = "summary"
JOURNAL = "journal"
JOBS = (SYNC, REMINDER, JOURNAL, SUMMARY)

# schedule's weekday units, Monday first as datetime.weekday() counts
_WEEKDAY_UNITS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


@dataclass(frozen=True)
class Timetable:
    """When the jobs run, from settings.runner, in the school's time zone."""

    tz: str = "Europe/Simferopol"
    sync_every: int = 15  # minutes
    day_start: dt.time = dt.time(7, 30)
    day_end: dt.time = dt.time(19, 0)
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4, 5})
    reminder_before: int = 30  # minutes
    summary_weekday: int = 0
    summary_time: dt.time = dt.time(7, 0)

    @classmethod
    def from_settings(cls, settings: Settings) -> Timetable:
        """The timetable of these settings."""
        r = settings.runner
        return cls(
            tz=settings.timezone,
            sync_every=r.sync_every_minutes,
            day_start=r.day_start,
            day_end=r.day_end,
            workdays=frozenset(r.workdays),
            reminder_before=r.reminder_minutes_before,
            summary_weekday=r.summary_weekday,
            summary_time=r.summary_time,
        )

    @property
    def retry(self) -> dt.timedelta:
        """How long a failed reminder or summary waits before it is tried again."""
        return dt.timedelta(minutes=self.sync_every)

    def sync_times(self) -> list[dt.time]:
        """The sync slots of a school day: day_start + k * sync_every, before day_end."""
        step = dt.timedelta(minutes=self.sync_every)
        moment = dt.datetime.combine(dt.date(2000, 1, 3), self.day_start)
        end = dt.datetime.combine(moment.date(), self.day_end)
        out = []
        while moment < end:
            out.append(moment.time())
            moment += step
        return out


def declare(timetable: Timetable, wake: Callable[[str], Any]) -> schedule.Scheduler:
    """The timetable as a `schedule.Scheduler` whose jobs call `wake(job)`, in the school's zone."""
    tt = timetable
    ticker = schedule.Scheduler()
    for weekday in sorted(tt.workdays):
        for moment in tt.sync_times():
            day = getattr(ticker.every(), _WEEKDAY_UNITS[weekday])
            day.at(moment.strftime("%H:%M"), tt.tz).do(wake, SYNC).tag(SYNC)
    summary_day = getattr(ticker.every(), _WEEKDAY_UNITS[tt.summary_weekday])
    summary_day.at(tt.summary_time.strftime("%H:%M"), tt.tz).do(wake, SUMMARY).tag(SUMMARY)
    # Sessions and the inbox change with the sheet and the folder: looked at every minute.
    ticker.every(1).minutes.do(wake, REMINDER).tag(REMINDER)
    return ticker


# --- what is due (pure) -------------------------------------------------------------------------


def local_time(now: dt.datetime, tz: str) -> dt.datetime:
    """`now` (aware) in the zone `tz`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(tz))


def _slot(local: dt.datetime, tt: Timetable) -> tuple[dt.date, int]:
    """The sync slot a local moment falls in: (day, k) for day_start + k * sync_every."""
    start = dt.datetime.combine(local.date(), tt.day_start, tzinfo=local.tzinfo)
    return local.date(), int((local - start) // dt.timedelta(minutes=tt.sync_every))


def in_school_hours(now: dt.datetime, tt: Timetable) -> bool:
    """A workday, between day_start and day_end, local time."""
    local = local_time(now, tt.tz)
    return local.weekday() in tt.workdays and tt.day_start <= local.time() < tt.day_end


def summary_moment(now: dt.datetime, tt: Timetable) -> dt.datetime:
    """The latest summary moment (summary_weekday at summary_time, local) at or before now."""
    local = local_time(now, tt.tz)
    back = (local.weekday() - tt.summary_weekday) % 7
    candidate = dt.datetime.combine(
        local.date() - dt.timedelta(days=back), tt.summary_time, tzinfo=local.tzinfo
    )
    if candidate > local:
        candidate -= dt.timedelta(days=7)
    return candidate


def reminder_sessions(
    state: RunnerState, now: dt.datetime, tt: Timetable
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Cached sessions whose reminder is due: reminder_before minutes before the start, until
    the session ends (a runner started late still reminds), and not reminded yet."""
    lead = dt.timedelta(minutes=tt.reminder_before)
    done = set(state.reminded)
    return [
        (start, end)
        for start, end in state.sessions
        if start - lead <= now < end and start not in done
    ]


def _retry_ok(state: RunnerState, job: str, now: dt.datetime, tt: Timetable) -> bool:
    failure = state.failures.get(job)
    return failure is None or now - failure.at >= tt.retry


def due_jobs(state: RunnerState, now: dt.datetime, timetable: Timetable) -> list[str]:
    """The jobs due at `now`, in the order they should run (sync first: it refreshes the calendar).

    Nothing is due on a day the sheet's calendar marks as a holiday or vacation.
    """
    tt = timetable
    local = local_time(now, tt.tz)
    if local.date() in state.closed_days:
        return []
    due: list[str] = []
    if in_school_hours(now, tt):
        last = state.attempts.get(SYNC)
        if last is None or _slot(local_time(last, tt.tz), tt) != _slot(local, tt):
            due.append(SYNC)
    if reminder_sessions(state, now, tt) and _retry_ok(state, REMINDER, now, tt):
        due.append(REMINDER)
    if state.inbox and _retry_ok(state, JOURNAL, now, tt):
        due.append(JOURNAL)
    made = summary_moment(now, tt).date()
    if (
        state.summary_done != made
        and local.time() >= tt.summary_time
        and _retry_ok(state, SUMMARY, now, tt)
    ):
        due.append(SUMMARY)
    return due
