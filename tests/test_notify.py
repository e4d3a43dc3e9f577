"""E-mail through a real SMTP server on 127.0.0.1 (aiosmtpd), and the mail settings."""

from __future__ import annotations

import base64
import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from journaldesk.errors import OutsideFailure, SettingsError
from journaldesk.jobs.notify import (
    Attachment,
    Sender,
    SmtpSender,
    build_message,
    send_digest,
    sender_from_settings,
)
from journaldesk.settings import Settings, parse_settings
from tests.helpers import local_smtp, refused_port

PASSWORD = "s3cret-Pa55"
RUSSIAN_PASSWORD = "Пароль-2026"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16


@dataclass
class Inbox:
    """What the local server received: (envelope sender, recipients, parsed message)."""

    messages: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server, session, envelope) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), msg))
        return "250 OK"


def _authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
    ok = isinstance(auth_data, LoginPassword) and auth_data in (
        (b"robot@school.test", PASSWORD.encode()),
        (b"robot@school.test", RUSSIAN_PASSWORD.encode()),
    )
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    with local_smtp(inbox, authenticator=_authenticate, auth_require_tls=False) as port:
        yield inbox, port


def plain_sender(port: int, **kw: object) -> SmtpSender:
    options: dict[str, object] = dict(
        host="127.0.0.1",
        port=port,
        security="none",
        sender="robot@school.test",
        recipients=["director@school.test", "deputy@school.test"],
        timeout=5,
    )
    options.update(kw)
    return SmtpSender(**options)  # type: ignore[arg-type]


def mail_settings(tmp_path: Path, **mail: object) -> Settings:
    return parse_settings({"mail": mail}, tmp_path)


def test_html_mail_arrives_with_text_and_html_parts(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    png64 = base64.b64encode(PNG).decode()
    html = f'<p>Сводка</p><img src="data:image/png;base64,{png64}" alt="график">'
    plain_sender(port).send(
        "Сводка за неделю",
        "Поступило 5 обращений",
        html=html,
        attachments=[Attachment("summary.md", "# Сводка".encode(), "text/markdown")],
    )
    [(mail_from, rcpt, msg)] = inbox.messages
    assert mail_from == "robot@school.test"
    assert rcpt == ["director@school.test", "deputy@school.test"]
    assert msg["Subject"] == "Сводка за неделю"
    assert msg.get_body(("plain",)).get_content().strip() == "Поступило 5 обращений"
    body = msg.get_body(("html",)).get_content()
    assert "<p>Сводка</p>" in body
    # the picture travels as an inline part the HTML points to, not as a data URI
    assert "data:image" not in body and 'src="cid:' in body
    images = [p for p in msg.walk() if p.get_content_type() == "image/png"]
    assert len(images) == 1 and images[0].get_content() == PNG
    assert images[0]["Content-ID"].strip("<>") in body
    [attached] = list(msg.iter_attachments())
    assert attached.get_filename() == "summary.md"


def test_login_over_smtp(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    plain_sender(port, user="robot@school.test", password=PASSWORD).send("Тема", "Текст")
    assert len(inbox.messages) == 1


def test_login_with_a_russian_password(smtp_server: tuple[Inbox, int]) -> None:
    inbox, port = smtp_server
    plain_sender(port, user="robot@school.test", password=RUSSIAN_PASSWORD).send("Тема", "Текст")
    assert len(inbox.messages) == 1


def test_wrong_password_is_a_settings_error_without_the_password(
    smtp_server: tuple[Inbox, int],
) -> None:
    inbox, port = smtp_server
    sender = plain_sender(port, user="robot@school.test", password="wrong-" + PASSWORD)
    with pytest.raises(SettingsError) as err:
        sender.send("Тема", "Текст")
    assert str(err.value).startswith("Почтовый сервер 127.0.0.1:")
    assert "не принял логин «robot@school.test» или пароль" in str(err.value)
    assert PASSWORD not in str(err.value) and PASSWORD not in repr(sender)
    assert inbox.messages == []


def test_no_server_is_an_outside_failure_after_bounded_retries() -> None:
    waits: list[float] = []
    with refused_port() as port, pytest.raises(OutsideFailure) as err:
        sender = plain_sender(
            port,
            user="robot@school.test",
            password=PASSWORD,
            attempts=3,
            wait=1.0,
            sleep=waits.append,
        )
        sender.send("Тема", "Текст")
    assert str(err.value) == (
        f"Не удалось отправить письмо через 127.0.0.1:{port}: сервер отказал в соединении "
        "(проверьте mail.host и mail.port)."
    )
    assert waits == [1.0, 2.0]


def test_sender_from_settings(tmp_path: Path) -> None:
    assert sender_from_settings(mail_settings(tmp_path)) is None  # mail.host empty: mail is off
    settings = mail_settings(
        tmp_path,
        host="smtp.school.test",
        port=465,
        security="ssl",
        user="robot@school.test",
        password_env="SCHOOL_SMTP",
        recipients=["director@school.test"],
    )
    sender = sender_from_settings(settings, environ={"SCHOOL_SMTP": PASSWORD})
    assert isinstance(sender, SmtpSender) and isinstance(sender, Sender)
    assert (sender.host, sender.port, sender.security) == ("smtp.school.test", 465, "ssl")
    assert sender.sender == "robot@school.test"  # the login is an address: it sends
    with pytest.raises(SettingsError) as err:
        sender_from_settings(settings, environ={})
    assert str(err.value) == (
        "Пароль почты не задан: запишите его в переменную окружения SCHOOL_SMTP "
        "(имя переменной — в mail.password_env)."
    )


def test_mail_settings_need_recipients(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match=r"mail\.recipients"):
        sender_from_settings(mail_settings(tmp_path, host="smtp.school.test", sender="a@b.test"))


@dataclass
class Recorder:
    sent: list[tuple[str, str, str | None]] = field(default_factory=list)

    def send(self, subject, text, html=None, attachments=()) -> None:
        self.sent.append((subject, text, html))


def test_send_digest_masks_pasted_passwords(tmp_path: Path) -> None:
    recorder = Recorder()
    ok = send_digest(
        mail_settings(tmp_path),
        "Консультация в 15:00",
        "№ 12: не могу войти, пароль: Qwerty123, пишите ivanova@mail.ru",
        sender=recorder,
    )
    assert ok
    [(_subject, text, html)] = recorder.sent
    assert "Qwerty123" not in text and "ivanova@mail.ru" not in text
    assert text.startswith("№ 12: не могу войти, пароль: ••••••")
    assert html is None


def test_send_digest_without_mail_settings_sends_nothing(tmp_path: Path) -> None:
    assert send_digest(mail_settings(tmp_path), "Тема", "Текст") is False


def test_build_message_without_html_is_plain_text() -> None:
    msg = build_message(
        subject="Тема", text="Текст", html=None, sender="a@b.test", recipients=["c@d.test"]
    )
    assert msg.get_content_type() == "text/plain"
    assert msg["To"] == "c@d.test"
