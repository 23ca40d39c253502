"""Ranking order, blocking, complements, and the full recompute against per-listing rankings."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from bench.match.synth import TODAY as SYNTH_TODAY
from bench.match.synth import Pool, make_pool
from matching import (
    Blocking,
    Context,
    Enterprise,
    OfferingRecord,
    TextModel,
    blocking_for_need,
    blocking_for_offering,
    complements_for_need,
    load_weights,
    rank_for_need,
    rank_for_offering,
    recompute_all,
)
from tests.matching.factories import ENTERPRISE, PARK, TODAY, context, need, offering, synonyms


def test_ranking_sorts_by_score_then_id_and_honours_the_limit() -> None:
    offs = [
        offering(id=5, title="仓储WMS", text="条码入库", tags=("WMS",)),
        offering(id=3),
        offering(id=2),  # same text as 3: same score, lower id first
        offering(id=4, category="application.mes"),
    ]
    got = rank_for_need(need(), offs, context())
    assert [m.offering_id for m in got] == [2, 3, 4, 5]
    assert [m.score for m in got] == sorted((m.score for m in got), reverse=True)
    assert [m.offering_id for m in rank_for_need(need(), offs, context(), limit=2)] == [2, 3]
    assert rank_for_need(need(), offs, context(), limit=0) == []
    assert rank_for_need(need(), [], context()) == []


def test_ranking_needs_for_an_offering() -> None:
    nds = [
        need(id=7, title="仓储WMS", text="条码入库", tags=("WMS",)),
        need(id=8),
        need(id=9, open=False),
    ]
    got = rank_for_offering(offering(), nds, context())
    assert [m.need_id for m in got] == [8, 7]


def test_pairs_scoring_zero_are_dropped() -> None:
    zero = load_weights().from_dict({"threshold": 0, "weights": {"park": 5}})
    assert rank_for_need(need(), [offering()], context(weights=zero)) == []


def test_blocking_for_need_names_kind_branch_and_place() -> None:
    assert blocking_for_need(need()) == Blocking(("solution",), "application", "江苏省", PARK)


def test_blocking_for_offering_lists_its_provinces_and_parks() -> None:
    b = blocking_for_offering(offering(regions=("江苏省", "浙江省"), park_ids=frozenset({3})))
    assert (b.kinds, b.category_prefix, b.province, b.park_id) == (
        ("solution",),
        "application",
        None,
        None,
    )
    assert b.provinces == ("江苏省", "浙江省") and b.park_ids == frozenset({3})
    one = blocking_for_offering(offering())
    assert one.province == "江苏省" and one.provinces == ("江苏省",)
    nation = blocking_for_offering(offering(regions=("全国",)))
    assert nation.province is None and nation.provinces is None


def _finance(**kw: Any) -> OfferingRecord:
    base = offering(
        kind="finance",
        category="finance.loan",
        title="技改贷：数字化改造与设备更新贷款",
        text="支持企业购置视觉检测等设备",
        tags=("技改贷",),
        regions=("全国",),
    )
    return replace(base, **kw)


def _course(**kw: Any) -> OfferingRecord:
    base = offering(
        kind="training",
        category="talent.internship",
        title="机器视觉调试实操班",
        text="视觉检测相机调试",
        tags=("机器视觉",),
        starts_on=TODAY + timedelta(days=20),
    )
    return replace(base, **kw)


def test_complements_offer_eligible_finance_and_fitting_courses() -> None:
    n = need(budget_min=200_000, budget_max=500_000)
    small = Enterprise(ENTERPRISE, "small", "江苏省", PARK, ("C36",))
    offs = [
        offering(id=1),
        _finance(id=10, amount_min=100_000, amount_max=5_000_000),
        _finance(id=11, eligible_sizes=("large",)),  # size not eligible
        _finance(id=12, amount_min=1_000_000, amount_max=5_000_000),  # far above the project
        _finance(id=13, regions=("浙江省",)),  # does not serve the place
        _course(id=20),
        _course(id=21, starts_on=TODAY - timedelta(days=1)),  # started
        _course(id=22, title="财务软件入门", text="会计", tags=("财务",), industries=("I65",)),
    ]
    got = complements_for_need(n, offs, context(enterprise=small))
    assert [m.offering_id for m in got["finance"]] == [10]
    assert [m.offering_id for m in got["training"]] == [20]
    fin = {p.rule: p for p in got["finance"][0].parts}["finance_eligibility"]
    assert fin.params["budget"] == 500_000 and "amount" not in fin.params
    assert all(p.rule not in ("category", "price") for m in got["training"] for p in m.parts)
    assert complements_for_need(need(kind="training"), offs, context()) == {
        "finance": [],
        "training": [],
    }


def _pool_ctx(pool: Pool) -> Context:
    syn = synonyms()
    return Context(
        pool.providers, pool.enterprises, load_weights(), syn, SYNTH_TODAY, text=TextModel(syn)
    )


def test_recompute_all_equals_the_per_listing_rankings() -> None:
    pool = make_pool(400, 400, seed=3)
    ctx = _pool_ctx(pool)
    ex_need = next(d for d in pool.needs if d.open)
    first = rank_for_need(ex_need, pool.offerings, ctx, limit=1)
    excluded = frozenset({(ex_need.id, first[0].offering_id)}) if first else frozenset()
    ctx = replace(ctx, excluded=excluded)
    seen: list[tuple[int, int]] = []
    result = recompute_all(
        pool.offerings,
        pool.needs,
        ctx,
        limit=10,
        workers=2,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1] > 1
    assert set(result.for_need) == {d.id for d in pool.needs if d.open}
    assert set(result.for_offering) == {o.id for o in pool.offerings if o.public}
    for d in pool.needs:
        if d.open:
            assert result.for_need[d.id] == rank_for_need(d, pool.offerings, ctx, 10), d.ref
    for o in pool.offerings:
        if o.public:
            assert result.for_offering[o.id] == rank_for_offering(o, pool.needs, ctx, 10), o.ref
    if first:
        assert first[0].offering_id not in {m.offering_id for m in result.for_need[ex_need.id]}
    # A pair in both lists is one object.
    nid = next(k for k, v in result.for_need.items() if v)
    m = result.for_need[nid][0]
    assert (
        any(x is m for x in result.for_offering[m.offering_id])
        or len(result.for_offering[m.offering_id]) == 10
    )


def test_recompute_inline_and_forked_agree() -> None:
    pool = make_pool(300, 300, seed=9)
    a = recompute_all(pool.offerings, pool.needs, _pool_ctx(pool), workers=1)
    b = recompute_all(pool.offerings, pool.needs, _pool_ctx(pool), workers=2)
    assert dict(a.for_need) == dict(b.for_need)
    assert dict(a.for_offering) == dict(b.for_offering)
    assert a.pairs == b.pairs > 0


def test_recompute_of_an_empty_pool() -> None:
    result = recompute_all([], [], context())
    assert dict(result.for_need) == {} and dict(result.for_offering) == {}
