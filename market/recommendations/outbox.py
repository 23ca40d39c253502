"""Writing the match outbox in the same transaction as every change that moves a score.

Like the search outbox (``search_outbox``): after each flush, every offering or need
that was added or changed while public (or that just stopped being public: published,
changed, archived, closed) gets a ``match_outbox`` row, and so does every public
listing of an organization whose verification, size, industries, province or park
changed (the matcher reads those). Rows go through the flush's own connection, so
they commit or roll back with the change. After the commit ``matching.process_match_outbox``
recomputes the named listings (see ``market/services/matching.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, insert, inspect, select
from sqlalchemy.orm import InstanceState, Session
from sqlalchemy.orm.attributes import History

from market.core import outbox as core_outbox
from market.models import MatchOutbox, Need, Offering, Organization, utcnow

# session.info keys
PENDING = "match_outbox_pending"
SEEN = "match_outbox_seen"
WRITTEN = "match_outbox_written"  # this transaction wrote rows: recompute after commit
WORKER = "match_outbox_worker"  # the recompute's own session: it changes no listing

ORG_FIELDS = ("verified", "size", "industries", "province", "park_id", "kind")
PUBLIC_STATUSES = ("published", "open")

# ("listing", obj) | ("org", org_id)
Entry = tuple[str, Any]


def listing_name(item: Offering | Need) -> str:
    return "offering" if isinstance(item, Offering) else "need"


def _concerns_matching(item: Offering | Need, new: bool = False) -> bool:
    """False for a listing that is not public and never was (a draft being written):
    it has no recommendations and is no one's candidate, so its saves need no row."""
    if item.is_public or item.published_at is not None:
        return True
    if new:
        return False
    history: History = inspect(item).attrs.status.history
    previous: Sequence[Any] = history.deleted or ()
    if history.has_changes() and not previous:
        return True  # changed from a value never loaded: it may have been public
    return any(old in PUBLIC_STATUSES for old in previous)


def _org_changed(org: Organization) -> bool:
    state: InstanceState[Organization] = inspect(org)
    return any(state.attrs[name].history.has_changes() for name in ORG_FIELDS)


def _collect(session: Session, _flush_context: Any) -> None:
    """after_flush: note the listings and organizations this flush changed."""
    if session.info.get(WORKER):
        return
    pending: list[Entry] = session.info.setdefault(PENDING, [])
    for obj in session.new:
        if isinstance(obj, Offering | Need) and _concerns_matching(obj, new=True):
            pending.append(("listing", obj))
    for obj in session.dirty:
        if isinstance(obj, Offering | Need):
            if session.is_modified(obj) and _concerns_matching(obj):
                pending.append(("listing", obj))
        elif isinstance(obj, Organization) and _org_changed(obj):
            pending.append(("org", obj.id))


def _org_rows(conn: Connection, org_id: int) -> list[tuple[str, int]]:
    offerings = conn.scalars(
        select(Offering.id).where(Offering.org_id == org_id, Offering.public_clause())
    )
    needs = conn.scalars(select(Need.id).where(Need.org_id == org_id, Need.public_clause()))
    return [("offering", i) for i in offerings] + [("need", i) for i in needs]


def _write(session: Session, _flush_context: Any) -> None:
    """after_flush_postexec: insert the rows through the flush's connection."""
    pending: list[Entry] = session.info.pop(PENDING, [])
    if not pending:
        return
    conn = session.connection()
    rows: list[tuple[str, int]] = []
    for kind, subject in pending:
        if kind == "listing" and subject.id is not None:
            rows.append((listing_name(subject), subject.id))
        elif kind == "org":
            rows += _org_rows(conn, subject)
    seen: set[tuple[str, int]] = session.info.setdefault(SEEN, set())
    fresh = [row for row in dict.fromkeys(rows) if row not in seen]
    if fresh:
        _insert(conn, fresh)
        seen.update(fresh)
        session.info[WRITTEN] = True


def _insert(conn: Connection, rows: Iterable[tuple[str, int]]) -> None:
    now = utcnow()
    values = [
        {"listing": listing, "listing_id": lid, "created_at": now, "attempts": 0}
        for listing, lid in rows
    ]
    if values:
        conn.execute(insert(MatchOutbox), values)


def enqueue(session: Session, rows: Iterable[tuple[str, int]]) -> int:
    """Queue ``(listing, id)`` rows in ``session``'s transaction; returns how many.

    ``("all", 0)`` asks for a full recompute.
    """
    unique = list(dict.fromkeys(rows))
    if unique:
        _insert(session.connection(), unique)
        session.info[WRITTEN] = True
    return len(unique)


_on_transaction_end = core_outbox.forgetter(PENDING, SEEN, WRITTEN)


def install_listeners() -> None:
    """Hook the outbox into every SQLAlchemy session (once per process)."""
    core_outbox.install(_collect, _write, _on_transaction_end)
