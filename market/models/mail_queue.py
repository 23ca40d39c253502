"""Mail waiting to be sent after the response: one row per job, written with the request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from market.core.extensions import db
from market.models.base import UTCDateTime, utcnow


class MailJob(db.Model):  # type: ignore[name-defined]
    """One mail to work out and send later (see ``market/services/mail_queue.py``).

    Written in the request's own transaction, so an answered request always leaves
    its row. ``kind`` names the handler that decides, when the row is drained, whether
    a mail goes out and to whom (a password reset for an unknown address sends
    nothing). The row is deleted once the mail server took the message. A drain
    claims it first (``claimed_at``); a claim older than the claim timeout belonged to
    a process that died and is taken over. ``due_at`` is when it may be tried next
    (NULL once ``attempts`` ran out: it stays for the log and is purged later).
    """

    __tablename__ = "mail_queue"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    locale: Mapped[str] = mapped_column(String(8), default="zh")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=utcnow, index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<MailJob {self.id} {self.kind}>"
