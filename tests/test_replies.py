"""The letter back to a person who asked through the form: through a real SMTP server on
127.0.0.1 (aiosmtpd), sent once per request, recorded in «Изменения», never a stop for the sync."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage

import pandas as pd
import pytest

from journaldesk.errors import OutsideFailure
from journaldesk.jobs.replies import reply_text
from journaldesk.jobs.sync import read_and_plan, sync
from journaldesk.rules.intake import read_answers, reply_address, request_row, valid_address
from journaldesk.rules.reply import LETTER_FIELD, Reply, replies_due
from journaldesk.sheet.textfmt import moment
from journaldesk.store.base import InitPlan
from journaldesk.store.workbook import WorkbookStore
from tests.conftest import Sheet
from tests.helpers import REQ, SCHEMA, at, local_smtp, make_workbook, tab_rows

NOW = at("01.12.2026 15:10")
TAB = "Ответы на форму (1)"
HEADERS = ["Отметка времени", "ФИО", "Кто вы", "Класс", "Тема", "Опишите вопрос"]
HEADERS += ["Как с вами связаться"]
MARKS = "Текущие отметки"  # a topic that books a consultation
FAULT = "Техническая неисправность"  # an hours topic: no consultation


def answer(n: int, contact: str, topic: str = MARKS, stamp: str = "") -> list[object]:
    return [
        stamp or f"30.11.2026 1{n}:00:00",
        f"Заявителева{n} Анна",
        "Родитель",
        "5А",
        topic,
        f"Не видно отметок ученика Ученикова{n}",
        contact,
    ]


@dataclass
class Inbox:
    """What the local server received; `refuse` answers DATA with a permanent error,
    `bad_rcpt` addresses are refused at RCPT."""

    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)
    refuse: bool = False
    bad_rcpt: set[str] = field(default_factory=set)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:
        if address in self.bad_rcpt:
            return "550 5.1.1 No such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse:
            return "554 5.3.0 Transaction failed"
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((list(envelope.rcpt_tos), msg))
        return "250 OK"

    def to(self, address: str) -> list[str]:
        """The texts of the letters that reached `address`."""
        return [m.get_body(("plain",)).get_content() for r, m in self.messages if address in r]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with local_smtp(inbox) as port:
        yield inbox, port


@pytest.fixture
def imported(tmp_path, smtp):
    """`imported(rows)`: a workbook whose first sync took these form answers in (no letter yet:
    the № and deadline come first), with settings mailing to the local server (None: no mail)."""
    _, port = smtp

    def make(rows: list[list[object]], mail: bool = True) -> tuple[Sheet, object]:
        store, settings = make_workbook(tmp_path, {})
        sheet = Sheet("workbook", store, settings, lambda: WorkbookStore(settings.workbook_path))
        settings = with_mail(settings, port) if mail else settings
        add_answers(sheet.reopen(), rows)
        first = sync(sheet.reopen(), settings, now=NOW)
        assert first.imported == len(rows) and first.letters == 0
        return sheet, settings

    return make


def with_mail(settings, port: int):
    mail = settings.mail.model_copy(
        update={"host": "127.0.0.1", "port": port, "security": "none", "sender": "ezh@school.test"}
    )
    return settings.model_copy(update={"mail": mail})


def add_answers(store, rows: list[list[object]]) -> None:
    store.apply_init(InitPlan(new_tabs=[(TAB, HEADERS)]))
    store.append_rows(TAB, rows)


def history(store, field_header: str) -> list[list[object]]:
    """The «Изменения» rows with this «Поле»."""
    rows = tab_rows(store, "changes")
    col = rows[0].index(SCHEMA["changes"].header("field"))
    return [r for r in rows[1:] if len(r) > col and r[col] == field_header]


def journal(store, job: str) -> list[dict[str, object]]:
    rows = tab_rows(store, "log")
    head = rows[0]
    out = [dict(zip(head, r, strict=False)) for r in rows[1:]]
    return [r for r in out if r.get(SCHEMA["log"].header("job")) == job]


def sheet_shows(store, settings) -> dict[str, dict[str, object]]:
    """By requester: the №, the deadline and the slot as the sheet holds them now."""
    frame = read_and_plan(store, settings, now=NOW).parsed["requests"].frame
    return {
        who: {"number": int(n), "due": due, "slot": slot}
        for who, n, due, slot in zip(
            frame["requester"], frame["number"], frame["due_at"], frame["consultation"], strict=True
        )
        if pd.notna(n)
    }


def expected_letter(number: int, due: dt.datetime, slot: object, topic: str) -> list[str]:
    """The lines the letter must hold, from the rule: №, deadline, the slot or what replaces it."""
    lines = [f"Ваше обращение № {number} принято", f"Срок ответа — до {moment(due)}."]
    if isinstance(slot, str) and slot:
        lines.append(f"Консультация: {slot}.")
    elif topic == MARKS:
        lines.append("Время консультации назначим дополнительно.")
    else:
        lines.append("Консультация по этой теме не назначается")
    return lines


# --- the whole way (Google: the call budget below) ------------------------------------------


def test_letter_arrives_once_with_its_number_deadline_and_slot(imported, smtp) -> None:
    inbox, _ = smtp
    sheet, settings = imported(
        [
            answer(1, "anna1@example.org"),
            answer(
                2,
                "тел. 8 978 000-00-02, почта anna2@example.org",
                topic=FAULT,  # hours, not sessions: sent the same day
                stamp="01.12.2026 15:05:00",
            ),
            answer(3, "+7 978 000-00-03"),  # no e-mail: no letter
        ]
    )
    assert inbox.messages == []

    second = sync(sheet.reopen(), settings, now=NOW)
    assert second.letters == 2
    shown = sheet_shows(sheet.reopen(), settings)
    for n, address, topic in ((1, "anna1@example.org", MARKS), (2, "anna2@example.org", FAULT)):
        [text] = inbox.to(address)
        mine = shown[f"Заявителева{n} Анна"]
        for line in expected_letter(mine["number"], mine["due"], mine["slot"], topic):
            assert line in text, (line, text)
        # Nothing of anyone: no name, no pupil, no other request, no other address.
        other = shown[f"Заявителева{3 - n} Анна"]["number"]
        for word in ("Заявителева", "Ученикова", f"№ {other}"):
            assert word not in text
        assert "example.org" not in text
    assert {r[0] for r, _ in inbox.messages} == {"anna1@example.org", "anna2@example.org"}
    assert isinstance(shown["Заявителева1 Анна"]["slot"], str)  # the marks topic was booked
    recorded = history(sheet.reopen(), LETTER_FIELD)
    assert sorted(r[0] for r in recorded) == sorted(
        shown[f"Заявителева{n} Анна"]["number"] for n in (1, 2)
    )
    [row] = journal(sheet.reopen(), "Письма заявителям")
    assert row[SCHEMA["log"].header("result")] == "Успешно"

    for _ in range(2):
        again = sync(sheet.reopen(), settings, now=NOW)
        assert again.letters == 0 and not again.wrote
    assert len(inbox.messages) == 2
    assert len(history(sheet.reopen(), LETTER_FIELD)) == 2


def test_google_letters_ride_in_the_append_call(make_google_sheet, smtp) -> None:
    inbox, port = smtp
    sheet = make_google_sheet({})
    settings = with_mail(sheet.settings, port)
    add_answers(sheet.reopen(), [answer(1, "anna1@example.org")])
    sync(sheet.reopen(), settings, now=NOW)
    sheet.server.reset_calls()
    # Derived cells written (one write, after one call that tags the new row), then the letter's
    # rows appended: one call more, within the budget.
    assert sync(sheet.reopen(), settings, now=NOW).letters == 1
    posts = [u for m, u, _ in sheet.server.calls if m == "POST"]
    assert len(sheet.server.calls) <= 5 and len(posts) <= 2, sheet.server.calls
    sheet.server.reset_calls()
    assert not sync(sheet.reopen(), settings, now=NOW).wrote
    assert [m for m, _, _ in sheet.server.calls] == ["GET", "GET"]
    assert len(inbox.messages) == 1
    # A letter that cannot go while nothing else changes: its «Журнал» row once, then two reads.
    add_answers_more = [answer(2, "anna2@example.org", topic=FAULT, stamp="01.12.2026 15:05:00")]
    sheet.reopen().append_rows(TAB, add_answers_more)
    sync(sheet.reopen(), settings, now=NOW)  # imported
    inbox.refuse = True
    assert sync(sheet.reopen(), settings, now=NOW).letters == 0  # its № and deadline written
    sheet.server.reset_calls()
    assert not sync(sheet.reopen(), settings, now=NOW).wrote
    assert [m for m, _, _ in sheet.server.calls] == ["GET", "GET"]
    assert len(inbox.messages) == 1


# --- no letter, and nothing odd --------------------------------------------------------------


@pytest.mark.parametrize("switch", ["no mail settings", "intake.letters: false"])
def test_mail_not_configured_sends_nothing_and_writes_nothing_odd(
    imported, smtp, switch: str
) -> None:
    inbox, _ = smtp
    sheet, settings = imported([answer(1, "anna1@example.org")], mail=switch != "no mail settings")
    if switch != "no mail settings":
        intake = settings.intake.model_copy(update={"letters": False})
        settings = settings.model_copy(update={"intake": intake})
    assert sync(sheet.reopen(), settings, now=NOW).letters == 0
    assert not sync(sheet.reopen(), settings, now=NOW).wrote
    assert inbox.messages == []
    assert history(sheet.reopen(), LETTER_FIELD) == []
    assert journal(sheet.reopen(), "Письма заявителям") == []


def test_malformed_address_gets_a_note_and_no_letter(imported, smtp) -> None:
    inbox, _ = smtp
    sheet, settings = imported([answer(1, "anna1@mail"), answer(2, "anna2@example.org")])
    assert sync(sheet.reopen(), settings, now=NOW).letters == 1
    assert [r for r, _ in inbox.messages] == [["anna2@example.org"]]
    rows = tab_rows(sheet.reopen(), "requests")
    check = rows[0].index(REQ.header("check"))
    who = rows[0].index(REQ.header("requester"))
    [bad] = [r for r in rows[1:] if r[who] == "Заявителева1 Анна"]
    assert "«anna1@mail»" in bad[check] and "написан с ошибкой" in bad[check]
    assert not sync(sheet.reopen(), settings, now=NOW).wrote


def test_refused_address_is_recorded_once_and_not_retried(imported, smtp) -> None:
    inbox, _ = smtp
    inbox.bad_rcpt = {"gone@example.org"}
    sheet, settings = imported([answer(1, "gone@example.org"), answer(2, "anna2@example.org")])
    report = sync(sheet.reopen(), settings, now=NOW)
    assert report.letters == 1 and inbox.to("anna2@example.org")
    recorded = history(sheet.reopen(), LETTER_FIELD)
    assert sorted(r[3].split(" ")[0] for r in recorded) == ["не", "отправлено"]
    [row] = journal(sheet.reopen(), "Письма заявителям")
    assert "gone@example.org" in row[SCHEMA["log"].header("message")]
    assert not sync(sheet.reopen(), settings, now=NOW).wrote
    assert len(history(sheet.reopen(), LETTER_FIELD)) == 2


def test_failing_server_leaves_no_record_and_the_next_sync_sends_once(imported, smtp) -> None:
    inbox, _ = smtp
    sheet, settings = imported([answer(1, "anna1@example.org")])
    inbox.refuse = True
    failed = sync(sheet.reopen(), settings, now=NOW)  # the sync itself goes on
    assert failed.letters == 0
    assert history(sheet.reopen(), LETTER_FIELD) == []
    [row] = journal(sheet.reopen(), "Письма заявителям")
    assert row[SCHEMA["log"].header("result")] == "Ошибка"
    assert "№ 1" in row[SCHEMA["log"].header("message")]
    # The same failure again: retried, and «Журнал» does not fill up with the same line.
    assert not sync(sheet.reopen(), settings, now=NOW).wrote
    assert len(journal(sheet.reopen(), "Письма заявителям")) == 1
    inbox.refuse = False
    assert sync(sheet.reopen(), settings, now=NOW).letters == 1
    assert sync(sheet.reopen(), settings, now=NOW).letters == 0
    assert len(inbox.to("anna1@example.org")) == 1
    assert len(history(sheet.reopen(), LETTER_FIELD)) == 1


class RecordLost:
    """A store whose write fails: the run stops between the send and its record."""

    def __init__(self, inner) -> None:
        self._inner = inner

    def write(self, cells):
        raise OutsideFailure("таблица недоступна")

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


def test_a_run_stopped_before_the_record_sends_again_at_least_once(imported, smtp) -> None:
    inbox, _ = smtp
    sheet, settings = imported([answer(1, "anna1@example.org")])
    with pytest.raises(OutsideFailure):
        sync(RecordLost(sheet.reopen()), settings, now=NOW)
    assert len(inbox.messages) == 1 and history(sheet.reopen(), LETTER_FIELD) == []
    # At least once: the letter goes again, then it is recorded and never goes a third time.
    assert sync(sheet.reopen(), settings, now=NOW).letters == 1
    assert sync(sheet.reopen(), settings, now=NOW).letters == 0
    assert len(inbox.to("anna1@example.org")) == 2
    assert len(history(sheet.reopen(), LETTER_FIELD)) == 1


# --- the pure rule ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "good"),
    [
        ("anna@example.org", True),
        ("a.b-c+d@mail.ru", True),
        ("директор@школа.рф", False),  # the local part must be Latin
        ("info@школа.рф", True),
        ("anna@mail", False),
        ("anna@@mail.ru", False),
        ("anna@mail..ru", False),
        (".anna@mail.ru", False),
        ("anna@mail.r", False),
        ("anna@-mail.ru", False),
    ],
)
def test_valid_address(text: str, good: bool) -> None:
    assert valid_address(text) is good


def test_reply_address_prefers_the_email_line_and_ignores_phones() -> None:
    both = "Вопрос\nЭл. почта: a@example.org\nКак связаться: b@example.org"
    assert reply_address(both) == ("a@example.org", None)
    assert reply_address("Вопрос\nКак связаться: 8 978 000-00-00") == (None, None)
    assert reply_address("Вопрос\nКак связаться: почта b@mail") == (None, "b@mail")
    # One recipient, whatever else the line holds (no second address, no header smuggled in).
    two = "Вопрос\nКак связаться: a@example.org, b@example.org\nBcc: c@example.org"
    assert reply_address(two) == ("a@example.org", None)
    # An address in the question itself is not where to write: only the contact lines count.
    assert reply_address("Пишу с x@example.org") == (None, None)


def _frames(**over: object) -> tuple[pd.DataFrame, pd.DataFrame]:
    row = {
        "number": 7,
        "channel": "Форма",
        "status": "Новое",
        "topic": MARKS,
        "description": "Вопрос\nКак связаться: a@example.org",
    }
    derived = {"due_at": pd.Timestamp("2026-12-03 17:00"), "consultation": ""}
    for k, v in over.items():
        (row if k in row else derived)[k] = v
    return pd.DataFrame([row], index=[2]), pd.DataFrame([derived], index=[2])


def _due(eff: pd.DataFrame, der: pd.DataFrame, answered=(), new_rows=()) -> list[int]:
    replies = replies_due(
        eff,
        der,
        answered=set(answered),
        new_rows=new_rows,
        now_local=dt.datetime(2026, 12, 1, 15, 10),
        consultation_topics=[MARKS],
        known_topics=SCHEMA.enums["topic"],
    )
    return [r.number for r in replies]


@pytest.mark.parametrize(
    ("over", "due"),
    [
        ({}, [7]),
        ({"channel": "Телефон"}, []),  # typed by staff: no letter
        ({"status": "Решено"}, []),
        ({"status": "Отклонено"}, []),
        ({"due_at": pd.Timestamp("2026-12-01 15:00")}, []),  # its deadline has passed
        ({"due_at": pd.NaT}, []),  # no deadline yet
        ({"description": "Вопрос"}, []),
    ],
)
def test_which_requests_get_a_letter(over: dict, due: list[int]) -> None:
    assert _due(*_frames(**over)) == due


def test_a_letter_waits_for_its_number_and_goes_once() -> None:
    eff, der = _frames()
    assert _due(eff, der, answered={7}) == []
    assert _due(eff, der, new_rows=[2]) == []  # a № given by this sync could still move
    twice = pd.concat([eff, eff.set_axis([3])])
    assert _due(twice, pd.concat([der, der.set_axis([3])])) == []  # a repeated № is ambiguous


@pytest.mark.parametrize(
    ("slot", "topic"),
    [("ср 02.12.2026 15:00–15:20, каб. 12", MARKS), ("", MARKS), ("", FAULT)],
)
def test_the_letter_says_the_slot_or_what_replaces_it(slot: str, topic: str) -> None:
    due = dt.datetime(2026, 12, 3, 17, 0)
    reply = Reply(57, "a@example.org", due, slot, needs_slot=topic == MARKS, topic=topic)
    subject, text = reply_text(reply, "МБОУ «СОШ № 1»")
    assert subject == "Ваше обращение № 57 принято"
    for line in expected_letter(57, due, slot, topic):
        assert line in text
    assert "a@example.org" not in text and "{" not in text


def test_a_dedicated_email_question_wins_over_the_contact() -> None:
    headers = [*HEADERS, "Адрес электронной почты"]
    row = [*answer(1, "тел. 8 978 000-00-01, a@example.org"), "b@example.org"]
    from journaldesk.settings import IntakeSettings

    [ans] = read_answers([headers, row], IntakeSettings().mapping(), lambda raw: None)
    description = request_row(ans)["description"]
    assert description.endswith(
        "\nЭл. почта: b@example.org\nКак связаться: тел. 8 978 000-00-01, a@example.org"
    )
    assert reply_address(description) == ("b@example.org", None)
