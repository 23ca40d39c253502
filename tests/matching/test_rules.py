"""Every rule of the registry, one by one, through the public ranking functions."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from matching import (
    RULES,
    Enterprise,
    Match,
    NeedRecord,
    OfferingRecord,
    Provider,
    Weights,
    rank_for_need,
    rank_for_offering,
)
from tests.matching.factories import (
    ENTERPRISE,
    PARK,
    PROVIDER,
    TODAY,
    at,
    context,
    need,
    offering,
)


def _one(
    n: NeedRecord | None = None, o: OfferingRecord | None = None, **ctx_kw: Any
) -> Match | None:
    got = rank_for_need(n or need(), [o or offering()], context(**ctx_kw))
    return got[0] if got else None


def _part(m: Match | None, rule: str) -> Any:
    assert m is not None
    return next((p for p in m.parts if p.rule == rule), None)


def test_registry_names_every_rule_with_its_params() -> None:
    hard = [r.name for r in RULES.values() if r.hard]
    soft = [r.name for r in RULES.values() if not r.hard]
    assert hard == [
        "listing_open",
        "kind_category",
        "region",
        "budget",
        "finance_eligibility",
        "training_dates",
    ]
    assert soft == [
        "category",
        "capability",
        "industry",
        "park",
        "verified",
        "price",
        "freshness",
        "response",
    ]
    assert all(r.description_zh for r in RULES.values())
    assert RULES["price"].params[:3] == ("position", "price_min", "price_max")


# --- hard rules -------------------------------------------------------------
def test_listing_open_excludes_unpublished_offerings_and_closed_needs() -> None:
    assert _one() is not None
    assert _one(o=offering(public=False)) is None
    assert _one(n=need(open=False)) is None


def test_kind_category_requires_same_kind_and_branch() -> None:
    assert _one(o=offering(kind="finance", category="finance.loan")) is None
    assert _one(o=offering(category="security.assessment")) is None
    other_leaf = _one(o=offering(category="application.mes"))
    assert other_leaf is not None


def test_a_top_level_category_is_compatible_with_its_leaves() -> None:
    m = _one(n=need(category="application"))
    assert _part(m, "category").params == {"category": "application", "level": "branch"}
    m = _one(o=offering(category="application"))
    assert _part(m, "category").params["level"] == "branch"


def test_region_serves_province_park_or_nationwide() -> None:
    assert _one(o=offering(regions=("浙江省",))) is None
    m = _one(o=offering(regions=("全国",)))
    assert _part(m, "region").params == {"scope": "nationwide", "province": "全国"}
    m = _one()
    assert _part(m, "region").params == {"scope": "province", "province": "江苏省"}
    m = _one(o=offering(regions=("浙江省",), park_ids=frozenset({PARK})))
    assert _part(m, "region").params == {"scope": "park", "park_id": PARK}
    assert _part(m, "region").points == 0


def test_budget_refuses_a_price_floor_above_the_budget() -> None:
    assert _one(n=need(budget_max=100_000), o=offering(price_min=150_000)) is None
    assert _one(n=need(budget_max=100_000), o=offering(price_min=100_000)) is not None
    assert _one(n=need(budget_max=100_000), o=offering(price_max=150_000)) is None
    assert _one(n=need(budget_max=100_000), o=offering()) is not None  # no price: 面议
    # A cheaper offering than the budget floor is still shown (prices are often per unit).
    assert (
        _one(n=need(budget_min=500_000, budget_max=900_000), o=offering(price_min=3_000))
        is not None
    )


def _finance_need(**kw: Any) -> NeedRecord:
    return need(
        kind="finance", category="finance.leasing", title="设备融资租赁", tags=("融资租赁",), **kw
    )


def _finance(**kw: Any) -> OfferingRecord:
    return offering(
        kind="finance", category="finance.leasing", title="设备直租", tags=("融资租赁",), **kw
    )


def test_finance_eligibility_checks_enterprise_size() -> None:
    micro = Enterprise(ENTERPRISE, "micro", "江苏省", PARK, ("C36",))
    assert (
        _one(_finance_need(), _finance(eligible_sizes=("large", "medium")), enterprise=micro)
        is None
    )
    m = _one(_finance_need(), _finance(eligible_sizes=("small", "micro")), enterprise=micro)
    assert _part(m, "finance_eligibility").params == {
        "size": "micro",
        "eligible_sizes": ["small", "micro"],
    }
    assert _one(_finance_need(), _finance(), enterprise=micro) is not None  # no limit


def test_finance_eligibility_checks_the_amount_sought() -> None:
    fin = _finance(amount_min=1_000_000, amount_max=5_000_000)
    assert _one(_finance_need(amount=500_000), fin) is None
    assert _one(_finance_need(amount=6_000_000), fin) is None
    m = _one(_finance_need(amount=3_000_000), fin)
    assert _part(m, "finance_eligibility").params == {
        "size": "medium",
        "amount": 3_000_000,
        "amount_min": 1_000_000,
        "amount_max": 5_000_000,
    }


def _course(**kw: Any) -> OfferingRecord:
    return offering(
        kind="training", category="talent.internship", title="PLC实训", tags=("PLC",), **kw
    )


def _course_need() -> NeedRecord:
    return need(kind="training", category="talent.internship", title="PLC实操培训", tags=("PLC",))


def test_training_dates_refuse_a_course_that_has_started() -> None:
    assert _one(_course_need(), _course(starts_on=TODAY - timedelta(days=1))) is None
    m = _one(_course_need(), _course(starts_on=TODAY))
    assert _part(m, "training_dates").params == {"starts_on": TODAY.isoformat()}
    assert _one(_course_need(), _course(starts_on=None)) is not None


# --- soft rules -------------------------------------------------------------
def test_category_gives_full_points_for_the_leaf_and_part_for_the_branch() -> None:
    leaf = _part(_one(), "category")
    assert (leaf.points, leaf.params) == (
        25.0,
        {"category": "application.quality", "level": "leaf"},
    )
    branch = _part(_one(o=offering(category="application.mes")), "category")
    assert (branch.points, branch.params) == (10.0, {"category": "application", "level": "branch"})


def test_capability_folds_synonyms_and_names_shared_words() -> None:
    n = need(title="质量检测改造", text="", tags=("质量检测",))
    o = offering(title="品检系统", text="", tags=("品质检验",))
    cap = _part(_one(n, o), "capability")
    assert cap is not None and cap.points > 0
    assert cap.params["terms"] == ["质量检测"]  # the concept's name in the map
    m = _one(
        need(title="上一套制造执行系统", text="", tags=()),
        offering(title="云MES订阅", text="", tags=()),
    )
    assert "制造执行系统" in _part(m, "capability").params["terms"]  # MES's name in the map


def test_capability_names_words_not_bigram_fragments() -> None:
    cap = _part(_one(), "capability")
    assert cap.points > 10
    assert "冲压件" in cap.params["terms"] and "机器视觉" in cap.params["terms"]
    assert all(len(t) >= 2 for t in cap.params["terms"])
    assert 0 < cap.params["similarity"] <= 1


def test_capability_gives_nothing_without_shared_text() -> None:
    m = _one(o=offering(title="仓储WMS", text="条码入库、出库。", tags=("WMS",)))
    assert m is not None and _part(m, "capability") is None


def test_industry_prefers_the_division_then_the_section() -> None:
    div = _part(_one(), "industry")
    assert (div.points, div.params) == (10.0, {"industry": "C36", "level": "division"})
    sec = _part(_one(o=offering(industries=("C",))), "industry")
    assert (sec.points, sec.params) == (5.0, {"industry": "C", "level": "section"})
    sec = _part(_one(o=offering(industries=("C39",))), "industry")
    assert sec.params == {"industry": "C", "level": "section"}
    assert _part(_one(o=offering(industries=("I65",))), "industry") is None


def test_industry_falls_back_to_the_enterprise_industries() -> None:
    m = _one(n=need(industries=()), o=offering(industries=("C36",)))
    assert _part(m, "industry").params == {"industry": "C36", "level": "division"}


def test_park_rewards_an_offering_naming_the_park() -> None:
    assert _part(_one(), "park") is None
    park = _part(_one(o=offering(park_ids=frozenset({PARK}))), "park")
    assert (park.points, park.params) == (5.0, {"park_id": PARK})


def test_verified_provider_gets_points() -> None:
    assert _part(_one(), "verified") is None
    verified = Provider(PROVIDER, "solution_provider", True)
    assert _part(_one(provider=verified), "verified").points == 5.0


def test_price_within_budget_gets_full_points_overlap_half() -> None:
    n = need(budget_min=200_000, budget_max=500_000)
    within = _part(_one(n, offering(price_min=200_000, price_max=350_000)), "price")
    assert within.points == 10.0
    assert within.params == {
        "position": "within",
        "price_min": 200_000,
        "price_max": 350_000,
        "budget_min": 200_000,
        "budget_max": 500_000,
    }
    overlap = _part(_one(n, offering(price_min=300_000, price_max=800_000)), "price")
    assert (overlap.points, overlap.params["position"]) == (5.0, "overlap")
    assert _part(_one(n, offering()), "price") is None  # no price given


def test_price_for_finance_means_the_amount_is_covered() -> None:
    m = _one(_finance_need(amount=2_000_000), _finance(amount_min=1_000_000, amount_max=5_000_000))
    part = _part(m, "price")
    assert part.points == 10.0
    assert part.params == {
        "position": "covered",
        "amount": 2_000_000,
        "amount_min": 1_000_000,
        "amount_max": 5_000_000,
    }


@pytest.mark.parametrize(
    ("days", "points"), [(3, 5.0), (30, 5.0), (197, 2.5), (365, None), (900, None)]
)
def test_freshness_decays_after_a_month(days: int, points: float | None) -> None:
    part = _part(_one(o=offering(published_at=at(days))), "freshness")
    if points is None:
        assert part is None
    else:
        assert (part.points, part.params) == (points, {"days": days})


def test_response_record_counts_in_proportion() -> None:
    good = Provider(PROVIDER, "solution_provider", False, response_rate=0.8)
    part = _part(_one(provider=good), "response")
    assert (part.points, part.params) == (4.0, {"rate_pct": 80})
    assert _part(_one(), "response") is None  # no record yet


def test_score_is_the_sum_of_the_parts_within_0_and_100() -> None:
    best = offering(
        published_at=at(1), park_ids=frozenset({PARK}), price_min=100_000, price_max=200_000
    )
    m = _one(
        need(budget_max=500_000), best, provider=Provider(PROVIDER, "x", True, response_rate=1.0)
    )
    assert m is not None
    assert m.score == round(sum(p.points for p in m.parts), 1)
    assert 0 < m.score <= 100


def test_weights_change_the_points() -> None:
    w = Weights(40, {"category": 50, "capability": 50})
    m = _one(weights=w)
    assert m is not None
    assert _part(m, "category").points == 50.0
    assert {p.rule for p in m.parts if p.points} <= {"category", "capability"}


def test_excluded_pairs_are_never_returned() -> None:
    assert _one(excluded=frozenset({(1, 1)})) is None
    assert rank_for_offering(offering(), [need()], context(excluded=frozenset({(1, 1)}))) == []


def test_unknown_organizations_count_as_unverified_and_unsized() -> None:
    got = rank_for_need(need(org_id=999), [offering(org_id=998)], context())
    assert got and _part(got[0], "verified") is None


def test_both_directions_give_the_same_parts() -> None:
    ctx = context(provider=Provider(PROVIDER, "x", True, response_rate=0.5))
    a = rank_for_need(need(budget_max=400_000), [offering(price_min=1000)], ctx)
    b = rank_for_offering(offering(price_min=1000), [need(budget_max=400_000)], ctx)
    assert a == b


def test_dates_are_plain_json() -> None:
    import json

    m = _one(_course_need(), _course(starts_on=date(2027, 1, 5)))
    assert m is not None
    json.dumps([{"rule": p.rule, "points": p.points, "params": dict(p.params)} for p in m.parts])
