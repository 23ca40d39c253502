"""The embedded engine's fast scoring path gives exactly what the plain one gives.

``execute._score`` reads postings sparsely (work in proportion to the postings
read, not to the segment's size). The plain version below is the straightforward
one it replaced, a dense array per group and alternative: on a few thousand
synthetic listings and a few hundred queries (the bench mix, the labelled sets,
prefixes, typos, filters, facets, sorts) both must return the same hits in the
same order with the same scores, totals and facet counts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

from bench.search import synth
from bench.search.compare import app_understanding, engine_settings
from bench.search.peers import Embedded
from bench.search.run import FACETS, query_mix
from search.embedded import execute as execute_module
from search.embedded.plan import Group, Plan
from search.embedded.segment import Segment
from search.types import Eq, Sort

Mask = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float32]
ROOT = Path(__file__).resolve().parents[2]


def _queries() -> list[dict[str, Any]]:
    mix = query_mix()
    texts: list[str] = []
    for name, key in (("queries.json", "q"), ("plain_queries.json", "query")):
        file = ROOT / "seed_data" / "search" / name
        if file.exists():
            texts += [q[key] for q in json.loads(file.read_text("utf-8"))["queries"]]
    texts += ["数字化转", "设备上", "scad", "pytohn", "冲压件表面缺陷检测", "智能", "平台 系统"]
    for i, text in enumerate(texts):
        mix.append(
            {
                "q": text,
                "filters": [Eq("kind", "solution")] if i % 7 == 3 else [],
                "facets": FACETS if i % 2 else [],
                "sort": Sort("published_at", "desc") if i % 11 == 5 else None,
            }
        )
    return mix


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Embedded:
    path = tmp_path_factory.mktemp("fast-path")
    engine = Embedded(path, engine_settings(), understand=app_understanding()).create()
    docs = list(synth.documents(6300))
    engine.add(docs[:5000])  # built into a segment at once
    engine.add(docs[5000:6200])  # through the change log, folded into a second segment
    engine.add(docs[6200:])  # still in the log: a segment of its own built at query time
    engine.backend.delete("offerings", [d["id"] for d in docs[:5000:9]])  # holes in the first
    return engine


def _run(engine: Embedded, q: dict[str, Any]) -> tuple[Any, ...]:
    assert engine.understand is not None
    query, asked = engine.understand(q["q"], engine) if q["q"].strip() else (q["q"], [])
    res = engine.backend.search(
        "offerings",
        query,
        filters=[*q["filters"], *asked],
        facets=q["facets"],
        sort=q["sort"],
        per_page=20,
    )
    return res.total, [(h.id, h.score) for h in res.hits], res.facets


def test_the_fast_path_returns_what_the_plain_one_returns(
    engine: Embedded, monkeypatch: pytest.MonkeyPatch
) -> None:
    queries = _queries()
    assert len(queries) > 300
    fast = [_run(engine, q) for q in queries]
    monkeypatch.setattr(execute_module, "_score", dense_score)
    plain = [_run(engine, q) for q in queries]
    for q, f, p in zip(queries, fast, plain, strict=True):
        assert f == p, q["q"]
    # The comparison means something: most queries find listings, many more than a page.
    assert sum(1 for total, _, _ in fast if total > 20) > len(queries) // 3
    assert sum(1 for total, _, _ in fast if total == 0) < len(queries) // 4


# -- the plain path: a dense array per group and per alternative ---------------------------
def dense_score(seg: Segment, plan: Plan, idf: list[float], mask: Mask, total: Floats) -> None:
    """Keep in ``mask`` the documents covering :data:`execute_module.COVERAGE` of the query's
    informativeness and put their scores in ``total``.

    Terms go most informative first, so documents that can no longer reach the
    cut-off are dropped early (and a query about something absent stops there).
    """
    n = seg.n
    worth = execute_module._informativeness(plan, idf)
    need = execute_module.COVERAGE * execute_module._measured(worth) - 1e-6
    order = sorted(range(len(plan.terms)), key=lambda i: -worth[i])
    covered = np.zeros(n, dtype=np.float32)
    left = sum(worth)
    # Per term: documents covering it only through words of 3+ CJK characters
    # matched by their pairs, with those words and the score they gave.
    unchecked: list[tuple[int, Mask, tuple[str, ...], Floats, Floats | None]] = []
    for ti in order:
        term, term_idf = plan.terms[ti], idf[ti]
        t_mask = np.zeros(n, dtype=np.bool_)  # documents covering the whole term
        t_part: Floats | None = None  # the share covered by the others, when any
        t_score = np.zeros(n, dtype=np.float32)
        p_mask: Mask | None = None  # documents holding a phrase alternative's pairs
        phrases: list[str] = []
        for alt in term.alternatives:
            a_mask: Mask | None = None
            a_score = np.zeros(n, dtype=np.float32)
            for group in alt.groups:
                g_mask, g_score = dense_group(seg, group)
                a_mask = g_mask if a_mask is None else a_mask & g_mask
                a_score += g_score
            if a_mask is None:
                continue
            # Documents that missed a group score nothing for this alternative.
            a_score *= a_mask
            a_score *= np.float32(execute_module._alt_weight(alt) * term_idf * term.weight)
            np.maximum(t_score, a_score, out=t_score)
            phrase = execute_module._phrase(alt)
            if alt.cover >= 1.0 and phrase:
                p_mask = a_mask.copy() if p_mask is None else p_mask | a_mask
                phrases.append(phrase)
            elif alt.cover >= 1.0:
                t_mask |= a_mask
            else:
                t_part = np.zeros(n, dtype=np.float32) if t_part is None else t_part
                np.maximum(t_part, np.float32(alt.cover) * a_mask, out=t_part)
        for code, share in term.categories:
            # Filed under the category of a concept the term names: part of the term,
            # ranked as a modest match would be.
            docs = execute_module._category_docs(seg, code)
            if docs.size:
                t_part = np.zeros(n, dtype=np.float32) if t_part is None else t_part
                t_part[docs] = np.maximum(t_part[docs], np.float32(share))
                impact = np.float32(share * execute_module.CATEGORY_IMPACT * term_idf * term.weight)
                t_score[docs] = np.maximum(t_score[docs], impact)
        total += t_score
        if term.bonus:
            continue
        if p_mask is not None:
            only = p_mask & ~t_mask
            t_mask |= p_mask
            if only.any():
                unchecked.append((ti, only, tuple(phrases), t_score, t_part))
        if t_part is None:
            covered += np.float32(worth[ti]) * t_mask
        else:
            covered += np.float32(worth[ti]) * np.maximum(t_part, t_mask)
        left -= worth[ti]
        mask &= covered + np.float32(left) >= need  # can still reach the cut-off
        if not mask.any():
            return
    if unchecked:
        execute_module._check_phrases(seg, unchecked, worth, mask, covered, total)
        mask &= covered >= need
    whole = sum(worth)
    if whole > 0:
        # Rank by BM25F over the terms held, scaled by the share of the query they cover.
        total *= np.minimum(covered / np.float32(whole), 1.0)


def dense_group(seg: Segment, group: Group) -> tuple[Mask, Floats]:
    """Documents holding any key of ``group`` and their best impact."""
    n = seg.n
    g_mask = np.zeros(n, dtype=np.bool_)
    g_score = np.zeros(n, dtype=np.float32)
    vocab = seg.vocab
    first = True
    for key in group.keys:
        i = int(np.searchsorted(vocab, np.uint64(key)))
        if i >= vocab.size or int(vocab[i]) != key:
            continue
        lo, hi = int(seg.offsets[i]), int(seg.offsets[i + 1])
        docs = seg.post_doc[lo:hi].astype(np.intp)
        imp = seg.post_imp[lo:hi]
        g_mask[docs] = True
        # Within one key every document appears once, so plain indexing is safe.
        g_score[docs] = imp if first else np.maximum(g_score[docs], imp)
        first = False
    for r in group.ranges:
        a, b = np.searchsorted(vocab, np.asarray(r, dtype=np.uint64))
        lo, hi = int(seg.offsets[a]), int(seg.offsets[b])
        if hi > lo:
            docs = seg.post_doc[lo:hi].astype(np.intp)
            g_mask[docs] = True
            np.maximum.at(g_score, docs, seg.post_imp[lo:hi].astype(np.float32))
    return g_mask, g_score
