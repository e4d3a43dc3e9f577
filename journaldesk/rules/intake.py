"""Form answers that become requests: which answers of the intake tab are not yet imported.

A form (Google Forms writes its answers into a tab of the spreadsheet; a Яндекс Формы export is
pasted into one) gives one row per answer. Each answer becomes one «Обращения» row, once: the
answer's key (its timestamp and a short hash of its text) is recorded in «Изменения» with the new
№ (Поле «Форма»), so re-sorting, editing or deleting rows of the intake tab never imports an
answer twice or loses one. An edited answer keeps its timestamp: a recorded key whose exact text
is gone is matched by its timestamp, so the edit is not taken for a new answer.

Pure: rows, settings' header mapping and the history in; new request rows and history rows out.
The intake tab itself is never written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from journaldesk.sheet.textfmt import is_blank
from journaldesk.sheet.vocab import CHANNEL_FORM

# «Поле» of the history row that records which answer became which №.
INTAKE_FIELD = "Форма"
# «Канал» of a request that came from the form.
FORM_CHANNEL = CHANNEL_FORM
# Request fields an answer fills; «contact» and «email» have no column and go into the
# description, one labelled line each (where staff see them, and where the reply letter looks).
REQUEST_FIELDS = ("requester", "role", "class_name", "topic", "description")
CONTACT_LABEL = "Как связаться"
EMAIL_LABEL = "Эл. почта"
_CONTACT_LINES = ((EMAIL_LABEL, "email"), (CONTACT_LABEL, "contact"))


def header_key(text: object) -> str:
    """A form question as matched against the settings: case, spaces and a final ?/: ignored."""
    return " ".join(str(text or "").split()).casefold().rstrip("?:").strip()


@dataclass
class Answer:
    """One answer of the intake tab, as read."""

    row: int  # sheet row (1-based) where it was seen; only for messages
    key: str
    stamp: str  # the timestamp part of the key ('' when the answer has none)
    received_at: dt.datetime | None
    values: dict[str, str] = field(default_factory=dict)  # request field -> text


@dataclass
class Imports:
    """What one sync adds: new request rows (with their №) and the history rows recording them."""

    requests: list[dict[str, object]] = field(default_factory=list)
    history: list[dict[str, object]] = field(default_factory=list)
    answers: list[Answer] = field(default_factory=list)  # in the order of `requests`


def _text(raw: object) -> str:
    if is_blank(raw):
        return ""
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    return str(raw).strip()


def _stamp(moment: dt.datetime | None, raw: object) -> str:
    if moment is not None:
        return moment.replace(tzinfo=None).isoformat(timespec="seconds")
    return _text(raw)


def answer_key(stamp: str, texts: Iterable[str]) -> str:
    """The recorded key of an answer: its timestamp and a short hash of its answer text."""
    digest = hashlib.sha256("\x1f".join([stamp, *texts]).encode("utf-8")).hexdigest()[:10]
    return f"{stamp} #{digest}" if stamp else f"#{digest}"


def stamp_of(key: str) -> str:
    """The timestamp part of a recorded key ('' when the answer had none)."""
    head, _, _ = key.rpartition(" #")
    return head


def read_answers(
    rows: list[list[object]],
    mapping: Mapping[str, str],
    parse_moment: callable,  # raw cell -> datetime | None
) -> list[Answer]:
    """The intake tab's answers (rows[0] is the header row); empty rows are skipped."""
    if not rows:
        return []
    columns: dict[int, str] = {}
    for i, head in enumerate(rows[0]):
        name = mapping.get(header_key(head))
        if name and name not in columns.values():
            columns[i] = name
    out = []
    for n, row in enumerate(rows[1:], start=2):
        texts = [_text(row[i]) if i < len(row) else "" for i in range(len(rows[0]))]
        if not any(texts):
            continue
        values: dict[str, str] = {}
        moment = None
        stamp_raw: object = None
        for i, name in columns.items():
            raw = row[i] if i < len(row) else None
            if name == "received_at":
                stamp_raw, moment = raw, parse_moment(raw)
            else:
                values[name] = texts[i]
        stamp = _stamp(moment, stamp_raw)
        body = [t for i, t in enumerate(texts) if columns.get(i) != "received_at"]
        out.append(Answer(n, answer_key(stamp, body), stamp, moment, values))
    return out


def imported_keys(history: Iterable[tuple[object, object]]) -> list[str]:
    """Keys already imported, from (Поле, Стало) pairs of «Изменения»."""
    return [_text(new) for fld, new in history if _text(fld) == INTAKE_FIELD and _text(new)]


def new_answers(answers: list[Answer], imported: Iterable[str]) -> list[Answer]:
    """Answers not yet imported: their key is unknown, and no recorded key with their
    timestamp is left unmatched (that would be this answer, edited since)."""
    known = Counter(imported)
    fresh = []
    for a in answers:
        if known[a.key] > 0:
            known[a.key] -= 1
        else:
            fresh.append(a)
    # Recorded keys no current answer holds: deleted answers, or edited ones.
    orphans = Counter(stamp_of(k) for k, n in known.items() for _ in range(n) if stamp_of(k))
    out = []
    for a in fresh:
        if a.stamp and orphans[a.stamp] > 0:
            orphans[a.stamp] -= 1
            continue
        out.append(a)
    return out


def request_row(answer: Answer) -> dict[str, object]:
    """The «Обращения» cells of an answer (text written as text: nothing typed is executed)."""
    row: dict[str, object] = {f: answer.values.get(f, "") for f in REQUEST_FIELDS}
    for label, name in _CONTACT_LINES:
        value = answer.values.get(name, "")
        if value:
            row["description"] = f"{row['description']}\n{label}: {value}".strip()
    row["channel"] = FORM_CHANNEL
    if answer.received_at is not None:
        row["received_at"] = answer.received_at
    return {k: v for k, v in row.items() if v != ""}


def plan_imports(
    answers: list[Answer],
    imported: Iterable[str],
    *,
    first_number: int,
    at: dt.datetime,
    job: str,
) -> Imports:
    """New request rows numbered from `first_number`, with their history rows."""
    out = Imports()
    for i, answer in enumerate(new_answers(answers, imported)):
        number = first_number + i
        out.requests.append({"number": number, **request_row(answer)})
        out.history.append(
            {
                "number": number,
                "field": INTAKE_FIELD,
                "old": "",
                "new": answer.key,
                "at": at,
                "job": job,
            }
        )
        out.answers.append(answer)
    return out


# --- the description's contact lines: the reply letter's address, the notes ------------------

# One mailbox: no spaces, commas or angle brackets (nothing that could add a second recipient or
# a header); a domain of labels ending in a zone of two or more letters (Cyrillic ones too, .рф).
_LOCAL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")
_DOMAIN = re.compile(r"(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+[^\W\d_]{2,63}")
# A word holding «@»: what a person meant as an address, well written or not.
_AT_WORD = re.compile(r"[^\s,;:<>()\[\]\"'«»]*@[^\s,;:<>()\[\]\"'«»]*")


def valid_address(text: str) -> bool:
    """One e-mail address a letter can go to (local part in Latin letters, any domain)."""
    local, at, domain = text.rpartition("@")
    return (
        bool(at)
        and len(text) <= 254
        and _LOCAL.fullmatch(local) is not None
        and _DOMAIN.fullmatch(domain) is not None
    )


def contact_lines(description: object) -> dict[str, str]:
    """The labelled contact lines an imported answer left in the description: label -> text."""
    out: dict[str, str] = {}
    for line in _text(description).splitlines():
        for label, _ in _CONTACT_LINES:
            head = f"{label}:"
            if line.strip().startswith(head) and label not in out:
                out[label] = line.strip()[len(head) :].strip()
    return out


def question_text(description: object) -> str:
    """The description without the contact lines: what the person asked."""
    heads = tuple(f"{label}:" for label, _ in _CONTACT_LINES)
    lines = _text(description).splitlines()
    return "\n".join(line for line in lines if not line.strip().startswith(heads)).strip()


def reply_address(description: object) -> tuple[str | None, str | None]:
    """(the address to write to, a malformed one): the e-mail line first, then «Как связаться».
    A phone number is neither: no letter and nothing wrong."""
    malformed = None
    lines = contact_lines(description)
    for label, _ in _CONTACT_LINES:
        for word in _AT_WORD.findall(lines.get(label, "")):
            word = word.rstrip(".")
            if valid_address(word):
                return word, None
            malformed = malformed or word
    return None, malformed


def intake_notes(descriptions: Iterable[tuple[int, object]]) -> dict[int, list[str]]:
    """«Проверка» notes of requests that came from the form, from (row, description) pairs of
    those requests: no question asked, or an e-mail address the reply letter cannot go to."""
    notes: dict[int, list[str]] = {}
    for row, description in descriptions:
        if not question_text(description):
            notes.setdefault(int(row), []).append(
                "Описание: в ответе формы нет вопроса — уточните его у заявителя"
            )
        address, malformed = reply_address(description)
        if address is None and malformed:
            notes.setdefault(int(row), []).append(
                f"Описание: адрес эл. почты «{malformed}» написан с ошибкой — письмо о приёме "
                "обращения на него не уйдёт; исправьте адрес в описании"
            )
    return notes
