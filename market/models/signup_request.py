"""Sign-ups waiting for their address to be confirmed."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlalchemy.orm import Mapped, mapped_column

from market.core.extensions import db
from market.models.base import UTCDateTime, utcnow


class SignupRequest(db.Model):  # type: ignore[name-defined]
    """What a person typed into the sign-up form, kept until the mailed link is used.

    No account or organization exists until then: the sign-up form does the same
    work whether the address already has an account or not, and only the mail (sent
    later) differs. ``org`` holds the organization's details as the form gave them
    (the park by ref); ``password_hash`` is the password chosen, checked again when
    the link is opened. Rows are deleted on activation and purged once the link has
    expired.
    """

    __tablename__ = "signup_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    name: Mapped[str] = mapped_column(String(100))
    password_hash: Mapped[str] = mapped_column(String(256))
    org: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    def __repr__(self) -> str:
        return f"<SignupRequest {self.id} {self.email}>"
