"""The moderation queue and the mail that tells an owner how review went."""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from market.core import mail, permissions
from market.core.errors import NotFound
from market.core.extensions import db
from market.core.urls import absolute_url
from market.models import Need, Offering, Organization, Park

log = logging.getLogger("market.moderation")

Listing = Offering | Need
MODELS: dict[str, type[Offering] | type[Need]] = {"offering": Offering, "need": Need}


@dataclass(frozen=True)
class Queue:
    """Pending listings one moderator may decide, oldest first."""

    offerings: list[Offering]
    needs: list[Need]

    @property
    def total(self) -> int:
        return len(self.offerings) + len(self.needs)


def queue(user: Any) -> Queue:
    """What ``user`` may review: everything for admins, their park's scope for park staff.

    Raises PermissionDenied for anyone who moderates nothing.
    """
    permissions.require(permissions.is_moderator(user))
    offerings = select(Offering).where(Offering.status == "pending")
    needs = select(Need).where(Need.status == "pending")
    if not permissions.is_admin(user):
        park_id = permissions.staff_park_id(user)
        # The same scope as permissions.in_staff_scope, as SQL.
        offerings = offerings.where(
            or_(
                Offering.org.has(Organization.park_id == park_id),
                Offering.parks.any(Park.id == park_id),
            )
        )
        needs = needs.where(Need.park_id == park_id)
    offerings = offerings.options(selectinload(Offering.org)).order_by(
        Offering.updated_at, Offering.id
    )
    needs = needs.options(selectinload(Need.org), selectinload(Need.park)).order_by(
        Need.updated_at, Need.id
    )
    return Queue(list(db.session.scalars(offerings)), list(db.session.scalars(needs)))


def find(item_type: str, ref: str) -> Listing:
    """The offering or need named by ``item_type`` and ``ref``; raises NotFound otherwise."""
    model = MODELS.get(item_type)
    item = db.session.scalar(select(model).where(model.ref == ref)) if model else None
    if not isinstance(item, Offering | Need):
        raise NotFound(_("条目不存在，或已被删除。"))
    return item


def detail_link(item: Listing) -> str:
    """The full link (BASE_URL included) to the item's detail page, for mail."""
    endpoint = "offerings.detail" if isinstance(item, Offering) else "needs.detail"
    return absolute_url(endpoint, ref=item.ref)


def _subject(item: Listing, approved: bool) -> str:
    if approved:
        return _("【园区供需对接平台】“%(title)s”已通过审核", title=item.title)
    return _("【园区供需对接平台】“%(title)s”未通过审核", title=item.title)


def notify_owner(item: Listing, approved: bool) -> int:
    """Mail the result of review to the active users of the owning organization.

    Returns how many messages went out. A failing mail server is logged, not raised:
    the decision is already saved and must not be undone by a mail outage.
    """
    template = "listing_approved" if approved else "listing_rejected"
    recipients = [u for u in item.org.users if not u.disabled]
    sent = 0
    for user in recipients:
        with force_locale(user.locale or "zh"):
            try:
                mail.send(
                    user.email,
                    _subject(item, approved),
                    template,
                    user=user,
                    item=item,
                    link=detail_link(item),
                    is_offering=isinstance(item, Offering),
                )
            except (OSError, smtplib.SMTPException):
                log.exception("moderation mail to %s failed", user.email)
                continue
        sent += 1
    return sent
