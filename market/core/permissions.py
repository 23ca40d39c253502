"""Who may do what. Every write route asks one of these before it changes anything."""

from __future__ import annotations

from typing import Any

from market.core.errors import PermissionDenied
from market.models import Need, Offering, Organization, User

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


def can_see_contacts(user: Any, org: Organization, docked: bool) -> bool:
    """The e-mail addresses of an organization's contact people: its own members, the
    other party of a docking with it (``docked``), admins, and park staff for the
    organizations of their park and those tied to no park (the providers, banks and
    training bodies they invite and mail anyway)."""
    if not _signed_in(user):
        return False
    if user.org_id == org.id or docked or is_admin(user):
        return True
    park_id = staff_park_id(user)
    return park_id is not None and org.park_id in (park_id, None)


def require(allowed: bool, message: str = "您无权执行此操作。") -> None:
    """Raise PermissionDenied unless ``allowed``."""
    if not allowed:
        raise PermissionDenied(message)


def same_user(user: Any, other: User) -> bool:
    return _signed_in(user) and user.id == other.id


# --- parkops: park dashboards, chain map, invitations, campaign reports -----------------


def can_run_park(user: Any, park_id: int) -> bool:
    """Admins run every park's dashboard and invitations; park staff their own park."""
    return is_admin(user) or (staff_park_id(user) is not None and staff_park_id(user) == park_id)


def can_view_province_rollup(user: Any) -> bool:
    """Roll-ups across a province's parks are for platform admins."""
    return is_admin(user)


# --- docking: 对接 requests, interest, registrations, financing applications ----------------


def can_start_docking(user: Any) -> bool:
    """Park enterprises send docking requests, register for courses and apply for financing."""
    return _signed_in(user) and user.org is not None and user.org.kind == "enterprise"


def can_offer_interest(user: Any) -> bool:
    """Organizations that list offerings may express interest in an open need."""
    return can_list_offerings(user)


def docking_party(user: Any, docking: Any) -> bool:
    """Members of the enterprise or of the provider organization of the docking."""
    return (
        _signed_in(user)
        and user.org_id is not None
        and user.org_id in (docking.enterprise_org_id, docking.provider_org_id)
    )


def can_view_docking(user: Any, docking: Any) -> bool:
    """Both parties; park staff of the docking's park and admins (read-only)."""
    if docking_party(user, docking) or is_admin(user):
        return True
    park_id = staff_park_id(user)
    return park_id is not None and park_id == docking.park_id


def can_watch_dockings(user: Any) -> bool:
    """The park overview of dockings: park staff (their park) and admins (every park)."""
    return is_admin(user) or staff_park_id(user) is not None


def can_see_roster(user: Any, offering: Offering) -> bool:
    """A course's registration roster: members of the training provider, and admins."""
    return owns(user, offering) or is_admin(user)


# --- scheduler + digest: preferences, admin preview, job runs ------------------------------


def can_edit_digest_preferences(user: Any, owner: User) -> bool:
    """Each signed-in user sets their own digest; nobody else does (admins neither)."""
    return same_user(user, owner)


def can_preview_digests(user: Any) -> bool:
    """Admins preview anyone's digest and see job runs and mail failures."""
    return is_admin(user)


# --- catalogue: 供需目录清单 (compile, publish, schedule, withdraw) ------------------------


def can_compile_catalogue(user: Any, scope: str, park_id: int | None) -> bool:
    """Park staff compile, publish and withdraw their own park's catalogue; admins every
    park's, a province's and the whole platform's."""
    if is_admin(user):
        return True
    park = staff_park_id(user)
    return scope == "park" and park is not None and park == park_id


def can_manage_catalogues(user: Any) -> bool:
    """The catalogue workbench: park staff (their park) and admins."""
    return is_admin(user) or staff_park_id(user) is not None


# --- match-app: recommendations, 不相关 feedback, matching weights -------------------------


def can_see_recommendations(user: Any, item: Listing) -> bool:
    """「为您推荐」/「潜在需求」 and their 不相关 feedback: members of the listing's org."""
    return owns(user, item)


def can_tune_matching(user: Any) -> bool:
    """Weights, threshold, full recompute and the feedback list: platform admins."""
    return is_admin(user)
