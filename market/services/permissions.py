"""Who may do what. Every write route asks one of these before it changes anything."""

from __future__ import annotations

from typing import Any

from market.models import Need, Offering, Organization, User
from market.services.errors import PermissionDenied

Listing = Offering | Need


def _signed_in(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and not getattr(user, "disabled", True)


def staff_park_id(user: Any) -> int | None:
    """The park a park_staff user works for (through their park_operator organization)."""
    if not _signed_in(user) or user.role != "park_staff" or user.org is None:
        return None
    return user.org.park_id if user.org.kind == "park_operator" else None


def can_list_offerings(user: Any) -> bool:
    """Providers, financial institutions and training bodies list offerings."""
    return _signed_in(user) and user.org is not None and bool(user.org.offering_kinds)


def can_post_needs(user: Any) -> bool:
    return _signed_in(user) and user.org is not None and user.org.posts_needs


def owns(user: Any, item: Listing) -> bool:
    """Members of the owning organization manage its listings; nobody else edits them."""
    return _signed_in(user) and user.org_id is not None and user.org_id == item.org_id


def in_staff_scope(user: Any, item: Listing) -> bool:
    park_id = staff_park_id(user)
    if park_id is None:
        return False
    if isinstance(item, Need):
        return item.park_id == park_id
    return item.org.park_id == park_id or any(p.id == park_id for p in item.parks)


def can_moderate(user: Any, item: Listing) -> bool:
    """Admins moderate everything; park staff moderate what concerns their park."""
    return _signed_in(user) and (user.role == "admin" or in_staff_scope(user, item))


def is_moderator(user: Any) -> bool:
    return _signed_in(user) and (user.role == "admin" or staff_park_id(user) is not None)


def can_view(user: Any, item: Listing) -> bool:
    """Public listings for everyone; drafts and the like for their owners and moderators."""
    return item.is_public or owns(user, item) or can_moderate(user, item)


def can_manage_org(user: Any, org: Organization) -> bool:
    return _signed_in(user) and user.org_id == org.id and user.role == "org_admin"


def is_admin(user: Any) -> bool:
    return _signed_in(user) and user.role == "admin"


def require(allowed: bool, message: str = "您无权执行此操作。") -> None:
    """Raise PermissionDenied unless ``allowed``."""
    if not allowed:
        raise PermissionDenied(message)


def same_user(user: Any, other: User) -> bool:
    return _signed_in(user) and user.id == other.id
