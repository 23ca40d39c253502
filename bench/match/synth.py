"""Synthetic resource pools for the matching benchmark.

Titles, tags and texts are drawn from the field's vocabulary (the category terms of
bench/search/synth.py, equipment, processes, products, synonyms), listings are spread
over provinces and parks unevenly as real ones are, with budgets, prices, finance
amounts and eligible sizes, and course dates. Deterministic for a given seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bench.search.synth import (
    ADJ,
    CATEGORIES,
    EQUIPMENT,
    GOALS,
    INDUSTRIES,
    PROCESSES,
    PRODUCTS,
    PROVINCES,
    VERBS,
)
from matching import Enterprise, NeedRecord, OfferingRecord, Provider

TODAY = date(2026, 11, 20)
SIZES = ("large", "medium", "small", "micro")
ASKS = ["想做", "希望引入", "计划建设", "需要", "考虑上", "寻找"]
PAINS = ["人工统计慢", "漏检率高", "设备停机多", "数据不通", "能耗偏高", "交期不稳", "客户审核要求"]


@dataclass
class Pool:
    providers: dict[int, Provider]
    enterprises: dict[int, Enterprise]
    offerings: list[OfferingRecord]
    needs: list[NeedRecord]
    park_province: dict[int, str]


def _kind(code: str) -> str:
    return {"finance": "finance", "talent": "training"}.get(code.split(".")[0], "solution")


def _sentence(rng: random.Random, terms: list[str]) -> str:
    return (
        f"{rng.choice(['面向', '针对', '服务'])}{rng.choice(PRODUCTS)}企业"
        f"{rng.choice(PROCESSES)}环节，基于{rng.choice(terms)}与{rng.choice(EQUIPMENT)}"
        f"{rng.choice(VERBS)}{rng.choice(GOALS)}，{rng.choice(VERBS)}{rng.choice(GOALS)}。"
    )


def make_pool(n_offerings: int, n_needs: int, seed: int = 11) -> Pool:
    """A pool of ``n_offerings`` offerings and ``n_needs`` needs."""
    rng = random.Random(seed)
    codes = list(CATEGORIES)
    # Provinces weighted like a real platform: a few carry most parks and listings.
    weights = [1.0 / (1 + i * 0.35) for i in range(len(PROVINCES))]
    n_parks = 60
    park_province = {1000 + p: rng.choices(PROVINCES, weights)[0] for p in range(n_parks)}
    parks = list(park_province)
    n_providers = max(50, n_offerings // 20)
    providers = {
        i: Provider(
            i,
            "solution_provider",
            rng.random() < 0.7,
            rng.choice(PROVINCES),
            None if rng.random() < 0.4 else round(rng.random(), 2),
        )
        for i in range(1, n_providers + 1)
    }
    n_ent = max(50, n_needs // 4)
    enterprises: dict[int, Enterprise] = {}
    for k in range(n_ent):
        eid = 100_000_000 + k
        park = rng.choice(parks)
        enterprises[eid] = Enterprise(
            eid,
            rng.choice(SIZES),
            park_province[park],
            park,
            tuple(rng.sample(INDUSTRIES, k=rng.randint(1, 2))),
        )
    ent_ids = list(enterprises)
    offerings = []
    for n in range(n_offerings):
        code = rng.choice(codes)
        _name, terms = CATEGORIES[code]
        kind = _kind(code)
        if rng.random() < 0.05:
            code = code.split(".")[0]
        term = rng.choice(terms)
        suffix = rng.choice(["解决方案", "服务", "平台", "系统"])
        title = f"{rng.choice(PRODUCTS)}{rng.choice(ADJ)}{term}{suffix}"
        regions: tuple[str, ...] = (
            ("全国",) if rng.random() < 0.15 else tuple(rng.sample(PROVINCES, k=rng.randint(1, 3)))
        )
        park_ids = (
            frozenset(rng.sample(parks, k=rng.randint(1, 2))) if rng.random() < 0.2 else frozenset()
        )
        pmin = pmax = amin = amax = None
        sizes: tuple[str, ...] = ()
        starts = None
        if kind == "finance":
            amin = rng.choice([100_000, 500_000, 1_000_000, 5_000_000])
            amax = amin * rng.choice([10, 20, 50])
            sizes = tuple(s for s in SIZES if rng.random() < 0.7)
        elif rng.random() < 0.8:
            pmin = rng.randrange(1, 300) * 5_000
            pmax = pmin * rng.choice([1, 2, 3, 5])
        if kind == "training":
            starts = TODAY + timedelta(days=rng.randint(-60, 240))
        offerings.append(
            OfferingRecord(
                id=n + 1,
                ref=f"S-{n + 1:07d}",
                org_id=rng.randint(1, n_providers),
                kind=kind,
                category=code,
                title=title,
                text="".join(_sentence(rng, terms) for _ in range(rng.randint(2, 4))),
                tags=tuple(rng.sample(terms, k=min(3, len(terms)))),
                industries=tuple(rng.sample(INDUSTRIES, k=rng.randint(1, 3)))
                if rng.random() < 0.6
                else ("C",),
                regions=regions,
                park_ids=park_ids,
                price_min=pmin,
                price_max=pmax,
                amount_min=amin,
                amount_max=amax,
                eligible_sizes=sizes,
                starts_on=starts,
                public=rng.random() < 0.95,
                published_at=datetime(2026, 1, 1) + timedelta(days=rng.randint(0, 320)),
            )
        )
    needs = []
    for n in range(n_needs):
        code = rng.choice(codes)
        _name, terms = CATEGORIES[code]
        kind = _kind(code)
        ent = enterprises[rng.choice(ent_ids)]
        assert ent.park_id is not None and ent.province is not None
        term = rng.choice(terms)
        title = f"{rng.choice(EQUIPMENT)}{rng.choice(ASKS)}{term}，{rng.choice(PAINS)}"
        text = (
            f"我们是{rng.choice(PRODUCTS)}生产企业，{rng.choice(PROCESSES)}环节{rng.choice(PAINS)}，"
            + _sentence(rng, terms)
        )
        bmin = bmax = amount = None
        if kind == "finance":
            amount = rng.choice([300_000, 1_000_000, 3_000_000, 8_000_000, 20_000_000])
        elif rng.random() < 0.8:
            bmax = rng.randrange(2, 400) * 10_000
            bmin = bmax // 2 if rng.random() < 0.6 else None
        needs.append(
            NeedRecord(
                id=n + 1,
                ref=f"D-{n + 1:07d}",
                org_id=ent.id,
                park_id=ent.park_id,
                province=ent.province,
                kind=kind,
                category=code,
                title=title,
                text=text,
                tags=(*rng.sample(terms, k=2), rng.choice(PRODUCTS)),
                industries=ent.industries,
                budget_min=bmin,
                budget_max=bmax,
                amount=amount,
                open=rng.random() < 0.9,
            )
        )
    return Pool(providers, enterprises, offerings, needs, park_province)
