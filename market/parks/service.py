"""The park directory (园区名录): filters, per-park figures and "offerings serving the park"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, case, func, literal, or_, select
from sqlalchemy.orm import selectinload

from market.core import reference
from market.core.db import by_ref
from market.core.errors import NotFound
from market.core.extensions import db
from market.core.json_sql import json_array_contains
from market.models import Need, Offering, Organization, Park
from market.models.park import PARK_LEVELS, ZONE_TYPES

LEVEL_LABELS: dict[str, Any] = {
    "national": _l("国家级"),
    "provincial": _l("省级"),
    "municipal": _l("市级"),
}
ZONE_TYPE_LABELS: dict[str, Any] = {
    "economic_development": _l("经开区"),
    "high_tech": _l("高新区"),
    "industrial": _l("工业园区"),
    "other": _l("其他"),
}
NAME_QUERY_MAX = 100
PAGE_MAX = 10_000


def level_label(code: str) -> str:
    """国家级/省级/市级 in the current language; an unknown code comes back as is."""
    return str(LEVEL_LABELS.get(code, code))


def zone_type_label(code: str) -> str:
    """经开区/高新区/工业园区/其他 in the current language; an unknown code comes back as is."""
    return str(ZONE_TYPE_LABELS.get(code, code))


@dataclass(frozen=True)
class ParkFilters:
    """The directory's filters; every field is either a valid value or empty."""

    province: str = ""
    level: str = ""
    zone_type: str = ""
    q: str = ""

    @classmethod
    def from_args(cls, args: Mapping[str, str]) -> ParkFilters:
        """Read filters from query parameters, dropping any value that is not valid."""
        province = (args.get("province") or "").strip()
        level = (args.get("level") or "").strip()
        zone_type = (args.get("zone_type") or "").strip()
        q = " ".join((args.get("q") or "").split())[:NAME_QUERY_MAX]
        return cls(
            province=province if province in reference.provinces() else "",
            level=level if level in PARK_LEVELS else "",
            zone_type=zone_type if zone_type in ZONE_TYPES else "",
            q=q,
        )

    def as_args(self) -> dict[str, str]:
        """The non-empty filters, ready for ``url_for`` (so pagination keeps them)."""
        return {k: v for k, v in vars(self).items() if v}

    def conditions(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.province:
            out.append(Park.province == self.province)
        if self.level:
            out.append(Park.level == self.level)
        if self.zone_type:
            out.append(Park.zone_type == self.zone_type)
        if self.q:
            pattern = (
                "%" + self.q.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
            )
            out.append(Park.name.ilike(pattern, escape="\\"))
        return out


@dataclass(frozen=True)
class ParkFigures:
    enterprises: int = 0
    open_needs: int = 0


def _level_rank() -> ColumnElement[int]:
    # National parks first: they are what most visitors look for.
    return case({code: i for i, code in enumerate(PARK_LEVELS)}, value=Park.level, else_=99)


def search(filters: ParkFilters, page: int, per_page: int) -> Pagination:
    """One page of parks matching ``filters``, national parks first, then by name.

    A page number past the end gives the last page (a shared link outlives the data).
    """
    stmt = select(Park).where(*filters.conditions()).order_by(_level_rank(), Park.name, Park.id)
    # Clamped: a huge ?page= would overflow the database's OFFSET (a 500, not a last page).
    page = min(max(page, 1), PAGE_MAX)
    result = db.paginate(stmt, page=page, per_page=per_page, error_out=False, count=True)
    if result.pages and result.page > result.pages:
        result = db.paginate(stmt, page=result.pages, per_page=per_page, error_out=False)
    return result


def provinces_present() -> list[str]:
    """Provinces that have at least one park, in the official code order."""
    present = set(db.session.scalars(select(Park.province).distinct()))
    return [name for name in reference.provinces() if name in present]


def _counts(stmt: Select[int | None, int]) -> dict[int, int]:
    """A grouped (key, count) query as a dict, rows with a NULL key left out."""
    return {int(key): int(count) for key, count in db.session.execute(stmt) if key is not None}


def figures(park_ids: Iterable[int]) -> dict[int, ParkFigures]:
    """Enterprises and open needs of each park, in two grouped queries."""
    ids = list(park_ids)
    if not ids:
        return {}
    enterprises = _counts(
        select(Organization.park_id, func.count(Organization.id))
        .where(Organization.kind == "enterprise", Organization.park_id.in_(ids))
        .group_by(Organization.park_id)
    )
    needs = _counts(
        select(Need.park_id, func.count(Need.id))
        .where(Need.public_clause(), Need.park_id.in_(ids))
        .group_by(Need.park_id)
    )
    return {
        pid: ParkFigures(enterprises=enterprises.get(pid, 0), open_needs=needs.get(pid, 0))
        for pid in ids
    }


def busiest(limit: int) -> list[Park]:
    """The parks with the most enterprises (ties by name), for the home page teaser."""
    enterprise_count = (
        select(func.count(Organization.id))
        .where(Organization.park_id == Park.id, Organization.kind == "enterprise")
        .scalar_subquery()
    )
    stmt = select(Park).order_by(enterprise_count.desc(), _level_rank(), Park.name).limit(limit)
    return list(db.session.scalars(stmt))


def get_by_ref(ref: str) -> Park:
    """The park with this ref; raises NotFound when there is none."""
    park = by_ref(Park, ref)
    if park is None:
        raise NotFound(_("园区不存在。"))
    return park


def enterprises(park: Park) -> list[Organization]:
    """The park's enterprises, by name."""
    stmt = (
        select(Organization)
        .where(Organization.park_id == park.id, Organization.kind == "enterprise")
        .order_by(Organization.name, Organization.id)
    )
    return list(db.session.scalars(stmt))


def open_needs(park: Park) -> list[Need]:
    """The park's open needs, newest first, with their organizations loaded."""
    stmt = (
        select(Need)
        .where(Need.park_id == park.id, Need.public_clause())
        .options(selectinload(Need.org))
        .order_by(Need.published_at.desc().nulls_last(), Need.id.desc())
    )
    return list(db.session.scalars(stmt))


def serves_park(park: Park) -> ColumnElement[bool]:
    """An offering serves a park when it names the park, its province, or 全国.

    This is the condition alone, without the visibility test, so reports can combine
    it with their own (a period, a status); see ``serving_offerings`` for the public set.
    """
    return or_(
        Offering.parks.any(Park.id == park.id),
        json_array_contains(Offering.regions, literal(park.province)),
        json_array_contains(Offering.regions, literal(reference.NATIONWIDE)),
    )


def serving_offerings(park: Park) -> Select[Offering]:
    """Published, unexpired offerings serving the park, newest first, orgs preloaded."""
    return (
        select(Offering)
        .where(Offering.public_clause(), serves_park(park))
        .options(selectinload(Offering.org))
        .order_by(Offering.published_at.desc().nulls_last(), Offering.id.desc())
    )


def top_category(code: str) -> str:
    """``platform`` for ``platform.equipment_cloud`` (and for ``platform`` itself)."""
    return code.split(".", 1)[0]


def count_by_top_category(rows: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Fold (category, count) rows into counts per top-level category, every top level present."""
    totals = {entry.code: 0 for entry in reference.top_categories()}
    for code, count in rows:
        top = top_category(code)
        if top in totals:
            totals[top] += int(count)
    return totals


def serving_counts_by_category(park: Park) -> dict[str, int]:
    """How many public offerings serve the park in each top-level category."""
    stmt = (
        select(Offering.category, func.count(Offering.id))
        .where(Offering.public_clause(), serves_park(park))
        .group_by(Offering.category)
    )
    return count_by_top_category(db.session.execute(stmt))
