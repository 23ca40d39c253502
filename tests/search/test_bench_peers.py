"""The peers of bench/search (tantivy, SQLite FTS5) answer like the embedded engine
where their semantics agree, so the side-by-side figures compare the same work.

A few hundred synthetic listings, all three engines, seconds: if a peer stops
building, finding or counting facets, this fails instead of the bench quietly
reporting numbers of something else.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.search import peers, synth
from bench.search.compare import engine_settings, relevance
from search.text import bigram_key, is_cjk, keys_of, latin_key, normalize, uni_key
from search.types import Eq, In, Range, Sort

MARK = "zqxw"  # a Latin word no listing holds; 4 letters, so no engine tries typos on it
PEERS = ("tantivy", "fts5")


def _pool() -> list[dict[str, Any]]:
    docs = list(synth.documents(300, seed=3))
    for i, d in enumerate(docs):
        if i % 7 == 0:
            d["tags"] = [*d["tags"], MARK]
    # One word in one title and in one description: the title must win in every engine.
    docs[10]["title"] = "qvkx 冲压件视觉质检平台"
    docs[11]["description"] += " 另附 qvkx 接口说明。"
    return docs


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, peers.Engine]:
    docs = _pool()
    built = {}
    for name in ("embedded", *PEERS):
        engine = peers.make(name, tmp_path_factory.mktemp(name), engine_settings())
        peers.build(engine, [docs[:150], docs[150:]])
        built[name] = engine
    return built


def test_peers_are_given_the_tokens_the_embedded_engine_indexes() -> None:
    docs = _pool()
    for doc, fields in zip(docs, peers.presegment(docs), strict=True):
        for name, text in zip(peers.FIELDS, fields, strict=True):
            keys = [
                latin_key(t)
                if not is_cjk(t[0])
                else uni_key(t)
                if len(t) == 1
                else bigram_key(t[0], t[1])
                for t in text.split()
            ]
            assert keys == keys_of(normalize(peers.field_text(doc, name))), (doc["id"], name)


def _nonzero(facets: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    return {f: {v: n for v, n in c.items() if n} for f, c in facets.items()}


@pytest.mark.parametrize("peer", PEERS)
def test_peer_finds_the_title_hit_first(engines: dict[str, peers.Engine], peer: str) -> None:
    ids = engines[peer].search("qvkx").ids
    assert ids[:2] == [_pool()[10]["id"], _pool()[11]["id"]]
    assert engines["embedded"].search("qvkx").ids[:2] == ids[:2]


@pytest.mark.parametrize("peer", PEERS)
@pytest.mark.parametrize(
    ("q", "filters"),
    [
        (MARK, ()),
        (MARK, (Eq("regions", "江苏省"),)),
        ("", (In("kind", ("solution", "training")), Range("price_min", gte=50_000, lte=1_000_000))),
        ("", (Eq("parks", "P-007"),)),
    ],
)
def test_peer_counts_matches_and_facets_as_the_embedded_engine(
    engines: dict[str, peers.Engine], peer: str, q: str, filters: tuple[Any, ...]
) -> None:
    ours = engines["embedded"].search(q, filters, peers.FACET_FIELDS)
    theirs = engines[peer].search(q, filters, peers.FACET_FIELDS)
    assert ours.total > 0
    assert theirs.total == ours.total
    assert _nonzero(theirs.facets) == _nonzero(ours.facets)
    assert set(theirs.facets) == set(peers.FACET_FIELDS)


@pytest.mark.parametrize("peer", PEERS)
def test_peer_sorts_and_filters_like_the_embedded_engine(
    engines: dict[str, peers.Engine], peer: str
) -> None:
    args = ("", (Eq("regions", "浙江省"),), (), Sort("published_at", "desc"), 5)
    assert engines[peer].search(*args).ids == engines["embedded"].search(*args).ids


def test_relevance_side_scores_every_engine_on_the_keyword_set(tmp_path: Path) -> None:
    result = relevance(("embedded", *PEERS), tmp_path)
    for name in ("embedded", *PEERS):
        row = result["keyword"][name]
        assert row["queries"] >= 30
        # BM25 over bigrams does well on two-word keyword queries; far below this
        # means a peer lost its fields or tokens.
        assert row["ndcg10"]["all"] > 0.7, (name, row)
