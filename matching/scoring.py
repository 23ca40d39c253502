"""Every rule, over arrays of pairs.

``i`` and ``j`` index needs and offerings in :class:`~matching.arrays.NeedArrays` /
:class:`~matching.arrays.OfferingArrays`; they broadcast, so ``i[:, None], j[None, :]``
scores a block and two 1-D arrays score a list of pairs — with the same code, which
is why a full recompute and a per-listing ranking agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.arrays import NeedArrays, OfferingArrays, branch_of, industry_bits
from matching.rules import (
    CAPABILITY_SATURATION,
    CATEGORY_BRANCH_SHARE,
    FRESH_FULL_DAYS,
    FRESH_ZERO_DAYS,
    INDUSTRY_SECTION_SHARE,
    NATIONWIDE,
    PRICE_OVERLAP_SHARE,
    SIZES,
)
from matching.types import Enterprise, NeedRecord, OfferingRecord, Provider
from matching.weights import Weights

B = npt.NDArray[np.bool_]
F64 = npt.NDArray[np.float64]
Idx = npt.NDArray[np.intp]
_SECTIONS = "ABCDEFGHIJKLMNOPQRST"


def hard_ok(
    n: NeedArrays,
    o: OfferingArrays,
    i: Idx,
    j: Idx,
    serves: B,
    finance_kind: int,
    training_kind: int,
    today: float,
) -> B:
    """Whether each pair passes every hard rule (``serves`` is the region rule's verdict)."""
    ok = o.public[j] & n.open[i]
    ok = ok & (n.kind[i] == o.kind[j]) & (n.branch[i] == o.branch[j])
    ok = ok & serves
    bmax, plow = n.budget_max[i], o.price_low[j]
    with np.errstate(invalid="ignore"):
        ok = ok & ~(plow > bmax)  # nan compares false: a missing side passes
        is_fin = o.kind[j] == finance_kind
        size = n.size_bit[i]
        size_ok = (size == 0) | ((size & o.sizes[j]) != 0)
        amount = n.amount[i]
        amount_ok = ~(amount < o.amount_min[j]) & ~(amount > o.amount_max[j])
        ok = ok & (~is_fin | (size_ok & amount_ok))
        is_training = o.kind[j] == training_kind
        ok = ok & (~is_training | ~(o.starts_on[j] < today))
    return np.asarray(ok, dtype=np.bool_)


def soft_points(
    n: NeedArrays,
    o: OfferingArrays,
    i: Idx,
    j: Idx,
    park_ok: B,
    cos: F64,
    weights: Weights,
    finance_kind: int,
    today: float,
) -> dict[str, F64]:
    """Points of each soft rule per pair, each rounded to one decimal."""
    shape = np.broadcast_shapes(np.shape(i), np.shape(j))
    zero = np.zeros(shape, dtype=np.float64)
    out: dict[str, F64] = {}
    w = weights.of
    if w("category"):
        leaf = (n.leaf[i] == o.leaf[j]) & (n.leaf[i] >= 0)
        branch = n.branch[i] == o.branch[j]
        out["category"] = np.where(leaf, 1.0, np.where(branch, CATEGORY_BRANCH_SHARE, 0.0)) * w(
            "category"
        )
    if w("capability"):
        out["capability"] = np.minimum(np.asarray(cos, np.float64) / CAPABILITY_SATURATION, 1.0) * (
            w("capability")
        )
    if w("industry"):
        div = ((n.div_lo[i] & o.div_lo[j]) | (n.div_hi[i] & o.div_hi[j])) != 0
        sec = (n.sections[i] & o.sections[j]) != 0
        out["industry"] = np.where(div, 1.0, np.where(sec, INDUSTRY_SECTION_SHARE, 0.0)) * w(
            "industry"
        )
    if w("park"):
        out["park"] = np.where(park_ok, w("park"), 0.0) + zero
    if w("verified"):
        out["verified"] = np.where(o.verified[j], w("verified"), 0.0) + zero
    if w("price"):
        with np.errstate(invalid="ignore"):
            bmax, plow = n.budget_max[i], o.price_low[j]
            phigh = np.where(np.isnan(o.price_max[j]), o.price_min[j], o.price_max[j])
            priced = ~np.isnan(bmax) & ~np.isnan(plow)
            within = priced & (phigh <= bmax)
            overlap = priced & ~within & (plow <= bmax)
            amount = n.amount[i]
            has_range = ~np.isnan(o.amount_min[j]) | ~np.isnan(o.amount_max[j])
            covered = (
                (o.kind[j] == finance_kind)
                & ~np.isnan(amount)
                & has_range
                & ~(amount < o.amount_min[j])
                & ~(amount > o.amount_max[j])
            )
        share = np.where(within | covered, 1.0, np.where(overlap, PRICE_OVERLAP_SHARE, 0.0))
        out["price"] = share * w("price") + zero
    if w("freshness"):
        age = today - o.published[j]
        span = FRESH_ZERO_DAYS - FRESH_FULL_DAYS
        with np.errstate(invalid="ignore"):
            share = np.clip((FRESH_ZERO_DAYS - age) / span, 0.0, 1.0)
        out["freshness"] = np.nan_to_num(share, nan=0.0) * w("freshness") + zero
    if w("response"):
        out["response"] = np.nan_to_num(o.response[j], nan=0.0) * w("response") + zero
    return {k: np.round(v, 1) for k, v in out.items()}


def _tenths(values: list[float]) -> list[int]:
    """``values`` rounded to one decimal as soft_points rounds them, in tenths."""
    return np.rint(np.round(np.asarray(values, dtype=np.float64), 1) * 10).astype(int).tolist()


def score10(
    n: NeedArrays,
    o: OfferingArrays,
    i: Idx,
    j: Idx,
    park_ok: B,
    cos: F64,
    weights: Weights,
    finance_kind: int,
    today: float,
) -> npt.NDArray[np.int32]:
    """``rint(total(soft_points(...)) * 10)`` — each pair's score in tenths — computed
    for a whole block in integers: a rule with a few possible values (category,
    industry, park, price) maps its cases to their rounded tenths, a rule that
    depends on the offering alone (verified, freshness, response) is rounded once per
    offering, and only the capability is rounded per pair. The sum of the parts'
    tenths is the rounded sum, so the result equals the float path exactly."""
    shape = np.broadcast_shapes(np.shape(i), np.shape(j))
    acc = np.zeros(shape, dtype=np.int32)
    w = weights.of
    if w("category"):
        full, part, _ = _tenths([1.0 * w("category"), CATEGORY_BRANCH_SHARE * w("category"), 0.0])
        leaf = (n.leaf[i] == o.leaf[j]) & (n.leaf[i] >= 0)
        branch = n.branch[i] == o.branch[j]
        acc += np.where(leaf, full, np.where(branch, part, 0)).astype(np.int32)
    if w("capability"):
        x = np.minimum(np.asarray(cos, np.float64) / CAPABILITY_SATURATION, 1.0) * w("capability")
        x *= 10  # np.round(x, 1) is rint(x * 10) / 10: its tenths are rint(x * 10)
        acc += np.rint(x, out=x).astype(np.int32)
    if w("industry"):
        full, part, _ = _tenths([1.0 * w("industry"), INDUSTRY_SECTION_SHARE * w("industry"), 0.0])
        div = ((n.div_lo[i] & o.div_lo[j]) | (n.div_hi[i] & o.div_hi[j])) != 0
        sec = (n.sections[i] & o.sections[j]) != 0
        acc += np.where(div, full, np.where(sec, part, 0)).astype(np.int32)
    if w("park"):
        (full,) = _tenths([w("park")])
        acc += np.where(park_ok, full, 0).astype(np.int32)
    if w("price"):
        full, part, _ = _tenths([1.0 * w("price"), PRICE_OVERLAP_SHARE * w("price"), 0.0])
        with np.errstate(invalid="ignore"):
            bmax, plow = n.budget_max[i], o.price_low[j]
            phigh = np.where(np.isnan(o.price_max[j]), o.price_min[j], o.price_max[j])
            priced = ~np.isnan(bmax) & ~np.isnan(plow)
            within = priced & (phigh <= bmax)
            overlap = priced & ~within & (plow <= bmax)
            amount = n.amount[i]
            has_range = ~np.isnan(o.amount_min[j]) | ~np.isnan(o.amount_max[j])
            covered = (
                (o.kind[j] == finance_kind)
                & ~np.isnan(amount)
                & has_range
                & ~(amount < o.amount_min[j])
                & ~(amount > o.amount_max[j])
            )
        acc += np.where(within | covered, full, np.where(overlap, part, 0)).astype(np.int32)
    # The offering-only rules: once per offering (j), then broadcast.
    alone = Weights(weights.threshold, {r: w(r) for r in _OFFERING_ONLY})
    none = np.zeros(np.shape(j), dtype=np.intp)
    only = soft_points(
        n, o, none, j, none.astype(np.bool_), none.astype(np.float64), alone, finance_kind, today
    )
    for v in only.values():
        acc += np.rint(v * 10).astype(np.int32)
    return acc


_OFFERING_ONLY = ("verified", "freshness", "response")  # rules that read the offering alone


def total(points: Mapping[str, F64]) -> F64:
    """The score of each pair: the sum of its (rounded) parts, rounded to one decimal."""
    it = iter(points.values())
    first = next(it, None)
    if first is None:
        return np.zeros(0)
    acc = np.array(first, dtype=np.float64, copy=True)
    for v in it:
        acc = acc + v
    return np.round(acc, 1)


@lru_cache(maxsize=65536)
def shared_industry(need_codes: tuple[str, ...], off_codes: tuple[str, ...]) -> tuple[str, str]:
    """The code a reason names: the first shared division, else the shared section."""
    n_div = {c.strip().upper() for c in need_codes if len(c.strip()) == 3}
    o_div = {c.strip().upper() for c in off_codes if len(c.strip()) == 3}
    common = sorted(n_div & o_div)
    if common:
        return common[0], "division"
    _, _, ns = industry_bits(tuple(need_codes))
    _, _, os_ = industry_bits(tuple(off_codes))
    both = ns & os_
    for k, letter in enumerate(_SECTIONS):
        if both >> k & 1:
            return letter, "section"
    return "", ""


def region_params(need: NeedRecord, off: OfferingRecord) -> dict[str, Any]:
    """The region rule's params: how the offering serves the need's place (its park,
    its province, else nationwide)."""
    if need.park_id in off.park_ids:
        return {"scope": "park", "park_id": need.park_id}
    if need.province in off.regions:
        return {"scope": "province", "province": need.province}
    return {"scope": "nationwide", "province": NATIONWIDE}


def finance_params(need: NeedRecord, off: OfferingRecord, size: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if size:
        params["size"] = size
    if off.eligible_sizes:
        params["eligible_sizes"] = [s for s in SIZES if s in off.eligible_sizes]
    if need.amount is not None:
        params["amount"] = need.amount
    if off.amount_min is not None:
        params["amount_min"] = off.amount_min
    if off.amount_max is not None:
        params["amount_max"] = off.amount_max
    return params


def soft_params(
    rule: str,
    need: NeedRecord,
    off: OfferingRecord,
    enterprise: Enterprise | None,
    provider: Provider | None,
    cos: float,
    terms: list[str],
    today: date,
) -> dict[str, Any]:
    if rule == "category":
        if need.category == off.category and "." in need.category:
            return {"category": need.category, "level": "leaf"}
        return {"category": branch_of(need.category), "level": "branch"}
    if rule == "capability":
        return {"terms": list(terms), "similarity": round(float(cos), 3)}
    if rule == "industry":
        codes = need.industries or (enterprise.industries if enterprise is not None else ())
        code, level = shared_industry(tuple(codes), tuple(off.industries))
        return {"industry": code, "level": level}
    if rule == "park":
        return {"park_id": need.park_id}
    if rule == "verified":
        return {}
    if rule == "price":
        if off.kind == "finance" and need.amount is not None:
            out: dict[str, Any] = {"position": "covered", "amount": need.amount}
            if off.amount_min is not None:
                out["amount_min"] = off.amount_min
            if off.amount_max is not None:
                out["amount_max"] = off.amount_max
            return out
        high = off.price_max if off.price_max is not None else off.price_min
        within = high is not None and need.budget_max is not None and high <= need.budget_max
        out = {"position": "within" if within else "overlap"}
        for key, value in (
            ("price_min", off.price_min),
            ("price_max", off.price_max),
            ("budget_min", need.budget_min),
            ("budget_max", need.budget_max),
        ):
            if value is not None:
                out[key] = value
        return out
    if rule == "freshness":
        if off.published_at is None:
            return {}
        return {"days": max(0, (today - off.published_at.date()).days)}
    if rule == "response":
        rate = provider.response_rate if provider is not None else None
        return {} if rate is None else {"rate_pct": round(float(rate) * 100)}
    raise KeyError(rule)
