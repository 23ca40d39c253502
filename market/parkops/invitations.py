"""Park staff invite a listed provider to serve their park (精准招商).

The provider's people get a mail with a signed, expiring link; a member of the
provider's organization accepts (the park joins the offering's served parks) or
declines. Staff see each invitation's status, an unanswered link past its time as
expired.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from market.core import mail, permissions
from market.core.db import by_ref
from market.core.errors import DomainError, InvalidTransition, NotFound
from market.core.extensions import db
from market.core.urls import absolute_url
from market.models import Offering, Park, ParkInvitation, User, utcnow

VALID_DAYS = 14
MESSAGE_MAX = 500
SALT = "park-invitation"


class InvitationLinkInvalid(NotFound):
    """A forged, mangled or unknown invitation link."""

    code = "invitation_invalid"


class InvitationExpired(DomainError):
    status = 410
    code = "invitation_expired"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def token_for(invitation: ParkInvitation) -> str:
    return _serializer().dumps({"inv": invitation.id})


def from_token(token: str) -> ParkInvitation:
    """The invitation a link names, even when it has expired (the page says so).

    Raises InvitationLinkInvalid for a forged or unknown link.
    """
    try:
        data = _serializer().loads(token)
    except BadSignature:
        raise InvitationLinkInvalid(_("邀请链接无效。")) from None
    inv_id = data.get("inv") if isinstance(data, dict) else None
    invitation = db.session.get(ParkInvitation, inv_id) if isinstance(inv_id, int) else None
    if invitation is None:
        raise InvitationLinkInvalid(_("邀请链接无效。"))
    return invitation


def check_fresh(token: str) -> None:
    """Raise InvitationExpired when the link is older than its validity."""
    try:
        _serializer().loads(token, max_age=VALID_DAYS * 86400)
    except SignatureExpired:
        raise InvitationExpired(_("邀请已过期，请联系园区重新邀请。")) from None
    except BadSignature:
        raise InvitationLinkInvalid(_("邀请链接无效。")) from None


def recipients(offering: Offering) -> list[User]:
    """Who gets the mail: the provider's org admins, or every active member if it has none."""
    users = [u for u in offering.org.users if not u.disabled]
    admins = [u for u in users if u.role == "org_admin"]
    return admins or users


def send(actor: User, park: Park, offering: Offering, message: str = "") -> ParkInvitation:
    """Record an invitation and mail its link to the provider; returns it (flushed).

    Raises PermissionDenied unless ``actor`` runs the park; DomainError when the
    offering is not public, already serves the park by name, has an open invitation
    from this park, or its organization has nobody to mail.
    """
    permissions.require(permissions.can_run_park(actor, park.id))
    message = (message or "").strip()
    if len(message) > MESSAGE_MAX:
        raise DomainError(_("附言不能超过 %(n)d 个字。", n=MESSAGE_MAX))
    if not offering.is_public:
        raise DomainError(_("只能邀请已发布的供给。"))
    if any(p.id == park.id for p in offering.parks):
        raise DomainError(_("该供给已服务本园区。"))
    if offering.org.park_id == park.id:
        raise DomainError(_("该服务商就在本园区。"))
    open_one = db.session.scalar(
        select(ParkInvitation.id).where(
            ParkInvitation.park_id == park.id,
            ParkInvitation.offering_id == offering.id,
            ParkInvitation.status == "sent",
            ParkInvitation.expires_at > utcnow(),
        )
    )
    if open_one is not None:
        raise DomainError(_("已向该供给发出邀请，正在等待对方答复。"))
    people = recipients(offering)
    if not people:
        raise DomainError(_("该机构没有可接收邀请的账号。"))
    now = utcnow()
    invitation = ParkInvitation(
        park=park,
        offering=offering,
        provider_org_id=offering.org_id,
        invited_by_id=actor.id,
        message=message,
        sent_to=", ".join(u.email for u in people),
        status="sent",
        created_at=now,
        expires_at=now + timedelta(days=VALID_DAYS),
    )
    db.session.add(invitation)
    db.session.flush()
    link = absolute_url("parkops.invitation", token=token_for(invitation))
    for user in people:
        mail.send(
            user.email,
            _("%(park)s 邀请您的“%(title)s”服务本园区", park=park.name, title=offering.title),
            "park_invitation",
            park=park,
            offering=offering,
            inviter=actor,
            note=message,
            link=link,
            days=VALID_DAYS,
        )
    return invitation


def _answer(invitation: ParkInvitation, actor: User, token: str) -> None:
    permissions.require(
        permissions.owns(actor, invitation.offering),
        _("只有该供给所属机构的成员可以答复这份邀请。"),
    )
    if invitation.status != "sent":
        raise InvalidTransition(_("这份邀请已经答复过了。"))
    check_fresh(token)
    if invitation.is_expired:
        raise InvitationExpired(_("邀请已过期，请联系园区重新邀请。"))
    invitation.answered_at = utcnow()
    invitation.answered_by_id = actor.id


def accept(invitation: ParkInvitation, actor: User, token: str) -> None:
    """Add the park to the offering's served parks and mark the invitation accepted.

    Raises PermissionDenied unless ``actor`` belongs to the offering's organization,
    InvalidTransition when already answered, InvitationExpired past its time.
    """
    _answer(invitation, actor, token)
    invitation.status = "accepted"
    if all(p.id != invitation.park_id for p in invitation.offering.parks):
        invitation.offering.parks.append(invitation.park)


def decline(invitation: ParkInvitation, actor: User, token: str) -> None:
    """Mark the invitation declined (same errors as ``accept``)."""
    _answer(invitation, actor, token)
    invitation.status = "declined"


def for_park(park: Park) -> list[ParkInvitation]:
    """The park's invitations, newest first, offerings and organizations loaded."""
    stmt = (
        select(ParkInvitation)
        .where(ParkInvitation.park_id == park.id)
        .options(
            selectinload(ParkInvitation.offering).selectinload(Offering.org),
            selectinload(ParkInvitation.invited_by),
        )
        .order_by(ParkInvitation.created_at.desc(), ParkInvitation.id.desc())
    )
    return list(db.session.scalars(stmt))


def offering_by_ref(ref: str) -> Offering:
    """The offering with this ref; raises NotFound when there is none."""
    offering = by_ref(Offering, ref)
    if offering is None:
        raise NotFound(_("供给不存在。"))
    return offering
