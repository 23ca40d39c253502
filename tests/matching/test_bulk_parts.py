"""The parts a full recompute builds in bulk (one part per distinct parameter key, price
and capability per pair) say exactly what the rule-by-rule functions say."""

from __future__ import annotations

import pytest

from bench.match.synth import TODAY, make_pool
from matching import Context, TextModel, bulk, load_weights, recompute_all
from matching.engine import need_doc, offering_doc
from matching.scoring import finance_params, region_params, soft_params
from tests.matching.factories import synonyms


def test_every_part_of_a_full_recompute_equals_the_reference_functions() -> None:
    pool = make_pool(600, 600, seed=21)
    syn = synonyms()
    ctx = Context(pool.providers, pool.enterprises, load_weights(), syn, TODAY, text=TextModel(syn))
    result = recompute_all(pool.offerings, pool.needs, ctx, limit=10, workers=1)
    needs = {d.id: d for d in pool.needs}
    offs = {o.id: o for o in pool.offerings}
    seen: dict[str, int] = {}
    for ranked in (*result.for_need.values(), *result.for_offering.values()):
        for m in ranked:
            need, off = needs[m.need_id], offs[m.offering_id]
            ent, prov = pool.enterprises.get(need.org_id), pool.providers.get(off.org_id)
            assert round(sum(p.points for p in m.parts), 1) == m.score
            for part in m.parts:
                seen[part.rule] = seen.get(part.rule, 0) + 1
                if part.rule == "region":
                    want = region_params(need, off)
                elif part.rule == "finance_eligibility":
                    want = finance_params(need, off, ent.size if ent else None)
                elif part.rule == "training_dates":
                    assert off.starts_on is not None
                    want = {"starts_on": off.starts_on.isoformat()}
                elif part.rule == "capability":
                    assert 0 < part.params["similarity"] <= 1
                    assert all(isinstance(t, str) and t for t in part.params["terms"])
                    continue
                else:
                    want = soft_params(part.rule, need, off, ent, prov, 0.0, [], TODAY)
                assert dict(part.params) == want, (need.ref, off.ref, part.rule)
    # The pool exercises every rule that leaves a part.
    assert set(seen) >= {
        "region",
        "finance_eligibility",
        "training_dates",
        "category",
        "capability",
        "industry",
        "park",
        "verified",
        "price",
        "freshness",
        "response",
    }, seen


def test_tokenising_on_forked_workers_gives_the_vocabulary_of_one_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(bulk, "TOKENS_INLINE_BELOW", 0)
    monkeypatch.setattr(bulk, "TOKENS_PER_TASK", 70)
    pool = make_pool(300, 300, seed=5)
    need_docs = [need_doc(d) for d in pool.needs]
    off_docs = [offering_doc(o) for o in pool.offerings]
    one, forked = TextModel(synonyms()), TextModel(synonyms())
    serial = one.analyze(need_docs), one.analyze(off_docs)
    parallel = bulk._analyze(forked, need_docs, off_docs, workers=2)
    for a, b in zip(serial, parallel, strict=True):
        assert a.shape == b.shape and (a != b).nnz == 0
    assert one.labels == forked.labels and one.n_cols == forked.n_cols


def test_ranks_give_each_pair_its_place_in_both_lists() -> None:
    pool = make_pool(300, 300, seed=13)
    syn = synonyms()
    ctx = Context(pool.providers, pool.enterprises, load_weights(), syn, TODAY, text=TextModel(syn))
    result = recompute_all(pool.offerings, pool.needs, ctx, limit=5, workers=1)
    need_rank, off_rank = result.ranks()
    every = result.every()
    want_need = {
        (m.need_id, m.offering_id): k
        for ms in result.for_need.values()
        for k, m in enumerate(ms, 1)
    }
    want_off = {
        (m.need_id, m.offering_id): k
        for ms in result.for_offering.values()
        for k, m in enumerate(ms, 1)
    }
    got_need = {
        (m.need_id, m.offering_id): r for m, r in zip(every, need_rank.tolist(), strict=True) if r
    }
    got_off = {
        (m.need_id, m.offering_id): r for m, r in zip(every, off_rank.tolist(), strict=True) if r
    }
    assert got_need == want_need and got_off == want_off
    assert all(n or o for n, o in zip(need_rank.tolist(), off_rank.tolist(), strict=True))
