"""Getting an account: sign up with a new organization, or accept an invitation to one.

Functions change rows and leave committing (and signing in) to the caller.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _

from market.extensions import db
from market.models import Organization, User
from market.services import accounts, organizations
from market.services.errors import DomainError
from market.services.members import ORG_ROLES


@dataclass(frozen=True)
class Invitation:
    """A verified invitation: who is invited, to which organization, in which role."""

    org: Organization
    email: str
    role: str


def register_with_new_org(
    *, name: str, email: str, password: str, org: organizations.OrgDetails
) -> User:
    """Create an unverified organization and its first user, who becomes its org_admin.

    Raises DomainError when the email is taken, the password too short or the
    organization's details break a rule; nothing is kept then.
    """
    accounts.check_new_password(password)
    if accounts.find_by_email(email) is not None:
        raise DomainError(_("该邮箱已注册，请直接登录或找回密码。"))
    new_org = organizations.create(org)
    return accounts.create_user(email, name, new_org, "org_admin", password)


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
