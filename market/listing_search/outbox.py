"""Writing the search outbox in the same transaction as every change to a searchable record.

Session events do it, so no code path (view, service, import, CLI, a future job)
can forget: after each flush, every offering or need that was added, changed or
deleted gets a ``search_outbox`` row, and so does every listing of an organization
whose name, kind, province or verification changed and of a park whose name or
province changed (those show in the listings' documents). The rows are inserted
through the flush's own connection, so they commit or roll back with the change:
a rolled-back transaction leaves no row, hence never a ghost document.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, insert, inspect, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import History

from market.core import outbox as core_outbox
from market.listing_search.documents import index_of
from market.models import Need, Offering, Organization, Park, SearchOutbox, offering_parks
from market.models.base import utcnow
from search import PUBLIC_STATUSES

# session.info keys
PENDING = "search_outbox_pending"  # what this flush touched, until its rows are written
SEEN = "search_outbox_seen"  # (index, ref, op) already written in this transaction
WRITTEN = "search_outbox_written"  # this transaction wrote rows: run the worker after commit
WORKER = "search_outbox_worker"  # the worker's own session: it changes no listing

ORG_FIELDS = ("name", "kind", "province", "verified")
PARK_FIELDS = ("name", "province", "ref")

# ("listing", obj, None) | ("delete", index, ref) | ("org" or "park", id, None)
Entry = tuple[str, Any, Any]


def _changed(obj: Any, fields: Iterable[str]) -> bool:
    state = inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in fields)


def _may_be_indexed(item: Offering | Need, new: bool = False) -> bool:
    """False only for a listing that is not public and never was (a draft being written):
    the index cannot hold it, so its saves need no outbox row and no worker run."""
    if item.is_public or item.published_at is not None:
        return True
    if new:
        return False
    history: History = inspect(item).attrs.status.history
    previous: Sequence[Any] = history.deleted or ()
    if history.has_changes() and not previous:
        return True  # changed from a value that was never loaded: it may have been public
    return any(old in PUBLIC_STATUSES for old in previous)


def _collect(session: Session, _flush_context: Any) -> None:
    """after_flush: note what changed (ids are assigned, histories still readable)."""
    if session.info.get(WORKER):
        return
    pending: list[Entry] = session.info.setdefault(PENDING, [])
    for obj in session.new:
        if isinstance(obj, Offering | Need) and _may_be_indexed(obj, new=True):
            pending.append(("listing", obj, None))
    for obj in session.dirty:
        if isinstance(obj, Offering | Need):
            if session.is_modified(obj) and _may_be_indexed(obj):
                old_refs: Sequence[Any] = inspect(obj).attrs.ref.history.deleted or ()
                for old in old_refs:
                    if old:  # the document moves to its new ref: drop the old one
                        pending.append(("delete", index_of(obj), old))
                pending.append(("listing", obj, None))
        elif isinstance(obj, Organization) and _changed(obj, ORG_FIELDS):
            pending.append(("org", obj.id, None))
        elif isinstance(obj, Park) and _changed(obj, PARK_FIELDS):
            pending.append(("park", obj.id, None))
    for obj in session.deleted:
        if isinstance(obj, Offering | Need) and obj.ref:
            pending.append(("delete", index_of(obj), obj.ref))


# An organization's or park's change concerns only its public listings: the others are
# not in the index (and one that just stopped being public has a row of its own).
def _org_listings(conn: Connection, org_id: int) -> list[tuple[str, str]]:
    offerings = conn.scalars(
        select(Offering.ref).where(Offering.org_id == org_id, Offering.public_clause())
    )
    needs = conn.scalars(select(Need.ref).where(Need.org_id == org_id, Need.public_clause()))
    return [("offerings", r) for r in offerings if r] + [("needs", r) for r in needs if r]


def _park_listings(conn: Connection, park_id: int) -> list[tuple[str, str]]:
    offerings = conn.scalars(
        select(Offering.ref)
        .join(offering_parks, offering_parks.c.offering_id == Offering.id)
        .where(offering_parks.c.park_id == park_id, Offering.public_clause())
    )
    needs = conn.scalars(select(Need.ref).where(Need.park_id == park_id, Need.public_clause()))
    return [("offerings", r) for r in offerings if r] + [("needs", r) for r in needs if r]


def _rows(conn: Connection, pending: list[Entry]) -> list[tuple[str, str, str]]:
    """(index, ref, op) for every pending entry; refs are final by now."""
    rows: list[tuple[str, str, str]] = []
    for kind, subject, ref in pending:
        if kind == "listing" and subject.ref:
            rows.append((index_of(subject), subject.ref, "upsert"))
        elif kind == "delete":
            rows.append((subject, ref, "delete"))
        elif kind == "org":
            rows += [(index, r, "upsert") for index, r in _org_listings(conn, subject)]
        elif kind == "park":
            rows += [(index, r, "upsert") for index, r in _park_listings(conn, subject)]
    return rows


def _write(session: Session, _flush_context: Any) -> None:
    """after_flush_postexec: insert the outbox rows through the flush's connection.

    This runs after every after_flush hook, so a new listing already has the ref
    that ``market.models.base`` gives it there.
    """
    pending: list[Entry] = session.info.pop(PENDING, [])
    if not pending:
        return
    conn = session.connection()
    seen: set[tuple[str, str, str]] = session.info.setdefault(SEEN, set())
    rows = [row for row in dict.fromkeys(_rows(conn, pending)) if row not in seen]
    if not rows:
        return
    now = utcnow()
    conn.execute(
        insert(SearchOutbox),
        [
            {"index": index, "doc_id": ref, "op": op, "created_at": now, "attempts": 0}
            for index, ref, op in rows
        ],
    )
    seen.update(rows)
    session.info[WRITTEN] = True


_on_transaction_end = core_outbox.forgetter(PENDING, SEEN, WRITTEN)


def enqueue(session: Session, index: str, refs: Iterable[str], op: str = "upsert") -> int:
    """Add outbox rows for ``refs`` of ``index`` in ``session``'s transaction; returns how many."""
    now = utcnow()
    rows = [
        {"index": index, "doc_id": ref, "op": op, "created_at": now, "attempts": 0}
        for ref in dict.fromkeys(refs)
    ]
    if rows:
        session.execute(insert(SearchOutbox), rows)
        session.info[WRITTEN] = True
    return len(rows)


def install_listeners() -> None:
    """Hook the outbox into every SQLAlchemy session (once per process)."""
    core_outbox.install(_collect, _write, _on_transaction_end)
