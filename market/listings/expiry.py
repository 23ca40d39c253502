"""Listings running out: a reminder a week before, a notice when expired, one-click renewal.

Expiry itself needs no status change: an offering past ``expires_at`` and a need past
its ``deadline`` stop being public by the models' own clauses. The daily job makes
the rest of the platform catch up and tells the owner:

- a **reminder** to the owning organization (its org admins, else all its active
  members) ``MARKET_EXPIRY_REMINDER_DAYS`` (7) days before the date, with a renew link;
- an **expiry notice** once the date has passed (for listings that expired in the
  last 30 days), with the same link; the search index and recommendations are
  told at once (outbox rows) instead of waiting for the nightly reconcile.

Each (listing, kind, date) is noticed once (``expiry_notices``, unique); a renewed
listing has a new date and so gets new notices. The notice row commits with the
mails of its item: a crash in between may repeat that item's mail on the next run
(reminders are at-least-once; the digest is the mail that must not repeat).

**Renew link (decision).** The link renews *without signing in*: it is signed with
the app's secret, names one listing and the exact date it was mailed for, and
lasts 45 days; once used the date moves on and the link stops working. Opening it
(GET) only shows a confirmation page — mail scanners follow links — and the button
(POST, CSRF-protected) renews. A listing that was archived, closed, or edited back
to draft since is not renewed by the link; the owner signs in for that.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast

from flask import current_app, g
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from market.core import mail
from market.core.db import write_intent
from market.core.errors import DomainError, NotFound
from market.core.extensions import db
from market.core.links import due_key, read_renew_token, renew_token
from market.core.urls import absolute_url as link
from market.listing_search import outbox as search_outbox
from market.listing_search.documents import index_of
from market.models import ExpiryNotice, ListingEvent, Need, Offering, User, utcnow
from market.recommendations import outbox as match_outbox

log = logging.getLogger("market.expiry")

Listing = Offering | Need
EXPIRED_LOOKBACK = timedelta(days=30)
NEED_RENEW_DAYS = 30


@dataclass
class ExpiryReport:
    reminders: int = 0
    expired: int = 0
    mails: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"{self.reminders} reminders, {self.expired} expiry notices, {self.mails} mails, "
            f"{self.failed} failed"
        )
        return text + ("; " + " | ".join(self.errors[:3]) if self.errors else "")


def reminder_days() -> int:
    return int(current_app.config.get("EXPIRY_REMINDER_DAYS", 7))


def due_of(item: Listing) -> date | datetime | None:
    return item.expires_at if isinstance(item, Offering) else item.deadline


def item_type(item: Listing) -> str:
    return "offering" if isinstance(item, Offering) else "need"


def _due_soon(now: datetime) -> list[Listing]:
    horizon = now + timedelta(days=reminder_days())
    offerings = select(Offering).where(
        Offering.status == "published",
        Offering.expires_at > now,
        Offering.expires_at <= horizon,
    )
    today = now.date()
    needs = select(Need).where(
        Need.status == "open",
        Need.deadline >= today,
        Need.deadline <= horizon.date(),
    )
    return [*db.session.scalars(offerings), *db.session.scalars(needs)]


def _just_expired(now: datetime) -> list[Listing]:
    offerings = select(Offering).where(
        Offering.status == "published",
        Offering.expires_at <= now,
        Offering.expires_at > now - EXPIRED_LOOKBACK,
    )
    today = now.date()
    needs = select(Need).where(
        Need.status == "open",
        Need.deadline < today,
        Need.deadline >= today - EXPIRED_LOOKBACK,
    )
    return [*db.session.scalars(offerings), *db.session.scalars(needs)]


def recipients(item: Listing) -> list[User]:
    """The organization's admins, or every active member when it has none."""
    members = list(
        db.session.scalars(
            select(User)
            .where(User.org_id == item.org_id, User.disabled.is_(False))
            .order_by(User.id)
        )
    )
    admins = [user for user in members if user.role == "org_admin"]
    return admins or members


def _render(template: str, user: User, **context: object) -> tuple[str, str, str]:
    g.setdefault("expiry_rendering", True)  # Flask-Babel ignores force_locale on an empty g
    with force_locale(user.locale if user.locale in ("zh", "en") else "zh"):
        env = current_app.jinja_env
        context = {"user": user, **context}
        text = env.get_template(f"mail/{template}.txt").render(context)
        html = env.get_template(f"mail/{template}.html").render(context)
        if context.get("expired"):
            subject = _("您发布的“%(title)s”已过期", title=context["title"])
        else:
            subject = _(
                "您发布的“%(title)s”将于 %(day)s 到期", title=context["title"], day=context["day"]
            )
        return subject, f"{text}\n", html


def _notify(item: Listing, kind: str, transport: mail.Transport, report: ExpiryReport) -> None:
    due = due_of(item)
    try:
        with db.session.begin_nested():
            db.session.add(
                ExpiryNotice(
                    item_type=item_type(item), item_id=item.id, kind=kind, due=due_key(due)
                )
            )
    except IntegrityError:
        return  # noticed already
    if kind == "expired":
        # Tell the index and the matcher now rather than at the nightly reconcile.
        search_outbox.enqueue(db.session(), index_of(item), [item.ref or ""])
        match_outbox.enqueue(db.session(), [(item_type(item), item.id)])
    endpoint = "offerings.detail" if isinstance(item, Offering) else "needs.detail"
    context = {
        "title": item.title,
        "is_offering": isinstance(item, Offering),
        "expired": kind == "expired",
        "day": due.strftime("%Y-%m-%d") if due else "",
        "renew_url": link("digest.renew", token=renew_token(item_type(item), item.id, due)),
        "item_url": link(endpoint, ref=item.ref),
    }
    sent = 0
    for user in recipients(item):
        subject, text, html = _render("listing_expiring", user, **context)
        message = mail.compose(
            user.email,
            subject,
            text,
            html,
            message_id=mail.message_id_for(
                "expiry", kind, item_type(item), str(item.id), str(context["day"]), user.email
            ),
        )
        transport.send(message)
        sent += 1
    notice = db.session.scalar(
        select(ExpiryNotice).where(
            ExpiryNotice.item_type == item_type(item),
            ExpiryNotice.item_id == item.id,
            ExpiryNotice.kind == kind,
            ExpiryNotice.due == due_key(due),
        )
    )
    if notice is not None:
        notice.recipients = sent
    report.mails += sent
    if kind == "expired":
        report.expired += 1
    else:
        report.reminders += 1


def run(now: datetime | None = None) -> ExpiryReport:
    """Send due reminders and expiry notices; one transaction per listing."""
    now = now or utcnow()
    report = ExpiryReport()
    transport = mail.transport()
    work = [(item, "reminder") for item in _due_soon(now)]
    work += [(item, "expired") for item in _just_expired(now)]
    keys = [(type(item), item.id, kind) for item, kind in work]
    db.session.rollback()
    for model, item_id, kind in keys:
        with write_intent():
            item = cast(Listing | None, db.session.get(model, item_id))
            if item is None:
                continue
            try:
                _notify(item, kind, transport, report)
                db.session.commit()
            except Exception as exc:
                db.session.rollback()
                report.failed += 1
                report.errors.append(f"{item_id}: {type(exc).__name__}: {exc}")
                log.exception("expiry notice for %s %s failed", model.__name__, item_id)
    return report


# --- renewing through the mailed link -------------------------------------------------------


def listing_from_token(token: str) -> Listing:
    """The listing a renew link names, if the link is valid and still current.

    Raises NotFound for a forged, expired or used link (the listing's date moved on).
    """
    data = read_renew_token(token)
    if data is None:
        raise NotFound(_("续期链接无效或已过期，请登录后在“我的发布”中续期。"))
    kind, item_id, due = data
    model: type[Offering] | type[Need] = Offering if kind == "offering" else Need
    item = cast(Listing | None, db.session.get(model, item_id))
    if item is None or due_key(due_of(item)) != due:
        raise NotFound(_("续期链接无效或已过期，请登录后在“我的发布”中续期。"))
    return item


def renew_by_link(item: Listing) -> None:
    """Extend a live or just-expired listing (offering: the validity period; need: 30 days).

    Raises DomainError when the listing is no longer published or open.
    """
    if isinstance(item, Offering):
        if item.status != "published":
            raise DomainError(_("该供给已不在发布状态，请登录后处理。"))
        days = int(current_app.config["LISTING_VALIDITY_DAYS"])
        item.expires_at = utcnow() + timedelta(days=days)
    else:
        if item.status != "open":
            raise DomainError(_("该需求已不在征集状态，请登录后处理。"))
        start = max(utcnow().date(), item.deadline or utcnow().date())
        item.deadline = start + timedelta(days=NEED_RENEW_DAYS)
    db.session.add(
        ListingEvent(
            item_type=item_type(item), item_id=item.id, action="renew", reason="邮件续期链接"
        )
    )
