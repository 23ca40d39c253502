"""End-to-end benchmark of ``market match --all``: database in, database out.

Usage: python -m bench.match.store [--size 10000] [--passes 2] [--workers 2]
                                   [--database-url postgresql+psycopg://…/bench_match] [--check]

``python -m bench.match`` times the matcher alone on in-memory records. This one times
what the product runs: ``market.recommendations.service.recompute_all`` loading every
listing from the database (``match_records``), the matcher's recompute, turning the
result into rows (``recompute.pairs_of``) and replacing the ``recommendations``
table (``match_recompute.write_all``).

It builds a throwaway instance (SQLite in a temporary folder by default; with
``--database-url`` a PostgreSQL database whose tables are dropped and recreated —
never the test suite's ``test`` database) and bulk-inserts parks, organizations,
``size`` offerings and ``size`` needs whose content comes from
``bench.match.synth.make_pool(size, size)``: the same titles, texts, tags, categories,
regions, parks, prices, budgets, amounts, sizes, industries, course dates, public/open
states and verified providers as ``bench/match``, dates shifted to today, and docking
requests that give the providers their response records. Non-public offerings are
stored as drafts and closed needs as closed, so the loader leaves them out as it does
in production.

Each pass runs ``recompute_all`` in a fresh process (as ``market match --all`` is),
so its peak RSS is its own and not the bulk load's. Pass 1 fills an empty table;
pass 2 replaces the rows pass 1 stored, as the nightly recompute does (its write reads
every stored pair's ``first_seen_at`` and deletes the old rows). Per pass it prints
the phases (loading, the matcher's recompute, building the Match objects with their
reasons — the result builds them on first access, inside ``pairs_of`` — the rest of
``pairs_of``, ``write_all``, the rest) and the total, the rows written, the peak RSS
of the process and of its largest worker, and the load average before and after (the
machine may be shared). On PostgreSQL the table is vacuumed and analysed between
passes, as autovacuum would (not timed). ``--check`` exits 1 when a pass's total
exceeds 120 s.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text
from sqlalchemy.engine import make_url

from bench.match.synth import TODAY, Pool, make_pool

TARGET_SECONDS = 120.0
BATCH = 20_000  # rows per bulk insert
# Docking requests per provider with a response record: its rate is answered / this.
REQUESTS_PER_RATED = 10
FORBIDDEN_DATABASES = frozenset({"test"})  # the test suite's database (make test-postgres)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "unavailable"
    return f"{one:.2f} {five:.2f} {fifteen:.2f} ({os.cpu_count()} CPUs)"


def _config(instance: str, database_url: str | None) -> dict[str, Any]:
    config: dict[str, Any] = {
        "INSTANCE": instance,
        "SECRET_KEY": "bench",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
    }
    if database_url:
        config["DATABASE_URL"] = database_url
    return config


# --- building the instance -----------------------------------------------------------------


def _insert(table: Any, rows: Iterable[dict[str, Any]], label: str, total: int) -> None:
    from market.core.extensions import db

    batch: list[dict[str, Any]] = []
    done = 0
    shown = -1

    def flush() -> None:
        nonlocal done, shown, batch
        db.session.execute(insert(table), batch)
        done += len(batch)
        batch = []
        pct = done * 100 // max(total, 1)
        if pct >= shown + 20 or done == total:
            shown = pct
            say(f"   inserting {label}: {done:,}/{total:,}")

    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            flush()
    if batch:
        flush()


def build(pool: Pool) -> dict[str, int]:
    """Bulk-insert ``pool`` into the app's (empty) database; returns the row counts."""
    from market.core.extensions import db
    from market.models import Need, Offering, Organization, Park, offering_parks, utcnow
    from market.models.docking import Docking

    now = utcnow()
    # The pool is dated around synth.TODAY; the app's matcher ranks as of today.
    shift = now.date() - TODAY
    created = now - timedelta(days=400)
    stamps = {"created_at": created, "updated_at": created}
    rng = random.Random(23)  # only for what the pool does not say (need dates, dockings)

    def when(value: datetime | None) -> datetime | None:
        return None if value is None else (value + shift).replace(tzinfo=UTC)

    parks = [
        {
            "id": pid,
            "ref": f"P-M{pid:05d}",
            "name": f"基准园区{pid}",
            "province": province,
            "city": "",
            "level": "national",
            "zone_type": "high_tech",
            "industries": [],
            "description": "",
            **stamps,
        }
        for pid, province in pool.park_province.items()
    ]
    _insert(Park.__table__, parks, "parks", len(parks))

    def org_rows() -> Iterator[dict[str, Any]]:
        for p in pool.providers.values():
            yield {
                "id": p.id,
                "ref": f"O-MP{p.id:08d}",
                "name": f"基准服务商{p.id}",
                "kind": p.kind,
                "province": p.province or "",
                "city": "",
                "park_id": None,
                "size": None,
                "industries": [],
                "description": "",
                "verified": p.verified,
                **stamps,
            }
        for e in pool.enterprises.values():
            yield {
                "id": e.id,
                "ref": f"O-ME{e.id:09d}",
                "name": f"基准企业{e.id}",
                "kind": "enterprise",
                "province": e.province or "",
                "city": "",
                "park_id": e.park_id,
                "size": e.size,
                "industries": list(e.industries),
                "description": "",
                "verified": True,
                **stamps,
            }

    n_orgs = len(pool.providers) + len(pool.enterprises)
    _insert(Organization.__table__, org_rows(), "organizations", n_orgs)

    def offering_rows() -> Iterator[dict[str, Any]]:
        for o in pool.offerings:
            yield {
                "id": o.id,
                "ref": o.ref,
                "org_id": o.org_id,
                "kind": o.kind,
                "category": o.category,
                "title": o.title,
                "summary": "",
                "description": o.text,
                "tags": list(o.tags),
                "industries": list(o.industries),
                "regions": list(o.regions),
                "price_min": o.price_min,
                "price_max": o.price_max,
                "amount_min": o.amount_min,
                "amount_max": o.amount_max,
                "eligible_sizes": list(o.eligible_sizes),
                "starts_on": None if o.starts_on is None else o.starts_on + shift,
                "status": "published" if o.public else "draft",
                "published_at": when(o.published_at),
                "expires_at": None,
                **stamps,
            }

    _insert(Offering.__table__, offering_rows(), "offerings", len(pool.offerings))
    links = [
        {"offering_id": o.id, "park_id": pid} for o in pool.offerings for pid in sorted(o.park_ids)
    ]
    _insert(offering_parks, links, "offering parks", len(links))

    def need_rows() -> Iterator[dict[str, Any]]:
        for d in pool.needs:
            yield {
                "id": d.id,
                "ref": d.ref,
                "org_id": d.org_id,
                "park_id": d.park_id,
                "kind": d.kind,
                "category": d.category,
                "title": d.title,
                "description": d.text,
                "tags": list(d.tags),
                "industries": list(d.industries),
                "budget_min": d.budget_min,
                "budget_max": d.budget_max,
                "amount": d.amount,
                "term_months": d.term_months,
                "deadline": None,
                "status": "open" if d.open else "closed",
                "published_at": now - timedelta(days=rng.randint(1, 300)),
                **stamps,
            }

    _insert(Need.__table__, need_rows(), "needs", len(pool.needs))

    # Response records: REQUESTS_PER_RATED judged requests per provider that has a rate,
    # round(rate * REQUESTS_PER_RATED) of them answered within the week.
    first_offering: dict[int, int] = {}
    for o in pool.offerings:
        first_offering.setdefault(o.org_id, o.id)
    ent_ids = list(pool.enterprises)
    asked = now - timedelta(days=30)

    def docking_rows() -> Iterator[dict[str, Any]]:
        k = 0
        for p in pool.providers.values():
            if p.response_rate is None or p.id not in first_offering:
                continue
            answered = round(p.response_rate * REQUESTS_PER_RATED)
            for r in range(REQUESTS_PER_RATED):
                k += 1
                ent = rng.choice(ent_ids)
                yield {
                    "id": k,
                    "ref": f"K-M{k:08d}",
                    "kind": "request",
                    "offering_id": first_offering[p.id],
                    "need_id": None,
                    "enterprise_org_id": ent,
                    "provider_org_id": p.id,
                    "initiator_org_id": ent,
                    "park_id": pool.enterprises[ent].park_id,
                    "message": "",
                    "status": "accepted" if r < answered else "requested",
                    "certified": False,
                    "source": "listing",
                    "answered_at": asked + timedelta(days=2) if r < answered else None,
                    "created_at": asked,
                    "updated_at": asked,
                }

    rated = sum(
        1 for p in pool.providers.values() if p.response_rate is not None and p.id in first_offering
    )
    _insert(Docking.__table__, docking_rows(), "docking requests", rated * REQUESTS_PER_RATED)
    db.session.commit()
    return {
        "parks": len(parks),
        "organizations": n_orgs,
        "offerings": len(pool.offerings),
        "public offerings": sum(o.public for o in pool.offerings),
        "needs": len(pool.needs),
        "open needs": sum(d.open for d in pool.needs),
        "offering parks": len(links),
        "docking requests": rated * REQUESTS_PER_RATED,
    }


# --- one measured pass (in a fresh process) --------------------------------------------------


@contextmanager
def _timed(marks: dict[str, float]) -> Iterator[None]:
    """Wrap the steps ``recompute_all`` calls so their start and end are recorded."""
    from market.recommendations import recompute as match_recompute
    from market.recommendations import service

    def wrap(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            marks[f"{name}_start"] = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                marks[f"{name}_end"] = time.perf_counter()

        return timed

    def pairs_of(result: Any) -> Any:
        # The result builds its Match objects (with their reasons) on first access:
        # build them first, timed on their own, then pairs_of reads them.
        marks["matches_start"] = time.perf_counter()
        if hasattr(result, "every"):
            result.every()
        marks["matches_end"] = time.perf_counter()
        return wrap("pairs", saved[1])(result)

    saved = (service._recompute_all, match_recompute.pairs_of, match_recompute.write_all)
    service._recompute_all = wrap("recompute", saved[0])
    match_recompute.pairs_of = pairs_of
    match_recompute.write_all = wrap("write", saved[2])
    try:
        yield
    finally:
        service._recompute_all, match_recompute.pairs_of, match_recompute.write_all = saved


def measure(instance: str, database_url: str | None, workers: int) -> dict[str, Any]:
    """``recompute_all`` once with each phase timed (runs in its own process)."""
    from market import create_app
    from market.recommendations import service

    app = create_app(_config(instance, database_url))
    shown = [-1]
    started = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if done >= shown[0] + 10 or (done == total and shown[0] != done):
            shown[0] = done
            phase = "ranking" if done <= 50 else "storing"
            took = time.perf_counter() - started
            say(f"   recompute_all: {done}/{total} ({phase}, {took:.0f} s)")

    marks: dict[str, float] = {}
    with app.app_context():
        before = load_average()
        with _timed(marks):
            started = time.perf_counter()
            summary = service.recompute_all(progress=progress, workers=workers)
            ended = time.perf_counter()
        after = load_average()
    total = ended - started
    phases = {
        "load": marks["recompute_start"] - started,
        "recompute": marks["recompute_end"] - marks["recompute_start"],
        "matches": marks["matches_end"] - marks["matches_start"],
        "pairs": marks["pairs_end"] - marks["pairs_start"],
        "write": marks["write_end"] - marks["write_start"],
    }
    phases["other"] = total - sum(phases.values())
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "phases": phases,
        "total": total,
        "summary": summary,
        "rss": (own, kids),
        "load": (before, after),
    }


def _child(conn: Any, instance: str, database_url: str | None, workers: int) -> None:
    try:
        conn.send(("ok", measure(instance, database_url, workers)))
    except BaseException as exc:  # report it to the parent, which exits non-zero
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        raise
    finally:
        conn.close()


def run_pass(instance: str, database_url: str | None, workers: int) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, instance, database_url, workers))
    proc.start()
    child.close()
    try:
        status, result = parent.recv()
    except EOFError:
        status, result = "error", "the measuring process died without a result"
    proc.join()
    if status != "ok":
        raise SystemExit(f"pass failed: {result}")
    return dict(result)


def report(n: int, label: str, result: dict[str, Any]) -> None:
    ph, summary = result["phases"], result["summary"]
    total = result["total"]
    print(f"\npass {n} ({label}): load average before {result['load'][0]}")
    names = {
        "load": "loading records (match_records, context)",
        "recompute": "matcher recompute_all",
        "matches": "building the Match objects with reasons",
        "pairs": "building the pairs (pairs_of)",
        "write": "writing the table (write_all)",
        "other": "rest (outbox, sessions)",
    }
    for key, name in names.items():
        print(f"   {name:<42} {ph[key]:7.1f} s  {100 * ph[key] / total:4.0f} %")
    ok = "ok" if total <= TARGET_SECONDS else "MISS"
    print(f"   {'total':<42} {total:7.1f} s  (target ≤ {TARGET_SECONDS:.0f} s: {ok})")
    print(
        f"   {summary['needs']:,} open needs x {summary['offerings']:,} public offerings: "
        f"{summary['recommendations']:,} rows written"
    )
    own, kids = result["rss"]
    print(f"   peak RSS: process {own:,.0f} MB, largest worker {kids:,.0f} MB")
    print(f"   load average after {result['load'][1]}")


def _vacuum_analyze(app: Any) -> None:
    """What autovacuum does after a pass's bulk write (not timed): planner statistics
    for the table's 3 M fresh rows and its dead ones cleared. Without statistics the
    planner takes the batch's IN lists for most of the table (and JIT-compiles them)."""
    from market.core.extensions import db

    with app.app_context():
        with db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.exec_driver_sql("VACUUM ANALYZE recommendations")
        db.engine.dispose()
    print("   (VACUUM ANALYZE recommendations before the next pass, as autovacuum would)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.match.store", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--size", type=int, default=10_000, help="offerings and needs each")
    parser.add_argument(
        "--passes",
        type=int,
        default=2,
        help="recomputes: the first fills an empty table, later ones replace its rows",
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--database-url", default=None, help="a PostgreSQL database (default: SQLite in a temp dir)"
    )
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 if a pass takes over {TARGET_SECONDS:.0f} s"
    )
    args = parser.parse_args(argv)
    if args.database_url:
        name = make_url(args.database_url).database
        if name in FORBIDDEN_DATABASES:
            parser.error(f"the database {name!r} belongs to the test suite; create one of your own")
    from market import create_app
    from market.core.extensions import db

    print(f"load average at the start: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="bench-match-store-") as tmp:
        instance = str(Path(tmp) / "instance")
        app = create_app(_config(instance, args.database_url))
        with app.app_context():
            db.drop_all()
            db.create_all()
            dialect = db.engine.dialect.name
            say(f"building the pool: {args.size:,} offerings x {args.size:,} needs …")
            t = time.perf_counter()
            pool = make_pool(args.size, args.size)
            generated = time.perf_counter() - t
            t = time.perf_counter()
            counts = build(pool)
            if dialect == "postgresql":
                # What autovacuum does soon after a bulk load (planner statistics).
                db.session.execute(text("ANALYZE"))
                db.session.commit()
            inserted = time.perf_counter() - t
            del pool
            db.session.remove()
            db.engine.dispose()
        print(
            f"{dialect}: pool generated in {generated:.1f} s, inserted in {inserted:.1f} s: "
            + ", ".join(f"{v:,} {k}" for k, v in counts.items())
        )
        totals = []
        for n in range(1, args.passes + 1):
            label = "empty table" if n == 1 else "replacing the stored rows"
            say(f"pass {n} ({label}) …")
            result = run_pass(instance, args.database_url, args.workers)
            report(n, label, result)
            totals.append(result["total"])
            if n < args.passes and dialect == "postgresql":
                _vacuum_analyze(app)
        if args.database_url:
            with app.app_context():
                db.drop_all()
                db.engine.dispose()
    worst = max(totals, default=0.0)
    print(
        f"\nslowest pass {worst:.1f} s (target ≤ {TARGET_SECONDS:.0f} s); "
        f"load average {load_average()}"
    )
    return 1 if args.check and worst > TARGET_SECONDS else 0


if __name__ == "__main__":
    raise SystemExit(main())
