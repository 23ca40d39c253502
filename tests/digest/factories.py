"""Factories for the digest and scheduler tests: recommendations, dockings, a digest world."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from market.core.extensions import db
from market.models import Docking, Need, Offering, Organization, Recommendation, User, utcnow
from tests.conftest import make_need, make_offering, make_org, make_park, make_user


@pytest.fixture
def freeze_matching(monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep the recommendations a test writes: no recompute after each commit.

    The matching engine recomputes changed listings after every commit; the digest
    reads whatever recommendations exist, so its tests pin them.
    """
    try:
        import market.recommendations.service as matching
    except ImportError:
        return
    monkeypatch.setattr(matching, "process_match_outbox", lambda **_kwargs: None)


def make_recommendation(
    need: Need, offering: Offering, score: float = 80.0, **overrides: Any
) -> Recommendation:
    fields: dict[str, Any] = {
        "need": need,
        "offering": offering,
        "score": score,
        "parts": [{"rule": "category", "points": 25, "params": {}}],
        "need_rank": 1,
        "offering_rank": 1,
        "first_seen_at": utcnow() - timedelta(hours=1),
        "computed_at": utcnow(),
    }
    fields.update(overrides)
    rec = Recommendation(**fields)
    db.session.add(rec)
    db.session.flush()
    return rec


def make_docking(
    offering: Offering, enterprise: Organization, initiator: Organization, **overrides: Any
) -> Docking:
    fields: dict[str, Any] = {
        "kind": "request",
        "offering": offering,
        "enterprise_org_id": enterprise.id,
        "provider_org_id": offering.org_id,
        "initiator_org_id": initiator.id,
        "park_id": enterprise.park_id,
        "status": "requested",
        "message": "希望进一步沟通",
        "source": "listing",
    }
    fields.update(overrides)
    docking = Docking(**fields)
    db.session.add(docking)
    db.session.flush()
    return docking


@dataclass
class DigestWorld:
    """An enterprise with an open need, a provider with a published offering, a member each,
    and a fresh recommendation between them."""

    enterprise: Organization
    provider: Organization
    need: Need
    offering: Offering
    buyer: User  # member of the enterprise
    seller: User  # member of the provider
    recommendation: Recommendation


def digest_world(first_seen_at: datetime | None = None, score: float = 85.0) -> DigestWorld:
    park = make_park()
    enterprise = make_org(kind="enterprise", park=park, name="苏州精密冲压有限公司")
    provider = make_org(kind="solution_provider", name="智检视觉科技有限公司")
    need = make_need(org=enterprise, title="冲压件表面划痕检测")
    offering = make_offering(
        org=provider, title="冲压件表面缺陷视觉检测", expires_at=utcnow() + timedelta(days=90)
    )
    buyer = make_user(org=enterprise, name="王采购", email=f"buyer{enterprise.id}@example.com")
    seller = make_user(org=provider, name="李销售", email=f"seller{provider.id}@example.com")
    rec = make_recommendation(
        need, offering, score=score, first_seen_at=first_seen_at or utcnow() - timedelta(hours=2)
    )
    return DigestWorld(enterprise, provider, need, offering, buyer, seller, rec)
