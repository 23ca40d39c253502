"""The counts the dashboard and the campaign report are built from: listings,
dockings by kind and month, needs no offering serves."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import selectinload

from market.core.extensions import db
from market.core.report_period import Period, local_month, utc_offset_minutes
from market.models import Need, Offering, Organization
from market.models.docking import Docking
from market.models.recommendation import Recommendation
from market.parkops.scope import Scope
from market.parkops.sql import scan_table, unindexed
from market.recommendations import service as matching

DOCKING_KINDS = ("request", "interest")
# Statuses a docking can only be in once the provider (or enterprise) accepted it.
ACCEPTED_STATUSES = ("accepted", "negotiating", "deal", "no_deal")
TOP_PROVIDERS = 10
UNSERVED_SHOWN = 50


def recommendation_threshold() -> float:
    """The score at or above which a pair is shown as a recommendation: the matching
    weights in force (an admin's override, else seed_data/matching/weights.json)."""
    return matching.threshold()


def _int(value: Any) -> int:
    return int(value or 0)


@dataclass(frozen=True)
class Pool:
    offerings: int
    open_needs: int
    enterprises: int


def _month(column: Any) -> Any:
    return local_month(column, literal(utc_offset_minutes()))


@dataclass(frozen=True)
class OfferingCounts:
    """Public offerings serving the scope, published by the period's end, counted by
    (category, local month of publication, published inside the period)."""

    rows: list[tuple[str, str | None, bool, int]]


def offering_counts(scope: Scope, period: Period) -> OfferingCounts:
    """One grouped scan of the offerings for both the pool and the months (the month is
    None for offerings published before the period)."""
    low, high = period.bounds()
    # The month only matters inside the period: rows published before it are grouped
    # by category alone, which spares the date arithmetic and most of the sort.
    month = case((Offering.published_at >= low, _month(Offering.published_at)))
    inside = case((Offering.published_at >= low, 1), else_=0)
    # Not in the category index's order either: that walk fetches the rows at random.
    category = unindexed(Offering.category)
    stmt = (
        select(category, month, inside, func.count(Offering.id))
        .where(
            # Nearly every offering passes these tests: a scan of the table beats
            # walking an index on them and then fetching each row.
            scan_table(
                and_(
                    or_(Offering.published_at.is_(None), Offering.published_at < high),
                    Offering.public_clause(),
                ),
                Offering.status,
                Offering.published_at,
                Offering.expires_at,
            ),
            scope.served(),
        )
        .group_by(category, month, inside)
    )
    return OfferingCounts(
        [(code, m, bool(flag), int(n)) for code, m, flag, n in db.session.execute(stmt)]
    )


def pool_and_categories(
    scope: Scope, period: Period, offerings: OfferingCounts | None = None
) -> tuple[Pool, dict[str, dict[str, int]]]:
    """The resource pool at the period's end (see the module docstring) and the same
    offerings and needs by category, ``{category: {"offerings": n, "needs": n}}``,
    categories sorted."""
    _low, high = period.bounds()
    offerings = offerings or offering_counts(scope, period)
    needs = db.session.execute(
        select(Need.category, func.count(Need.id))
        .where(
            scope.in_parks(Need.park_id),
            Need.public_clause(),
            or_(Need.published_at.is_(None), Need.published_at < high),
        )
        .group_by(Need.category)
    ).all()
    enterprises = db.session.scalar(
        select(func.count(Organization.id)).where(
            Organization.kind == "enterprise",
            scope.in_parks(Organization.park_id),
            Organization.created_at < high,
        )
    )
    out: dict[str, dict[str, int]] = {}
    for code, _month_key, _inside, count in offerings.rows:
        out.setdefault(code, {"offerings": 0, "needs": 0})["offerings"] += count
    for code, count in needs:
        out.setdefault(code, {"offerings": 0, "needs": 0})["needs"] = int(count)
    pool = Pool(
        offerings=sum(row[3] for row in offerings.rows),
        open_needs=sum(int(n) for _c, n in needs),
        enterprises=_int(enterprises),
    )
    return pool, dict(sorted(out.items()))


@dataclass(frozen=True)
class DockingTotals:
    """Aggregates of the dockings of one kind started in one local month."""

    count: int = 0
    accepted: int = 0
    deals: int = 0
    deal_amount: int = 0
    from_recommendation: int = 0
    amount_sought: int = 0
    registered: int = 0  # registrations not cancelled
    waitlisted: int = 0
    completed: int = 0
    certified: int = 0

    def __add__(self, other: DockingTotals) -> DockingTotals:
        return DockingTotals(*(a + b for a, b in zip(astuple(self), astuple(other), strict=True)))


DockingRows = dict[tuple[str, str], DockingTotals]


def docking_totals(scope: Scope, period: Period) -> DockingRows:
    """``{(kind, month): totals}`` of the dockings started in the period: one grouped
    query that the funnel, financing, training and month figures share."""
    low, high = period.bounds()
    month = _month(Docking.created_at)
    deal = Docking.status == "deal"

    def count_if(condition: Any) -> Any:
        return func.sum(case((condition, 1), else_=0))

    stmt = (
        select(
            Docking.kind,
            month,
            func.count(Docking.id),
            count_if(Docking.status.in_(ACCEPTED_STATUSES)),
            count_if(deal),
            func.sum(case((deal, Docking.deal_amount), else_=0)),
            count_if(Docking.source == "recommendation"),
            func.sum(Docking.amount_sought),
            count_if(Docking.status != "cancelled"),
            count_if(Docking.status == "waitlisted"),
            count_if(Docking.status == "completed"),
            count_if(Docking.certified.is_(True)),
        )
        .where(_dockings_in(scope, low, high))
        .group_by(Docking.kind, month)
    )
    return {
        (str(kind), str(m)): DockingTotals(*(_int(v) for v in values))
        for kind, m, *values in db.session.execute(stmt)
    }


def _total(rows: DockingRows, kinds: tuple[str, ...]) -> DockingTotals:
    out = DockingTotals()
    for (kind, _month_key), totals in rows.items():
        if kind in kinds:
            out = out + totals
    return out


def by_month(
    scope: Scope,
    period: Period,
    offerings: OfferingCounts | None = None,
    dockings: DockingRows | None = None,
) -> dict[str, dict[str, int]]:
    """Per local month of the period: offerings and needs published, dockings started,
    deals among them. Every month of the period is present, in order."""
    low, high = period.bounds()
    offerings = offerings or offering_counts(scope, period)
    dockings = dockings if dockings is not None else docking_totals(scope, period)
    months = {m: {"offerings": 0, "needs": 0, "dockings": 0, "deals": 0} for m in period.months()}
    for _code, m, inside, count in offerings.rows:
        if inside and m in months:
            months[m]["offerings"] += count
    n_month = _month(Need.published_at)
    needs = db.session.execute(
        select(n_month, func.count(Need.id))
        .where(
            scope.in_parks(Need.park_id),
            Need.status.in_(("open", "closed")),
            Need.published_at >= low,
            Need.published_at < high,
        )
        .group_by(n_month)
    )
    for m, count in needs:
        if m in months:
            months[m]["needs"] = int(count)
    for (kind, m), totals in dockings.items():
        if kind in DOCKING_KINDS and m in months:
            months[m]["dockings"] += totals.count
            months[m]["deals"] += totals.deals
    return months


def _dockings_in(scope: Scope, low: Any, high: Any) -> ColumnElement[bool]:
    return and_(
        scope.in_parks(Docking.park_id), Docking.created_at >= low, Docking.created_at < high
    )


def _unserved_clause(scope: Scope, threshold: float) -> ColumnElement[bool]:
    recommended = exists().where(
        Recommendation.need_id == Need.id, Recommendation.score >= threshold
    )
    return and_(Need.public_clause(), scope.in_parks(Need.park_id), ~recommended)


def unserved_count(scope: Scope, threshold: float) -> int:
    """Open needs of the scope's enterprises without any recommendation at the threshold."""
    return _int(
        db.session.scalar(select(func.count(Need.id)).where(_unserved_clause(scope, threshold)))
    )


def unserved_needs(scope: Scope, threshold: float, limit: int = UNSERVED_SHOWN) -> list[Need]:
    """The oldest of those needs first (they have waited longest)."""
    stmt = (
        select(Need)
        .where(_unserved_clause(scope, threshold))
        .order_by(Need.published_at.asc().nulls_last(), Need.id)
        .limit(limit)
        .options(selectinload(Need.org))
    )
    return list(db.session.scalars(stmt))
