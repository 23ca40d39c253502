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

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import selectinload

from market.core.extensions import db
from market.core.report_period import Period
from market.models import Need, Organization
from market.models.base import utcnow
from market.models.catalogue import CatalogueEdition
from market.models.docking import Docking
from market.models.recommendation import Recommendation
from market.parkops import cache as park_cache
from market.parkops.counts import (
    DOCKING_KINDS,
    TOP_PROVIDERS,
    DockingRows,
    Pool,
    _dockings_in,
    _int,
    _total,
    by_month,
    docking_totals,
    offering_counts,
    pool_and_categories,
    recommendation_threshold,
    unserved_count,
    unserved_needs,
)
from market.parkops.scope import Scope


# Dockings between an enterprise and a solution provider (the funnel's "requested").
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
