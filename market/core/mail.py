"""Outgoing mail: an outbox folder of .eml files by default, SMTP when MARKET_SMTP_URL is set.

Every message is multipart/alternative (plain text first, then HTML with inline
styles only and no remote images), its links absolute (``BASE_URL``), and its
Message-ID derived from what it says, so the same message sent again carries the
same ID and receiving systems can drop the copy.

A transport's ``send`` takes an optional ``on_handover`` callback: it runs at the
last moment the message can still be withheld — just before the SMTP DATA
terminator goes out (or the outbox file is put in place). A caller that records
"the server may have it now" there (the digest ledger does) knows afterwards
whether an interrupted send can be repeated safely; a callback that raises stops
the send without delivering anything.
"""

from __future__ import annotations

import hashlib
import os
import smtplib
import ssl
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, render_template

from market.models import utcnow

Handover = Callable[[], None]
TRUE = ("1", "true", "yes", "on")


class Transport(Protocol):
    def send(self, message: EmailMessage, on_handover: Handover | None = None) -> None: ...


class OutboxTransport:
    """Writes each message to ``<instance>/outbox/<timestamp>-<id>.eml``."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def send(self, message: EmailMessage, on_handover: Handover | None = None) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        msg_id = str(message["Message-ID"]).strip("<>").split("@")[0]
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{msg_id}.eml"
        # Written aside and renamed: a reader (or a crash) never sees half a message.
        partial = self.folder / f".{name}.part"
        partial.write_bytes(bytes(message))
        if on_handover is not None:
            try:
                on_handover()
            except BaseException:
                partial.unlink(missing_ok=True)
                raise
        os.replace(partial, self.folder / name)


class SMTPTransport:
    """``smtp://user:pass@host:587?starttls=1`` or ``smtps://user:pass@host:465``.

    Query options: ``starttls=1`` upgrades a plain connection (and fails if the
    server cannot); ``cafile=/path/ca.pem`` trusts that CA (a private mail relay);
    ``timeout=30`` seconds per network operation. Certificates are always verified.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError(f"MARKET_SMTP_URL must start with smtp:// or smtps://, not {url!r}")
        query = parse_qs(parts.query)
        self.ssl = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.ssl else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.starttls = query.get("starttls", ["0"])[0].lower() in TRUE
        self.cafile = query.get("cafile", [None])[0]
        self.timeout = float(query.get("timeout", ["30"])[0])

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cafile)

    def connect(self) -> smtplib.SMTP:
        """An open, greeted, upgraded and authenticated connection."""
        smtp: smtplib.SMTP
        if self.ssl:
            smtp = smtplib.SMTP_SSL(
                self.host, self.port, timeout=self.timeout, context=self.context()
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=self.context())
                smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password or "")
        except BaseException:
            smtp.close()
            raise
        return smtp

    def send(self, message: EmailMessage, on_handover: Handover | None = None) -> None:
        """Deliver ``message``; raises smtplib/OSError errors as they come.

        An ``SMTPResponseException`` after the hand-over means the server refused the
        message (it has not got it); any other error after it leaves delivery unknown.
        """
        smtp = self.connect()
        try:
            _transmit(smtp, message, on_handover)
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()


def _transmit(smtp: smtplib.SMTP, message: EmailMessage, on_handover: Handover | None) -> None:
    """MAIL, RCPT, DATA — with ``on_handover`` run before the terminating dot.

    smtplib's ``send_message`` sends the body and its terminator in one go; it is
    split here so the caller can record the hand-over at the one point after which
    the server may keep the message. Dropping the connection before the dot makes
    the server discard the transaction (RFC 5321 §4.1.1.4).
    """
    sender = parseaddr(str(message["From"]))[1]
    recipients = [parseaddr(str(addr))[1] for addr in message.get_all("To", [])]
    # Bodies are base64 and headers RFC 2047-encoded (see ``compose``): 7-bit clean.
    code, reply = smtp.mail(sender)
    if code != 250:
        raise smtplib.SMTPSenderRefused(code, reply, sender)
    for rcpt in recipients:
        code, reply = smtp.rcpt(rcpt)
        if code not in (250, 251):
            raise smtplib.SMTPRecipientsRefused({rcpt: (code, reply)})
    code, reply = smtp.docmd("DATA")
    if code != 354:
        raise smtplib.SMTPDataError(code, reply)
    # SMTP wants CRLF line ends and dot-stuffing (as smtplib's own ``data`` does it).
    raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    body = smtplib._quote_periods(raw)  # type: ignore[attr-defined]
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    smtp.send(body)
    if on_handover is not None:
        on_handover()  # raising here leaves the transaction unterminated: nothing is sent
    smtp.send(b".\r\n")
    code, reply = smtp.getreply()
    if code != 250:
        raise smtplib.SMTPDataError(code, reply)


def transport() -> Transport:
    url = current_app.config.get("SMTP_URL")
    return SMTPTransport(url) if url else OutboxTransport(current_app.config["OUTBOX_DIR"])


def mail_domain() -> str:
    """The domain of MAIL_FROM, for Message-IDs."""
    address = parseaddr(str(current_app.config["MAIL_FROM"]))[1]
    return address.rpartition("@")[2] or "market.localhost"


def message_id_for(*parts: str) -> str:
    """``<hash@domain>`` from ``parts``: the same parts always give the same ID."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"<{digest}@{mail_domain()}>"


def compose(
    to: str,
    subject: str,
    text: str,
    html: str,
    *,
    message_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A multipart/alternative message from rendered bodies (plain first, as RFC 2046 asks)."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = message_id or message_id_for(to, subject, text)
    for name, value in (headers or {}).items():
        message[name] = value
    # base64 keeps both parts 7-bit (any relay takes them) and is compact for Chinese.
    message.set_content(text, cte="base64")
    message.add_alternative(html, subtype="html", cte="base64")
    return message


def build(to: str, subject: str, template: str, **context: object) -> EmailMessage:
    """A multipart (plain + HTML) message rendered from templates/mail/<template>.{txt,html}."""
    context.setdefault("base_url", current_app.config["BASE_URL"].rstrip("/"))
    text = render_template(f"mail/{template}.txt", **context)
    html = render_template(f"mail/{template}.html", **context)
    return compose(to, subject, text, html)


def send(to: str, subject: str, template: str, **context: object) -> EmailMessage:
    message = build(to, subject, template, **context)
    transport().send(message)
    return message
