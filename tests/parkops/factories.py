"""Factories for the records park operations read: dockings (with their events),
recommendations and catalogue editions, written through the agreed models."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete

from market.core.extensions import db
from market.models import Need, Offering, Park, utcnow
from market.models.catalogue import CatalogueEdition
from market.models.docking import Docking, DockingEvent
from market.models.recommendation import Recommendation
from tests.conftest import make_need, make_offering, make_org

# The steps a docking went through to reach each status (events are written for each).
PATH = {
    "requested": ("requested",),
    "accepted": ("requested", "accepted"),
    "declined": ("requested", "declined"),
    "withdrawn": ("requested", "withdrawn"),
    "negotiating": ("requested", "accepted", "negotiating"),
    "deal": ("requested", "accepted", "negotiating", "deal"),
    "no_deal": ("requested", "accepted", "negotiating", "no_deal"),
    "registered": ("registered",),
    "waitlisted": ("waitlisted",),
    "cancelled": ("registered", "cancelled"),
    "completed": ("registered", "completed"),
}


def at(year: int, month: int, day: int, hour: int = 4) -> datetime:
    """A UTC instant (noon in Beijing at the default hour)."""
    return datetime(year, month, day, hour, tzinfo=UTC)


def make_docking(
    park: Park,
    *,
    kind: str = "request",
    status: str = "requested",
    offering: Offering | None = None,
    need: Need | None = None,
    created_at: datetime | None = None,
    **overrides: Any,
) -> Docking:
    """A docking of an enterprise of ``park`` with its event history up to ``status``."""
    if offering is None:
        offering_kind = {"financing": "finance", "registration": "training"}.get(kind, "solution")
        category = {"finance": "finance.loan", "training": "talent.lecture"}.get(
            offering_kind, "application.quality"
        )
        org_kind = {"finance": "financial_institution", "training": "training_body"}.get(
            offering_kind, "solution_provider"
        )
        offering = make_offering(kind=offering_kind, category=category, org=make_org(kind=org_kind))
    enterprise = need.org if need is not None else make_org(kind="enterprise", park=park)
    created = created_at or utcnow()
    fields: dict[str, Any] = {
        "kind": kind,
        "offering_id": offering.id,
        "need_id": need.id if need is not None else None,
        "enterprise_org_id": enterprise.id,
        "provider_org_id": offering.org_id,
        "initiator_org_id": enterprise.id,
        "park_id": park.id,
        "message": "",
        "status": status,
        "source": "listing",
        "certified": False,
        "created_at": created,
        "updated_at": created,
    }
    if status in ("accepted", "declined", "negotiating", "deal", "no_deal"):
        fields["answered_at"] = created
    if status in ("deal", "no_deal", "declined", "withdrawn"):
        fields["closed_at"] = created
    fields.update(overrides)
    docking = Docking(**fields)
    db.session.add(docking)
    db.session.flush()
    for step in PATH.get(status, (status,)):
        amount = docking.deal_amount if step == "deal" else None
        db.session.add(
            DockingEvent(
                docking_id=docking.id, status=step, note="", amount=amount, created_at=created
            )
        )
    db.session.flush()
    return docking


def clear_recommendations() -> None:
    """Drop the recommendations the matcher computed after the last commit, so a test
    decides exactly which pairs exist (commit the listings first)."""
    db.session.execute(delete(Recommendation))
    db.session.flush()


def make_recommendation(
    need: Need | None = None,
    offering: Offering | None = None,
    score: float = 80.0,
    first_seen_at: datetime | None = None,
) -> Recommendation:
    need = need or make_need()
    offering = offering or make_offering()
    seen = first_seen_at or utcnow()
    rec = Recommendation(
        need_id=need.id,
        offering_id=offering.id,
        score=score,
        parts=[],
        need_rank=1,
        offering_rank=1,
        first_seen_at=seen,
        computed_at=seen,
    )
    db.session.add(rec)
    db.session.flush()
    return rec


_numbers = itertools.count(1)


def make_edition(
    park: Park | None = None,
    *,
    scope: str = "park",
    province: str | None = None,
    published_at: datetime | None = None,
    status: str = "published",
    **overrides: Any,
) -> CatalogueEdition:
    published = published_at or utcnow()
    key = f"park:{park.id}" if scope == "park" and park is not None else f"{scope}:{province}"
    fields: dict[str, Any] = {
        "scope": scope,
        "scope_key": key,
        "park_id": park.id if park is not None else None,
        "province": province,
        "year": published.year,
        "number": next(_numbers) if status in ("published", "withdrawn") else None,
        "title": f"{park.name if park else province}供需目录",
        "foreword": "",
        "status": status,
        "published_at": published if status in ("published", "withdrawn") else None,
    }
    fields.update(overrides)
    edition = CatalogueEdition(**fields)
    db.session.add(edition)
    db.session.flush()
    return edition
