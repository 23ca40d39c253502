"""Accounts: sign-in sessions, password changes, disabling, reset and invitation tokens."""

from __future__ import annotations

import secrets
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update

from market.extensions import db
from market.models import User, UserSession, hash_token, utcnow

RESET_MAX_AGE = 2 * 3600
INVITE_MAX_AGE = 7 * 24 * 3600


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def normalize_email(email: str) -> str:
    return email.strip().lower()


def open_session(user: User, ip: str = "", user_agent: str = "") -> UserSession:
    """Create the server-side record of a sign-in; the cookie will carry its token."""
    token = secrets.token_urlsafe(32)
    row = UserSession(user=user, token_hash=hash_token(token), ip=ip[:64], user_agent=user_agent[:256])
    row.token = token
    db.session.add(row)
    user.current_session = row
    return row


def revoke_session(row: UserSession | None) -> None:
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()


def revoke_all(user: User, keep: UserSession | None = None) -> int:
    """End every session of ``user`` except ``keep``; returns how many were ended."""
    stmt = (
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    if keep is not None and keep.id is not None:
        stmt = stmt.where(UserSession.id != keep.id)
    result = db.session.execute(stmt)
    return int(getattr(result, "rowcount", 0) or 0)


def change_password(user: User, new_password: str) -> None:
    """Set a new password and sign out every other session of the user."""
    user.set_password(new_password)
    db.session.flush()
    revoke_all(user, keep=user.current_session)


def set_disabled(user: User, disabled: bool) -> None:
    user.disabled = disabled
    if disabled:
        db.session.flush()
        revoke_all(user)


def _serializer(salt: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=salt)


def reset_token(user: User) -> str:
    """A signed token that stops working once the password changes (single use)."""
    stamp = user.password_changed_at.isoformat() if user.password_changed_at else ""
    return _serializer("password-reset").dumps({"uid": user.id, "stamp": stamp})


def user_from_reset_token(token: str) -> User | None:
    try:
        data: dict[str, Any] = _serializer("password-reset").loads(token, max_age=RESET_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    user = db.session.get(User, data.get("uid"))
    if user is None or user.disabled:
        return None
    stamp = user.password_changed_at.isoformat() if user.password_changed_at else ""
    return user if stamp == data.get("stamp") else None


def invitation_token(org_id: int, email: str, role: str) -> str:
    return _serializer("invitation").dumps({"org": org_id, "email": normalize_email(email), "role": role})


def read_invitation(token: str) -> dict[str, Any] | None:
    """The invitation's org, email and role, or None when forged or older than a week."""
    try:
        data: dict[str, Any] = _serializer("invitation").loads(token, max_age=INVITE_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    return data
