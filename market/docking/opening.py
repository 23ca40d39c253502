"""Starting a docking: the checks every way in shares (no duplicate, a public
offering, the enterprise's own open need) and the new docking with its first event."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import or_, select

from market.core import permissions
from market.core.errors import DomainError, PermissionDenied
from market.core.extensions import db
from market.docking import rules as docking_rules
from market.models import Need, Offering
from market.models.docking import CLOSED_STATUSES, DOCKING_SOURCES, Docking, DockingEvent

MESSAGE_MAX = 2000


# --- starting a docking ------------------------------------------------------------------------


def clean_message(message: str | None) -> str:
    text = (message or "").strip()
    if len(text) > MESSAGE_MAX:
        raise DomainError(_("留言不能超过 %(n)d 个字。", n=MESSAGE_MAX))
    return text


def source_of(source: str | None) -> str:
    return source if source in DOCKING_SOURCES else "listing"


def _score(source: str, offering: Offering, need: Need | None) -> float | None:
    """The stored recommendation score of the pair when the docking came from one."""
    if source != "recommendation" or need is None:
        return None
    from market.models import Recommendation

    score = db.session.scalar(
        select(Recommendation.score).where(
            Recommendation.need_id == need.id, Recommendation.offering_id == offering.id
        )
    )
    return float(score) if score is not None else None


def open_docking(offering: Offering, enterprise_org_id: int, need: Need | None) -> Docking | None:
    """The open docking between this enterprise and offering that a new one would repeat.

    One on another of the enterprise's needs is a different project and does not count;
    one without a need covers every need.
    """
    stmt = select(Docking).where(
        Docking.offering_id == offering.id,
        Docking.enterprise_org_id == enterprise_org_id,
        Docking.status.not_in(CLOSED_STATUSES),
    )
    if need is not None:
        stmt = stmt.where(or_(Docking.need_id.is_(None), Docking.need_id == need.id))
    return db.session.scalars(stmt.order_by(Docking.id).limit(1)).first()


def refuse_duplicate(offering: Offering, enterprise_org_id: int, need: Need | None) -> None:
    existing = open_docking(offering, enterprise_org_id, need)
    if existing is not None:
        raise DomainError(
            _(
                "双方已有一条进行中的对接（编号 %(ref)s，%(status)s），"
                "请在该对接中继续沟通，不必重复申请。",
                ref=existing.ref,
                status=docking_rules.status_label(existing.status, existing.kind),
            )
        )


def require_public_offering(offering: Offering) -> None:
    if not offering.is_public:
        raise DomainError(_("该供给已下架或已过期，不能再发起对接。"))


def require_own_open_need(user: Any, need: Need | None) -> None:
    if need is None:
        return
    if need.org_id != user.org_id:
        raise PermissionDenied(_("只能关联贵机构自己的需求。"))
    if not need.is_public:
        raise DomainError(_("所选需求不在征集中，请选择一条征集中的需求。"))


def new_docking(
    kind: str,
    offering: Offering,
    user: Any,
    *,
    enterprise_org_id: int,
    park_id: int | None,
    status: str,
    need: Need | None = None,
    message: str = "",
    amount_sought: int | None = None,
    source: str = "listing",
) -> Docking:
    docking = Docking(
        kind=kind,
        offering=offering,
        need=need,
        enterprise_org_id=enterprise_org_id,
        provider_org_id=offering.org_id,
        initiator_org_id=user.org_id,
        initiator_user_id=user.id,
        park_id=park_id,
        message=message,
        status=status,
        amount_sought=amount_sought,
        source=source,
        score=_score(source, offering, need),
    )
    db.session.add(docking)
    db.session.flush()
    return docking


def record_event(
    docking: Docking,
    status: str,
    user: Any,
    note: str = "",
    amount: int | None = None,
) -> DockingEvent:
    event = DockingEvent(
        docking=docking,
        status=status,
        actor_user_id=getattr(user, "id", None),
        actor_org_id=getattr(user, "org_id", None),
        note=note,
        amount=amount,
    )
    db.session.add(event)
    db.session.flush()
    return event


def require_enterprise(user: Any) -> None:
    permissions.require(
        permissions.can_start_docking(user), _("只有园区企业可以申请对接、报名或申请融资。")
    )
