"""Accounts, roles and revocable sign-in sessions."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import TYPE_CHECKING

from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from market.core.extensions import db
from market.models.base import HasRef, Timestamps, UTCDateTime, utcnow

if TYPE_CHECKING:
    from market.models.organization import Organization

ROLES = ("member", "org_admin", "park_staff", "admin")


class User(HasRef, Timestamps, UserMixin, db.Model):  # type: ignore[name-defined]
    __tablename__ = "users"
    REF_PREFIX = "U"
    # current_session below is per-request state, not a column.
    __allow_unmapped__ = True

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    name: Mapped[str] = mapped_column(String(100))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    role: Mapped[str] = mapped_column(String(16), default="member")
    password_hash: Mapped[str | None] = mapped_column(String(256))
    disabled: Mapped[bool] = mapped_column(default=False)
    locale: Mapped[str | None] = mapped_column(String(8))
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    org: Mapped[Organization | None] = relationship(back_populates="users")
    sessions: Mapped[list[UserSession]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    # The UserSession this request is signed in through; set by the user loader.
    current_session: UserSession | None = None

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)
        self.password_changed_at = utcnow()

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash or "", password)

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled users cannot sign in
        return not self.disabled

    def get_id(self) -> str:
        """Flask-Login stores this in the cookie: the session token, never the user id,
        so that revoking the session row signs the cookie out."""
        if self.current_session is None or self.current_session.token is None:
            raise RuntimeError("user has no sign-in session")
        return self.current_session.token

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_park_staff(self) -> bool:
        return self.role == "park_staff"

    @property
    def is_org_admin(self) -> bool:
        return self.role == "org_admin"

    def __repr__(self) -> str:
        return f"<User {self.email}>"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class UserSession(db.Model):  # type: ignore[name-defined]
    """A server-side record of one sign-in; the cookie carries only its token."""

    __tablename__ = "user_sessions"
    __allow_unmapped__ = True  # token below is per-request state, not a column

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(256), default="")

    user: Mapped[User] = relationship(back_populates="sessions")
    # The clear token exists only on the row created during this request.
    token: str | None = None
