"""Messages to people: e-mail over SMTP, behind a small `Sender` interface.

The regulation's Viber group is gone (Viber is blocked in Russia) and foreign messengers may not
carry pupils' personal data, so e-mail comes first; a national messenger bot can be added later as
another `Sender`. Everything sent is already free of pupils' and parents' names (the summary only
carries counts and request numbers), and `send_digest` masks pasted passwords once more.
"""

from __future__ import annotations

import base64
import binascii
import logging
import os
import re
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Protocol, runtime_checkable

from journaldesk.errors import OutsideFailure, RecipientRefused, SettingsError
from journaldesk.rules.privacy import mask_all
from journaldesk.settings import Settings

log = logging.getLogger(__name__)

_DATA_IMAGE = re.compile(
    r'src="data:image/(?P<kind>png|jpeg|gif);base64,(?P<data>[A-Za-z0-9+/=]+)"'
)
_MIME_BY_SUFFIX = {
    ".html": "text/html",
    ".md": "text/markdown",
    ".png": "image/png",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".pdf": "application/pdf",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@dataclass(frozen=True)
class Attachment:
    """A file to attach: its name as the recipient sees it, its bytes and MIME type."""

    filename: str
    data: bytes
    mime: str = "application/octet-stream"

    @classmethod
    def from_path(cls, path: Path) -> Attachment:
        """An attachment read from a file (MIME type from the suffix)."""
        mime = _MIME_BY_SUFFIX.get(path.suffix.lower(), "application/octet-stream")
        return cls(path.name, path.read_bytes(), mime)


@runtime_checkable
class Sender(Protocol):
    """Anything that can deliver a message to the school's administration."""

    def send(
        self,
        subject: str,
        text: str,
        html: str | None = None,
        attachments: Sequence[Attachment | Path] = (),
    ) -> None:
        """Deliver one message: plain text, optionally an HTML version and attachments."""


def build_message(
    *,
    subject: str,
    text: str,
    html: str | None,
    sender: str,
    recipients: Sequence[str],
    attachments: Sequence[Attachment | Path] = (),
) -> EmailMessage:
    """The e-mail: text and HTML as alternatives, pictures of the HTML inline, then attachments.

    Pictures embedded as data URIs (the self-contained summary page) become inline parts with a
    Content-ID, since many mail clients refuse data URIs."""
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(recipients)
    msg["Date"] = formatdate(localtime=True)
    domain = sender.rpartition("@")[2] or None
    msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(text)
    if html is not None:
        images: list[tuple[str, str, bytes]] = []

        def to_cid(match: re.Match[str]) -> str:
            try:
                data = base64.b64decode(match["data"], validate=True)
            except (binascii.Error, ValueError):
                return match[0]
            cid = make_msgid(domain=domain)
            images.append((cid, match["kind"], data))
            return f'src="cid:{cid[1:-1]}"'

        html = _DATA_IMAGE.sub(to_cid, html)
        msg.add_alternative(html, subtype="html")
        html_part = msg.get_payload()[-1]
        # Inline and nameless: a picture of the letter, not a file in the attachment list.
        for cid, kind, data in images:
            html_part.add_related(
                data, maintype="image", subtype=kind, cid=cid, disposition="inline"
            )
    for item in attachments:
        att = Attachment.from_path(item) if isinstance(item, Path) else item
        maintype, _, subtype = att.mime.partition("/")
        msg.add_attachment(att.data, maintype=maintype, subtype=subtype, filename=att.filename)
    return msg


class SmtpSender:
    """E-mail over SMTP (STARTTLS, SSL or plain), with a few bounded retries on a lost link."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        recipients: Sequence[str],
        security: str = "starttls",
        user: str = "",
        password: str = "",
        timeout: float = 30.0,
        attempts: int = 3,
        wait: float = 2.0,
        sleep: Callable[[float], None] = time.sleep,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.recipients = list(recipients)
        self.security = security
        self.user = user
        self._password = password
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.wait = wait
        self._sleep = sleep
        self._ssl_context = ssl_context

    def __repr__(self) -> str:
        # The password stays out of reprs, logs and tracebacks.
        return f"SmtpSender({self.host}:{self.port}, {self.security}, to {self.recipients})"

    def send(
        self,
        subject: str,
        text: str,
        html: str | None = None,
        attachments: Sequence[Attachment | Path] = (),
    ) -> None:
        """Send one message to every recipient; raise SettingsError or OutsideFailure."""
        msg = build_message(
            subject=subject,
            text=text,
            html=html,
            sender=self.sender,
            recipients=self.recipients,
            attachments=attachments,
        )
        for attempt in range(1, self.attempts + 1):
            try:
                self._deliver(msg)
                log.info("Письмо «%s» отправлено: %s", subject, ", ".join(self.recipients))
                return
            except smtplib.SMTPAuthenticationError:
                raise SettingsError(
                    f"Почтовый сервер {self.where} не принял логин «{self.user}» или пароль: "
                    "проверьте mail.user и пароль в переменной окружения из mail.password_env."
                ) from None
            except smtplib.SMTPRecipientsRefused as exc:
                refused = ", ".join(exc.recipients)
                raise RecipientRefused(
                    f"Почтовый сервер {self.where} отклонил адреса получателей: {refused}. "
                    "Проверьте mail.recipients.",
                    list(exc.recipients),
                ) from None
            except smtplib.SMTPSenderRefused:
                raise SettingsError(
                    f"Почтовый сервер {self.where} отклонил адрес отправителя «{self.sender}»: "
                    "проверьте mail.sender."
                ) from None
            except smtplib.SMTPNotSupportedError:
                raise SettingsError(
                    f"Почтовый сервер {self.where} не поддерживает выбранную защиту "
                    f"«{self.security}» или вход по паролю: проверьте mail.security."
                ) from None
            except ssl.SSLError:
                raise SettingsError(
                    f"Не удалось установить защищённое соединение с {self.where}: проверьте "
                    "mail.security (starttls — обычно порт 587, ssl — порт 465) и mail.port."
                ) from None
            except smtplib.SMTPResponseException as exc:
                if not 400 <= exc.smtp_code < 500 or attempt == self.attempts:
                    raise self._failure(f"сервер ответил {exc.smtp_code}") from None
            except (OSError, smtplib.SMTPException) as exc:
                if attempt == self.attempts:
                    raise self._failure(_reason(exc)) from None
            log.warning("Почта: попытка %d из %d не удалась, повторяю", attempt, self.attempts)
            self._sleep(self.wait * attempt)

    @property
    def where(self) -> str:
        """host:port, for messages."""
        return f"{self.host}:{self.port}"

    def _failure(self, reason: str) -> OutsideFailure:
        text = f"Не удалось отправить письмо через {self.where}: {reason}."
        if self._password:
            text = text.replace(self._password, "••••••")
        return OutsideFailure(text)

    def _deliver(self, msg: EmailMessage) -> None:
        context = self._ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.security == "ssl":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            smtp.ehlo()
            if self.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if self.user:
                self._login(smtp)
            smtp.send_message(msg, from_addr=self.sender, to_addrs=self.recipients)

    def _login(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.login(self.user, self._password)
        except UnicodeEncodeError:
            # smtplib sends credentials as ASCII; AUTH PLAIN itself is UTF-8 (RFC 4616), so a
            # password with Russian letters goes by hand.
            token = base64.b64encode(f"\0{self.user}\0{self._password}".encode()).decode()
            code, reply = smtp.docmd("AUTH", "PLAIN " + token)
            if code != 235:
                raise smtplib.SMTPAuthenticationError(code, reply) from None


def _reason(exc: BaseException) -> str:
    """A short Russian reason for a connection failure (never the credentials)."""
    if isinstance(exc, socket.timeout | TimeoutError):
        return "сервер не ответил вовремя"
    if isinstance(exc, ConnectionRefusedError):
        return "сервер отказал в соединении (проверьте mail.host и mail.port)"
    if isinstance(exc, socket.gaierror):
        return "не удалось найти сервер по имени (проверьте mail.host)"
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "сервер разорвал соединение"
    return "ошибка соединения"


def sender_from_settings(
    settings: Settings,
    environ: Mapping[str, str] | None = None,
    *,
    recipients: Sequence[str] | None = None,
) -> Sender | None:
    """The e-mail sender the settings describe, or None when mail.host is empty (mail is off).
    `recipients` replaces mail.recipients (a message to one teacher, not to the administration).

    Raises SettingsError when mail is on but a sender, the recipients or the password is missing.
    """
    mail = settings.mail
    if not mail.host.strip():
        return None
    env = os.environ if environ is None else environ
    sender = mail.sender.strip() or (mail.user.strip() if "@" in mail.user else "")
    sender = sender or settings.administrator.email.strip()
    if not sender:
        raise SettingsError("mail.sender: укажите адрес отправителя писем.")
    chosen = mail.recipients if recipients is None else recipients
    recipients = [r.strip() for r in chosen if r.strip()]
    if not recipients:
        raise SettingsError("mail.recipients: укажите хотя бы один адрес получателя сводки.")
    password = ""
    if mail.user.strip():
        password = env.get(mail.password_env, "")
        if not password:
            raise SettingsError(
                f"Пароль почты не задан: запишите его в переменную окружения "
                f"{mail.password_env} (имя переменной — в mail.password_env)."
            )
    return SmtpSender(
        host=mail.host.strip(),
        port=mail.port,
        security=mail.security,
        user=mail.user.strip(),
        password=password,
        sender=sender,
        recipients=recipients,
        timeout=mail.timeout,
    )


def send_digest(
    settings: Settings, subject: str, text: str, *, sender: Sender | None = None
) -> bool:
    """Send a short plain-text digest (the runner's reminders); False when mail is off."""
    sender = sender or sender_from_settings(settings)
    if sender is None:
        log.info("Почта не настроена: напоминание «%s» не отправлено", subject)
        return False
    sender.send(mask_all(subject), mask_all(text))
    return True
