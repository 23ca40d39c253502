"""Listing lifecycle: draft → pending → published/open → archived/closed, with expiry.

Each function checks who may act, changes the record, records a ListingEvent and
leaves committing to the caller (one transaction per request or command).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _

from market.extensions import db
from market.models import ListingEvent, Need, Offering, utcnow
from market.services import permissions
from market.services.errors import DomainError, InvalidTransition

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
    db.session.add(ListingEvent(
        item_type=item_type(item), item_id=item.id, action=action, reason=reason,
        actor_id=getattr(actor, "id", None),
    ))


def history(item: Listing) -> list[ListingEvent]:
    return list(db.session.scalars(
        db.select(ListingEvent)
        .where(ListingEvent.item_type == item_type(item), ListingEvent.item_id == item.id)
        .order_by(ListingEvent.created_at, ListingEvent.id)
    ))


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
