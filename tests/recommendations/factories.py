"""Factories for the matching tests: a small market where one need has a clear best
offering, a weaker one and traps, plus feedback rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from market.core.extensions import db
from market.models import MatchFeedback, Need, Offering, Organization, Park, User
from tests.conftest import make_need, make_offering, make_org, make_park, make_user


def make_feedback(**overrides: Any) -> MatchFeedback:
    need: Need = overrides.pop("need")
    offering: Offering = overrides.pop("offering")
    side = overrides.pop("side", "need")
    fields: dict[str, Any] = {
        "need_id": need.id,
        "offering_id": offering.id,
        "org_id": need.org_id if side == "need" else offering.org_id,
        "side": side,
        "reason": "与我们的产线无关",
    }
    fields.update(overrides)
    row = MatchFeedback(**fields)
    db.session.add(row)
    db.session.flush()
    return row


@dataclass
class Market:
    park: Park
    enterprise: Organization
    provider: Organization
    owner: User  # a member of the enterprise
    vendor: User  # a member of the provider
    need: Need
    best: Offering  # same leaf category, Jiangsu, within budget, same industry
    second: Offering  # same branch, nationwide, a little over budget
    elsewhere: Offering  # right category but serves 浙江省 only (hard rule)
    over_budget: Offering  # starts above the budget (hard rule)


def make_market(**need_overrides: Any) -> Market:
    """One enterprise need in a 江苏省 park and four offerings around it; commits."""
    park = make_park(name="苏州工业园区", province="江苏省")
    enterprise = make_org(kind="enterprise", park=park, size="medium", industries=["C36"])
    provider = make_org(kind="solution_provider", name="苏州视觉检测科技有限公司")
    other = make_org(kind="solution_provider", name="杭州质检软件有限公司", verified=False)
    best = make_offering(
        org=provider,
        ref="S-BEST",
        title="冲压件表面缺陷视觉检测系统",
        tags=["机器视觉", "缺陷检测", "冲压件"],
        regions=["江苏省"],
        price_min=200_000,
        price_max=350_000,
    )
    second = make_offering(
        org=other,
        ref="S-SECOND",
        category="application.quality",
        title="质量数据分析平台",
        summary="质量数据采集与统计过程控制",
        description="SPC 统计过程控制，质量追溯。",
        tags=["质量管理"],
        industries=["C34"],
        regions=["全国"],
        price_min=300_000,
        price_max=600_000,
    )
    elsewhere = make_offering(
        org=provider,
        ref="S-ZJ",
        title="冲压件表面缺陷视觉检测（浙江）",
        regions=["浙江省"],
    )
    over_budget = make_offering(
        org=provider,
        ref="S-PRICY",
        title="冲压件缺陷检测整线改造",
        price_min=900_000,
        price_max=1_500_000,
    )
    fields: dict[str, Any] = {
        "org": enterprise,
        "park": park,
        "ref": "D-NEED",
        "title": "冲压件表面划痕检测",
        "description": "人工目检漏检率高，希望引入机器视觉做冲压件表面缺陷检测。",
        "tags": ["缺陷检测", "冲压件"],
        "budget_min": 200_000,
        "budget_max": 500_000,
    }
    fields.update(need_overrides)
    need = make_need(**fields)
    owner = make_user(org=enterprise)
    vendor = make_user(org=provider)
    db.session.commit()
    return Market(
        park, enterprise, provider, owner, vendor, need, best, second, elsewhere, over_budget
    )
