"""What a set of park figures is about: one park, or every park of a province (roll-up)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, or_, select

from market.core import reference
from market.core.errors import NotFound
from market.core.extensions import db
from market.models import Offering, Park, offering_parks
from market.parkops.sql import has_any
from market.parks import service as park_service


@dataclass(frozen=True)
class Scope:
    """A park (``park`` set) or a province roll-up (``park`` None)."""

    province: str
    park: Park | None = None
    # A roll-up's parks, looked up once: a literal list lets the database use its
    # (park_id, …) indexes, which it does not for a subquery.
    park_ids: tuple[int, ...] = ()

    @property
    def kind(self) -> str:
        return "park" if self.park is not None else "province"

    @property
    def ref(self) -> str:
        return str(self.park.ref) if self.park is not None else self.province

    @property
    def name(self) -> str:
        return self.park.name if self.park is not None else self.province

    def in_parks(self, column: Any) -> ColumnElement[bool]:
        """``column`` (a park id) names this park, or any park of the province."""
        if self.park is not None:
            return column == self.park.id
        if self.park_ids:
            return column.in_(self.park_ids)
        return column.in_(select(Park.id).where(Park.province == self.province))

    def served(self) -> ColumnElement[bool]:
        """The offering serves the park (interfaces.md), or any park of the province.

        The same rows as ``parks.serves_park`` (a test holds them equal), written for
        scans of the whole offerings table: see ``park_sql.has_any``.
        """
        if self.park is not None:
            named = select(offering_parks.c.offering_id).where(
                offering_parks.c.park_id == self.park.id
            )
        else:
            named = select(offering_parks.c.offering_id).where(
                self.in_parks(offering_parks.c.park_id)
            )
        return or_(
            Offering.id.in_(named), has_any(Offering.regions, [self.province, reference.NATIONWIDE])
        )


def for_park(ref: str) -> Scope:
    """The scope of the park with this ref; raises NotFound when there is none."""
    park = park_service.get_by_ref(ref)
    return Scope(province=park.province, park=park)


def for_province(name: str) -> Scope:
    """The roll-up of a province that has parks; raises NotFound otherwise."""
    if name not in reference.provinces():
        raise NotFound(_("没有这个省份。"))
    ids = tuple(db.session.scalars(select(Park.id).where(Park.province == name).order_by(Park.id)))
    if not ids:
        raise NotFound(_("该省份还没有园区。"))
    return Scope(province=name, park_ids=ids)
