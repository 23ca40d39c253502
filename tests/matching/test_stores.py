"""The per-listing caches behind the single-listing rankings: slots valid for the record
they were filled from, text rows in two tiers, provinces as a bitmask."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import scipy.sparse as sp

from bench.match.synth import TODAY, make_pool
from matching import Context, Match, TextModel, load_weights, rank_for_need, recompute_all
from matching import rowstore as rowstore_module
from matching.rowstore import RowStore
from matching.slots import Slots
from tests.matching.factories import context, need, offering, synonyms


def _rows(n: int, width: int, seed: int) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    dense = (rng.random((n, width)) < 0.3) * rng.random((n, width))
    return sp.csr_matrix(dense.astype(np.float32))


def test_a_slot_is_fresh_for_the_same_or_an_equal_record_and_stale_after_a_change() -> None:
    slots = Slots()
    a, b = offering(id=1), offering(id=2)
    at, stale = slots.find([a, b])
    assert at.tolist() == [-1, -1] and stale.tolist() == [0, 1]
    slots.assign(a)
    slots.assign(b)
    at, stale = slots.find([b, a, replace(a)])  # an equal copy counts as the same
    assert at.tolist() == [1, 0, 0] and stale.size == 0
    at, stale = slots.find([replace(a, title="另一个标题"), b])
    assert at.tolist() == [-1, 1] and stale.tolist() == [0]
    # With organizations: a changed organization makes the slot stale too.
    slots.assign(a, "org-1")
    assert slots.find([a], ["org-1"])[1].size == 0
    assert slots.find([a], ["org-2"])[1].tolist() == [0]


def test_row_store_returns_loaded_and_later_rows_in_the_order_asked() -> None:
    store = RowStore()
    base = _rows(6, 9, seed=1)
    recs = [offering(id=i) for i in range(6)]
    store.load(recs, base)
    later = _rows(3, 12, seed=2)  # wider: columns were added since the load
    new = [offering(id=10), replace(recs[2], title="改过的"), offering(id=11)]
    slots = store.put(new, later)
    assert slots.tolist() == [6, 2, 7]
    want = {0: base[0], 1: base[1], 2: later[1], 10: later[0], 11: later[2], 5: base[5]}
    ask = [11, 0, 2, 5, 10, 1]
    at = np.array([{0: 0, 1: 1, 2: 2, 5: 5, 10: 6, 11: 7}[i] for i in ask])
    got = store.rows(at, 12).toarray()
    for r, i in enumerate(ask):
        row = want[i].toarray()[0]
        assert np.array_equal(got[r, : row.size], row) and not got[r, row.size :].any()
    v = np.random.default_rng(3).random(12).astype(np.float32)
    assert np.allclose(store.dots(at, v), got @ v, rtol=1e-6)
    # The changed record's old row is no longer found.
    assert store.lookup([recs[2]])[1].tolist() == [0]


def test_row_store_compacts_replaced_rows_and_keeps_the_live_ones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rowstore_module, "COMPACT_SLACK", 0)
    store = RowStore()
    recs = [offering(id=i) for i in range(4)]
    written = 0
    for round_ in range(8):  # the same ids again and again: old rows become garbage
        x = _rows(4, 8, seed=10 + round_)
        at = store.put(recs, x)
        written += x.nnz
    # Compacted along the way: the buffers hold at most 4x the live rows.
    assert store.used <= 4 * x.nnz < written
    assert np.array_equal(store.rows(at, 8).toarray(), x.toarray())


def test_a_province_beyond_the_bitmask_is_still_served() -> None:
    # Past 62 distinct regions the bitmask gives way to reading the record.
    many = [offering(id=100 + k, regions=(f"测试省{k}",)) for k in range(70)]
    far = "测试省69"
    ranked = rank_for_need(need(province=far), many, context(), limit=100)
    assert [m.offering_id for m in ranked] == [169]


def test_a_candidate_given_twice_is_ranked_once() -> None:
    a, b = offering(id=1), offering(id=2, title="另一个方案")
    ctx = context()
    once = rank_for_need(need(), [a, b], ctx)
    assert rank_for_need(need(), [a, b, replace(a), b], ctx) == once
    assert sorted(m.offering_id for m in once) == [1, 2]


def test_a_changed_listing_is_ranked_by_its_new_text_after_a_full_recompute() -> None:
    pool = make_pool(200, 200, seed=8)
    syn = synonyms()
    ctx = Context(pool.providers, pool.enterprises, load_weights(), syn, TODAY, text=TextModel(syn))
    recompute_all(pool.offerings, pool.needs, ctx, workers=1)
    d = next(x for x in pool.needs if x.open)
    before = rank_for_need(d, pool.offerings, ctx)
    assert before
    best = next(o for o in pool.offerings if o.id == before[0].offering_id)
    # The best offering now says nothing its need says: it drops (its cached row is stale).
    changed = replace(best, title="无关标题", text="完全不同的内容。", tags=())
    offs = [changed if o.id == best.id else o for o in pool.offerings]
    after = {m.offering_id: m for m in rank_for_need(d, offs, ctx, limit=200)}

    def capability(m: Match) -> float:
        return next((p.points for p in m.parts if p.rule == "capability"), 0.0)

    now = after.get(best.id)
    assert now is None or capability(now) < capability(before[0])
