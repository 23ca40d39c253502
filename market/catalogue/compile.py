"""What goes into a catalogue edition: the scope, the proposed listings and their snapshot rows.

The proposals are computed live from the resource pool: public offerings serving the
scope and the open needs of its enterprises. ``snapshot`` turns them into the rows an
edition keeps (``CatalogueEntry``), in section order, minus what staff excluded. The
preview and the publication both come from ``snapshot``, so a preview shows exactly
what publishing would write.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, literal, or_, select
from sqlalchemy.orm import selectinload

from market.core import reference
from market.core.extensions import db
from market.core.json_sql import json_array_contains
from market.dataset import export as dataset
from market.models import CatalogueEdition, CatalogueEntry, Need, Offering, Organization, Park
from market.parks import service as park_service

Row = dict[str, Any]


@dataclass(frozen=True)
class Scope:
    """Whose catalogue: one park, one province (admins) or the whole platform (admins)."""

    kind: str  # park | province | platform
    park: Park | None = None
    province: str | None = None

    @property
    def key(self) -> str:
        """The numbering series: editions of one key are numbered 1, 2, 3 … each year."""
        if self.kind == "park":
            assert self.park is not None
            return f"park:{self.park.id}"
        if self.kind == "province":
            return f"province:{self.province}"
        return "platform"

    @property
    def slug(self) -> str:
        """A file-system-safe name for the exports folder and file names."""
        if self.kind == "park":
            assert self.park is not None
            return str(self.park.ref)
        if self.kind == "province":
            entry = reference.provinces().get(self.province or "")
            return f"province-{entry.code if entry else 'unknown'}"
        return "platform"

    @property
    def name(self) -> str:
        if self.kind == "park":
            assert self.park is not None
            return self.park.name
        if self.kind == "province":
            return str(self.province)
        return _("全平台")


def park_scope(park: Park) -> Scope:
    return Scope("park", park=park)


def province_scope(province: str) -> Scope:
    return Scope("province", province=province)


def platform_scope() -> Scope:
    return Scope("platform")


def scope_of(edition: CatalogueEdition) -> Scope:
    return Scope(edition.scope, park=edition.park, province=edition.province)


def default_sections() -> list[str]:
    return [entry.code for entry in reference.top_categories()]


def ordered_sections(order: Sequence[str]) -> list[str]:
    """``order`` cleaned: known top-level codes only, each once, missing ones appended."""
    known = default_sections()
    out = [code for code in dict.fromkeys(order) if code in known]
    return out + [code for code in known if code not in out]


# --- proposals --------------------------------------------------------------------------------


def _offering_scope(scope: Scope) -> ColumnElement[bool] | None:
    if scope.kind == "park":
        assert scope.park is not None
        return park_service.serves_park(scope.park)
    if scope.kind == "province":
        return or_(
            Offering.parks.any(Park.province == scope.province),
            json_array_contains(Offering.regions, literal(scope.province)),
            json_array_contains(Offering.regions, literal(reference.NATIONWIDE)),
        )
    return None


def _need_scope(scope: Scope) -> ColumnElement[bool] | None:
    if scope.kind == "park":
        assert scope.park is not None
        return Need.park_id == scope.park.id
    if scope.kind == "province":
        return Need.park.has(Park.province == scope.province)
    return None


def proposed_offerings(scope: Scope) -> list[Offering]:
    """Public offerings serving the scope, organizations and parks loaded."""
    stmt = select(Offering).where(Offering.public_clause())
    condition = _offering_scope(scope)
    if condition is not None:
        stmt = stmt.where(condition)
    stmt = stmt.options(
        selectinload(Offering.org).selectinload(Organization.park), selectinload(Offering.parks)
    )
    return list(db.session.scalars(stmt))


def proposed_needs(scope: Scope) -> list[Need]:
    """Open needs of the scope's enterprises, organizations and parks loaded."""
    stmt = select(Need).where(Need.public_clause())
    condition = _need_scope(scope)
    if condition is not None:
        stmt = stmt.where(condition)
    stmt = stmt.options(
        selectinload(Need.org).selectinload(Organization.park), selectinload(Need.park)
    )
    return list(db.session.scalars(stmt))


# --- snapshot rows ----------------------------------------------------------------------------


class _Records:
    """Data-format records of organizations and parks, each built once per snapshot
    (200 providers may stand behind 7,000 offerings)."""

    def __init__(self) -> None:
        self.orgs: dict[int, Row] = {}
        self.parks: dict[int, Row] = {}

    def org(self, org: Organization) -> Row:
        if org.id not in self.orgs:
            self.orgs[org.id] = dataset.export_record("organizations", dataset.org_values(org))
        return self.orgs[org.id]

    def park(self, park: Park) -> Row:
        if park.id not in self.parks:
            self.parks[park.id] = dataset.export_record("parks", dataset.park_values(park))
        return self.parks[park.id]


def fingerprint(record: Row, org: Row) -> str:
    """What "更新" compares: the listing's record and its organization's name."""
    # Records come out of dataset.export_record with their keys in the format's order, so the
    # text is canonical without sorting.
    text = json.dumps([record, org.get("name")], ensure_ascii=False)
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def offering_row(item: Offering, records: _Records | None = None) -> Row:
    records = records or _Records()
    record = dataset.export_record("offerings", dataset.offering_values(item))
    parks = {p.id: p for p in item.parks}
    if item.org.park is not None:
        parks[item.org.park.id] = item.org.park
    rows = [records.park(p) for p in parks.values()]
    return _row("supply", item.id, record, records.org(item.org), rows)


def need_row(item: Need, records: _Records | None = None) -> Row:
    records = records or _Records()
    record = dataset.export_record("needs", dataset.need_values(item))
    parks = {item.park.id: item.park}
    if item.org.park is not None:
        parks[item.org.park.id] = item.org.park
    rows = [records.park(p) for p in parks.values()]
    return _row("demand", item.id, record, records.org(item.org), rows)


def _row(side: str, listing_id: int, record: Row, org: Row, parks: list[Row]) -> Row:
    category = str(record.get("category", ""))
    return {
        "side": side,
        "listing_id": listing_id,
        "listing_ref": str(record["ref"]),
        "section": park_service.top_category(category),
        "category": category,
        "title": str(record.get("title", "")),
        "org_name": str(org.get("name", "")),
        "fingerprint": fingerprint(record, org),
        "record": record,
        "org": org,
        "parks": parks,
    }


def entry_key(side: str, listing_id: int) -> str:
    return f"{'S' if side == 'supply' else 'D'}:{listing_id}"


def sort_rows(rows: Iterable[Row], sections: Sequence[str]) -> list[Row]:
    """Section order first, then the taxonomy's order, then title and ref (stable)."""
    section_rank = {code: i for i, code in enumerate(sections)}
    category_rank = {code: i for i, code in enumerate(reference.categories())}
    return sorted(
        rows,
        key=lambda row: (
            section_rank.get(row["section"], len(section_rank)),
            category_rank.get(row["category"], len(category_rank)),
            row["title"],
            row["listing_ref"],
        ),
    )


def proposals(scope: Scope, sections: Sequence[str]) -> list[Row]:
    """Every proposed row of the scope (excluded ones too), supply first, in order."""
    records = _Records()
    supply = sort_rows((offering_row(o, records) for o in proposed_offerings(scope)), sections)
    demand = sort_rows((need_row(n, records) for n in proposed_needs(scope)), sections)
    return supply + demand


def snapshot(edition: CatalogueEdition) -> list[Row]:
    """The rows the edition would keep if published now: proposals minus exclusions,
    numbered by ``position`` within each side."""
    excluded = set(edition.excluded or [])
    sections = ordered_sections(edition.section_order or [])
    rows = [
        row
        for row in proposals(scope_of(edition), sections)
        if entry_key(row["side"], row["listing_id"]) not in excluded
    ]
    positions = {"supply": 0, "demand": 0}
    for row in rows:
        positions[row["side"]] += 1
        row["position"] = positions[row["side"]]
    return rows


def transient_entries(edition: CatalogueEdition, rows: Iterable[Row]) -> list[CatalogueEntry]:
    """Entries that are not in the session: what the preview renders."""
    return [CatalogueEntry(edition_id=edition.id, **row) for row in rows]
