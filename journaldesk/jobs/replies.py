"""The letters back to people who asked through the form, sent by the sync after its write.

Which requests get one is `rules.reply`; this module renders the letter, sends it through the
mail settings (or a `mailer` handed in) and returns the rows that record it: one «Изменения» row
per letter and, when something happened worth seeing, one «Журнал» row. The sync sends just
before its one write and puts these rows in it: the letters never cost a call of their own.

At least once: a letter is sent, then recorded. A run stopped between the two (a crash, the sheet
unreachable for the record) sends it again on the next sync; a failed send leaves no record and
is retried on the next sync. A person may, rarely, get the same short letter twice; never none.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import pandas as pd

from journaldesk.errors import JournaldeskError, RecipientRefused
from journaldesk.rules.plan import SheetPlan
from journaldesk.rules.reply import LETTER_FIELD, Reply, answered_numbers, replies_due
from journaldesk.rules.requests import local_now
from journaldesk.settings import Settings
from journaldesk.sheet.frames import ParsedTab
from journaldesk.sheet.schema import Schema
from journaldesk.sheet.textfmt import is_blank, moment
from journaldesk.sheet.vocab import RUN_FAILED, RUN_OK

log = logging.getLogger(__name__)

# «Задача» of the «Журнал» rows about the letters.
JOB_REPLIES = "Письма заявителям"

Mailer = Callable[[str], object]  # address -> a jobs.notify.Sender writing to that one address


@dataclass
class ReplyRun:
    """What one sync's letters did: the rows to append and a line for the sync's report."""

    sent: list[int] = field(default_factory=list)  # № written to
    waiting: list[int] = field(default_factory=list)  # № left for the next sync (failure)
    history: list[dict[str, object]] = field(default_factory=list)
    journal: list[dict[str, object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def reply_text(reply: Reply, school: str) -> tuple[str, str]:
    """The letter's subject and text: its №, deadline and consultation, nothing else."""
    from journaldesk.jobs.report import environment  # jinja2 only when a letter is due

    text = (
        environment()
        .get_template("reply.txt.j2")
        .render(
            number=reply.number,
            topic=reply.topic,
            due=moment(reply.due_at),
            slot=reply.slot,
            needs_slot=reply.needs_slot,
            school=school,
        )
    )
    return f"Ваше обращение № {reply.number} принято", text


def default_mailer(settings: Settings) -> Mailer | None:
    """A sender per address from the mail settings; None when mail is off (mail.host empty) or
    the letters are (intake.letters)."""
    if not settings.mail.host.strip() or not settings.intake.letters:
        return None
    from journaldesk.jobs.notify import sender_from_settings

    return lambda address: sender_from_settings(settings, recipients=[address])


def due_replies(
    plan: SheetPlan,
    parsed: dict[str, ParsedTab],
    settings: Settings,
    schema: Schema,
    now: dt.datetime,
) -> list[Reply]:
    """The letters due after this sync's write (see rules.reply)."""
    changes = parsed["changes"].frame
    topics = list(schema.enums["topic"])
    return replies_due(
        plan.requests.effective,
        plan.requests.derived,
        answered=answered_numbers(zip(changes["number"], changes["field"], strict=True)),
        new_rows=plan.requests.new_numbers,
        now_local=local_now(now, settings.timezone),
        consultation_topics=[t for t in topics if settings.topic_rule(t).consultation],
        known_topics=topics,
    )


def send_replies(
    due: list[Reply],
    log_frame: pd.DataFrame,
    settings: Settings,
    *,
    at: dt.datetime,
    job: str,
    mailer: Mailer,
) -> ReplyRun:
    """Send the letters due; never raises for a mail failure (the rest wait for the next sync).
    `log_frame` is «Журнал» as read, `at` the moment written in the rows, `job` the «Задача» of
    the history rows."""
    run = ReplyRun()
    failure = ""
    for i, reply in enumerate(due):
        subject, text = reply_text(reply, settings.school.name)
        try:
            mailer(reply.address).send(subject, text)  # type: ignore[attr-defined]
        except RecipientRefused:
            # The address itself is refused: recorded as final, no letter will ever go.
            outcome = f"не отправлено: сервер почты не принял адрес {reply.address}"
            run.notes.append(f"№ {reply.number}: {outcome}")
        except JournaldeskError as exc:
            # The server, the settings or the link: this and the rest wait for the next sync.
            run.waiting = [r.number for r in due[i:]]
            failure = str(exc)
            break
        else:
            outcome = f"отправлено на {reply.address}"
            run.sent.append(reply.number)
        run.history.append(
            {
                "number": reply.number,
                "field": LETTER_FIELD,
                "old": "",
                "new": outcome,
                "at": at,
                "job": job,
            }
        )
    if run.sent or run.notes or failure:
        run.journal = _journal(run, failure, log_frame, at)
    for line in run.notes:
        log.warning("Письмо заявителю %s", line)
    if failure:
        log.warning("Письма заявителям не отправлены: %s", failure)
    return run


def _numbers(numbers: list[int]) -> str:
    return ", ".join(f"№ {n}" for n in numbers)


def _journal(
    run: ReplyRun, failure: str, log_frame: pd.DataFrame, at: dt.datetime
) -> list[dict[str, object]]:
    """The «Журнал» row of the letters; a failure repeated word for word is written once."""
    parts = []
    if run.sent:
        parts.append(f"отправлено писем: {len(run.sent)} ({_numbers(run.sent)})")
    parts += run.notes
    if failure:
        parts.append(
            f"не отправлено ({_numbers(run.waiting)}): {failure} "
            "Повторим при следующей синхронизации"
        )
    message = "; ".join(parts)
    if failure and not run.sent and not run.notes and _last_message(log_frame) == message:
        return []
    return [
        {
            "at": at,
            "job": JOB_REPLIES,
            "result": RUN_FAILED if failure else RUN_OK,
            "rows": len(run.sent) + len(run.notes) + len(run.waiting),
            "cells": len(run.history),
            "problems": len(run.notes) + len(run.waiting),
            "message": message,
        }
    ]


def _last_message(log_frame: pd.DataFrame) -> str:
    """The message of the last «Журнал» row about the letters ('' when none)."""
    if log_frame.empty:
        return ""
    mine = log_frame[log_frame["job"] == JOB_REPLIES]
    if mine.empty or is_blank(mine["message"].iloc[-1]):
        return ""
    return str(mine["message"].iloc[-1]).strip()
