"""The demo data set (seed_data/demo) as matcher records, read straight from the JSON
files of the data format (no database), for the matching tests.

Ids are assigned in file order; ``Demo.ids`` maps refs to them and back.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from matching import Enterprise, NeedRecord, OfferingRecord, Provider

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "seed_data" / "demo"
TODAY = date(2026, 11, 20)  # fixed so the demo's course dates and deadlines stay meaningful


@dataclass
class Demo:
    parks: dict[str, dict[str, Any]]
    orgs: dict[str, dict[str, Any]]
    providers: dict[int, Provider]
    enterprises: dict[int, Enterprise]
    offerings: list[OfferingRecord]
    needs: list[NeedRecord]
    ids: dict[str, int] = field(default_factory=dict)
    refs: dict[int, str] = field(default_factory=dict)

    def offering(self, ref: str) -> OfferingRecord:
        return next(o for o in self.offerings if o.ref == ref)

    def need(self, ref: str) -> NeedRecord:
        return next(d for d in self.needs if d.ref == ref)


def _load(name: str) -> list[dict[str, Any]]:
    data: list[dict[str, Any]] = json.loads((DEMO / f"{name}.json").read_text(encoding="utf-8"))
    return data


def load_demo(today: date = TODAY) -> Demo:
    """Parks, organizations, offerings and needs of the demo set as records."""
    parks = {p["ref"]: p for p in _load("parks")}
    orgs = {o["ref"]: o for o in _load("organizations")}
    ids: dict[str, int] = {}

    def ident(ref: str) -> int:
        return ids.setdefault(ref, len(ids) + 1)

    providers: dict[int, Provider] = {}
    enterprises: dict[int, Enterprise] = {}
    for ref, o in orgs.items():
        oid = ident(ref)
        park = parks.get(o.get("park", ""))
        if o["kind"] == "enterprise":
            enterprises[oid] = Enterprise(
                oid,
                o.get("size"),
                park["province"] if park else o.get("province"),
                ident(park["ref"]) if park else None,
                tuple(o.get("industries", ())),
            )
        else:
            providers[oid] = Provider(oid, o["kind"], bool(o.get("verified")), o.get("province"))
    for ref in parks:
        ident(ref)
    offerings = [offering_record(x, ident) for x in _load("offerings")]
    needs = [need_record(x, parks, ident, today) for x in _load("needs")]
    return Demo(
        parks, orgs, providers, enterprises, offerings, needs, ids, {v: k for k, v in ids.items()}
    )


def offering_record(x: dict[str, Any], ident: Any) -> OfferingRecord:
    """One offerings.json object as a record (``ident`` maps a ref to an int id)."""
    return OfferingRecord(
        id=ident(x["ref"]),
        ref=x["ref"],
        org_id=ident(x["org"]),
        kind=x["kind"],
        category=x["category"],
        title=x["title"],
        text=f"{x.get('summary', '')}\n{x.get('description', '')}",
        tags=tuple(x.get("tags", ())),
        industries=tuple(x.get("industries", ())),
        regions=tuple(x.get("regions", ())),
        park_ids=frozenset(ident(p) for p in x.get("parks", ())),
        price_min=x.get("price_min"),
        price_max=x.get("price_max"),
        amount_min=x.get("amount_min"),
        amount_max=x.get("amount_max"),
        eligible_sizes=tuple(x.get("eligible_sizes", ())),
        starts_on=date.fromisoformat(x["starts_on"]) if x.get("starts_on") else None,
        public=x.get("status", "published") == "published",
    )


def need_record(
    x: dict[str, Any], parks: dict[str, dict[str, Any]], ident: Any, today: date
) -> NeedRecord:
    """One needs.json object as a record; open means status open and deadline not past."""
    deadline = date.fromisoformat(x["deadline"]) if x.get("deadline") else None
    return NeedRecord(
        id=ident(x["ref"]),
        ref=x["ref"],
        org_id=ident(x["org"]),
        park_id=ident(x["park"]),
        province=parks[x["park"]]["province"],
        kind=x["kind"],
        category=x["category"],
        title=x["title"],
        text=x.get("description", ""),
        tags=tuple(x.get("tags", ())),
        industries=tuple(x.get("industries", ())),
        budget_min=x.get("budget_min"),
        budget_max=x.get("budget_max"),
        amount=x.get("amount"),
        term_months=x.get("term_months"),
        open=x.get("status", "open") == "open" and (deadline is None or deadline >= today),
    )
