"""Models → the matcher's plain records (``matching.types``), without N+1 queries.

Each loader runs one query per kind of record (listings, the parks of offerings,
organizations, docking answers), selecting columns rather than ORM objects, so a
full recompute streams a large pool cheaply. ``Blocking`` filters become SQL here:
the candidates of a listing are fetched by kind, category branch and place, and the
matcher applies every hard rule again on what comes back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, String, false, func, or_, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from market.core.json_sql import json_array_contains
from market.models import Need, Offering, Organization, Park, offering_parks, utcnow
from market.models.docking import Docking
from matching import Blocking, Enterprise, NeedRecord, OfferingRecord, Provider
from matching.rules import NATIONWIDE

CHUNK = 500  # ids per IN (...) list: well below every database's parameter limit
RESPONSE_DAYS = 7
RESPONSE_MIN_REQUESTS = 3
# Docking kinds that ask the provider for an answer.
ANSWERED_KINDS = ("request", "interest")

_OFFERING_COLUMNS = (
    Offering.id,
    Offering.ref,
    Offering.org_id,
    Offering.kind,
    Offering.category,
    Offering.title,
    Offering.summary,
    Offering.description,
    Offering.tags,
    Offering.industries,
    Offering.regions,
    Offering.price_min,
    Offering.price_max,
    Offering.amount_min,
    Offering.amount_max,
    Offering.eligible_sizes,
    Offering.starts_on,
    Offering.status,
    Offering.expires_at,
    Offering.published_at,
)
_NEED_COLUMNS = (
    Need.id,
    Need.ref,
    Need.org_id,
    Need.park_id,
    Park.province,
    Need.kind,
    Need.category,
    Need.title,
    Need.description,
    Need.tags,
    Need.industries,
    Need.budget_min,
    Need.budget_max,
    Need.amount,
    Need.term_months,
    Need.status,
    Need.deadline,
    Need.published_at,
)


def chunks(ids: Iterable[int], size: int = CHUNK) -> Iterator[list[int]]:
    """``ids`` in lists of at most ``size`` (for IN clauses)."""
    batch: list[int] = []
    for i in ids:
        batch.append(i)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _tuple(value: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in (value or ()) if v)


def _offering_record(row: Any, park_ids: frozenset[int], now: datetime) -> OfferingRecord:
    text = "\n".join(t for t in (row.summary, row.description) if t)
    public = row.status == "published" and (row.expires_at is None or row.expires_at > now)
    return OfferingRecord(
        id=row.id,
        ref=row.ref or "",
        org_id=row.org_id,
        kind=row.kind,
        category=row.category,
        title=row.title,
        text=text,
        tags=_tuple(row.tags),
        industries=_tuple(row.industries),
        regions=_tuple(row.regions),
        park_ids=park_ids,
        price_min=row.price_min,
        price_max=row.price_max,
        amount_min=row.amount_min,
        amount_max=row.amount_max,
        eligible_sizes=_tuple(row.eligible_sizes),
        starts_on=row.starts_on,
        public=public,
        published_at=row.published_at,
    )


def _need_record(row: Any, today: date) -> NeedRecord:
    is_open = row.status == "open" and (row.deadline is None or row.deadline >= today)
    return NeedRecord(
        id=row.id,
        ref=row.ref or "",
        org_id=row.org_id,
        park_id=row.park_id,
        province=row.province or "",
        kind=row.kind,
        category=row.category,
        title=row.title,
        text=row.description or "",
        tags=_tuple(row.tags),
        industries=_tuple(row.industries),
        budget_min=row.budget_min,
        budget_max=row.budget_max,
        amount=row.amount,
        term_months=row.term_months,
        open=is_open,
        published_at=row.published_at,
    )


def _parks_of(session: Session, offering_ids: Sequence[int] | None) -> dict[int, set[int]]:
    stmt = select(offering_parks.c.offering_id, offering_parks.c.park_id)
    out: dict[int, set[int]] = defaultdict(set)
    if offering_ids is None:
        for oid, pid in session.execute(stmt):
            out[oid].add(pid)
        return out
    for batch in chunks(offering_ids):
        for oid, pid in session.execute(stmt.where(offering_parks.c.offering_id.in_(batch))):
            out[oid].add(pid)
    return out


def offerings(session: Session, stmt: Select[Any] | None = None) -> list[OfferingRecord]:
    """Offering records for ``stmt`` (a select of :data:`_OFFERING_COLUMNS` with filters;
    default every public offering), with their parks in one more query."""
    stmt = stmt if stmt is not None else offering_select().where(Offering.public_clause())
    rows = session.execute(stmt).all()
    parks = _parks_of(session, [r.id for r in rows])
    now = utcnow()
    return [_offering_record(r, frozenset(parks.get(r.id, ())), now) for r in rows]


def needs(session: Session, stmt: Select[Any] | None = None) -> list[NeedRecord]:
    """Need records for ``stmt`` (a select of :data:`_NEED_COLUMNS`; default every open need)."""
    stmt = stmt if stmt is not None else need_select().where(Need.public_clause())
    today = utcnow().date()
    return [_need_record(r, today) for r in session.execute(stmt)]


def offering_select() -> Select[Any]:
    return cast("Select[Any]", select(*_OFFERING_COLUMNS).order_by(Offering.id))


def need_select() -> Select[Any]:
    stmt = select(*_NEED_COLUMNS).join(Park, Park.id == Need.park_id).order_by(Need.id)
    return cast("Select[Any]", stmt)


def pool_size(session: Session) -> int:
    """Public offerings plus open needs (two counts)."""
    offerings = session.scalar(
        select(func.count()).select_from(Offering).where(Offering.public_clause())
    )
    needs = session.scalar(select(func.count()).select_from(Need).where(Need.public_clause()))
    return int(offerings or 0) + int(needs or 0)


def offering_by_id(session: Session, offering_id: int) -> OfferingRecord | None:
    found = offerings(session, offering_select().where(Offering.id == offering_id))
    return found[0] if found else None


def need_by_id(session: Session, need_id: int) -> NeedRecord | None:
    found = needs(session, need_select().where(Need.id == need_id))
    return found[0] if found else None


def _category_clause(column: Any, prefix: str) -> ColumnElement[bool]:
    return or_(column == prefix, column.startswith(prefix + ".", autoescape=True))


def _no_regions(column: Any) -> ColumnElement[bool]:
    # An offering naming no region (and no park) serves everywhere, as in the matcher.
    return or_(column.is_(None), sql_cast(column, String).in_(("[]", "null")))


def offering_candidates(session: Session, blocking: Blocking) -> list[OfferingRecord]:
    """Public offerings that may fit a need with ``blocking`` (kind, branch, place)."""
    stmt = offering_select().where(
        Offering.public_clause(),
        Offering.kind.in_(blocking.kinds),
        _category_clause(Offering.category, blocking.category_prefix),
    )
    if blocking.province is not None:
        in_park = (
            Offering.id.in_(
                select(offering_parks.c.offering_id).where(
                    offering_parks.c.park_id == blocking.park_id
                )
            )
            if blocking.park_id is not None
            else false()
        )
        stmt = stmt.where(
            or_(
                json_array_contains(Offering.regions, blocking.province),
                json_array_contains(Offering.regions, NATIONWIDE),
                _no_regions(Offering.regions),
                in_park,
            )
        )
    return offerings(session, stmt)


def need_candidates(session: Session, blocking: Blocking) -> list[NeedRecord]:
    """Open needs an offering with ``blocking`` may fit (kind, branch, place)."""
    stmt = need_select().where(
        Need.public_clause(),
        Need.kind.in_(blocking.kinds),
        _category_clause(Need.category, blocking.category_prefix),
    )
    if blocking.provinces is not None:
        place = [Park.province.in_(blocking.provinces)] if blocking.provinces else []
        if blocking.park_ids:
            place.append(Need.park_id.in_(sorted(blocking.park_ids)))
        stmt = stmt.where(or_(*place) if place else false())
    return needs(session, stmt)


def complement_candidates(session: Session, need: NeedRecord) -> list[OfferingRecord]:
    """Public finance products and training courses serving the need's place."""
    in_park = Offering.id.in_(
        select(offering_parks.c.offering_id).where(offering_parks.c.park_id == need.park_id)
    )
    stmt = offering_select().where(
        Offering.public_clause(),
        Offering.kind.in_(("finance", "training")),
        or_(
            json_array_contains(Offering.regions, need.province),
            json_array_contains(Offering.regions, NATIONWIDE),
            _no_regions(Offering.regions),
            in_park,
        ),
    )
    return offerings(session, stmt)


# --- organizations ---------------------------------------------------------------------


def response_rates(session: Session, org_ids: Iterable[int]) -> dict[int, float]:
    """Share of the docking requests each provider received that it answered within
    :data:`RESPONSE_DAYS` days; providers with fewer than
    :data:`RESPONSE_MIN_REQUESTS` judged requests are left out (no record).

    A request still waiting but younger than the window is not judged yet.
    """
    now = utcnow()
    window = timedelta(days=RESPONSE_DAYS)
    asked: dict[int, int] = defaultdict(int)
    answered: dict[int, int] = defaultdict(int)
    stmt = select(Docking.provider_org_id, Docking.created_at, Docking.answered_at).where(
        Docking.kind.in_(ANSWERED_KINDS),
        # Received: someone else started it (an interest the provider sent is not one).
        Docking.initiator_org_id != Docking.provider_org_id,
    )
    for batch in chunks(sorted(set(org_ids))):
        for org_id, created, answered_at in session.execute(
            stmt.where(Docking.provider_org_id.in_(batch))
        ):
            in_time = answered_at is not None and answered_at - created <= window
            if not in_time and created is not None and now - created < window:
                continue  # still within its window: not judged yet
            asked[org_id] += 1
            answered[org_id] += int(in_time)
    return {org: answered[org] / n for org, n in asked.items() if n >= RESPONSE_MIN_REQUESTS}


def providers(session: Session, org_ids: Iterable[int]) -> dict[int, Provider]:
    ids = sorted(set(org_ids))
    rates = response_rates(session, ids)
    out: dict[int, Provider] = {}
    stmt = select(Organization.id, Organization.kind, Organization.verified, Organization.province)
    for batch in chunks(ids):
        for oid, kind, verified, province in session.execute(
            stmt.where(Organization.id.in_(batch))
        ):
            out[oid] = Provider(oid, kind, bool(verified), province or None, rates.get(oid))
    return out


def enterprises(session: Session, org_ids: Iterable[int]) -> dict[int, Enterprise]:
    out: dict[int, Enterprise] = {}
    stmt = select(
        Organization.id,
        Organization.size,
        Organization.province,
        Organization.park_id,
        Organization.industries,
    )
    for batch in chunks(sorted(set(org_ids))):
        for oid, size, province, park_id, industries in session.execute(
            stmt.where(Organization.id.in_(batch))
        ):
            out[oid] = Enterprise(oid, size or None, province or None, park_id, _tuple(industries))
    return out
