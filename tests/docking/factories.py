"""Factories for docking tests: a docking in any status, and the two sides' people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from market.core.extensions import db
from market.models import Need, Offering, Organization, User, utcnow
from market.models.docking import CLOSED_STATUSES, Docking, DockingEvent
from tests.conftest import make_need, make_offering, make_org, make_user


@dataclass
class Sides:
    """An enterprise (with a member) and a provider (with a member and a public offering)."""

    enterprise: Organization
    buyer: User
    provider: Organization
    seller: User
    offering: Offering


PROVIDER_KIND = {
    "solution": "solution_provider",
    "finance": "financial_institution",
    "training": "training_body",
}


def make_sides(kind: str = "solution", **offering: Any) -> Sides:
    """Both sides of a docking on a published offering of ``kind``."""
    enterprise = make_org(kind="enterprise", size="medium")
    buyer = make_user(org=enterprise, name="王工")
    provider = make_org(kind=PROVIDER_KIND[kind])
    seller = make_user(org=provider, name="李经理")
    values: dict[str, Any] = {"org": provider, "kind": kind}
    if kind == "finance":
        values.update(
            category="finance.loan",
            title="科技型中小企业信用贷",
            price_min=None,
            price_max=None,
            amount_min=500_000,
            amount_max=5_000_000,
            eligible_sizes=["medium", "small"],
        )
    elif kind == "training":
        values.update(
            category="talent",
            title="PLC 编程实训班",
            mode="offline",
            capacity=2,
            starts_on=utcnow().date() + timedelta(days=30),
        )
    values.update(offering)
    return Sides(enterprise, buyer, provider, seller, make_offering(**values))


def make_docking(
    sides: Sides | None = None,
    *,
    kind: str = "request",
    status: str | None = None,
    need: Need | None = None,
    **overrides: Any,
) -> Docking:
    """A docking between ``sides`` (made when None) in ``status``, with its first event.

    Built directly, not through the service, so a test can start from any status.
    """
    offering_kind = {"financing": "finance", "registration": "training"}.get(kind, "solution")
    sides = sides or make_sides(offering_kind)
    initiator = sides.provider if kind == "interest" else sides.enterprise
    initiator_user = sides.seller if kind == "interest" else sides.buyer
    if kind == "interest" and need is None:
        need = make_need(org=sides.enterprise)
    first = status or ("registered" if kind == "registration" else "requested")
    fields: dict[str, Any] = {
        "kind": kind,
        "offering": sides.offering,
        "need": need,
        "enterprise_org_id": sides.enterprise.id,
        "provider_org_id": sides.provider.id,
        "initiator_org_id": initiator.id,
        "initiator_user_id": initiator_user.id,
        "park_id": sides.enterprise.park_id,
        "message": "希望本周安排现场调研。",
        "status": first,
        "amount_sought": 1_000_000 if kind == "financing" else None,
        "source": "listing",
    }
    if first not in ("requested", "registered", "waitlisted"):
        fields["answered_at"] = utcnow()
    if first in CLOSED_STATUSES:
        fields["closed_at"] = utcnow()
    fields.update(overrides)
    docking = Docking(**fields)
    db.session.add(docking)
    db.session.flush()
    db.session.add(
        DockingEvent(
            docking=docking,
            status=first,
            actor_user_id=initiator_user.id,
            actor_org_id=initiator.id,
            note=docking.message,
        )
    )
    db.session.flush()
    return docking
