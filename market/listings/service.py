"""Listing lifecycle: draft → pending → published/open → archived/closed, with expiry.

Each function checks who may act, changes the record, records a ListingEvent and
leaves committing to the caller (one transaction per request or command).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from market.core import permissions
from market.core.errors import DomainError, InvalidTransition
from market.core.extensions import db
from market.listings.values import need_values, offering_values, parks_by_ref
from market.models import ListingEvent, Need, Offering, Organization, Park, utcnow

Listing = Offering | Need


def live_status(item: Listing) -> str:
    """The status a listing has when it is visible: published (offering) or open (need)."""
    return "published" if isinstance(item, Offering) else "open"


def ended_status(item: Listing) -> str:
    return "archived" if isinstance(item, Offering) else "closed"


def item_type(item: Listing) -> str:
    return "offering" if isinstance(item, Offering) else "need"


def _record(item: Listing, action: str, actor: Any, reason: str | None = None) -> None:
    db.session.flush()  # the item needs its id
    db.session.add(
        ListingEvent(
            item_type=item_type(item),
            item_id=item.id,
            action=action,
            reason=reason,
            actor_id=getattr(actor, "id", None),
        )
    )


def history(item: Listing) -> list[ListingEvent]:
    return list(
        db.session.scalars(
            db.select(ListingEvent)
            .where(ListingEvent.item_type == item_type(item), ListingEvent.item_id == item.id)
            .order_by(ListingEvent.created_at, ListingEvent.id)
        )
    )


def _go_live(item: Listing) -> None:
    item.status = live_status(item)
    item.reject_reason = None
    item.published_at = utcnow()
    if isinstance(item, Offering):
        days = int(current_app.config["LISTING_VALIDITY_DAYS"])
        item.expires_at = utcnow() + timedelta(days=days)


def check_complete(item: Listing) -> None:
    """A listing must have a title and a description before anyone reviews it."""
    if not item.title.strip() or not item.description.strip():
        raise DomainError(_("提交审核前请填写标题和详细描述。"))


def submit(item: Listing, actor: Any) -> None:
    """Send a draft (or a rejected listing after edits) for review."""
    permissions.require(permissions.owns(actor, item))
    if item.status not in ("draft", "rejected"):
        raise InvalidTransition(_("只有草稿或被驳回的条目可以提交审核。"))
    check_complete(item)
    item.status = "pending"
    _record(item, "submit", actor)


def withdraw(item: Listing, actor: Any) -> None:
    """Take a pending listing back to draft."""
    permissions.require(permissions.owns(actor, item))
    if item.status != "pending":
        raise InvalidTransition(_("只有待审核的条目可以撤回。"))
    item.status = "draft"
    _record(item, "withdraw", actor)


def approve(item: Listing, actor: Any) -> None:
    permissions.require(permissions.can_moderate(actor, item))
    if item.status != "pending":
        raise InvalidTransition(_("只有待审核的条目可以审核通过。"))
    _go_live(item)
    _record(item, "approve", actor)


def reject(item: Listing, actor: Any, reason: str) -> None:
    permissions.require(permissions.can_moderate(actor, item))
    reason = reason.strip()
    if not reason:
        raise DomainError(_("驳回时请填写原因，发布方会看到它。"))
    if item.status != "pending":
        raise InvalidTransition(_("只有待审核的条目可以驳回。"))
    item.status = "rejected"
    item.reject_reason = reason
    _record(item, "reject", actor, reason)


def archive(item: Listing, actor: Any) -> None:
    """Owner takes a listing down (下架 / 关闭); a moderator may too, with the same effect."""
    permissions.require(permissions.owns(actor, item) or permissions.can_moderate(actor, item))
    if item.status == ended_status(item):
        raise InvalidTransition(_("该条目已经下架。"))
    item.status = ended_status(item)
    _record(item, "archive", actor)


def renew(item: Listing, actor: Any) -> None:
    """Extend a live or expired offering by the validity period; reopen an archived one as draft."""
    permissions.require(permissions.owns(actor, item))
    if item.status == ended_status(item):
        item.status = "draft"
    elif isinstance(item, Offering) and item.status == "published":
        days = int(current_app.config["LISTING_VALIDITY_DAYS"])
        item.expires_at = utcnow() + timedelta(days=days)
    else:
        raise InvalidTransition(_("只有已发布、已过期或已下架的条目可以续期。"))
    _record(item, "renew", actor)


def after_edit(item: Listing, actor: Any) -> None:
    """Editing a live or pending listing sends it back to review: nothing unreviewed goes public."""
    permissions.require(permissions.owns(actor, item))
    if item.status in (live_status(item), "pending", "rejected"):
        item.status = "draft"
    _record(item, "edit", actor)


def _assign(item: Listing, values: Mapping[str, Any]) -> None:
    for key, value in values.items():
        setattr(item, key, value)


def create_offering(org: Organization, actor: Any, data: Mapping[str, Any]) -> Offering:
    """A new draft offering of ``org`` filled from ``data`` (added to the session, not committed).

    Raises PermissionDenied unless ``actor`` belongs to ``org`` and ``org`` lists
    offerings, DomainError when a value breaks a rule.
    """
    permissions.require(permissions.can_list_offerings(actor) and actor.org_id == org.id)
    values = offering_values(org, data)
    parks = parks_by_ref(data.get("parks") or [])
    offering = Offering(org=org, status="draft", **values)
    offering.parks = parks
    db.session.add(offering)
    _record(offering, "create", actor)
    return offering


def update_offering(item: Offering, actor: Any, data: Mapping[str, Any]) -> bool:
    """Apply an owner's edits; True when a live, pending or rejected offering went back to draft.

    Raises PermissionDenied for anyone but the owner, DomainError for a bad value
    (in which case nothing is changed).
    """
    permissions.require(permissions.owns(actor, item))
    values = offering_values(item.org, data)
    parks = parks_by_ref(data.get("parks") or [])
    before = item.status
    _assign(item, values)
    item.parks = parks
    after_edit(item, actor)
    return item.status != before


def create_need(org: Organization, actor: Any, data: Mapping[str, Any]) -> Need:
    """A new draft need of the enterprise ``org`` filled from ``data`` (not committed).

    Raises PermissionDenied unless ``actor`` belongs to ``org`` and ``org`` is an
    enterprise, DomainError when a value breaks a rule.
    """
    permissions.require(permissions.can_post_needs(actor) and actor.org_id == org.id)
    need = Need(org=org, status="draft", **need_values(org, data, None))
    db.session.add(need)
    _record(need, "create", actor)
    return need


def update_need(item: Need, actor: Any, data: Mapping[str, Any]) -> bool:
    """Apply an owner's edits; True when an open, pending or rejected need went back to draft.

    Raises PermissionDenied for anyone but the owner, DomainError for a bad value.
    """
    permissions.require(permissions.owns(actor, item))
    values = need_values(item.org, data, item)
    before = item.status
    _assign(item, values)
    after_edit(item, actor)
    return item.status != before


def move_need(item: Need, actor: Any, park_ref: str) -> Park:
    """Park staff hand a need filed into the wrong park to the right one; returns it.

    The need keeps its status (a pending one waits in the new park's queue). Raises
    PermissionDenied unless ``actor`` moderates the need where it is now, DomainError
    for an unknown park or the park it is already in.
    """
    permissions.require(permissions.can_moderate(actor, item), _("该条目不在您的审核范围内。"))
    park = parks_by_ref([park_ref.strip()])[0] if park_ref.strip() else None
    if park is None:
        raise DomainError(_("请选择要转交的园区。"))
    if park.id == item.park_id:
        raise DomainError(_("需求已在%(park)s。", park=park.name))
    item.park = park
    _record(item, "move", actor)
    return park


def owned_by_status(model: type[Offering] | type[Need], org_id: int, status: str) -> list[Any]:
    """An organization's listings, most recently changed first, narrowed to ``status``.

    ``status`` is a display status (``expired`` included) or empty for all of them.
    """
    live = "published" if model is Offering else "open"
    stmt = db.select(model).where(model.org_id == org_id)
    if status == "expired":
        stmt = stmt.where(model.expired_clause())
    elif status == live:
        stmt = stmt.where(model.public_clause())
    elif status:
        stmt = stmt.where(model.status == status)
    return list(db.session.scalars(stmt.order_by(model.updated_at.desc(), model.id.desc())))
