"""`journaldesk slots`: the administrator's consultation agenda for one week.

Reads the sheet once (no write) and shows each day of the week: the consultation hours and who is
booked when (request №, topic, requester), the free places, and the days without consultations
with the reason. Bookings are shown as the next sync will leave them (the booking rules are pure
and deterministic, so right after a sync this is exactly what the sheet holds).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from journaldesk.cli.common import config_option, friendly, now_in, open_settings
from journaldesk.errors import UserError
from journaldesk.rules.booking import (
    BookingRules,
    agenda,
    agenda_lines,
    agenda_week,
    rooms_by_weekday,
)
from journaldesk.settings import Settings
from journaldesk.store.base import Snapshot

_WEEK_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")


def week_of(text: str | None, today: dt.date) -> tuple[dt.date, dt.date]:
    """Monday and Sunday of the week of the date `text` (ГГГГ-ММ-ДД or ДД.ММ.ГГГГ); without a
    date, the week of today, or on a weekend the coming week."""
    if text is None or not text.strip():
        return agenda_week(today)
    else:
        for fmt in _WEEK_FORMATS:
            try:
                day = dt.datetime.strptime(text.strip(), fmt).date()
                break
            except ValueError:
                continue
        else:
            raise UserError(
                f"--week: «{text}» — ожидалась дата, например 2026-11-30 или 30.11.2026"
            )
    monday = day - dt.timedelta(days=day.weekday())
    return monday, monday + dt.timedelta(days=6)


def week_agenda(
    snap: Snapshot, settings: Settings, *, now: dt.datetime, day_from: dt.date, day_to: dt.date
) -> list[str]:
    """The agenda lines of day_from..day_to from one snapshot of the sheet."""
    from journaldesk.jobs.sync import plan_snapshot

    reading = plan_snapshot(snap, settings, now=now)
    parsed, plan = reading.parsed, reading.plan
    # The sync's own calendar and bookings: what the next sync leaves in the sheet.
    calendar, bookings = plan.calendar, plan.bookings
    rooms = rooms_by_weekday(parsed["schedule"].frame)
    days = agenda(
        plan.requests.effective,
        bookings.desired,
        calendar=calendar,
        rules=BookingRules.from_settings(settings),
        day_from=day_from,
        day_to=day_to,
        schedule_rooms=rooms,
        groups=bookings.groups,
        now=now,
    )
    return agenda_lines(days)


@click.command(
    "slots",
    help="Консультации на неделю: кто записан и когда, свободные места, дни без консультаций.",
)
@click.option(
    "--week",
    "week",
    default=None,
    metavar="ДАТА",
    help="Любой день нужной недели: 2026-11-30 или 30.11.2026 (по умолчанию текущая неделя).",
)
@config_option
@friendly
def slots(week: str | None, config_path: Path | None) -> None:
    """The administrator's agenda for one week."""
    from journaldesk.store import open_store

    settings = open_settings(config_path)
    now = now_in(settings)
    day_from, day_to = week_of(week, now.date())
    snap = open_store(settings).read()
    click.echo("\n".join(week_agenda(snap, settings, now=now, day_from=day_from, day_to=day_to)))
