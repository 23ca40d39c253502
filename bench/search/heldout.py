"""Search quality on held-out data: a data set and graded queries that are not in the repository.

    python -m bench.search.heldout DIR

``DIR`` holds ``dataset/`` (a data set in the documented format) and any of
``keyword_queries.json`` and ``plain_queries.json`` (the shape of
seed_data/search/plain_queries.json: ``{"queries": [{"query", "index", "type",
"relevant": {ref: grade}}]}``). The data set is imported into a fresh instance
with ``market import`` and indexed with ``market reindex``; every query then runs
through the same service as the search page and ``market search``, so what is
measured is what a user gets. Prints NDCG@10 per set and per query type, and how
many queries with nothing relevant returned nothing.

The point of held-out data is that nobody tuned the engine, the concept map or
the filler lists against it: keep it outside the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from market import create_app
from market.listing_search import query as search_query
from market.listing_search.query import SearchRequest
from tests.search.test_relevance import ndcg_at_10

SETS = ("keyword_queries.json", "plain_queries.json")


def _run_cli(app: Any, *args: str) -> None:
    result = app.test_cli_runner().invoke(args=list(args), catch_exceptions=False)
    if result.exit_code != 0:
        raise SystemExit(f"market {' '.join(args)} failed: {result.output.strip()}")


def evaluate(queries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """NDCG@10 per type (and "all") and the absent queries answered with nothing."""
    scores: dict[str, list[float]] = defaultdict(list)
    empty_ok = empty_all = 0
    misses: list[tuple[float, str]] = []
    for q in queries:
        text = q.get("query") or q.get("q") or ""
        req = SearchRequest(index=q["index"], q=search_query.clean_query(text), per_page=10)
        refs = [hit.ref for hit in search_query.run(req, facets=False).items]
        if not q["relevant"]:
            empty_all += 1
            empty_ok += not refs
            if refs:
                misses.append((0.0, f"[absent] {text} -> {refs[:3]}"))
            continue
        score = ndcg_at_10(refs, q["relevant"])
        scores["all"].append(score)
        scores[q.get("type", "keyword")].append(score)
        misses.append((score, f"[{q.get('type', 'keyword')}] {text}"))
    return {
        "ndcg10": {t: (round(sum(v) / len(v), 3), len(v)) for t, v in sorted(scores.items())},
        "absent_empty": f"{empty_ok}/{empty_all}",
        "worst": [m for _, m in sorted(misses)[:8]],
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    directory: Path = args.directory.resolve()
    with tempfile.TemporaryDirectory(prefix="heldout-") as tmp:
        os.environ.pop("MARKET_DATABASE_URL", None)
        app = create_app({"INSTANCE": tmp, "SECRET_KEY": "heldout", "SCHEDULER": "off"})
        _run_cli(app, "init")
        _run_cli(app, "import", str(directory / "dataset"))
        _run_cli(app, "reindex")
        for name in SETS:
            path = directory / name
            if not path.exists():
                print(f"{name}: not present")
                continue
            queries = json.loads(path.read_text("utf-8"))["queries"]
            with app.app_context():
                report = evaluate(queries)
            print(f"{name}: {len(queries)} queries")
            for kind, (mean, count) in report["ndcg10"].items():
                print(f"  NDCG@10 {kind:<14} {mean:.3f}  ({count} queries)")
            print(f"  nothing relevant -> no result: {report['absent_empty']}")
            print("  weakest:")
            for line in report["worst"]:
                print(f"    {line}")


if __name__ == "__main__":
    main()
