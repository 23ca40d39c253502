"""An organization's people: invitations, roles and removal, run by its org admins.

Functions check who may act, change rows and leave committing to the caller.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from market.accounts import service as accounts
from market.core import mail, permissions
from market.core.errors import DomainError, NotFound
from market.core.extensions import db
from market.core.urls import absolute_url
from market.models import Organization, User

# The roles an org admin hands out; park_staff and admin are the platform admin's business.
ORG_ROLES = ("member", "org_admin")


def members(org: Organization) -> list[User]:
    """Everyone in the organization, org admins first, then by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.org_id == org.id)
            .order_by((User.role == "org_admin").desc(), User.name, User.id)
        )
    )


def member(org: Organization, user_ref: str) -> User:
    """The member of ``org`` with this ref; raises NotFound for anyone else."""
    user = db.session.scalar(select(User).where(User.ref == user_ref, User.org_id == org.id))
    if user is None:
        raise NotFound(_("该机构没有这位成员。"))
    return user


def invite(actor: User, org: Organization, email: str, role: str) -> str:
    """Mail a signed, week-long invitation to join ``org``; returns the link sent.

    Raises PermissionDenied unless ``actor`` is the org's org_admin, DomainError for an
    unknown role or an address that already belongs to a member.
    """
    permissions.require(permissions.can_manage_org(actor, org))
    if role not in ORG_ROLES:
        raise DomainError(_("未知的角色。"))
    email = accounts.normalize_email(email)
    existing = accounts.find_by_email(email)
    if existing is not None and existing.org_id == org.id:
        raise DomainError(_("%(email)s 已是本机构成员。", email=email))
    token = accounts.invitation_token(org.id, email, role)
    link = absolute_url("auth.accept_invite", token=token)
    mail.send(
        email,
        _("%(org)s 邀请您加入园区供需对接平台", org=org.name),
        "invitation",
        org=org,
        inviter=actor,
        role_label=accounts.ROLE_LABELS[role],
        link=link,
    )
    return link


def _admin_count(org: Organization) -> int:
    stmt = select(func.count(User.id)).where(
        User.org_id == org.id, User.role == "org_admin", User.disabled.is_(False)
    )
    return int(db.session.scalar(stmt) or 0)


def _check_change(actor: User, org: Organization, target: User) -> None:
    permissions.require(permissions.can_manage_org(actor, org))
    if target.org_id != org.id:
        raise NotFound(_("该机构没有这位成员。"))
    if target.role not in ORG_ROLES:
        raise DomainError(_("该成员的角色由平台管理员管理。"))


def _would_orphan(org: Organization, target: User) -> bool:
    """True when ``target`` is the organization's only active org admin."""
    return target.role == "org_admin" and not target.disabled and _admin_count(org) <= 1


def set_role(actor: User, org: Organization, target: User, role: str) -> None:
    """Make ``target`` a member or an org admin.

    Raises PermissionDenied for anyone but the org's org_admin, DomainError for another
    role or when the change would leave the organization without an org admin.
    """
    _check_change(actor, org, target)
    if role not in ORG_ROLES:
        raise DomainError(_("未知的角色。"))
    if role != "org_admin" and _would_orphan(org, target):
        raise DomainError(_("机构至少需要一位机构管理员，请先指定其他管理员。"))
    target.role = role


def remove(actor: User, org: Organization, target: User) -> None:
    """Take ``target`` out of the organization; the account stays, without an organization.

    Raises PermissionDenied for anyone but the org's org_admin, DomainError when it would
    leave the organization without an org admin.
    """
    _check_change(actor, org, target)
    if _would_orphan(org, target):
        raise DomainError(_("机构至少需要一位机构管理员，请先指定其他管理员。"))
    target.org = None
    target.role = "member"
