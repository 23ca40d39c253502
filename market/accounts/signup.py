"""Getting an account: sign up with a new organization, or accept an invitation to one.

Signing up makes no account at once. The form's answer must not tell whether the
address already has one, so every accepted form does the same: it stores a
``SignupRequest`` and queues a mail (``mail_queue``). The mail job then writes to the
address either a link that creates the account and organization (``activate``, which
asks for the password chosen at sign-up, so a link opened by someone else — a mail
scanner, a forwarded mail — creates nothing), or, when the address has an account,
a note that someone tried to sign up with it.

Functions change rows and leave committing (and signing in) to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import delete
from werkzeug.security import check_password_hash, generate_password_hash

from market.accounts import organizations
from market.accounts import service as accounts
from market.accounts.members import ORG_ROLES
from market.core import mail, mail_queue
from market.core.errors import DomainError
from market.core.extensions import db
from market.core.urls import absolute_url as link
from market.models import MailJob, Organization, SignupRequest, User, utcnow

# How long the confirmation link works; older requests are purged by the mail-queue job.
SIGNUP_MAX_AGE = 48 * 3600
_SALT = "signup-confirm"


@dataclass(frozen=True)
class Invitation:
    """A verified invitation: who is invited, to which organization, in which role."""

    org: Organization
    email: str
    role: str


def request_signup(
    *, name: str, email: str, password: str, org: organizations.OrgDetails
) -> SignupRequest:
    """Keep what was typed and queue the mail that continues the sign-up.

    Does exactly the same for an address that already has an account: the mail job
    tells the two apart (``signup_mail``). Raises DomainError when the password is too
    short or the organization's details break a rule; nothing is kept then.
    """
    accounts.check_new_password(password)
    organizations.check_new(org)
    row = SignupRequest(
        email=accounts.normalize_email(email),
        name=name.strip(),
        password_hash=generate_password_hash(password),
        org=_org_record(org),
    )
    db.session.add(row)
    db.session.flush()
    mail_queue.enqueue("signup", {"request": row.id})
    return row


def _org_record(details: organizations.OrgDetails) -> dict[str, Any]:
    return {
        "name": details.name.strip(),
        "kind": details.kind,
        "province": details.province,
        "city": details.city.strip(),
        "credit_code": details.credit_code,
        "park": details.park.ref if details.park is not None else None,
        "size": details.size,
    }


def _org_details(record: dict[str, Any]) -> organizations.OrgDetails:
    return organizations.OrgDetails(
        name=str(record.get("name") or ""),
        kind=str(record.get("kind") or ""),
        province=str(record.get("province") or ""),
        city=str(record.get("city") or ""),
        credit_code=record.get("credit_code") or None,
        park=organizations.park_by_ref(record.get("park")),
        size=record.get("size") or None,
    )


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def confirm_token(row: SignupRequest) -> str:
    return _serializer().dumps({"r": row.id, "e": row.email})


def signup_mail(job: MailJob) -> mail_queue.Outgoing:
    """The queued sign-up mail: the confirmation link for a free address; for one that
    has an account, a note to its owner (and the request is dropped once it is sent)."""
    row = db.session.get(SignupRequest, job.payload.get("request"))
    if row is None:
        return mail_queue.Outgoing(None)  # confirmed or purged meanwhile
    user = accounts.find_by_email(row.email)
    if user is None:
        message = mail.build(
            row.email,
            _("请确认您的邮箱，完成注册"),
            "signup_confirm",
            name=row.name,
            org_name=row.org.get("name", ""),
            link=link("auth.confirm", token=confirm_token(row)),
            hours=SIGNUP_MAX_AGE // 3600,
        )
        return mail_queue.Outgoing(message)
    with force_locale(user.locale or job.locale or "zh"):
        message = mail.build(
            row.email,
            _("有人尝试用您的邮箱注册账号"),
            "signup_taken",
            user=user,
            login_link=link("auth.login"),
            forgot_link=link("auth.forgot"),
        )
    request_id = row.id
    return mail_queue.Outgoing(message, done=lambda: _forget(request_id))


def _forget(request_id: int) -> None:
    db.session.execute(delete(SignupRequest).where(SignupRequest.id == request_id))


def open_signup(token: str) -> SignupRequest | None:
    """The sign-up a confirmation link names; None when the link is forged, older than
    ``SIGNUP_MAX_AGE`` or used already."""
    try:
        data = _serializer().loads(token, max_age=SIGNUP_MAX_AGE)
    except (BadSignature, SignatureExpired):
        return None
    row = db.session.get(SignupRequest, data.get("r")) if isinstance(data, dict) else None
    return row if row is not None and row.email == data.get("e") else None


def activate(row: SignupRequest, password: str) -> User:
    """Create the organization and its first user (its org_admin) from a confirmed sign-up.

    Raises accounts.LoginRefused when ``password`` is not the one chosen at sign-up,
    DomainError when the address got an account meanwhile or the organization's
    details no longer pass (its credit code taken since); nothing is kept then.
    """
    if not check_password_hash(row.password_hash, password):
        raise accounts.LoginRefused(_("密码与注册时设置的不一致。"), "wrong_password")
    org = organizations.create(_org_details(row.org))
    user = accounts.create_user(row.email, row.name, org, "org_admin")
    user.password_hash = row.password_hash
    user.password_changed_at = utcnow()
    db.session.execute(delete(SignupRequest).where(SignupRequest.email == row.email))
    return user


def purge_signups(now: datetime) -> int:
    """Delete sign-ups whose link has expired; returns how many."""
    cutoff = now - timedelta(seconds=SIGNUP_MAX_AGE)
    result = db.session.execute(delete(SignupRequest).where(SignupRequest.created_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def open_invitation(token: str) -> Invitation:
    """The invitation a token carries; raises DomainError when forged, expired or stale."""
    data = accounts.read_invitation(token)
    invalid = DomainError(_("邀请链接无效或已过期，请联系机构管理员重新邀请。"))
    if not data or data.get("role") not in ORG_ROLES or not data.get("email"):
        raise invalid
    org = db.session.get(Organization, data.get("org"))
    if org is None:
        raise invalid
    return Invitation(org=org, email=str(data["email"]), role=str(data["role"]))


def register_invited(invitation: Invitation, *, name: str, password: str) -> User:
    """Create the invited person's account in the inviting organization.

    Raises DomainError when the email already has an account (its owner signs in
    and accepts from there) or the password is too short.
    """
    accounts.check_new_password(password)
    if accounts.find_by_email(invitation.email) is not None:
        raise DomainError(_("该邮箱已注册，请先登录后再接受邀请。"))
    return accounts.create_user(invitation.email, name, invitation.org, invitation.role, password)


def join(user: User, invitation: Invitation) -> None:
    """Put a signed-in user without an organization into the inviting one.

    Raises DomainError when the invitation was sent to another address or the user
    already belongs to an organization.
    """
    if user.email != invitation.email:
        raise DomainError(
            _("此邀请发给 %(email)s，与您当前登录的账号不一致。", email=invitation.email)
        )
    if user.org_id == invitation.org.id:
        raise DomainError(_("您已是该机构成员。"))
    if user.org_id is not None:
        raise DomainError(_("您已属于其他机构，不能再加入新的机构。"))
    if user.role not in ORG_ROLES:
        raise DomainError(_("您的账号角色由平台管理员管理，不能通过邀请加入机构。"))
    user.org = invitation.org
    user.role = invitation.role
