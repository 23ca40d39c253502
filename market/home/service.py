"""What the home page shows: headline figures, category tiles, latest listings, parks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from market.core import reference
from market.core.extensions import db
from market.core.reference import Entry
from market.models import Need, Offering, Organization, Park
from market.parks import service as park_service

LATEST_COUNT = 6
PARK_TEASER_COUNT = 6


@dataclass(frozen=True)
class Headline:
    """The platform's size in four real counts."""

    parks: int
    organizations: int
    offerings: int
    needs: int


@dataclass(frozen=True)
class CategoryTile:
    entry: Entry
    offerings: int


def headline() -> Headline:
    """Parks, organizations, public offerings and open needs, counted in the database."""
    return Headline(
        parks=db.session.scalar(select(func.count(Park.id))) or 0,
        organizations=db.session.scalar(select(func.count(Organization.id))) or 0,
        offerings=db.session.scalar(select(func.count(Offering.id)).where(Offering.public_clause()))
        or 0,
        needs=db.session.scalar(select(func.count(Need.id)).where(Need.public_clause())) or 0,
    )


def category_tiles() -> list[CategoryTile]:
    """The campaign's top-level categories, each with its count of public offerings."""
    rows = db.session.execute(
        select(Offering.category, func.count(Offering.id))
        .where(Offering.public_clause())
        .group_by(Offering.category)
    )
    counts = park_service.count_by_top_category(rows)
    return [CategoryTile(entry, counts[entry.code]) for entry in reference.top_categories()]


def latest_offerings(limit: int = LATEST_COUNT) -> list[Offering]:
    """The newest public offerings, their organizations preloaded."""
    stmt = (
        select(Offering)
        .where(Offering.public_clause())
        .options(selectinload(Offering.org))
        .order_by(Offering.published_at.desc().nulls_last(), Offering.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def latest_needs(limit: int = LATEST_COUNT) -> list[Need]:
    """The newest open needs, their organizations and parks preloaded."""
    stmt = (
        select(Need)
        .where(Need.public_clause())
        .options(selectinload(Need.org), selectinload(Need.park))
        .order_by(Need.published_at.desc().nulls_last(), Need.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(stmt))


def home_context() -> dict[str, Any]:
    """Everything home.html renders: ``headline``, ``tiles``, ``offerings``, ``needs``,
    ``parks`` and ``park_figures`` (park id → ParkFigures)."""
    parks = park_service.busiest(PARK_TEASER_COUNT)
    return {
        "headline": headline(),
        "tiles": category_tiles(),
        "offerings": latest_offerings(),
        "needs": latest_needs(),
        "parks": parks,
        "park_figures": park_service.figures(p.id for p in parks),
    }
