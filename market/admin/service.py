"""Platform administration: headline counts and the user list, disabling and enabling.

Functions check who may act, change rows and leave committing to the caller.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import func, or_, select

from market.accounts import service as accounts
from market.core import permissions
from market.core.db import by_ref
from market.core.errors import DomainError, NotFound
from market.core.extensions import db
from market.models import Need, Offering, Organization, User
from market.models.user import ROLES


def _count(model: Any, *conditions: Any) -> int:
    return int(db.session.scalar(select(func.count(model.id)).where(*conditions)) or 0)


def counts() -> dict[str, int]:
    """What the admin's start page shows: organizations, users and the moderation backlog."""
    return {
        "orgs": _count(Organization),
        "orgs_unverified": _count(Organization, Organization.verified.is_(False)),
        "users": _count(User),
        "users_disabled": _count(User, User.disabled.is_(True)),
        "offerings_published": _count(Offering, Offering.status == "published"),
        "offerings_pending": _count(Offering, Offering.status == "pending"),
        "needs_open": _count(Need, Need.status == "open"),
        "needs_pending": _count(Need, Need.status == "pending"),
    }


def search_users(
    *, role: str | None, disabled: bool | None, query: str, page: int, per_page: int
) -> Pagination:
    """One page of users for the admin, filtered, in ref order."""
    stmt = select(User)
    if role in ROLES:
        stmt = stmt.where(User.role == role)
    if disabled is not None:
        stmt = stmt.where(User.disabled.is_(disabled))
    if query:
        stmt = stmt.outerjoin(Organization, User.org_id == Organization.id).where(
            or_(
                User.name.icontains(query, autoescape=True),
                User.email.icontains(query, autoescape=True),
                Organization.name.icontains(query, autoescape=True),
                User.ref == query,
            )
        )
    stmt = stmt.order_by(User.id)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)


def get_user(ref: str) -> User:
    """The user with this ref; raises NotFound."""
    user = by_ref(User, ref)
    if user is None:
        raise NotFound(_("用户不存在。"))
    return user


def set_user_disabled(actor: User, user: User, disabled: bool) -> None:
    """Disable (ending all of the user's sessions) or re-enable an account.

    Raises PermissionDenied for non-admins and DomainError when admins would disable
    themselves (nobody would be left to undo it).
    """
    permissions.require(permissions.is_admin(actor))
    if disabled and user.id == actor.id:
        raise DomainError(_("不能停用自己的账号。"))
    accounts.set_disabled(user, disabled)
