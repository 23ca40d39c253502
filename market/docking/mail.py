"""Mail about dockings: each step tells the other side, in the recipient's language."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from market.core import mail
from market.core.extensions import db
from market.core.urls import absolute_url
from market.docking import rules as docking_rules
from market.models import Organization, User
from market.models.docking import Docking, DockingEvent

log = logging.getLogger("market.docking")


def recipients(event: DockingEvent) -> list[User]:
    """Active users of the side that did not take the step.

    A step the platform took (a waitlist promotion) goes to the enterprise.
    """
    docking = event.docking
    if event.actor_org_id is None:
        org_ids = [docking.enterprise_org_id]
    else:
        org_ids = [
            org_id
            for org_id in (docking.enterprise_org_id, docking.provider_org_id)
            if org_id != event.actor_org_id
        ]
    return list(
        db.session.scalars(
            select(User).where(User.org_id.in_(org_ids), User.disabled.is_(False)).order_by(User.id)
        )
    )


def headline(docking: Docking, event: DockingEvent) -> str:
    """One sentence saying what happened, for the subject and the first line."""
    actor = db.session.get(Organization, event.actor_org_id) if event.actor_org_id else None
    who = actor.name if actor is not None else _("平台")
    title = docking.offering.title
    status = event.status
    if event.actor_org_id is None and status == "registered":
        return _("您在“%(title)s”的候补报名已转为正式报名", title=title)
    if status == "requested":
        if docking.kind == "interest":
            need = docking.need.title if docking.need else ""
            return _("%(who)s 对您的需求“%(need)s”表达了合作意向", who=who, need=need)
        if docking.kind == "financing":
            return _("%(who)s 申请了融资产品“%(title)s”", who=who, title=title)
        return _("%(who)s 向“%(title)s”发起了对接申请", who=who, title=title)
    if status in ("registered", "waitlisted"):
        return _(
            "%(who)s 报名了课程“%(title)s”（%(status)s）",
            who=who,
            title=title,
            status=docking_rules.status_label(status),
        )
    return _(
        "对接 %(ref)s（%(title)s）：%(who)s 将状态更新为“%(status)s”",
        ref=docking.ref,
        title=title,
        who=who,
        status=docking_rules.status_label(status, docking.kind),
    )


def notify(events: Iterable[DockingEvent]) -> int:
    """Mail every event to the other side; returns how many messages went out.

    A failing mail server is logged, not raised: the step is already saved and must
    not be undone by a mail outage.
    """
    sent = 0
    for event in events:
        docking = event.docking
        link = absolute_url("docking.detail", ref=docking.ref)
        for user in recipients(event):
            with force_locale(user.locale or "zh"):
                subject = headline(docking, event)
                try:
                    mail.send(
                        user.email,
                        _("【园区供需对接平台】%(subject)s", subject=subject),
                        "docking_update",
                        user=user,
                        docking=docking,
                        event=event,
                        headline=subject,
                        status=docking_rules.status_label(event.status, docking.kind),
                        kind=docking_rules.kind_label(docking.kind),
                        link=link,
                    )
                except (OSError, smtplib.SMTPException):
                    log.exception("docking mail to %s failed", user.email)
                    continue
            sent += 1
    return sent
