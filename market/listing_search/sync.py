"""Keeping the search index true to the database: the outbox worker, rebuild, reconcile.

The database is the source of truth. ``search_outbox`` rows are written with each
change (see ``search_outbox``); after the transaction commits, ``process_outbox``
makes the index hold each named record's *current* state (or drops it when it is
no longer public) and deletes a row only once the backend confirmed the write. An
outage or a refused write leaves the row, with ``attempts`` and ``last_error``, for
the next run. A crash between commit and index update leaves the row too, so the
next run converges; ``reconcile`` repairs any other drift and ``rebuild`` starts over.

Runs of the worker are serialised (the SQLite write lock, a PostgreSQL advisory
lock) and each reads the record while holding it, so an older state can never
overwrite a newer one in the index.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask, has_app_context
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session

from market.core import db as core_db
from market.core.extensions import db
from market.listing_search import indexing
from market.listing_search import outbox as search_outbox
from market.listing_search.documents import (
    INDEX_MODELS,
    document,
    load_by_refs,
    public_count,
    public_documents,
    public_refs,
)
from market.models import SearchOutbox, utcnow
from search import Eq, Filter, Hit, SearchBackend, SearchError, WriteOutcome
from search.listings import INDEXES

log = logging.getLogger("market.search")

BATCH = 500  # outbox rows per worker transaction
IMPORT_BATCH = 5000  # large enough for the embedded engine's bulk path
MAX_ATTEMPTS = 10  # after-commit runs skip rows that failed this often; reconcile retries them
PG_LOCK_KEY = 0x5EA2C4  # pg_advisory_xact_lock key of the worker
ERROR_MAX = 1000
# Enumerating an index goes through search: at most WINDOW hits per filter combination.
WINDOW = 10_000
PAGE = 1000
SPLITS = ("kind", "categories", "price_band", "org_kind")
# Listings changed this close before a rebuild started are applied again after it.
CLOCK_MARGIN = timedelta(seconds=2)

Progress = Callable[[int, int], None]
_deferred: ContextVar[bool] = ContextVar("market_search_deferred", default=False)


@dataclass
class SyncReport:
    """What one worker run did: rows applied (and deleted) and rows kept for retry."""

    applied: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class ReconcileReport:
    """Drift found per index (``missing``, ``ghosts``, ``stale`` refs) and the repair run."""

    missing: dict[str, int] = field(default_factory=dict)
    ghosts: dict[str, int] = field(default_factory=dict)
    stale: dict[str, int] = field(default_factory=dict)
    # False when some index partition held more documents than search can page through.
    complete: bool = True
    sync: SyncReport = field(default_factory=SyncReport)


# --- the worker ----------------------------------------------------------------------


def worker_session() -> AbstractContextManager[Session]:
    """The search worker's session, holding its lock (see core.db.worker_session)."""
    return core_db.worker_session(search_outbox.WORKER, PG_LOCK_KEY)


def _fail(rows: Sequence[SearchOutbox], error: str) -> None:
    for row in rows:
        row.attempts += 1
        row.last_error = error[:ERROR_MAX]


def _write_index(
    backend: SearchBackend, session: Session, index: str, refs: list[str]
) -> WriteOutcome:
    """Make ``index`` hold the current state of ``refs``: upsert what exists, drop the rest."""
    items = load_by_refs(session, index, refs)
    docs = [document(items[ref]) for ref in refs if ref in items]
    gone = [ref for ref in refs if ref not in items]
    outcome = backend.add_bulk(index, docs) if docs else WriteOutcome("succeeded")
    if outcome.ok and gone:
        outcome = backend.delete(index, gone)
    return outcome


def _apply(session: Session, rows: Sequence[SearchOutbox], report: SyncReport) -> bool:
    """Apply one batch of rows; returns False when the index is unreachable (stop the run)."""
    try:
        backend = indexing.backend()
    except Exception as exc:  # an outage at start-up, or a misconfiguration: keep every row
        _fail(rows, f"{type(exc).__name__}: {exc}")
        report.failed += len(rows)
        report.errors.append(str(exc))
        return False
    by_index: dict[str, list[SearchOutbox]] = {}
    for row in rows:
        by_index.setdefault(row.index, []).append(row)
    for index, group in by_index.items():
        if index not in INDEX_MODELS:
            _fail(group, f"unknown index {index!r}")
            report.failed += len(group)
            continue
        refs = list(dict.fromkeys(row.doc_id for row in group))
        try:
            outcome = _write_index(backend, session, index, refs)
        except Exception as exc:
            # Whatever went wrong (an outage, a bug), the rows must stay for a retry.
            log.warning("search index write failed for %s: %s", index, exc)
            _fail(group, f"{type(exc).__name__}: {exc}")
            report.failed += len(group)
            report.errors.append(str(exc))
            return False
        if outcome.ok:
            ids = [row.id for row in group]
            session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(ids)))
            report.applied += len(group)
        else:
            _fail(group, f"{outcome.status}: {outcome.error or ''}")
            report.failed += len(group)
            report.errors.append(outcome.error or outcome.status)
    return True


def pending_count(retry_exhausted: bool = True) -> int:
    """How many outbox rows wait (``retry_exhausted=False``: those an after-commit run takes)."""
    stmt = select(func.count()).select_from(SearchOutbox)
    if not retry_exhausted:
        stmt = stmt.where(SearchOutbox.attempts < MAX_ATTEMPTS)
    # A session of its own: a read on db.session would keep its snapshot open and
    # hide from the caller what the worker changes next.
    with _read_session() as session:
        return int(session.scalar(stmt) or 0)


def process_outbox(
    *,
    batch: int = BATCH,
    drain: bool = True,
    newest_first: bool = False,
    retry_exhausted: bool = True,
    progress: Progress | None = None,
) -> SyncReport:
    """Apply pending outbox rows to the index.

    ``drain`` goes on batch after batch until every row was tried once (else one
    batch); ``newest_first`` takes the latest changes first (the after-commit run,
    so a user sees their own change at once even behind a backlog);
    ``retry_exhausted`` includes rows that already failed :data:`MAX_ATTEMPTS` times.

    Returns what was applied and what failed; never raises for an index outage
    (the rows stay). Raises only for database errors.
    """
    report = SyncReport()
    total = pending_count(retry_exhausted) if progress else 0
    last: int | None = None
    while True:
        with worker_session() as session:
            stmt = select(SearchOutbox)
            if not retry_exhausted:
                stmt = stmt.where(SearchOutbox.attempts < MAX_ATTEMPTS)
            if last is not None:  # past the rows tried already, so failing rows cannot loop
                after = SearchOutbox.id < last if newest_first else SearchOutbox.id > last
                stmt = stmt.where(after)
            order = SearchOutbox.id.desc() if newest_first else SearchOutbox.id.asc()
            rows = list(session.scalars(stmt.order_by(order).limit(batch)))
            if not rows:
                break
            last = rows[-1].id
            reachable = _apply(session, rows, report)
        if progress:
            progress(min(report.applied + report.failed, total), total)
        if not reachable or not drain or len(rows) < batch:
            break
    return report


@contextmanager
def deferred() -> Iterator[None]:
    """Commits inside the block leave their outbox rows for an explicit ``process_outbox``.

    ``market import`` uses it to index a whole data set in large batches with a
    progress bar instead of one batch after its commit.
    """
    token = _deferred.set(True)
    try:
        yield
    finally:
        _deferred.reset(token)


def _after_commit(session: Session) -> None:
    if session.info.get(search_outbox.WORKER) or session.in_nested_transaction():
        return
    if not session.info.pop(search_outbox.WRITTEN, False):
        return
    if _deferred.get() or not has_app_context():
        return  # the rows wait for an explicit run (or the next one)
    try:
        process_outbox(drain=False, newest_first=True, retry_exhausted=False)
    except Exception:
        # The change is committed and its outbox row is safe: a failed index update
        # must not turn a successful save into an error page. The next run retries.
        log.exception("search index update after commit failed; the outbox keeps the change")


# --- rebuild and reconcile --------------------------------------------------------------


def _read_session() -> Session:
    return Session(db.engine, info={search_outbox.WORKER: True})


def rebuild(progress: Progress | None = None) -> dict[str, int]:
    """Empty both indexes and load every public listing again; returns documents per index.

    Outbox rows written before the rebuild are covered by it and deleted; later
    ones stay for the worker, and listings changed while it ran are applied again.

    Raises:
        SearchError: the backend refused the reset or the documents (or is unreachable).
    """
    backend = indexing.backend()
    started = utcnow()
    with worker_session() as session:
        covered = int(session.scalar(select(func.max(SearchOutbox.id))) or 0)
    counts: dict[str, int] = {}
    with _read_session() as session:
        totals = {index: public_count(session, index) for index in INDEXES}
        done = 0
        for index in INDEXES:
            _check(backend.reset_index(index), f"reset {index}")
            counts[index] = 0

            def counted(docs: Iterator[dict[str, Any]], index: str = index) -> Iterator[Any]:
                nonlocal done
                for doc in docs:
                    counts[index] += 1
                    done += 1
                    if progress and done % 500 == 0:
                        progress(done, max(done, sum(totals.values())))
                    yield doc

            _check(backend.add_bulk(index, counted(public_documents(session, index))), index)
    if progress:
        progress(done, done)
    with worker_session() as session:
        session.execute(delete(SearchOutbox).where(SearchOutbox.id <= covered))
        for index, model in INDEX_MODELS.items():
            since = started - CLOCK_MARGIN
            refs = session.scalars(select(model.ref).where(model.updated_at >= since))
            search_outbox.enqueue(session, index, [str(r) for r in refs if r])
    process_outbox()
    return counts


def _check(outcome: WriteOutcome, what: str) -> None:
    if not outcome.ok:
        raise SearchError(f"{what}: {outcome.status} {outcome.error or ''}".strip())


def _pages(
    backend: SearchBackend, index: str, report: ReconcileReport, filters: tuple[Filter, ...] = ()
) -> Iterator[list[Hit]]:
    """Every document of ``index`` as pages of hits.

    Search pages through at most :data:`WINDOW` hits of one query, so larger sets
    are split by one facet after another (each document has exactly one value of
    each: kind, top category, price band, organization kind).
    """
    depth = len(filters)
    dim = SPLITS[depth] if depth < len(SPLITS) else None
    first = backend.search(index, "", filters=filters, facets=[dim] if dim else [], per_page=PAGE)
    if first.total < WINDOW or dim is None:
        if first.total >= WINDOW:
            report.complete = False
        yield first.hits
        for page in range(2, min(first.pages, WINDOW // PAGE) + 1):
            yield backend.search(index, "", filters=filters, page=page, per_page=PAGE).hits
        return
    values = first.facets.get(dim, {})
    if dim == "categories":
        values = {code: n for code, n in values.items() if "." not in code}
    if sum(values.values()) < first.total:
        report.complete = False  # some documents lack the value and cannot be reached
    for value in values:
        yield from _pages(backend, index, report, (*filters, Eq(dim, value)))


def _differs(stored: dict[str, Any], fresh: dict[str, Any]) -> bool:
    return any(stored.get(key) != value for key, value in fresh.items())


def reconcile(progress: Progress | None = None) -> ReconcileReport:
    """Compare each index with the database's public listings and repair the difference.

    Ghosts (in the index, not public in the database), missing listings and stale
    documents are queued in the outbox, then the worker applies every pending row
    (including ones that failed many times), so the repair is serialised with
    ordinary updates. Returns what was found and what the worker did.

    Raises:
        IndexUnavailable: the backend cannot be reached to compare.
    """
    backend = indexing.backend()
    report = ReconcileReport()
    with _read_session() as session:
        for index in INDEXES:
            expected = public_refs(session, index)
            seen: set[str] = set()
            ghosts: list[str] = []
            stale: list[str] = []
            for hits in _pages(backend, index, report):
                refs = [hit.id for hit in hits]
                items = load_by_refs(session, index, [ref for ref in refs if ref in expected])
                for hit in hits:
                    seen.add(hit.id)
                    if hit.id not in items:
                        ghosts.append(hit.id)
                    elif _differs(hit.document, document(items[hit.id])):
                        stale.append(hit.id)
                session.expunge_all()
                if progress:
                    progress(len(seen), max(len(seen), len(expected)))
            missing = sorted(expected - seen)
            report.missing[index], report.ghosts[index] = len(missing), len(ghosts)
            report.stale[index] = len(stale)
            with worker_session() as writer:
                search_outbox.enqueue(writer, index, [*ghosts, *stale, *missing])
    report.sync = process_outbox()
    return report


def init_app(app: Flask) -> None:
    """Reserve the app's search slot and hook the outbox into every session."""
    indexing.reserve(app)
    search_outbox.install_listeners()
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)
