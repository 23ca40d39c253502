"""Every figure of a park's dashboard and campaign report, each one aggregate SQL.

What is counted (the pages say the same in words):

- the resource pool is a stock: public offerings serving the scope (interfaces.md) and
  open needs of its enterprises, published on or before the period's last day; the
  enterprises registered by then;
- dockings are a cohort: those *started* in the period, at the furthest step they have
  reached now (so a request of March that became a deal in May counts as a March deal);
- recommendations: pairs for the scope's needs that first appeared in the period with a
  score at or above the display threshold;
- catalogue editions: published in the period.

No function here loops over rows in Python; each returns the database's aggregates.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import selectinload

from market.core.extensions import db
from market.core.report_period import Period, local_month, utc_offset_minutes
from market.models import Need, Offering, Organization
from market.models.base import utcnow
from market.models.catalogue import CatalogueEdition
from market.models.docking import Docking
from market.models.recommendation import Recommendation
from market.parkops import cache as park_cache
from market.parkops.scope import Scope
from market.parkops.sql import scan_table, unindexed
from market.recommendations import service as matching

# Dockings between an enterprise and a solution provider (the funnel's "requested").
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


@dataclass(frozen=True)
class Funnel:
    recommended: int
    requested: int
    accepted: int
    deals: int
    deal_amount: int
    from_recommendation: int

    def rates(self) -> dict[str, float | None]:
        """Each step over the one before, in percent (None when the step before is 0)."""

        def pct(part: int, whole: int) -> float | None:
            return round(100.0 * part / whole, 1) if whole else None

        return {
            "requested": pct(self.requested, self.recommended),
            "accepted": pct(self.accepted, self.requested),
            "deals": pct(self.deals, self.accepted),
        }


def funnel(
    scope: Scope, period: Period, threshold: float, dockings: DockingRows | None = None
) -> Funnel:
    """recommended → requested → accepted → deal, with the deals' total amount."""
    low, high = period.bounds()
    recommended = db.session.scalar(
        select(func.count(Recommendation.id))
        .join(Need, Need.id == Recommendation.need_id)
        .where(
            scope.in_parks(Need.park_id),
            Recommendation.score >= threshold,
            Recommendation.first_seen_at >= low,
            Recommendation.first_seen_at < high,
        )
    )
    dockings = dockings if dockings is not None else docking_totals(scope, period)
    pair = _total(dockings, DOCKING_KINDS)
    return Funnel(
        recommended=_int(recommended),
        requested=pair.count,
        accepted=pair.accepted,
        deals=pair.deals,
        deal_amount=pair.deal_amount,
        from_recommendation=pair.from_recommendation,
    )


@dataclass(frozen=True)
class Financing:
    applications: int
    applied: int
    granted_count: int
    granted: int


def financing(scope: Scope, period: Period, dockings: DockingRows | None = None) -> Financing:
    """Finance applications started in the period: amounts sought and granted (deals)."""
    dockings = dockings if dockings is not None else docking_totals(scope, period)
    fin = _total(dockings, ("financing",))
    return Financing(fin.count, fin.amount_sought, fin.deals, fin.deal_amount)


@dataclass(frozen=True)
class Training:
    registrations: int
    waitlisted: int
    completed: int
    certificates: int


def training(scope: Scope, period: Period, dockings: DockingRows | None = None) -> Training:
    """Training registrations made in the period (cancelled ones left out)."""
    dockings = dockings if dockings is not None else docking_totals(scope, period)
    reg = _total(dockings, ("registration",))
    return Training(reg.registered, reg.waitlisted, reg.completed, reg.certified)


@dataclass(frozen=True)
class ProviderActivity:
    ref: str
    name: str
    kind: str
    dockings: int
    deals: int
    deal_amount: int


def top_providers(
    scope: Scope, period: Period, limit: int = TOP_PROVIDERS
) -> list[ProviderActivity]:
    """Providers with the most dockings of any kind started in the period, then most deals."""
    low, high = period.bounds()
    count = func.count(Docking.id).label("dockings")
    deals = func.sum(case((Docking.status == "deal", 1), else_=0)).label("deals")
    amount = func.sum(case((Docking.status == "deal", Docking.deal_amount), else_=0))
    grouped = (
        select(Docking.provider_org_id.label("org_id"), count, deals, amount.label("amount"))
        .where(_dockings_in(scope, low, high))
        .group_by(Docking.provider_org_id)
        .subquery()
    )
    stmt = (
        select(
            Organization.ref,
            Organization.name,
            Organization.kind,
            grouped.c.dockings,
            grouped.c.deals,
            grouped.c.amount,
        )
        .join(grouped, grouped.c.org_id == Organization.id)
        .order_by(grouped.c.dockings.desc(), grouped.c.deals.desc(), Organization.name)
        .limit(limit)
    )
    return [
        ProviderActivity(str(ref), name, kind, _int(n), _int(d), _int(a))
        for ref, name, kind, n, d, a in db.session.execute(stmt)
    ]


def _editions_clause(scope: Scope, period: Period) -> ColumnElement[bool]:
    low, high = period.bounds()
    if scope.park is not None:
        where: ColumnElement[bool] = and_(
            CatalogueEdition.scope == "park", CatalogueEdition.park_id == scope.park.id
        )
    else:
        where = or_(
            and_(CatalogueEdition.scope == "park", scope.in_parks(CatalogueEdition.park_id)),
            and_(
                CatalogueEdition.scope == "province",
                CatalogueEdition.province == scope.province,
            ),
        )
    return and_(
        where,
        CatalogueEdition.published_at.is_not(None),
        CatalogueEdition.published_at >= low,
        CatalogueEdition.published_at < high,
    )


def edition_count(scope: Scope, period: Period) -> int:
    """Catalogue editions of the scope published in the period (withdrawn ones included:
    they were published)."""
    return _int(
        db.session.scalar(
            select(func.count(CatalogueEdition.id)).where(_editions_clause(scope, period))
        )
    )


def editions(scope: Scope, period: Period) -> list[CatalogueEdition]:
    stmt = (
        select(CatalogueEdition)
        .where(_editions_clause(scope, period))
        .order_by(CatalogueEdition.published_at.desc())
    )
    return list(db.session.scalars(stmt))


@dataclass
class Dashboard:
    """Everything the dashboard shows, for one scope and period, computed at ``as_of``."""

    scope: Scope
    period: Period
    threshold: float
    pool: Pool
    by_category: dict[str, dict[str, int]]
    by_month: dict[str, dict[str, int]]
    unserved: int
    unserved_needs: list[Need]
    funnel: Funnel
    financing: Financing
    training: Training
    providers: list[ProviderActivity]
    editions: list[CatalogueEdition] = field(default_factory=list)
    as_of: datetime | None = None


@dataclass(frozen=True)
class _Figures:
    """The cacheable part of a dashboard: numbers and the ids of the listed rows (ORM
    objects do not outlive their request's session)."""

    threshold: float
    pool: Pool
    by_category: dict[str, dict[str, int]]
    by_month: dict[str, dict[str, int]]
    unserved: int
    unserved_ids: tuple[int, ...]
    funnel: Funnel
    financing: Financing
    training: Training
    providers: tuple[ProviderActivity, ...]
    edition_ids: tuple[int, ...]
    as_of: datetime


def _compute(scope: Scope, period: Period, threshold: float) -> _Figures:
    as_of = utcnow()
    offerings = offering_counts(scope, period)
    dockings = docking_totals(scope, period)
    pool, categories = pool_and_categories(scope, period, offerings)
    return _Figures(
        threshold=threshold,
        pool=pool,
        by_category=categories,
        by_month=by_month(scope, period, offerings, dockings),
        unserved=unserved_count(scope, threshold),
        unserved_ids=tuple(n.id for n in unserved_needs(scope, threshold)),
        funnel=funnel(scope, period, threshold, dockings),
        financing=financing(scope, period, dockings),
        training=training(scope, period, dockings),
        providers=tuple(top_providers(scope, period)),
        edition_ids=tuple(e.id for e in editions(scope, period)),
        as_of=as_of,
    )


def _by_ids(model: Any, ids: tuple[int, ...], *options: Any) -> list[Any]:
    """The rows with these ids, in this order (rows deleted since are left out)."""
    if not ids:
        return []
    rows = {
        r.id: r
        for r in db.session.scalars(select(model).where(model.id.in_(ids)).options(*options))
    }
    return [rows[i] for i in ids if i in rows]


def dashboard(scope: Scope, period: Period) -> Dashboard:
    """Every figure of the dashboard; the offerings are scanned once and the dockings
    read with one grouped query, which the figures built from them share.

    The figures come from ``park_cache`` when this scope and period were computed less
    than a minute ago and nothing was written since by this process; ``as_of`` says
    when they were computed.
    """
    threshold = recommendation_threshold()
    key = (scope.kind, scope.ref, period.start, period.end, threshold)
    figures = park_cache.for_app().get_or_compute(key, lambda: _compute(scope, period, threshold))
    return Dashboard(
        scope=scope,
        period=period,
        threshold=figures.threshold,
        pool=figures.pool,
        by_category=figures.by_category,
        by_month=figures.by_month,
        unserved=figures.unserved,
        unserved_needs=_by_ids(Need, figures.unserved_ids, selectinload(Need.org)),
        funnel=figures.funnel,
        financing=figures.financing,
        training=figures.training,
        providers=list(figures.providers),
        editions=_by_ids(CatalogueEdition, figures.edition_ids),
        as_of=figures.as_of,
    )
