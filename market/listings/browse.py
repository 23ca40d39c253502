"""The public lists of offerings and needs: filters read from the query string, one page.

Only what the public may see is ever returned (published and unexpired offerings,
open needs whose deadline has not passed). A filter value that makes no sense is
dropped, never an error: a mistyped link still shows a useful list.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Select, literal, or_, select
from sqlalchemy.orm import selectinload

from market.core import reference
from market.core.db import by_ref
from market.core.extensions import db
from market.core.json_sql import json_array_contains
from market.models import Need, Offering, Park
from market.models.listing import OFFERING_KINDS
from market.parks.service import serves_park

SORTS = ("newest", "price")
QUERY_MAX = 100
PAGE_MAX = 10_000


@dataclass(frozen=True)
class ListingFilters:
    """A list's filters; every field holds a valid value or is empty."""

    q: str = ""
    kind: str = ""
    category: str = ""
    province: str = ""
    park: str = ""  # a park ref
    sort: str = "newest"
    page: int = 1

    def as_args(self, **changes: Any) -> dict[str, Any]:
        """The non-default filters with ``changes`` applied, ready for ``url_for``.

        Changing any filter goes back to page 1 unless ``page`` is among the changes.
        """
        changed = replace(self, **changes) if changes else self
        if changes and "page" not in changes:
            changed = replace(changed, page=1)
        defaults = ListingFilters()
        return {k: v for k, v in asdict(changed).items() if v and v != getattr(defaults, k)}

    @property
    def active(self) -> bool:
        return any((self.q, self.kind, self.category, self.province, self.park))


def _page(raw: str | None) -> int:
    try:
        page = int(raw or 1)
    except ValueError:
        return 1
    return page if 1 <= page <= PAGE_MAX else 1


def parse_filters(args: Mapping[str, str]) -> ListingFilters:
    """Filters from query parameters; unknown kinds, categories, provinces or parks are dropped."""

    def arg(name: str) -> str:
        return (args.get(name) or "").strip()

    park = arg("park")
    if park and db.session.scalar(select(Park.id).where(Park.ref == park)) is None:
        park = ""
    return ListingFilters(
        q=" ".join(arg("q").split())[:QUERY_MAX],
        kind=arg("kind") if arg("kind") in OFFERING_KINDS else "",
        category=arg("category") if arg("category") in reference.categories() else "",
        province=arg("province") if arg("province") in reference.provinces() else "",
        park=park,
        sort=arg("sort") if arg("sort") in SORTS else "newest",
        page=_page(args.get("page")),
    )


def _title_contains(column: Any, text: str) -> ColumnElement[bool]:
    """Case-insensitive substring match; a typed % or _ means itself, not a wildcard."""
    condition: ColumnElement[bool] = column.icontains(text, autoescape=True)
    return condition


def _category_condition(column: Any, code: str) -> ColumnElement[bool]:
    """A top-level code matches itself and all of its children; a leaf matches itself."""
    if "." in code:
        leaf: ColumnElement[bool] = column == code
        return leaf
    return or_(column == code, column.startswith(code + ".", autoescape=True))


def _offering_province(province: str) -> ColumnElement[bool]:
    """Serves the province: names it, is nationwide, or serves a park in it."""
    return or_(
        json_array_contains(Offering.regions, literal(province)),
        json_array_contains(Offering.regions, literal(reference.NATIONWIDE)),
        Offering.parks.any(Park.province == province),
    )


def _park(ref: str) -> Park | None:
    return by_ref(Park, ref) if ref else None


def offerings_query(filters: ListingFilters) -> Select[tuple[Offering]]:
    """Public offerings matching ``filters`` in the chosen order, organizations preloaded."""
    stmt = select(Offering).where(Offering.public_clause())
    if filters.q:
        stmt = stmt.where(_title_contains(Offering.title, filters.q))
    if filters.kind:
        stmt = stmt.where(Offering.kind == filters.kind)
    if filters.category:
        stmt = stmt.where(_category_condition(Offering.category, filters.category))
    if filters.province:
        stmt = stmt.where(_offering_province(filters.province))
    park = _park(filters.park)
    if park is not None:
        stmt = stmt.where(serves_park(park))
    if filters.sort == "price":
        # Cheapest first; listings without a price go last rather than first.
        stmt = stmt.order_by(Offering.price_min.asc().nulls_last(), Offering.price_max.asc())
    stmt = stmt.order_by(Offering.published_at.desc().nulls_last(), Offering.id.desc())
    return stmt.options(selectinload(Offering.org), selectinload(Offering.parks))


def needs_query(filters: ListingFilters) -> Select[tuple[Need]]:
    """Open needs matching ``filters`` in the chosen order, organization and park preloaded."""
    stmt = select(Need).where(Need.public_clause())
    if filters.q:
        stmt = stmt.where(_title_contains(Need.title, filters.q))
    if filters.kind:
        stmt = stmt.where(Need.kind == filters.kind)
    if filters.category:
        stmt = stmt.where(_category_condition(Need.category, filters.category))
    if filters.province:
        stmt = stmt.where(Need.park.has(Park.province == filters.province))
    park = _park(filters.park)
    if park is not None:
        stmt = stmt.where(Need.park_id == park.id)
    if filters.sort == "price":
        # Biggest budget first: that is what a provider scanning needs looks for.
        stmt = stmt.order_by(Need.budget_max.desc().nulls_last(), Need.budget_min.desc())
    stmt = stmt.order_by(Need.published_at.desc().nulls_last(), Need.id.desc())
    return stmt.options(selectinload(Need.org), selectinload(Need.park))


def paginate(stmt: Select[Any], filters: ListingFilters, per_page: int) -> Pagination:
    """One page of ``stmt``; a page past the end is empty rather than an error."""
    return db.paginate(stmt, page=filters.page, per_page=per_page, error_out=False, count=True)


def park_choices() -> list[Park]:
    """Every park, by province and name, for the park filter."""
    return list(db.session.scalars(select(Park).order_by(Park.province, Park.name, Park.id)))
