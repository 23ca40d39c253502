"""对接 (docking): starting a docking, taking its steps, and the rules around them.

Each function checks who may act, changes the records, writes a DockingEvent and
leaves committing to the caller. Mail goes out after the commit
(``market.docking.mail.notify`` with the events these functions return), so a
refused or rolled-back step never mails anyone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from market.core import permissions
from market.core.errors import DomainError, PermissionDenied
from market.core.extensions import db
from market.core.i18n import day, money, money_range
from market.dataset import records
from market.docking import rules as docking_rules
from market.docking.opening import (
    clean_message,
    new_docking,
    record_event,
    refuse_duplicate,
    require_enterprise,
    require_own_open_need,
    require_public_offering,
    source_of,
)
from market.docking.rules import size_text
from market.models import Need, Offering, utcnow
from market.models.docking import CLOSED_STATUSES, Docking, DockingEvent

# Registrations that hold a seat of a course.
SEAT_STATUSES = ("registered", "completed")
# The amount columns are 32-bit integers on PostgreSQL (the data format's limit too).
AMOUNT_MAX = records.MAX_INTEGER


@dataclass
class Outcome:
    """What a step did: the docking, the events to mail about (in order)."""

    docking: Docking
    events: list[DockingEvent] = field(default_factory=list)

    @property
    def promoted(self) -> Docking | None:
        """The waitlisted registration a cancellation moved up, if any."""
        others = [e.docking for e in self.events if e.docking is not self.docking]
        return others[0] if others else None


def start(
    offering: Offering,
    user: Any,
    *,
    need: Need | None = None,
    message: str | None = "",
    amount_sought: int | None = None,
    source: str | None = "listing",
) -> Outcome:
    """The enterprise's docking on ``offering``, by the offering's kind: a request for a
    solution, a financing application for a finance product, a registration for a course.

    Raises PermissionDenied (not an enterprise member, or a need of another org) and
    DomainError (offering not public, duplicate, and the kind's own rules).
    """
    if offering.kind == "finance":
        return apply_financing(
            offering, user, amount_sought, need=need, message=message, source=source
        )
    if offering.kind == "training":
        return register(offering, user, need=need, message=message, source=source)
    return request(offering, user, need=need, message=message, source=source)


def request(
    offering: Offering,
    user: Any,
    *,
    need: Need | None = None,
    message: str | None = "",
    source: str | None = "listing",
) -> Outcome:
    """An enterprise's docking request on a public offering (optionally for one of its
    own open needs). Raises PermissionDenied or DomainError (see ``start``)."""
    require_enterprise(user)
    require_public_offering(offering)
    require_own_open_need(user, need)
    text = clean_message(message)
    refuse_duplicate(offering, user.org_id, need)
    docking = new_docking(
        "request",
        offering,
        user,
        enterprise_org_id=user.org_id,
        park_id=user.org.park_id,
        status="requested",
        need=need,
        message=text,
        source=source_of(source),
    )
    return Outcome(docking, [record_event(docking, "requested", user, text)])


def express_interest(
    need: Need,
    offering: Offering,
    user: Any,
    *,
    message: str | None = "",
    source: str | None = "listing",
) -> Outcome:
    """A provider's interest in an open need, naming one of its own public offerings.

    Raises PermissionDenied (not a member of the offering's org) and DomainError (need
    not open, offering not public, duplicate).
    """
    permissions.require(
        permissions.can_offer_interest(user), _("只有发布供给的机构可以表达合作意向。")
    )
    if offering.org_id != user.org_id:
        raise PermissionDenied(_("只能用贵机构自己的供给表达意向。"))
    if not need.is_public:
        raise DomainError(_("该需求已不在征集中。"))
    require_public_offering(offering)
    text = clean_message(message)
    refuse_duplicate(offering, need.org_id, need)
    docking = new_docking(
        "interest",
        offering,
        user,
        enterprise_org_id=need.org_id,
        park_id=need.park_id,
        status="requested",
        need=need,
        message=text,
        source=source_of(source),
    )
    return Outcome(docking, [record_event(docking, "requested", user, text)])


def _lock_offering(offering: Offering) -> None:
    """Serialise seat counting per course: PostgreSQL locks the offering row until the
    transaction ends; SQLite has no row locks (the clause is dropped) but its write
    requests already run under BEGIN IMMEDIATE, one writer at a time."""
    db.session.execute(select(Offering.id).where(Offering.id == offering.id).with_for_update())


def seats_taken(offering: Offering) -> int:
    return int(
        db.session.scalar(
            select(func.count(Docking.id)).where(
                Docking.offering_id == offering.id,
                Docking.kind == "registration",
                Docking.status.in_(SEAT_STATUSES),
            )
        )
        or 0
    )


def has_seat(offering: Offering) -> bool:
    return offering.capacity is None or seats_taken(offering) < offering.capacity


def register(
    offering: Offering,
    user: Any,
    *,
    need: Need | None = None,
    message: str | None = "",
    source: str | None = "listing",
) -> Outcome:
    """报名 for a training course: registered while seats last, waitlisted after.

    Raises PermissionDenied (not an enterprise member) and DomainError (not a course,
    not public, already started, already registered).
    """
    require_enterprise(user)
    if offering.kind != "training":
        raise DomainError(_("只有培训课程可以报名。"))
    require_public_offering(offering)
    require_own_open_need(user, need)
    if offering.starts_on is not None and offering.starts_on < utcnow().date():
        raise DomainError(_("该课程已于 %(day)s 开班，不能再报名。", day=day(offering.starts_on)))
    text = clean_message(message)
    _lock_offering(offering)
    refuse_duplicate(offering, user.org_id, None)
    status = "registered" if has_seat(offering) else "waitlisted"
    docking = new_docking(
        "registration",
        offering,
        user,
        enterprise_org_id=user.org_id,
        park_id=user.org.park_id,
        status=status,
        need=need,
        message=text,
        source=source_of(source),
    )
    return Outcome(docking, [record_event(docking, status, user, text)])


def check_financing(offering: Offering, org: Any, amount_sought: int | None) -> None:
    """Raises DomainError unless ``org`` may apply for ``amount_sought`` from this product:
    amount given and within amount_min..amount_max, enterprise size eligible."""
    if amount_sought is None:
        raise DomainError(_("请填写申请金额。"))
    if amount_sought <= 0 or amount_sought > AMOUNT_MAX:
        raise DomainError(_("申请金额应为大于 0 的整数（元）。"))
    sizes = list(offering.eligible_sizes or [])
    if sizes and not org.size:
        raise DomainError(
            _("该产品只面向%(sizes)s，请先在机构资料中填写企业规模。", sizes=size_text(sizes))
        )
    if sizes and org.size not in sizes:
        raise DomainError(
            _(
                "该产品只面向%(sizes)s，贵企业（%(size)s）不在适用范围内。",
                sizes=size_text(sizes),
                size=size_text([org.size]),
            )
        )
    low, high = offering.amount_min, offering.amount_max
    if (low is not None and amount_sought < low) or (high is not None and amount_sought > high):
        raise DomainError(
            _(
                "申请金额 %(amount)s 不在该产品的额度范围（%(range)s）内。",
                amount=money(amount_sought),
                range=money_range(low, high),
            )
        )


def apply_financing(
    offering: Offering,
    user: Any,
    amount_sought: int | None,
    *,
    need: Need | None = None,
    message: str | None = "",
    source: str | None = "listing",
) -> Outcome:
    """A financing application for ``amount_sought`` 元.

    Raises PermissionDenied (not an enterprise member) and DomainError (not a finance
    product, not public, amount missing or out of range, size not eligible, duplicate).
    """
    require_enterprise(user)
    if offering.kind != "finance":
        raise DomainError(_("只有金融产品可以申请融资。"))
    require_public_offering(offering)
    require_own_open_need(user, need)
    check_financing(offering, user.org, amount_sought)
    text = clean_message(message)
    refuse_duplicate(offering, user.org_id, need)
    docking = new_docking(
        "financing",
        offering,
        user,
        enterprise_org_id=user.org_id,
        park_id=user.org.park_id,
        status="requested",
        need=need,
        message=text,
        amount_sought=amount_sought,
        source=source_of(source),
    )
    return Outcome(docking, [record_event(docking, "requested", user, text, amount_sought)])


# --- steps -------------------------------------------------------------------------------------


def act(
    docking: Docking,
    user: Any,
    action: str,
    *,
    note: str | None = "",
    amount: int | None = None,
    certified: bool = False,
) -> Outcome:
    """Take ``action`` (accept, decline, withdraw, negotiate, deal, no_deal, cancel,
    complete) on ``docking`` as ``user``.

    A deal needs ``amount`` (the deal amount, or the amount granted for financing); no
    deal needs ``note`` (the reason). Cancelling a registration that held a seat
    promotes the first waitlisted one. Raises PermissionDenied (not the side that takes
    this step), InvalidTransition (not from this status) and DomainError (bad amount or
    missing reason).
    """
    step = docking_rules.check(docking, action, getattr(user, "org_id", None))
    text = clean_message(note)
    if step.target == "deal":
        if amount is None or amount <= 0 or amount > AMOUNT_MAX:
            raise DomainError(
                _("请填写获批金额（元）。")
                if docking.kind == "financing"
                else _("请填写成交金额（元）。")
            )
        docking.deal_amount = amount
    else:
        amount = None
    if step.target == "no_deal" and not text:
        raise DomainError(_("请说明未达成合作的原因。"))
    if step.target == "completed":
        docking.certified = bool(certified)
    freed_seat = step.target == "cancelled" and docking.status == "registered"
    now = utcnow()
    if step.target in ("accepted", "declined") and docking.answered_at is None:
        docking.answered_at = now
    docking.status = step.target
    if step.target in CLOSED_STATUSES:
        docking.closed_at = now
    docking.updated_at = now
    outcome = Outcome(docking, [record_event(docking, step.target, user, text, amount)])
    if freed_seat:
        promoted = promote_waitlisted(docking.offering)
        if promoted is not None:
            outcome.events.append(promoted)
    return outcome


def promote_waitlisted(offering: Offering) -> DockingEvent | None:
    """Move the first waitlisted registration of the course up when a seat is free.

    Returns the promotion's event (actor: the platform), or None when nobody moved.
    """
    events = _promote(offering, 1, _("有学员取消报名，候补转为正式报名。"))
    return events[0] if events else None


def fill_free_seats(offering: Offering) -> list[DockingEvent]:
    """After the course's capacity changed: move waitlisted registrations up, in
    order, into every free seat (none when it has no waiting list or no free seat;
    lowering the capacity takes no seat away). Returns the promotions' events."""
    if offering.kind != "training":
        return []
    return _promote(offering, None, _("课程增加了名额，候补转为正式报名。"))


def _promote(offering: Offering, most: int | None, why: str) -> list[DockingEvent]:
    _lock_offering(offering)
    db.session.flush()  # the capacity just edited, the cancellation just made
    if offering.capacity is None:
        free = most
    else:
        free = offering.capacity - seats_taken(offering)
        if most is not None:
            free = min(free, most)
    if free is not None and free <= 0:
        return []
    stmt = (
        select(Docking)
        .where(
            Docking.offering_id == offering.id,
            Docking.kind == "registration",
            Docking.status == "waitlisted",
        )
        .order_by(Docking.created_at, Docking.id)
    )
    if free is not None:
        stmt = stmt.limit(free)
    events = []
    for waiting in db.session.scalars(stmt).all():
        waiting.status = "registered"
        waiting.updated_at = utcnow()
        events.append(record_event(waiting, "registered", None, why))
    return events
