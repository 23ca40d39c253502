"""Small records for the matcher's unit tests: one need, one offering, one context."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from market.listing_search.indexing import file_concepts
from matching import (
    Context,
    Enterprise,
    NeedRecord,
    OfferingRecord,
    Provider,
    TextModel,
    Weights,
    load_weights,
)

TODAY = date(2026, 11, 20)
ENTERPRISE = 100
PROVIDER = 200
PARK = 10


@lru_cache(maxsize=1)
def synonyms() -> tuple[tuple[str, ...], ...]:
    return file_concepts().synonym_groups()


def need(**kw: Any) -> NeedRecord:
    base = NeedRecord(
        id=1,
        ref="D-1",
        org_id=ENTERPRISE,
        park_id=PARK,
        province="江苏省",
        kind="solution",
        category="application.quality",
        title="冲压件表面缺陷视觉检测",
        text="冲压线末端靠人工目检，想加装机器视觉检测划痕和凹坑。",
        tags=("机器视觉", "缺陷检测", "冲压件"),
        industries=("C36",),
    )
    return replace(base, **kw)


def offering(**kw: Any) -> OfferingRecord:
    base = OfferingRecord(
        id=1,
        ref="S-1",
        org_id=PROVIDER,
        kind="solution",
        category="application.quality",
        title="冲压件表面缺陷AI视觉检测",
        text="基于深度学习的机器视觉，在线检测冲压件划痕、凹坑和开裂。",
        tags=("机器视觉", "缺陷检测"),
        industries=("C36",),
        regions=("江苏省",),
    )
    return replace(base, **kw)


def context(
    *,
    weights: Weights | None = None,
    enterprise: Enterprise | None = None,
    provider: Provider | None = None,
    today: date = TODAY,
    excluded: frozenset[tuple[int, int]] = frozenset(),
) -> Context:
    ent = enterprise or Enterprise(ENTERPRISE, "medium", "江苏省", PARK, ("C36",))
    prov = provider or Provider(PROVIDER, "solution_provider", False)
    syn = synonyms()
    return Context(
        {prov.id: prov},
        {ent.id: ent},
        weights or load_weights(),
        syn,
        today,
        excluded,
        text=_model(),
    )


@lru_cache(maxsize=1)
def _model() -> TextModel:
    # Shared by the unit tests (its cache is keyed by listing and checks the text);
    # never fitted here, so the idf always comes from the listings being ranked.
    return TextModel(synonyms())


def at(days_ago: int) -> datetime:
    """A publication time ``days_ago`` days before TODAY."""
    return datetime.combine(TODAY.fromordinal(TODAY.toordinal() - days_ago), datetime.min.time())
