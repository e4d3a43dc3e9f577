"""The letter back to a person who asked through the form: who gets one, and when.

A request that came from the form («Канал» «Форма») and whose description holds a valid e-mail
address (the «Эл. почта» or «Как связаться» line the import left there) gets one letter: its №,
its deadline and its consultation slot. It waits until the request has a № already in the sheet
(a № given by this very sync could still move to another row) and a deadline; it is not sent for a
closed request or one whose deadline has passed (mail switched on months later does not answer
old requests). «Изменения» remembers it: a row with «Поле» «Письмо заявителю» for that №, sent or
refused for good, and no second letter ever follows.

Pure: the sync's plan and the history in, the letters due out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

from journaldesk.rules.intake import FORM_CHANNEL, reply_address
from journaldesk.sheet.textfmt import is_blank
from journaldesk.sheet.vocab import CLOSED_STATUSES

# «Поле» of the history row that records the letter (sent, or refused by the mail server).
LETTER_FIELD = "Письмо заявителю"


@dataclass(frozen=True)
class Reply:
    """One letter due: where it goes and what it says (nothing of any other person)."""

    number: int
    address: str
    due_at: dt.datetime
    slot: str  # the booked consultation as the sheet shows it; '' when none
    needs_slot: bool  # the topic needs a consultation (no slot yet: the time will be set)
    topic: str  # the topic when it is one of the list; '' otherwise (typed text stays out)


def answered_numbers(history: Iterable[tuple[object, object]]) -> set[int]:
    """№ whose letter is recorded, from (№, Поле) pairs of «Изменения»."""
    out = set()
    for number, field_name in history:
        if str(field_name or "").strip() != LETTER_FIELD:
            continue
        value = pd.to_numeric(pd.Series([number]), errors="coerce").iloc[0]
        if pd.notna(value):
            out.add(int(value))
    return out


def replies_due(
    effective: pd.DataFrame,
    derived: pd.DataFrame,
    *,
    answered: set[int],
    new_rows: Iterable[int],
    now_local: dt.datetime,
    consultation_topics: Iterable[str],
    known_topics: Iterable[str],
) -> list[Reply]:
    """The letters this sync sends, by №. `effective`/`derived` are the plan's requests frames
    (by sheet row); `new_rows` the rows whose № this sync gives (they wait for the next one)."""
    needs = set(consultation_topics)
    listed = set(known_topics)
    waiting = set(new_rows)
    numbers = pd.to_numeric(effective["number"], errors="coerce")
    repeated = numbers.duplicated(keep=False)
    out = []
    for row in effective.index[(effective["channel"] == FORM_CHANNEL).to_numpy()]:
        number = numbers[row]
        if pd.isna(number) or repeated[row] or row in waiting or int(number) in answered:
            continue
        if effective.at[row, "status"] in CLOSED_STATUSES:
            continue
        due = derived.at[row, "due_at"]
        if is_blank(due) or pd.Timestamp(due).to_pydatetime() <= now_local:
            continue
        address, _ = reply_address(effective.at[row, "description"])
        if address is None:
            continue
        topic = effective.at[row, "topic"]
        topic = "" if is_blank(topic) else str(topic)
        slot = derived.at[row, "consultation"] if "consultation" in derived else None
        out.append(
            Reply(
                number=int(number),
                address=address,
                due_at=pd.Timestamp(due).to_pydatetime(),
                slot="" if is_blank(slot) else str(slot).strip(),
                needs_slot=topic in needs,
                topic=topic if topic in listed else "",
            )
        )
    return sorted(out, key=lambda r: r.number)
