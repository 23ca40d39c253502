"""Benchmark of the matcher on synthetic pools.

Usage: python -m bench.match [--sizes 10000,100000] [--workers 2] [--samples 200]

For each size N it builds a pool of N offerings and N needs (bench/match/synth.py),
then measures:

* the full recompute (``recompute_all``: top 20 for every open need and every
  public offering) — wall time and the peak RSS of this process and its workers;
* building every Match with its reasons from that result (what the app does when
  it stores the recommendations);
* the per-listing incremental ranking (``rank_for_need`` / ``rank_for_offering``
  over the listing's blocked candidates, features cached) — p50/p95 over
  ``--samples`` listings, half needs and half offerings;

and finally how the full recompute grows from the smallest to the largest size.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from bench.match.synth import TODAY, Pool, make_pool
from market.listing_search.indexing import file_concepts
from matching import (
    Context,
    NeedRecord,
    OfferingRecord,
    TextModel,
    blocking_for_need,
    blocking_for_offering,
    load_weights,
    rank_for_need,
    rank_for_offering,
    recompute_all,
)

ROOT = Path(__file__).resolve().parents[2]


def _rss_mb() -> tuple[float, float]:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, kids


def _candidates_for_need(pool: Pool, need: NeedRecord) -> list[OfferingRecord]:
    """What the app's SQL filter returns for ``blocking_for_need`` (not timed)."""
    b = blocking_for_need(need)
    return [
        o
        for o in pool.offerings
        if o.kind in b.kinds
        and (o.category == b.category_prefix or o.category.startswith(b.category_prefix + "."))
        and ("全国" in o.regions or b.province in o.regions or b.park_id in o.park_ids)
        and o.public
    ]


def _candidates_for_offering(pool: Pool, off: OfferingRecord) -> list[NeedRecord]:
    b = blocking_for_offering(off)
    return [
        d
        for d in pool.needs
        if d.kind in b.kinds
        and (d.category == b.category_prefix or d.category.startswith(b.category_prefix + "."))
        and (b.provinces is None or d.province in b.provinces or d.park_id in b.park_ids)
        and d.open
    ]


def _pct(values: Sequence[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(q * (len(s) - 1)))]


def run(size: int, workers: int, samples: int) -> float:
    t = time.perf_counter()
    pool = make_pool(size, size)
    took = time.perf_counter() - t
    print(f"\n== {size:,} offerings x {size:,} needs (generated in {took:.1f} s)")
    synonyms = file_concepts().synonym_groups()
    ctx = Context(
        pool.providers, pool.enterprises, load_weights(), synonyms, TODAY, text=TextModel(synonyms)
    )
    shown = [-1]

    def progress(done: int, total: int) -> None:
        pct = done * 100 // max(total, 1)
        if pct >= shown[0] + 10 or done == total:
            shown[0] = pct
            print(f"   recompute: {done}/{total} units ({pct}%)", file=sys.stderr)

    t = time.perf_counter()
    result = recompute_all(
        pool.offerings, pool.needs, ctx, limit=20, workers=workers, progress=progress
    )
    compute = time.perf_counter() - t
    t = time.perf_counter()
    n_need = sum(len(result.for_need[k]) for k in result.for_need)
    n_off = sum(len(result.for_offering[k]) for k in result.for_offering)
    build = time.perf_counter() - t
    own, kids = _rss_mb()
    print(f"full recompute (top 20 both ways, {workers} workers): {compute:.1f} s")
    print(
        f"   needs ranked {len(result.for_need):,}, matches {n_need:,}; offerings ranked "
        f"{len(result.for_offering):,}, matches {n_off:,}; distinct pairs {result.pairs:,}"
    )
    print(f"building every Match with reasons: {build:.1f} s (total {compute + build:.1f} s)")
    print(f"peak RSS: main {own:,.0f} MB, largest worker {kids:,.0f} MB")
    # Other work on the machine slows every figure: show it next to them.
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)")

    rng = random.Random(5)
    open_needs = [d for d in pool.needs if d.open]
    public = [o for o in pool.offerings if o.public]
    times: list[float] = []
    cand_sizes: list[int] = []
    for _ in range(samples // 2):
        need = rng.choice(open_needs)
        cands = _candidates_for_need(pool, need)
        t = time.perf_counter()
        rank_for_need(need, cands, ctx)
        times.append((time.perf_counter() - t) * 1000)
        cand_sizes.append(len(cands))
        off = rng.choice(public)
        nds = _candidates_for_offering(pool, off)
        t = time.perf_counter()
        rank_for_offering(off, nds, ctx)
        times.append((time.perf_counter() - t) * 1000)
        cand_sizes.append(len(nds))
    print(
        f"incremental ({len(times)} listings, median {_pct(cand_sizes, 0.5):,.0f} candidates, "
        f"max {max(cand_sizes):,}): p50 {_pct(times, 0.5):.1f} ms, p95 {_pct(times, 0.95):.1f} ms"
    )
    return compute + build


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.match", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated pool sizes")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--samples", type=int, default=200)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    totals = {s: run(s, args.workers, args.samples) for s in sizes}
    if len(sizes) >= 2:
        lo, hi = min(sizes), max(sizes)
        print(
            f"\ngrowth {lo:,} -> {hi:,} ({hi / lo:.0f}x listings): "
            f"{totals[hi] / totals[lo]:.1f}x time (targets: <= 120 s at 100k, p95 <= 50 ms)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
