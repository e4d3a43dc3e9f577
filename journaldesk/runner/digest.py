"""What the reminder before a consultation session says: overdue and at-risk requests by №,
topic, deadline and state, never a person's name."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from journaldesk.rules.privacy import mask_all
from journaldesk.sheet.schema import load_schema
from journaldesk.sheet.textfmt import WEEKDAYS_SHORT, clock, count, day, is_blank, moment
from journaldesk.sheet.vocab import AT_RISK, OVERDUE

# A reminder lists at most this many requests (the sheet has the rest).
DIGEST_MAX_LINES = 60


@dataclass(frozen=True)
class DigestItem:
    """One request in the reminder: №, topic, due moment, state (never a person's name)."""

    number: int | None
    topic: str
    due_at: dt.datetime | None
    state: str


def session_label(start: dt.datetime, end: dt.datetime) -> str:
    """«вт 01.12.2026 15:00–17:00»."""
    return f"{WEEKDAYS_SHORT[start.weekday()]} {day(start)} {clock(start)}–{clock(end)}"


def digest_items(plan_requests: Any) -> list[DigestItem]:
    """The overdue and at-risk requests of a RequestPlan, overdue first, earliest deadline first."""
    at_risk, overdue = AT_RISK, OVERDUE
    eff = plan_requests.effective
    derived = plan_requests.derived
    items = []
    for row in derived.index:
        state = derived.at[row, "due_state"]
        if state not in (at_risk, overdue):
            continue
        number = eff.at[row, "number"] if row in eff.index else None
        due = derived.at[row, "due_at"]
        items.append(
            DigestItem(
                number=None if is_blank(number) else int(number),
                topic="" if is_blank(eff.at[row, "topic"]) else str(eff.at[row, "topic"]),
                due_at=None if is_blank(due) else pd.Timestamp(due).to_pydatetime(),
                state=str(state),
            )
        )
    items.sort(key=lambda i: (i.state != overdue, i.due_at or dt.datetime.max, i.number or 0))
    return items


def digest_text(
    items: list[DigestItem], session: tuple[dt.datetime, dt.datetime], school: str = ""
) -> tuple[str, str]:
    """The reminder's subject and text: only №, topic, deadline and state.

    A topic outside the schema's list was typed by a person and goes through `mask_all`; the
    listed topics are not masked (one of them names a password and would be mangled).
    """
    schema = load_schema()
    known_topics = set(schema.enums["topic"])
    at_risk, overdue = AT_RISK, OVERDUE
    n_over = sum(1 for i in items if i.state == overdue)
    n_risk = sum(1 for i in items if i.state == at_risk)
    label = session_label(*session)
    subject = f"Консультация {label}: просрочено {n_over}, под угрозой {n_risk}"
    lines = [
        f"Перед консультацией {label}" + (f" ({school})" if school else "") + ":",
        f"просрочено — {count(n_over, 'обращение', 'обращения', 'обращений')}, "
        f"под угрозой — {count(n_risk, 'обращение', 'обращения', 'обращений')}.",
        "",
    ]
    for item in items[:DIGEST_MAX_LINES]:
        number = f"№ {item.number}" if item.number is not None else "без №"
        topic = item.topic if item.topic in known_topics else mask_all(item.topic)
        due = f"срок {moment(item.due_at)}" if item.due_at else "срок не определён"
        lines.append(f"{number} · {topic} · {due} · {item.state}")
    if len(items) > DIGEST_MAX_LINES:
        lines.append(f"… и ещё {len(items) - DIGEST_MAX_LINES}")
    lines += ["", f"Подробности — в таблице, лист «{schema['requests'].title}»."]
    return subject, "\n".join(lines)
