"""Relevance of the embedded engine on the demo data: NDCG@10 over labelled queries."""

from __future__ import annotations

import json
import math

import pytest

from search import SearchBackend, create_backend
from search.listings import listing_settings
from tests.search.conftest import ROOT, SYNONYMS, demo_documents

QUERIES = ROOT / "seed_data" / "search" / "queries.json"
REQUIRED_NDCG = 0.88


def ndcg_at_10(ranked: list[str], grades: dict[str, int]) -> float:
    """Normalised discounted cumulative gain of the top ten (gain 2^grade - 1)."""
    dcg = sum((2 ** grades.get(ref, 0) - 1) / math.log2(i + 2) for i, ref in enumerate(ranked[:10]))
    ideal = sorted(grades.values(), reverse=True)[:10]
    idcg = sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 1.0


@pytest.fixture(scope="module")
def demo_backend(tmp_path_factory: pytest.TempPathFactory) -> SearchBackend:
    backend = create_backend("embedded", {"path": str(tmp_path_factory.mktemp("demo"))})
    for name in ("offerings", "needs"):
        backend.configure(name, listing_settings(SYNONYMS))
        backend.add_bulk(name, demo_documents(name))
    return backend


def test_labelled_queries_reach_required_ndcg(demo_backend: SearchBackend) -> None:
    queries = json.loads(QUERIES.read_text("utf-8"))["queries"]
    assert len(queries) >= 30
    scores = {}
    for q in queries:
        hits = demo_backend.search(q["index"], q["q"], per_page=10).hits
        scores[(q["index"], q["q"])] = ndcg_at_10([h.id for h in hits], q["relevant"])
    mean = sum(scores.values()) / len(scores)
    worst = sorted(scores.items(), key=lambda kv: kv[1])[:5]
    assert mean >= REQUIRED_NDCG, f"NDCG@10 {mean:.3f}; worst: {worst}"


def test_labels_name_listings_that_exist() -> None:
    refs = {d["id"] for name in ("offerings", "needs") for d in demo_documents(name)}
    for q in json.loads(QUERIES.read_text("utf-8"))["queries"]:
        assert set(q["relevant"]) <= refs, q["q"]


def test_hidden_demo_records_are_never_returned(demo_backend: SearchBackend) -> None:
    hidden = {d["id"] for d in demo_documents("offerings") if d["status"] != "published"}
    assert hidden
    seen = {h.id for h in demo_backend.search("offerings", "", per_page=1000).hits}
    assert not seen & hidden


def test_ndcg_of_a_perfect_ranking_is_one() -> None:
    assert ndcg_at_10(["a", "b"], {"a": 3, "b": 1}) == pytest.approx(1.0)
    assert ndcg_at_10(["b", "a"], {"a": 3, "b": 1}) < 1.0
