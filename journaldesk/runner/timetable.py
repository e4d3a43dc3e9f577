"""When the runner's jobs run: the timetable from the settings, declared as `schedule` jobs.

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

import schedule

from journaldesk.settings import Settings

SYNC = "sync"
REMINDER = "reminder"
SUMMARY = "summary"

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
