"""The industrial-chain map (产业链图谱) and the 招商 shortlist of a weak chain segment.

``seed_data/reference/industry_chains.json`` maps a GB/T 4754 division to the chain
segments its enterprises need, each segment a list of category codes of the taxonomy.
A segment's coverage is the number of public offerings in its categories:

- ``park``: offerings that name the park among those they serve, or whose provider is
  located in the park;
- ``province``: those, plus offerings serving the park's province or by a provider
  located in it;
- ``national``: every public offering on the platform.

The segment's level is the narrowest of these that is not empty (``none`` if all are);
a segment not covered inside the park is weak, and its shortlist names providers
elsewhere whose offerings fit the park's open needs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, and_, case, func, literal, not_, or_, select
from sqlalchemy.orm import selectinload

from market.core import reference
from market.core.errors import NotFound
from market.core.extensions import db
from market.models import Need, Offering, Organization, Park, ParkInvitation, offering_parks
from market.models.base import utcnow
from market.models.recommendation import Recommendation
from market.parkops import cache as park_cache
from market.parkops.sql import has_any, scan_table, unindexed

CHAINS_FILE = "industry_chains.json"
LEVELS = ("park", "province", "national", "none")
SHORTLIST_MAX = 50


@dataclass(frozen=True)
class Segment:
    code: str
    name: str
    en: str
    categories: tuple[str, ...]

    def label(self, locale: str) -> str:
        return self.en if locale.startswith("en") else self.name


@cache
def chains() -> dict[str, tuple[Segment, ...]]:
    """Chain segments by GB/T 4754 division code, in the file's order."""
    with (reference.REFERENCE_DIR / CHAINS_FILE).open(encoding="utf-8") as fh:
        rows: list[dict[str, Any]] = json.load(fh)
    return {
        row["division"]: tuple(
            Segment(s["code"], s["name"], s["en"], tuple(s["categories"])) for s in row["segments"]
        )
        for row in rows
    }


def segment(division: str, code: str) -> Segment:
    """The segment ``code`` of ``division``'s chain; raises NotFound for either unknown."""
    for seg in chains().get(division, ()):
        if seg.code == code:
            return seg
    raise NotFound(_("没有这个产业链环节。"))


@dataclass(frozen=True)
class SegmentCoverage:
    segment: Segment
    park: int
    province: int
    national: int
    open_needs: int

    @property
    def level(self) -> str:
        if self.park:
            return "park"
        if self.province:
            return "province"
        return "national" if self.national else "none"

    @property
    def weak(self) -> bool:
        return self.level != "park"


@dataclass(frozen=True)
class ChainCoverage:
    division: str
    segments: tuple[SegmentCoverage, ...]

    @property
    def weak_count(self) -> int:
        return sum(1 for s in self.segments if s.weak)


def _in_park(park: Park) -> ColumnElement[bool]:
    return or_(
        Offering.id.in_(
            select(offering_parks.c.offering_id).where(offering_parks.c.park_id == park.id)
        ),
        Offering.org_id.in_(select(Organization.id).where(Organization.park_id == park.id)),
    )


def _in_province(park: Park) -> ColumnElement[bool]:
    return or_(
        _in_park(park),
        has_any(Offering.regions, [park.province]),
        Offering.org_id.in_(select(Organization.id).where(Organization.province == park.province)),
    )


def _sum(counts: dict[str, int], codes: Iterable[str]) -> int:
    return sum(counts.get(code, 0) for code in codes)


def coverage(park: Park) -> list[ChainCoverage]:
    """The chain of each of the park's leading industries that the map knows, with each
    segment's coverage (see ``coverage_as_of``)."""
    return coverage_as_of(park)[0]


def coverage_as_of(park: Park) -> tuple[list[ChainCoverage], datetime]:
    """``coverage`` and when it was computed: kept by ``park_cache`` for up to a minute
    (dropped early when this process writes)."""
    key = ("chain", park.id, park.province, tuple(park.industries or ()))
    return park_cache.for_app().get_or_compute(key, lambda: (_coverage(park), utcnow()))


def _coverage(park: Park) -> list[ChainCoverage]:
    """Two grouped queries whatever the number of segments."""
    known = [code for code in park.industries or [] if code in chains()]
    codes = sorted({c for d in known for seg in chains()[d] for c in seg.categories})
    if not codes:
        return []
    in_park: dict[str, int] = {}
    in_province: dict[str, int] = {}
    national: dict[str, int] = {}
    # A chain's categories cover most offerings: scan the table rather than walk the
    # category or status index and fetch every row at random (park_sql.scan_table).
    category = unindexed(Offering.category)
    stmt = (
        select(
            category,
            func.sum(case((_in_park(park), 1), else_=0)),
            func.sum(case((_in_province(park), 1), else_=0)),
            func.count(Offering.id),
        )
        .where(category.in_(codes), scan_table(Offering.public_clause(), Offering.status))
        .group_by(category)
    )
    for code, n_park, n_province, n_all in db.session.execute(stmt):
        in_park[code], in_province[code], national[code] = int(n_park), int(n_province), int(n_all)
    needs = {
        code: int(n)
        for code, n in db.session.execute(
            select(Need.category, func.count(Need.id))
            .where(Need.park_id == park.id, Need.public_clause(), Need.category.in_(codes))
            .group_by(Need.category)
        )
    }
    return [
        ChainCoverage(
            division=division,
            segments=tuple(
                SegmentCoverage(
                    segment=seg,
                    park=_sum(in_park, seg.categories),
                    province=_sum(in_province, seg.categories),
                    national=_sum(national, seg.categories),
                    open_needs=_sum(needs, seg.categories),
                )
                for seg in chains()[division]
            ),
        )
        for division in known
    ]


@dataclass(frozen=True)
class Candidate:
    """One offering of the shortlist and why it is on it."""

    offering: Offering
    fitting_needs: int  # the park's open needs it is recommended for
    best_score: float | None
    invitation: str | None  # display status of the latest invitation to this park


def _elsewhere(park: Park) -> ColumnElement[bool]:
    return and_(Offering.public_clause(), not_(_in_park(park)))


def shortlist(
    park: Park, seg: Segment, threshold: float, limit: int = SHORTLIST_MAX
) -> list[Candidate]:
    """Providers outside the park whose offerings in the segment fit the park's open needs.

    First the offerings recommended (score ≥ threshold) for most of the park's open
    needs, best score next; then, to fill the list, other public offerings of the
    segment's categories from outside the park, newest first (``fitting_needs`` 0).
    """
    fitting = func.count(func.distinct(Recommendation.need_id)).label("fitting")
    best = func.max(Recommendation.score).label("best")
    ranked = db.session.execute(
        select(Offering.id, fitting, best)
        .join(Recommendation, Recommendation.offering_id == Offering.id)
        .join(Need, Need.id == Recommendation.need_id)
        .where(
            _elsewhere(park),
            Offering.category.in_(seg.categories),
            Recommendation.score >= threshold,
            Need.park_id == park.id,
            Need.public_clause(),
        )
        .group_by(Offering.id)
        .order_by(fitting.desc(), best.desc(), Offering.id)
        .limit(limit)
    ).all()
    scores = {oid: (int(n), float(s)) for oid, n, s in ranked}
    ids = [oid for oid, _n, _s in ranked]
    if len(ids) < limit:
        ids += list(
            db.session.scalars(
                select(Offering.id)
                .where(
                    _elsewhere(park),
                    Offering.category.in_(seg.categories),
                    Offering.id.not_in(ids) if ids else literal(True),
                )
                .order_by(Offering.published_at.desc().nulls_last(), Offering.id.desc())
                .limit(limit - len(ids))
            )
        )
    offerings = {
        o.id: o
        for o in db.session.scalars(
            select(Offering).where(Offering.id.in_(ids)).options(selectinload(Offering.org))
        )
    }
    invitations = _latest_invitations(park, ids)
    return [
        Candidate(
            offering=offerings[oid],
            fitting_needs=scores.get(oid, (0, 0.0))[0],
            best_score=scores[oid][1] if oid in scores else None,
            invitation=invitations.get(oid),
        )
        for oid in ids
        if oid in offerings
    ]


def _latest_invitations(park: Park, offering_ids: list[int]) -> dict[int, str]:
    if not offering_ids:
        return {}
    rows = db.session.scalars(
        select(ParkInvitation)
        .where(ParkInvitation.park_id == park.id, ParkInvitation.offering_id.in_(offering_ids))
        .order_by(ParkInvitation.created_at)
    )
    # Later rows overwrite earlier ones: the latest invitation wins.
    return {inv.offering_id: inv.display_status for inv in rows}


def division_label(code: str) -> str:
    entry = reference.industries().get(code)
    if entry is None:
        return code
    return entry.label(str(get_locale() or "zh"))
