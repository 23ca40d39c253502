"""The weekly digest: who wants what (preferences) and what was sent (the ledger)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.core.extensions import db
from market.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from market.models.user import User

DIGEST_FREQUENCIES = ("weekly", "off")
DIGEST_KINDS = ("recommendations", "dockings", "registrations", "catalogues")
DIGEST_LANGUAGES = ("zh", "en")
# claimed: taken, the message not yet handed to the server (safe to take over later);
# sending: the final DATA terminator is going out, so the server may have the message;
# sent: the server accepted it; failed: refused or unreachable before hand-over.
LEDGER_STATUSES = ("claimed", "sending", "sent", "failed")


class DigestPreference(db.Model):  # type: ignore[name-defined]
    """A user's digest settings; a user without a row gets the defaults (weekly, all, zh)."""

    __tablename__ = "digest_preferences"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True, index=True
    )
    frequency: Mapped[str] = mapped_column(String(16), default="weekly")
    kinds: Mapped[list[str]] = mapped_column(JSON, default=lambda: list(DIGEST_KINDS))
    language: Mapped[str] = mapped_column(String(8), default="zh")
    # The cut-off of the last digest sent: items seen after it go into the next one.
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    user: Mapped[User] = relationship()


class DigestLedger(db.Model):  # type: ignore[name-defined]
    """One user's digest for one ISO week: claimed before SMTP, marked after.

    The unique (user_id, iso_week) key is what makes a second digest for the same
    week impossible, whichever process or command tries.
    """

    __tablename__ = "digest_ledger"
    __table_args__ = (UniqueConstraint("user_id", "iso_week", name="uq_digest_ledger_user_week"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    iso_week: Mapped[str] = mapped_column(String(8), index=True)  # 2026-W05
    status: Mapped[str] = mapped_column(String(16), default="claimed", index=True)
    # Which claim owns the row: a take-over gets a new token, so a stale sender notices.
    claim_token: Mapped[str] = mapped_column(String(36), default="")
    attempts: Mapped[int] = mapped_column(default=1)
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handed_over_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Items up to this moment are in this digest; the next one starts after it.
    cutoff_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    items: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), default="")
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
