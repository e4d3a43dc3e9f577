"""Group training sessions (regulation 2.1): the «Групповое занятие» rows of «Календарь», and who
has been trained.

A group session is one row: the day in «С», the time in «Время с» / «Время до», the room and the
places in «Комментарий» («каб. 21, мест 8»; without a number of places it holds
DEFAULT_PLACES). Training requests are booked into these sessions (rules/booking.py); a session in
the past whose request reached «Решено» counts as attended, and fills «Обучение пройдено» in
«Сотрудники» while that cell is empty. Pure: frames in, values out.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from journaldesk.rules.login_check import same_person
from journaldesk.sheet.schema import load_schema
from journaldesk.sheet.textfmt import is_blank
from journaldesk.sheet.vocab import GROUP_TOPICS, KIND_GROUP, RESOLVED

_CAL = load_schema()["calendar"]
# Places of a session whose comment names none: a computer class of a school.
DEFAULT_PLACES = 10
EXAMPLE = "каб. 21, мест 8"

_PLACES = re.compile(
    r"(?:мест[аo]?|человек|чел\.?|участник\w*)\s*[:\-—]?\s*(\d{1,3})"
    r"|(\d{1,3})\s*(?:мест[аo]?|человек|чел\b\.?|участник\w*)",
    re.IGNORECASE,
)
_ROOM = re.compile(r"(?:каб(?:инет)?|ауд(?:итория)?)\.?\s*(№\s*)?(?P<room>[\w\-/]+)", re.IGNORECASE)


@dataclass(frozen=True)
class GroupSession:
    """One group session: naive local wall times of the school's zone, its room and places."""

    row: int  # the sheet row in «Календарь»
    start: dt.datetime
    end: dt.datetime
    room: str
    places: int


def places_of(comment: object) -> int | None:
    """The number of places a comment names («мест 8», «на 8 человек»), or None."""
    if is_blank(comment):
        return None
    m = _PLACES.search(str(comment))
    if m is None:
        return None
    return int(m.group(1) or m.group(2))


def room_of(comment: object) -> str:
    """The room a comment names («каб. 21» -> «21»), or ''."""
    if is_blank(comment):
        return ""
    m = _ROOM.search(str(comment))
    return m.group("room") if m else ""


def group_sessions(calendar: pd.DataFrame) -> list[GroupSession]:
    """Every well-formed «Групповое занятие» row, by start (rows without a time are left out:
    their note says what is missing)."""
    if calendar.empty:
        return []
    out = []
    for row, r in calendar[calendar["kind"] == KIND_GROUP].iterrows():
        day, t_from, t_to = r["date_from"], r["time_from"], r["time_to"]
        if is_blank(day) or is_blank(t_from) or is_blank(t_to) or t_to <= t_from:
            continue
        day = pd.Timestamp(day).date()
        places = places_of(r["comment"])
        out.append(
            GroupSession(
                row=int(row),
                start=dt.datetime.combine(day, t_from),
                end=dt.datetime.combine(day, t_to),
                room=room_of(r["comment"]),
                places=DEFAULT_PLACES if places is None else places,
            )
        )
    return sorted(out, key=lambda s: (s.start, s.row))


def group_notes(calendar: pd.DataFrame) -> dict[int, list[str]]:
    """Notes for «Групповое занятие» rows: no time, a span of days, no number of places."""
    notes: dict[int, list[str]] = {}
    if calendar.empty:
        return notes
    first: dict[tuple[object, object, str], int] = {}
    for row, r in calendar[calendar["kind"] == KIND_GROUP].iterrows():
        items = []
        key = (r["date_from"], r["time_from"], room_of(r["comment"]))
        if not is_blank(r["date_from"]) and not is_blank(r["time_from"]):
            if key in first:
                items.append(
                    f"То же время и кабинет, что в строке {first[key]}: занятие одно, "
                    f"записывают на строку {first[key]}"
                )
            first.setdefault(key, int(row))
        if is_blank(r["time_from"]) or is_blank(r["time_to"]):
            items.append(
                f"Для группового занятия укажите «{_CAL.header('time_from')}» и "
                f"«{_CAL.header('time_to')}»: пока на него никого не записывают"
            )
        if not is_blank(r["date_to"]) and r["date_to"] != r["date_from"]:
            items.append(
                f"Групповое занятие — один день: «{_CAL.header('date_to')}» не учитывается, "
                f"на каждый день впишите свою строку"
            )
        if places_of(r["comment"]) is None:
            items.append(
                f"В «{_CAL.header('comment')}» не указано число мест: взято {DEFAULT_PLACES} "
                f"(пример: «{EXAMPLE}»)"
            )
        if items:
            notes[int(row)] = items
    return notes


def trained_on(
    requests: pd.DataFrame,
    booked: dict[int, GroupSession],
    staff: pd.DataFrame,
    *,
    now: dt.datetime,
) -> pd.Series:
    """«Обучение пройдено» per «Сотрудники» row: the day of the first group session the person
    attended (a session over by `now`, its training request «Решено»), None where none.

    `booked`: the group session each request row is booked into (by sheet row). A requester who
    matches more than one staff row fills none (the name does not say who came)."""
    first: dict[int, dt.date] = {}
    names = [(int(row), name) for row, name in staff["full_name"].items() if not is_blank(name)]
    for req_row, session in booked.items():
        if session.end > now:
            continue
        r = requests.loc[req_row]
        if r.get("status") != RESOLVED or r.get("topic") not in GROUP_TOPICS:
            continue
        who = [row for row, name in names if same_person(r.get("requester"), name)]
        if len(who) != 1:
            continue
        day = session.start.date()
        first[who[0]] = min(first.get(who[0], day), day)
    return pd.Series([first.get(int(row)) for row in staff.index], index=staff.index, dtype=object)
