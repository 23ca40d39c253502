"""Reading dockings: an organization's inbox, the park overview, a course's roster."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from market.core.db import by_ref
from market.core.extensions import db
from market.models import Need, Offering, Park
from market.models.docking import (
    CLOSED_STATUSES,
    DOCKING_KINDS,
    DOCKING_STATUSES,
    Docking,
    DockingEvent,
)

BOXES = ("received", "sent")
PAGE_MAX = 10_000


@dataclass(frozen=True)
class DockingFilters:
    """What a docking list shows: box (inbox only), kind, status, park (overview), page."""

    box: str = "received"
    kind: str = ""
    status: str = ""
    park: str = ""
    page: int = 1


def _page(raw: str | None) -> int:
    try:
        page = int(raw or 1)
    except ValueError:
        return 1
    return page if 1 <= page <= PAGE_MAX else 1


def parse_filters(args: Mapping[str, str]) -> DockingFilters:
    """Filters from query parameters; unknown values are dropped, never an error."""

    def arg(name: str) -> str:
        return (args.get(name) or "").strip()

    return DockingFilters(
        box=arg("box") if arg("box") in BOXES else "received",
        kind=arg("kind") if arg("kind") in DOCKING_KINDS else "",
        status=arg("status") if arg("status") in DOCKING_STATUSES else "",
        park=arg("park")[:64],
        page=_page(args.get("page")),
    )


def _party(org_id: int) -> ColumnElement[bool]:
    return or_(Docking.enterprise_org_id == org_id, Docking.provider_org_id == org_id)


def box_clause(org_id: int, box: str) -> ColumnElement[bool]:
    """Received: dockings of the org that another org started; sent: those it started."""
    if box == "sent":
        return Docking.initiator_org_id == org_id
    return and_(_party(org_id), Docking.initiator_org_id != org_id)


def _with_parties(stmt: Select[Any]) -> Select[Any]:
    return stmt.options(
        selectinload(Docking.offering).selectinload(Offering.org),
        selectinload(Docking.need),
        selectinload(Docking.enterprise_org),
        selectinload(Docking.provider_org),
        selectinload(Docking.park),
    )


def _narrow(stmt: Select[Any], filters: DockingFilters) -> Select[Any]:
    if filters.kind:
        stmt = stmt.where(Docking.kind == filters.kind)
    if filters.status:
        stmt = stmt.where(Docking.status == filters.status)
    return stmt


def _paginate(stmt: Select[Any], page: int, per_page: int) -> Pagination:
    stmt = _with_parties(stmt).order_by(Docking.created_at.desc(), Docking.id.desc())
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)


def _counts(where: ColumnElement[bool], filters: DockingFilters) -> dict[str, int]:
    stmt = select(Docking.status, func.count(Docking.id)).where(where)
    if filters.kind:
        stmt = stmt.where(Docking.kind == filters.kind)
    rows = db.session.execute(stmt.group_by(Docking.status)).all()
    return {str(status): int(n) for status, n in rows}


def inbox(org_id: int, filters: DockingFilters, per_page: int) -> Pagination:
    """One page of the org's received or sent dockings, newest first."""
    stmt = _narrow(select(Docking).where(box_clause(org_id, filters.box)), filters)
    return _paginate(stmt, filters.page, per_page)


def inbox_counts(org_id: int, filters: DockingFilters) -> dict[str, int]:
    """Dockings per status in the box (the kind filter applies, the status filter not)."""
    return _counts(box_clause(org_id, filters.box), filters)


def awaiting_answer(org_id: int) -> int:
    """Dockings other organizations started that wait for this org's accept/decline.

    Every page's navigation shows this count, so it is two equality lookups, one per
    (side, status) index: with the OR of both sides in one query SQLite's planner
    picks the far less selective status index and the count costs tens of ms.
    """
    total = 0
    for side in (Docking.provider_org_id, Docking.enterprise_org_id):
        total += int(
            db.session.scalar(
                select(func.count(Docking.id)).where(
                    side == org_id,
                    Docking.status == "requested",
                    Docking.initiator_org_id != org_id,
                )
            )
            or 0
        )
    return total


def park_clause(park_id: int | None) -> ColumnElement[bool]:
    """Dockings of one park's enterprises (every docking for None)."""
    if park_id is None:
        return Docking.id.is_not(None)
    return Docking.park_id == park_id


def park_overview(park_id: int | None, filters: DockingFilters, per_page: int) -> Pagination:
    stmt = _narrow(select(Docking).where(park_clause(park_id)), filters)
    return _paginate(stmt, filters.page, per_page)


def park_counts(park_id: int | None, filters: DockingFilters) -> dict[str, int]:
    return _counts(park_clause(park_id), filters)


def park_named(ref: str) -> Park | None:
    return by_ref(Park, ref) if ref else None


def find(ref: str) -> Docking | None:
    return by_ref(Docking, ref)


def timeline(docking: Docking) -> list[DockingEvent]:
    """The docking's events, oldest first, with who took each step."""
    return list(
        db.session.scalars(
            select(DockingEvent)
            .where(DockingEvent.docking_id == docking.id)
            .options(selectinload(DockingEvent.actor_user), selectinload(DockingEvent.actor_org))
            .order_by(DockingEvent.created_at, DockingEvent.id)
        )
    )


def roster(offering: Offering) -> list[Docking]:
    """A course's registrations: seat holders first, then the waiting list, each in
    the order they registered; cancelled ones last."""
    order = case(
        (Docking.status.in_(("registered", "completed")), 0),
        (Docking.status == "waitlisted", 1),
        else_=2,
    )
    return list(
        db.session.scalars(
            select(Docking)
            .where(Docking.offering_id == offering.id, Docking.kind == "registration")
            .options(selectinload(Docking.enterprise_org), selectinload(Docking.initiator_user))
            .order_by(order, Docking.created_at, Docking.id)
        )
    )


def open_for_offering(offering: Offering, org_id: int) -> Docking | None:
    """The org's latest open docking on this offering (for the offering page's button)."""
    return db.session.scalars(
        select(Docking)
        .where(
            Docking.offering_id == offering.id,
            _party(org_id),
            Docking.status.not_in(CLOSED_STATUSES),
        )
        .order_by(Docking.id.desc())
        .limit(1)
    ).first()


def open_for_need(need: Need, org_id: int) -> Docking | None:
    """The org's latest open docking on this need (for the need page's button)."""
    return db.session.scalars(
        select(Docking)
        .where(
            Docking.need_id == need.id,
            _party(org_id),
            Docking.status.not_in(CLOSED_STATUSES),
        )
        .order_by(Docking.id.desc())
        .limit(1)
    ).first()


def public_offerings_of(org_id: int) -> list[Offering]:
    """The org's public offerings, newest first (the interest form's choice)."""
    return list(
        db.session.scalars(
            select(Offering)
            .where(Offering.org_id == org_id, Offering.public_clause())
            .order_by(Offering.published_at.desc(), Offering.id.desc())
        )
    )


def open_needs_of(org_id: int) -> list[Need]:
    """The org's open needs, newest first (the docking form's choice)."""
    return list(
        db.session.scalars(
            select(Need)
            .where(Need.org_id == org_id, Need.public_clause())
            .order_by(Need.published_at.desc(), Need.id.desc())
        )
    )


def waitlist_position(docking: Docking) -> int:
    """1 for the first waitlisted registration of the course, 2 for the next …"""
    return int(
        db.session.scalar(
            select(func.count(Docking.id)).where(
                Docking.offering_id == docking.offering_id,
                Docking.kind == "registration",
                Docking.status == "waitlisted",
                or_(
                    Docking.created_at < docking.created_at,
                    and_(Docking.created_at == docking.created_at, Docking.id <= docking.id),
                ),
            )
        )
        or 0
    )


def all_parks() -> list[Park]:
    """Every park, by province and name (the admin's park filter)."""
    return list(db.session.scalars(select(Park).order_by(Park.province, Park.name, Park.id)))


def have_docked(org_id: int | None, other_id: int) -> bool:
    """Whether the two organizations are the two parties of any docking, in any status."""
    if org_id is None or org_id == other_id:
        return False
    pair = or_(
        and_(Docking.enterprise_org_id == org_id, Docking.provider_org_id == other_id),
        and_(Docking.enterprise_org_id == other_id, Docking.provider_org_id == org_id),
    )
    return db.session.scalar(select(Docking.id).where(pair).limit(1)) is not None
