"""Catalogue benchmark: publish an edition of 10,000 entries with every export.

Usage: python bench/catalogue.py [--supply 7000] [--demand 3000] [--check]
                                 [--database-url postgresql+psycopg://…]

Builds one park whose catalogue proposes ``--supply`` offerings and ``--demand`` open
needs (bulk inserts into SQLite in a temporary folder by default, or the given
database, whose tables are dropped and recreated), then times what publishing costs:
compiling the proposals, freezing the entries, numbering, and writing the XLSX, PDF,
CSV and JSON data set (+ zip). Prints each step, the total against the 20 s target and
the peak resident memory. Exits 1 with --check when the total misses the target.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from market import create_app  # noqa: E402
from market.core.extensions import db  # noqa: E402
from market.models import Need, Offering, Organization, Park, utcnow  # noqa: E402

TARGET_S = 20.0
CATEGORIES = (
    "network.5g_private",
    "identifier.traceability",
    "platform.equipment_cloud",
    "platform.data_collection",
    "security.protection",
    "application.mes",
    "application.quality",
    "application.energy",
)
WORDS = ("冲压件", "表面缺陷", "视觉检测", "设备上云", "能耗监测", "5G专网", "MES", "数字孪生")


def build(supply: int, demand: int) -> Park:
    rng = random.Random(7)
    park = Park(
        ref="P-BENCH", name="基准测试园区", province="江苏省", level="national", zone_type="other"
    )
    db.session.add(park)
    db.session.flush()
    providers = [
        Organization(ref=f"O-P{i}", name=f"基准服务商{i}有限公司", kind="solution_provider")
        for i in range(200)
    ]
    enterprises = [
        Organization(ref=f"O-E{i}", name=f"基准企业{i}有限公司", kind="enterprise", park_id=park.id)
        for i in range(300)
    ]
    db.session.add_all(providers + enterprises)
    db.session.flush()
    now = utcnow()
    later = now + timedelta(days=365)

    def title(i: int) -> str:
        return "".join(rng.sample(WORDS, 3)) + f"解决方案{i}"

    rows: list[dict[str, Any]] = [
        {
            "ref": f"S-B{i:06d}",
            "org_id": providers[i % len(providers)].id,
            "kind": "solution",
            "category": CATEGORIES[i % len(CATEGORIES)],
            "title": title(i),
            "summary": "面向园区制造企业的" + title(i) + "，含部署、培训与运维服务。",
            "description": "详细说明" * 20,
            "tags": ["基准"],
            "industries": ["C36"],
            "regions": ["江苏省"],
            "price_min": 100000 + i,
            "price_max": 300000 + i,
            "price_unit": "元/项目",
            "status": "published",
            "published_at": now,
            "expires_at": later,
            "eligible_sizes": [],
        }
        for i in range(supply)
    ]
    db.session.execute(insert(Offering), rows)
    rows = [
        {
            "ref": f"D-B{i:06d}",
            "org_id": enterprises[i % len(enterprises)].id,
            "park_id": park.id,
            "kind": "solution",
            "category": CATEGORIES[i % len(CATEGORIES)],
            "title": "需要" + title(i),
            "description": "企业现状与需求说明" * 10,
            "tags": ["基准"],
            "industries": ["C36"],
            "budget_min": 200000,
            "budget_max": 500000,
            "status": "open",
            "published_at": now,
        }
        for i in range(demand)
    ]
    db.session.execute(insert(Need), rows)
    db.session.commit()
    return park


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supply", type=int, default=7000)
    parser.add_argument("--demand", type=int, default=3000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    from market.catalogue import compile as compile_
    from market.catalogue import exports as catalogue_exports
    from market.catalogue import service

    with tempfile.TemporaryDirectory(prefix="bench-catalogue-") as tmp:
        config: dict[str, Any] = {"INSTANCE": tmp, "SECRET_KEY": "bench", "TESTING": True}
        if args.database_url:
            config["DATABASE_URL"] = args.database_url
        app = create_app(config)
        with app.app_context():
            db.drop_all()
            db.create_all()
            park = build(args.supply, args.demand)
            print(f"built a park with {args.supply} offerings and {args.demand} open needs")
            steps: list[tuple[str, float]] = []
            start = time.perf_counter()
            edition = service.new_edition(compile_.park_scope(park), None)
            service.publish(edition, None)
            db.session.commit()
            steps.append(("compile + freeze + number", time.perf_counter() - start))
            exporter = catalogue_exports.Exporter(edition)
            for fmt in catalogue_exports.FORMATS:
                t = time.perf_counter()
                exporter.write([fmt])
                steps.append((f"export {fmt}", time.perf_counter() - t))
            total = time.perf_counter() - start
            entries = edition.supply_count + edition.demand_count
            for name, seconds in steps:
                print(f"  {name:<28} {seconds:6.2f} s")
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
            verdict = "ok" if total <= TARGET_S else "MISSED"
            print(
                f"published {entries} entries with all exports in {total:.2f} s "
                f"(target {TARGET_S:.0f} s: {verdict}); peak memory {peak_mb:.0f} MB; "
                f"load average {load} on {os.cpu_count()} cores"
            )
            db.session.remove()
            db.drop_all()
            db.engine.dispose()
    return 1 if args.check and total > TARGET_S else 0


if __name__ == "__main__":
    sys.exit(main())
