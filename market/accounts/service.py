"""Accounts: sign-in sessions, password changes, disabling, reset and invitation tokens."""

from __future__ import annotations

import secrets
from functools import cache
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from werkzeug.security import check_password_hash, generate_password_hash

from market.core import mail, mail_queue
from market.core.errors import DomainError
from market.core.extensions import db
from market.core.urls import absolute_url as link
from market.models import MailJob, Organization, User, UserSession, hash_token, utcnow
from market.models.user import ROLES

RESET_MAX_AGE = 2 * 3600
INVITE_MAX_AGE = 7 * 24 * 3600


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def normalize_email(email: str) -> str:
    return email.strip().lower()


def open_session(user: User, ip: str = "", user_agent: str = "") -> UserSession:
    """Create the server-side record of a sign-in; the cookie will carry its token."""
    token = secrets.token_urlsafe(32)
    row = UserSession(
        user=user, token_hash=hash_token(token), ip=ip[:64], user_agent=user_agent[:256]
    )
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


def request_password_reset(email: str) -> None:
    """Queue a reset mail for ``email`` (committed with the caller's transaction).

    The same row for every address, known or not: the request neither looks the
    address up nor talks to the mail server, so neither its answer nor its time tells
    whether the address has an account. The job decides (``password_reset_mail``).
    """
    mail_queue.enqueue("password_reset", {"email": normalize_email(email)})


def password_reset_mail(job: MailJob) -> mail_queue.Outgoing:
    """The queued reset mail: a link for an active account, nothing for any other address."""
    user = find_by_email(str(job.payload.get("email") or ""))
    if user is None or user.disabled:
        return mail_queue.Outgoing(None)
    url = link("auth.reset", token=reset_token(user))
    message = mail.build(user.email, _("重置您的密码"), "password_reset", user=user, link=url)
    return mail_queue.Outgoing(message)


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
    return _serializer("invitation").dumps(
        {"org": org_id, "email": normalize_email(email), "role": role}
    )


def read_invitation(token: str) -> dict[str, Any] | None:
    """The invitation's org, email and role, or None when forged or older than a week."""
    try:
        data: dict[str, Any] = _serializer("invitation").loads(token, max_age=INVITE_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    return data


# --- sign-in, registration and self-service -------------------------------------------

ROLE_LABELS: dict[str, LazyString] = {
    "member": _l("成员"),
    "org_admin": _l("机构管理员"),
    "park_staff": _l("园区工作人员"),
    "admin": _l("平台管理员"),
}
LOCALE_LABELS: dict[str, str] = {"zh": "简体中文", "en": "English"}
PASSWORD_MIN_LENGTH = 8


class LoginRefused(DomainError):
    """Sign-in refused. ``message`` is shown to the user; ``reason`` goes to the log only."""

    status = 401
    code = "login_refused"

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@cache
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(16))


def authenticate(email: str, password: str) -> User:
    """The user whose email and password match.

    Raises LoginRefused with one message for an unknown email, an imported account
    without a password yet and a wrong password, so the form does not reveal which
    accounts exist (the message says how an imported account sets its first password),
    and a refusal for a disabled account (only once its password was right).
    """
    generic = _("邮箱或密码不正确。批量导入、尚未设置密码的账号，请先通过“忘记密码”设置密码。")
    user = find_by_email(email)
    if user is None or not user.password_hash:
        # Spend the same time as a real check so timing does not reveal the email.
        check_password_hash(_dummy_hash(), password)
        raise LoginRefused(generic, "unknown_email" if user is None else "no_password")
    if not user.check_password(password):
        raise LoginRefused(generic, "wrong_password")
    if user.disabled:
        raise LoginRefused(_("该账号已被停用，请联系平台管理员。"), "disabled")
    return user


def create_user(
    email: str, name: str, org: Organization | None, role: str, password: str | None = None
) -> User:
    """A new account (flushed, so it has its id and ref).

    Raises DomainError when the email is taken or the role is unknown.
    """
    if role not in ROLES:
        raise DomainError(_("未知的角色。"))
    if find_by_email(email) is not None:
        raise DomainError(_("该邮箱已注册，请直接登录或找回密码。"))
    user = User(email=normalize_email(email), name=name.strip(), org=org, role=role)
    if password:
        user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def check_new_password(password: str) -> None:
    """Raises DomainError when ``password`` is too short to be accepted."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise DomainError(_("密码至少需要 %(n)d 个字符。", n=PASSWORD_MIN_LENGTH))


def reset_password(user: User, new_password: str) -> None:
    """Set a new password through the reset flow and sign out every session of the user.

    Raises DomainError for a password that is too short.
    """
    check_new_password(new_password)
    user.set_password(new_password)
    db.session.flush()
    revoke_all(user)


def update_profile(user: User, name: str, locale: str | None) -> None:
    """Save the display name and preferred language; raises DomainError on bad values."""
    name = name.strip()
    if not name:
        raise DomainError(_("请填写姓名。"))
    if locale and locale not in LOCALE_LABELS:
        raise DomainError(_("不支持该语言。"))
    user.name = name
    user.locale = locale or None


def active_sessions(user: User, limit: int = 50) -> list[UserSession]:
    """The user's sign-ins that have not been revoked, newest first."""
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
            .order_by(UserSession.created_at.desc(), UserSession.id.desc())
            .limit(limit)
        )
    )


def revoke_other_sessions(user: User) -> int:
    """Sign out everywhere but here; returns how many sessions were ended."""
    return revoke_all(user, keep=user.current_session)
