"""Benchmark of the embedded search engine on synthetic listings.

Usage: python bench/search/run.py --docs 100000 [--dir DIR] [--keep]

Builds an index of ``--docs`` synthetic listings (bench/search/synth.py), then in
a fresh process (as a gunicorn worker would be) runs a fixed mix of 200 queries
(selective and broad, with and without facets, filters, sort, prefixes and
typos) once to warm up and once measured. Prints build time and documents/s,
query latency p50/p95/p99 (all, with facets, without), index size on disk and
peak memory (resource.getrusage) of the build and of the query process.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path[:0] = [str(ROOT), str(Path(__file__).resolve().parent)]

import synth  # noqa: E402

from market.listing_search.indexing import file_concepts  # noqa: E402
from search.embedded import EmbeddedBackend  # noqa: E402
from search.listings import listing_settings  # noqa: E402
from search.types import Eq, Filter, In, Range, Sort  # noqa: E402

INDEX = "offerings"
FACETS = ["kind", "categories", "regions", "industries", "org_kind", "price_band", "parks"]
SELECTIVE = [
    "冲压件 表面 缺陷 检测",
    "注塑机 设备上云",
    "等保测评 汽车零部件",
    "PLC 培训",
    "融资租赁 设备",
    "锂电池 能耗管理",
    "标识解析 二级节点",
    "MES 排产",
    "5G专网 AGV",
    "数字孪生 虚拟调试",
    "scada 数据采集",
    "光伏组件 碳足迹",
    "供应链金融 应收账款",
    "工控安全 防火墙",
    "OEE 注塑机",
]
BROAD = [
    "平台",
    "系统",
    "数据采集",
    "设备上云",
    "质检",
    "mes",
    "等保",
    "数字化转型",
    "服务",
    "智能",
]
PREFIXES = ["数字化转", "Er", "设备上", "工业互", "scad", "融资", "数"]
TYPOS = ["scdaa", "sacda", "pytohn"]
MEMORY_NOTE = "peak RSS (ru_maxrss)"


def query_mix(seed: int = 11) -> list[dict[str, Any]]:
    """200 queries, the same for every run: text, filters, facets and sort."""
    rng = random.Random(seed)
    mix: list[dict[str, Any]] = []
    for i in range(200):
        pool = [SELECTIVE, BROAD, PREFIXES, TYPOS][
            0 if i % 5 < 2 else 1 if i % 5 < 4 else 2 + i % 2
        ]
        filters: list[Filter] = []
        if rng.random() < 0.3:
            filters.append(Eq("regions", rng.choice(synth.PROVINCES)))
        if rng.random() < 0.15:
            filters.append(In("kind", ("solution", "training")))
        if rng.random() < 0.1:
            filters.append(Range("price_min", gte=50_000, lte=1_000_000))
        mix.append(
            {
                "q": "" if i % 25 == 0 else rng.choice(pool),
                "filters": filters,
                "facets": FACETS if i % 2 == 0 else [],
                "sort": Sort("published_at", "desc") if rng.random() < 0.15 else None,
            }
        )
    return mix


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def peak_mb() -> float:
    """Peak resident memory of this process in MiB.

    /proc's VmHWM is this process's own high-water mark; ru_maxrss would carry
    the parent's over fork+exec. resource.getrusage is the fallback elsewhere.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(path: Path, count: int) -> dict[str, Any]:
    synonyms = file_concepts().synonym_groups()
    backend = EmbeddedBackend({"path": str(path)})
    backend.configure(INDEX, listing_settings(synonyms))
    t0 = time.perf_counter()
    docs = list(synth.documents(count))
    generated = time.perf_counter() - t0
    t0 = time.perf_counter()
    backend.add_bulk(INDEX, docs)
    seconds = time.perf_counter() - t0
    backend.close()
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return {
        "docs": count,
        "generate_s": round(generated, 1),
        "build_s": round(seconds, 1),
        "docs_per_s": round(count / seconds),
        "index_mb": round(size / 2**20),
        "build_peak_mb": round(peak_mb()),
    }


def measure(path: Path) -> dict[str, Any]:
    backend = EmbeddedBackend({"path": str(path)})
    mix = query_mix()
    t0 = time.perf_counter()
    backend.search(INDEX, "平台")  # opening the index (memory-maps the segments)
    opened = time.perf_counter() - t0
    for q in mix:  # warm-up pass: page cache and numpy code paths
        backend.search(INDEX, q["q"], filters=q["filters"], facets=q["facets"], sort=q["sort"])
    all_ms: list[float] = []
    facet_ms: list[float] = []
    plain_ms: list[float] = []
    for q in mix:
        t0 = time.perf_counter()
        backend.search(INDEX, q["q"], filters=q["filters"], facets=q["facets"], sort=q["sort"])
        ms = (time.perf_counter() - t0) * 1000
        all_ms.append(ms)
        (facet_ms if q["facets"] else plain_ms).append(ms)
    sugg: list[float] = []
    for p in PREFIXES * 3:
        t0 = time.perf_counter()
        backend.suggest(INDEX, p)
        sugg.append((time.perf_counter() - t0) * 1000)

    def stats(v: list[float]) -> dict[str, float]:
        return {f"p{p}": round(percentile(v, p), 1) for p in (50, 95, 99)}

    return {
        "open_ms": round(opened * 1000),
        "all": stats(all_ms),
        "with_facets": stats(facet_ms),
        "without_facets": stats(plain_ms),
        "suggest": stats(sugg),
        "query_peak_mb": round(peak_mb()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--dir", type=Path)
    parser.add_argument("--keep", action="store_true", help="keep the index directory")
    parser.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure_only:
        print(json.dumps(measure(args.dir)))
        return
    path = args.dir or Path(tempfile.mkdtemp(prefix="search-bench-"))
    try:
        result = build(path, args.docs)
        # Query in a fresh process: its memory is what a serving worker needs.
        out = subprocess.run(
            [sys.executable, __file__, "--measure-only", "--dir", str(path)],
            check=True,
            capture_output=True,
            text=True,
        )
        result.update(json.loads(out.stdout))
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(path, ignore_errors=True)
    print(json.dumps(result, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
