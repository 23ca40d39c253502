"""The embedded engine against tantivy and SQLite FTS5: speed and relevance, side by side.

Usage: python -m bench.search [--sizes 100000,1000000] [--engines embedded,tantivy,fts5]
                              [--dir DIR] [--keep] [--no-relevance] [--json]

For each size: every engine builds its index from the same synthetic pool
(bench/search/synth.py) in a process of its own (build documents/s, peak RSS
with, in brackets, the part that is the batch of generated documents held
meanwhile, size on disk; generating the documents is not timed). Then one fresh process
opens all the indexes and runs the query mix of bench/search/run.py (200
queries, half with the 7 facets, filters and sorts where the query has them,
top 20) once to warm up and once measured, *interleaved*: each query goes to
every engine in turn (rotating who goes first), so a burst of load from the
other users of the machine falls on all engines alike. It prints p50/p95/p99
without and with facets, each peer's p95 over ours, the mean number of matches
(the engines' semantics differ, so their work differs) and the load average at
start and end.

Then relevance: NDCG@10 of each engine over seed_data/demo on the labelled sets
seed_data/search/queries.json and, when present, plain_queries.json (per query
type), with the NDCG function of tests/search/test_relevance.py.

See bench/search/peers.py for what each engine is given and how it matches.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from bench.search import peers, synth
from bench.search.run import FACETS, peak_mb, percentile, query_mix
from market.listing_search import indexing
from market.listing_search import understanding as search_understanding
from search.listings import listing_settings
from search.types import Filter, IndexSettings, Query
from search.understand import PlaceName, Understander

ROOT = Path(__file__).resolve().parents[2]
ENGINES = ("embedded", "tantivy", "fts5")
BATCH = 131_072  # two of the embedded engine's segments per bulk write
LABELLED = {
    "keyword": ROOT / "seed_data" / "search" / "queries.json",
    "plain": ROOT / "seed_data" / "search" / "plain_queries.json",
}
TOP_K = 20
TYPED = "embedded, words as typed"  # the relevance row without query understanding


def engine_settings() -> IndexSettings:
    """The settings the app gives both listing indexes: the concept map's synonym
    groups as market/services/indexing.py reads them outside an app (files only)."""
    return listing_settings(indexing.synonyms())


def app_understanding(parks: Sequence[tuple[str, str]] = ()) -> peers.Understand:
    """The app's understanding of typed words without an app: the concept files, the
    fixed places (provinces, cities) and ``parks`` (ref, name), the index's own
    vocabulary for corrections, and the filters places and a budget ask for
    (market/services/search_understanding.py)."""
    places = [*search_understanding.fixed_places()]
    places += [PlaceName(name, "park", ref, name) for ref, name in parks]
    understander = Understander(indexing.file_concepts(), places)

    def understand(q: str, engine: peers.Embedded) -> tuple[Query, list[Filter]]:
        understood = understander.understand(q, engine)
        return understood.query, search_understanding.engine_filters(understood)

    return understand


def demo_parks() -> list[tuple[str, str]]:
    rows = json.loads((ROOT / "seed_data" / "demo" / "parks.json").read_text("utf-8"))
    return [(p["ref"], p["name"]) for p in rows]


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _batches(count: int) -> Iterator[tuple[list[dict[str, Any]], float]]:
    """The pool in batches, each with the seconds it took to generate."""
    it = synth.documents(count)
    done = 0
    while done < count:
        t0 = time.perf_counter()
        batch = [next(it) for _ in range(min(BATCH, count - done))]
        done += len(batch)
        yield batch, time.perf_counter() - t0


def rss_mb() -> float:
    """This process's resident memory now (VmRSS), in MiB; 0 where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# -- one engine's build (its own process) ---------------------------------------------------
def build_one(name: str, size: int, path: Path) -> dict[str, Any]:
    engine = peers.make(name, path, engine_settings())
    seconds = 0.0
    before = rss_mb()
    batch_mb = 0.0
    for batch, _ in _batches(size):
        batch_mb = batch_mb or rss_mb() - before
        t0 = time.perf_counter()
        engine.add(batch)
        seconds += time.perf_counter() - t0
    t0 = time.perf_counter()
    engine.finish()
    seconds += time.perf_counter() - t0
    engine.close()
    disk = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return {
        "build_s": round(seconds, 1),
        "docs_per_s": round(size / seconds),
        "disk_mb": round(disk / 2**20),
        "build_peak_mb": round(peak_mb()),
        "batch_mb": round(batch_mb),  # the generated documents held while building
    }


# -- all engines' queries, interleaved (one fresh process) ----------------------------------
def measure(paths: dict[str, Path], warmup: int = 200) -> dict[str, Any]:
    settings = engine_settings()
    understand = app_understanding()
    engines = {n: peers.reopen(n, p, settings, understand) for n, p in paths.items()}
    names = list(engines)
    mix = query_mix()
    for e in engines.values():
        e.search("平台")  # opening the index (maps files, loads the term dictionary)
    times: dict[str, dict[str, list[float]]] = {n: defaultdict(list) for n in names}
    totals: dict[str, dict[str, list[int]]] = {n: defaultdict(list) for n in names}
    slowest: dict[str, list[tuple[float, str]]] = {n: [] for n in names}
    for measured in (False, True):  # a warm-up pass, then the measured one
        for i, q in enumerate(mix if measured else mix[:warmup]):
            for j in range(len(names)):
                name = names[(i + j) % len(names)]
                t0 = time.perf_counter()
                ans = engines[name].search(q["q"], q["filters"], q["facets"], q["sort"], TOP_K)
                ms = (time.perf_counter() - t0) * 1000
                if measured:
                    kind = "with_facets" if q["facets"] else "without_facets"
                    times[name][kind].append(ms)
                    totals[name][kind].append(ans.total)
                    label = f"{q['q'] or '(empty)'}{' +facets' if q['facets'] else ''}"
                    slowest[name].append((ms, label + "".join(f" {f}" for f in q["filters"])))
    for e in engines.values():
        e.close()
    out: dict[str, Any] = {"query_process_peak_mb": round(peak_mb())}
    for n in names:
        out[n] = {
            kind: {
                **{f"p{p}": round(percentile(v, p), 1) for p in (50, 95, 99)},
                "mean_matches": round(sum(totals[n][kind]) / len(totals[n][kind])),
            }
            for kind, v in times[n].items()
        }
        out[n]["slowest"] = [(round(ms), q) for ms, q in sorted(slowest[n], reverse=True)[:3]]
    return out


def _child(*args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.search", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"bench.search {' '.join(args[:2])} failed (exit {out.returncode})")
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def speed(size: int, names: Sequence[str], base: Path, warmup: int = 200) -> dict[str, Any]:
    """Build each engine at ``size`` (a process each), then query them all in one."""
    result: dict[str, Any] = {
        "docs": size,
        "load_start": load(),
        "warmup_queries": warmup,
        "engines": {},
    }
    paths = {}
    for name in names:
        path = base / f"{name}-{size}"
        shutil.rmtree(path, ignore_errors=True)
        built = _child("--build-one", name, "--size", str(size), "--dir", str(path))
        result["engines"][name] = {"build": built}
        paths[name] = path
    measured = _child(
        "--measure", json.dumps({n: str(p) for n, p in paths.items()}), "--warmup", str(warmup)
    )
    result["query_process_peak_mb"] = measured.pop("query_process_peak_mb")
    for name in names:
        result["engines"][name].update(measured[name])
    result["load_end"] = load()
    return result


# -- relevance over the demo data ----------------------------------------------------------
def relevance(names: Sequence[str], base: Path) -> dict[str, Any]:
    """NDCG@10 of each engine on each labelled set present (tests' NDCG function)."""
    # The relevance tests' own pieces: the demo listings as the app indexes them
    # (全国 stands for every province) and their NDCG function.
    from tests.search.test_issue_queries import documents as demo_documents
    from tests.search.test_relevance import ndcg_at_10

    settings = engine_settings()
    understand = app_understanding(demo_parks())
    # The embedded engine twice: as the app searches (words understood first) and
    # given the words as typed, to show what understanding adds or costs.
    rows_of = [*names, *([TYPED] if "embedded" in names else [])]
    engines: dict[str, dict[str, peers.Engine]] = {}
    for name in rows_of:
        engines[name] = {}
        for index in ("offerings", "needs"):
            path = base / f"demo-{'embedded-typed' if name == TYPED else name}-{index}"
            shutil.rmtree(path, ignore_errors=True)
            if name in ("embedded", TYPED):
                how = understand if name == "embedded" else None
                engine: peers.Engine = peers.Embedded(path, settings, index, how).create()
            else:
                engine = peers.make(name, path, settings)
            peers.build(engine, [demo_documents(index)])
            engines[name][index] = engine
    out: dict[str, Any] = {}
    for label, file in LABELLED.items():
        if not file.exists():
            out[label] = None
            continue
        queries = json.loads(file.read_text("utf-8"))["queries"]
        rows: dict[str, Any] = {}
        for name in rows_of:
            graded: dict[str, list[float]] = defaultdict(list)
            empty_ok = empty_all = 0
            for q in queries:
                # The keyword set names the text "q", the plain-language set "query".
                text = q["q"] if "q" in q else q["query"]
                ids = engines[name][q["index"]].search(text, k=10).ids
                if not q["relevant"]:  # nothing relevant: the right answer is no result
                    empty_all += 1
                    empty_ok += not ids
                    continue
                score = ndcg_at_10(ids, q["relevant"])
                graded["all"].append(score)
                if "type" in q:
                    graded[q["type"]].append(score)
            rows[name] = {
                "queries": len(graded["all"]),
                "ndcg10": {t: round(sum(v) / len(v), 3) for t, v in graded.items()},
                "nothing_relevant_returned_nothing": f"{empty_ok}/{empty_all}",
            }
        out[label] = rows
    for by_index in engines.values():
        for engine in by_index.values():
            engine.close()
    return out


# -- printing ------------------------------------------------------------------------------
def print_speed(r: dict[str, Any]) -> None:
    print(
        f"\n== {r['docs']:,} documents  (load average {r['load_start']} -> {r['load_end']}; "
        f"warm-up {r['warmup_queries']} queries)"
    )
    head = (
        f"{'engine':9} {'build docs/s':>12} {'disk MB':>8} {'build RSS (docs)':>16} | "
        f"{'no facets p50/p95/p99 ms':>25} {'matches':>8} | "
        f"{'facets p50/p95/p99 ms':>25} {'matches':>8} | p95 vs ours (no/with facets)"
    )
    print(head)
    ours = r["engines"].get("embedded")
    for name, e in r["engines"].items():
        b = e["build"]
        cells = []
        for kind in ("without_facets", "with_facets"):
            s = e[kind]
            cells.append(
                f"{s['p50']:>7.1f} /{s['p95']:>7.1f} /{s['p99']:>7.1f} {s['mean_matches']:>8,}"
            )
        ratio = "-"
        if ours and name != "embedded":
            ratio = " / ".join(
                f"{e[k]['p95'] / max(ours[k]['p95'], 0.01):.2f}x"
                for k in ("without_facets", "with_facets")
            )
        print(
            f"{name:9} {b['docs_per_s']:>12,} {b['disk_mb']:>8,} "
            f"{b['build_peak_mb']:>6,} ({b['batch_mb']:>5,}) MB | "
            f"{cells[0]} | {cells[1]} | {ratio}"
        )
    print(f"query process (all engines open) peak RSS {r['query_process_peak_mb']:,} MB")
    for name, e in r["engines"].items():
        print(f"slowest {name}: " + "; ".join(f"{ms} ms {q}" for ms, q in e["slowest"]))


def print_relevance(rel: dict[str, Any]) -> None:
    print("\n== relevance over seed_data/demo: NDCG@10 (mean over queries with a relevant listing)")
    for label, rows in rel.items():
        if rows is None:
            print(f"{label}: {LABELLED[label].relative_to(ROOT)} not present")
            continue
        print(f"{label} ({LABELLED[label].relative_to(ROOT)}):")
        for name, row in rows.items():
            types = ", ".join(f"{t} {v:.3f}" for t, v in row["ndcg10"].items() if t != "all")
            print(
                f"  {name:26} {row['ndcg10'].get('all', 0):.3f} over {row['queries']} queries"
                f"; nothing relevant -> no result {row['nothing_relevant_returned_nothing']}"
                + (f"\n  {'':26} by type: {types}" if types else "")
            )


def commit() -> str:
    try:
        out = subprocess.run(
            ["git", "log", "-1", "--format=%h %cd", "--date=format:%Y-%m-%d %H:%M"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", "search", "seed_data"],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=True,
        ).stdout.strip()
        return out.stdout.strip() + (
            " (search/ or seed_data/ has uncommitted changes)" if dirty else ""
        )
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000", help="comma-separated pool sizes")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--dir", type=Path, help="where the indexes go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the indexes")
    parser.add_argument("--no-relevance", action="store_true")
    parser.add_argument(
        "--warmup",
        type=int,
        default=200,
        help="queries of the mix run once before measuring (default: all 200)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.add_argument("--build-one", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.build_one:
        print(json.dumps(build_one(args.build_one, args.size, args.dir)))
        return
    if args.measure:
        paths = {n: Path(p) for n, p in json.loads(args.measure).items()}
        print(json.dumps(measure(paths, args.warmup)))
        return
    names = [n.strip() for n in args.engines.split(",") if n.strip()]
    unknown = set(names) - set(ENGINES)
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(sorted(unknown))}; choose from {ENGINES}")
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    base = args.dir or Path(tempfile.mkdtemp(prefix="search-peers-"))
    report: dict[str, Any] = {
        "commit": commit(),
        "cores": os.cpu_count(),
        "top_k": TOP_K,
        "facets": FACETS,
        "semantics": {n: peers.SEMANTICS[n] for n in names},
        "speed": [],
    }
    if not args.json:
        print(f"bench/search peers at {report['commit']}; {report['cores']} cores")
        for n in names:
            print(f"  {n}: {peers.SEMANTICS[n]}")
    try:
        for size in sizes:
            r = speed(size, names, base, args.warmup)
            report["speed"].append(r)
            if not args.json:
                print_speed(r)
        if not args.no_relevance:
            report["relevance"] = relevance(names, base)
            if not args.json:
                print_relevance(report["relevance"])
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1))
