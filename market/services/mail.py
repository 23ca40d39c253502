"""Outgoing mail: an outbox folder of .eml files by default, SMTP when MARKET_SMTP_URL is set."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from flask import current_app, render_template

from market.models import utcnow


class Transport(Protocol):
    def send(self, message: EmailMessage) -> None: ...


class OutboxTransport:
    """Writes each message to ``<instance>/outbox/<timestamp>-<id>.eml``."""

    def __init__(self, folder: str) -> None:
        self.folder = Path(folder)

    def send(self, message: EmailMessage) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        msg_id = str(message["Message-ID"]).strip("<>").split("@")[0]
        name = f"{utcnow():%Y%m%dT%H%M%S%f}-{msg_id}.eml"
        (self.folder / name).write_bytes(bytes(message))


class SMTPTransport:
    """smtp://user:pass@host:587?starttls=1 or smtps://user:pass@host:465."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.ssl = parts.scheme == "smtps"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (465 if self.ssl else 25)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.starttls = parse_qs(parts.query).get("starttls", ["0"])[0] in ("1", "true", "yes")

    def send(self, message: EmailMessage) -> None:
        context = ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.ssl:
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=30, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=30)
        with smtp:
            if self.starttls:
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)


def transport() -> Transport:
    url = current_app.config.get("SMTP_URL")
    return SMTPTransport(url) if url else OutboxTransport(current_app.config["OUTBOX_DIR"])


def build(to: str, subject: str, template: str, **context: object) -> EmailMessage:
    """A multipart (plain + HTML) message rendered from templates/mail/<template>.{txt,html}."""
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(domain="market.localhost")
    context.setdefault("base_url", current_app.config["BASE_URL"].rstrip("/"))
    message.set_content(render_template(f"mail/{template}.txt", **context))
    message.add_alternative(render_template(f"mail/{template}.html", **context), subtype="html")
    return message


def send(to: str, subject: str, template: str, **context: object) -> EmailMessage:
    message = build(to, subject, template, **context)
    transport().send(message)
    return message
