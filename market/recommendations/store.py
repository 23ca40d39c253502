"""Computing recommendations and keeping the ``recommendations`` table true.

The table holds every pair in the top :data:`LIMIT` of either side, with each side's
rank (``need_rank`` / ``offering_rank``; None when the pair is only in the other
side's list). The display threshold and 不相关 feedback are applied when reading,
so an admin's threshold change shows at once and one side's feedback does not
hide the pair from the other side.

* :func:`recompute_listing` — one listing changed: rank it against its blocked
  candidates, replace its own list, and place it in (or drop it from) the lists of
  the listings on the other side that it fits (their other pairs do not change, so
  their lists are merged, not recomputed). A list that lost the listing while full
  is ranked again, so it keeps :data:`LIMIT` pairs.
* :func:`write_all` — store the matcher's full recompute, need by need in batches,
  keeping each pair's ``first_seen_at``.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from market.core import db as core_db
from market.core.extensions import db
from market.listing_search import indexing
from market.models import MatchFeedback, Recommendation, utcnow
from market.recommendations import outbox as match_outbox
from market.recommendations import records as match_records
from market.recommendations import settings as match_settings
from matching import (
    Context,
    Match,
    NeedRecord,
    OfferingRecord,
    Part,
    TextModel,
    blocking_for_need,
    blocking_for_offering,
    rank_for_need,
    rank_for_offering,
)
from matching.text import Doc

LIMIT = 20  # pairs kept per listing and side
# How deep a changed listing's own ranking goes when placing it in the other side's
# lists: a pair beyond this is very unlikely to be in a partner's top 20.
WIDE = 200
BATCH = 500  # needs written per transaction in a full recompute
WRITE_CACHE_KIB = 256 * 1024  # SQLite's page cache while write_all writes a batch
PG_LOCK_KEY = 0x3A7C11  # pg_advisory_xact_lock key of the match worker
EXTENSION = "market_matching"
FIT_MAX = 50_000  # listings: above this a ranking does not fit the idf on the whole pool

Progress = Callable[[int, int], None]


@dataclass
class _AppState:
    """What ``app.extensions["market_matching"]`` holds: the text model (vocabulary,
    idf after a full recompute, feature cache) and the lock that serialises its use
    (it is not thread-safe, and the web server is threaded)."""

    model: TextModel
    lock: threading.RLock = field(default_factory=threading.RLock)


def state() -> _AppState:
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    got = app.extensions.get(EXTENSION)
    if got is None:
        got = app.extensions.setdefault(EXTENSION, _AppState(TextModel(indexing.synonyms(app))))
    return got


def worker_session() -> AbstractContextManager[Session]:
    """The match worker's session, holding its lock (see core.db.worker_session)."""
    return core_db.worker_session(match_outbox.WORKER, PG_LOCK_KEY)


def read_session() -> Session:
    return Session(db.engine, info={match_outbox.WORKER: True})


# --- context and ranking ---------------------------------------------------------------


def feedback_pairs(
    session: Session, side: str | None, need_ids: Iterable[int] | None = None
) -> frozenset[tuple[int, int]]:
    """(need_id, offering_id) pairs marked 不相关 by ``side`` ("need" | "offering"), or by
    both sides when ``side`` is None; limited to ``need_ids`` when given."""
    stmt = select(MatchFeedback.need_id, MatchFeedback.offering_id)
    if side is not None:
        stmt = stmt.where(MatchFeedback.side == side)
    else:
        stmt = stmt.group_by(MatchFeedback.need_id, MatchFeedback.offering_id).having(
            func.count(func.distinct(MatchFeedback.side)) > 1
        )
    if need_ids is None:
        return frozenset((n, o) for n, o in session.execute(stmt))
    out: set[tuple[int, int]] = set()
    for batch in match_records.chunks(sorted(set(need_ids))):
        out.update((n, o) for n, o in session.execute(stmt.where(MatchFeedback.need_id.in_(batch))))
    return frozenset(out)


def offering_feedback_pairs(session: Session, offering_id: int) -> frozenset[tuple[int, int]]:
    stmt = select(MatchFeedback.need_id, MatchFeedback.offering_id).where(
        MatchFeedback.side == "offering", MatchFeedback.offering_id == offering_id
    )
    return frozenset((n, o) for n, o in session.execute(stmt))


def context(
    session: Session,
    offerings: Sequence[OfferingRecord],
    needs: Sequence[NeedRecord],
    excluded: frozenset[tuple[int, int]] = frozenset(),
) -> Context:
    """The matcher's context for these listings: their organizations, the weights in
    force, this app's text model, today."""
    return Context(
        providers=match_records.providers(session, {o.org_id for o in offerings}),
        enterprises=match_records.enterprises(session, {n.org_id for n in needs}),
        weights=match_settings.current(session),
        today=utcnow().date(),
        excluded=excluded,
        text=state().model,
    )


def ensure_fitted(session: Session) -> None:
    """Fit the text model's idf on the whole pool (public offerings and open needs) the
    first time a ranking needs it, as a full recompute does, so a single listing's
    scores do not depend on which candidates blocking fetched. Skipped for a pool
    larger than :data:`FIT_MAX` (the nightly full recompute fits it there)."""
    st = state()
    if st.model.df is not None:
        return
    with st.lock:
        if st.model.df is not None:
            return
        if match_records.pool_size(session) > FIT_MAX:
            return
        offerings = match_records.offerings(session)
        needs = match_records.needs(session)
        docs_o = [Doc(o.title, tuple(o.tags), o.text) for o in offerings]
        docs_n = [Doc(n.title, tuple(n.tags), n.text) for n in needs]
        raw_n, raw_o = st.model.analyze(docs_n), st.model.analyze(docs_o)
        st.model.fit([raw_n, raw_o])
        st.model.remember("need", [n.id for n in needs], docs_n, raw_n)
        st.model.remember("offering", [o.id for o in offerings], docs_o, raw_o)


def rank_need(
    session: Session,
    need: NeedRecord,
    limit: int,
    excluded: frozenset[tuple[int, int]] = frozenset(),
) -> list[Match]:
    """``need``'s best offerings among its blocked candidates (no threshold)."""
    if not need.open:
        return []
    ensure_fitted(session)
    candidates = match_records.offering_candidates(session, blocking_for_need(need))
    ctx = context(session, candidates, [need], excluded)
    with state().lock:
        return rank_for_need(need, candidates, ctx, limit=limit)


def rank_offering(
    session: Session,
    offering: OfferingRecord,
    limit: int,
    excluded: frozenset[tuple[int, int]] = frozenset(),
) -> list[Match]:
    """``offering``'s best open needs among its blocked candidates (no threshold)."""
    if not offering.public:
        return []
    ensure_fitted(session)
    candidates = match_records.need_candidates(session, blocking_for_offering(offering))
    ctx = context(session, [offering], candidates, excluded)
    with state().lock:
        return rank_for_offering(offering, candidates, ctx, limit=limit)


def parts_json(parts: Iterable[Part]) -> list[dict[str, Any]]:
    return [{"rule": p.rule, "points": float(p.points), "params": dict(p.params)} for p in parts]


# --- one listing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Side:
    """One side of the table: which column holds its id and which its rank."""

    name: str  # need | offering
    rank: str  # need_rank | offering_rank

    def own(self, row: Recommendation) -> int:
        return row.need_id if self.name == "need" else row.offering_id

    def partner(self, row: Recommendation) -> int:
        return row.offering_id if self.name == "need" else row.need_id

    def match_partner(self, m: Match) -> int:
        return m.offering_id if self.name == "need" else m.need_id

    def pair(self, own_id: int, partner_id: int) -> tuple[int, int]:
        return (own_id, partner_id) if self.name == "need" else (partner_id, own_id)

    def own_column(self) -> Any:
        return Recommendation.need_id if self.name == "need" else Recommendation.offering_id

    def rank_column(self) -> Any:
        return getattr(Recommendation, self.rank)

    @property
    def other(self) -> Side:
        return OFFERING if self.name == "need" else NEED


NEED = Side("need", "need_rank")
OFFERING = Side("offering", "offering_rank")
SIDES = {"need": NEED, "offering": OFFERING}


class _Board:
    """The rows one recompute reads and changes, by pair."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.rows: dict[tuple[int, int], Recommendation] = {}
        self.now = utcnow()

    def load(self, rows: Iterable[Recommendation]) -> list[Recommendation]:
        out = []
        for row in rows:
            self.rows[(row.need_id, row.offering_id)] = row
            out.append(row)
        return out

    def put(self, m: Match) -> Recommendation:
        """The row of ``m``'s pair (created when new) with ``m``'s score and parts."""
        key = (m.need_id, m.offering_id)
        row = self.rows.get(key)
        if row is None:
            row = Recommendation(
                need_id=m.need_id,
                offering_id=m.offering_id,
                need_rank=None,
                offering_rank=None,
                first_seen_at=self.now,
            )
            self.session.add(row)
            self.rows[key] = row
        row.score = float(m.score)
        row.parts = parts_json(m.parts)
        row.computed_at = self.now
        return row

    def own_rows(self, side: Side, own_id: int) -> dict[int, Recommendation]:
        stmt = select(Recommendation).where(side.own_column() == own_id)
        return {side.partner(r): r for r in self.load(self.session.scalars(stmt))}

    def set_list(self, side: Side, own_id: int, top: Sequence[Match]) -> None:
        """Make ``top`` the listing's own list: ranks 1.. for it, None for its other rows."""
        current = self.own_rows(side, own_id)
        listed = set()
        for rank, m in enumerate(top, 1):
            setattr(self.put(m), side.rank, rank)
            listed.add(side.match_partner(m))
        for partner, row in current.items():
            if partner not in listed:
                setattr(row, side.rank, None)

    def prune(self) -> None:
        """Delete the rows that are in neither side's list any more."""
        for key, row in list(self.rows.items()):
            if row.need_rank is None and row.offering_rank is None:
                if row in self.session.new:
                    self.session.expunge(row)
                else:
                    self.session.delete(row)
                del self.rows[key]
        self.session.flush()


def _rank(session: Session, side: Side, listing_id: int, limit: int) -> list[Match]:
    if side is NEED:
        need = match_records.need_by_id(session, listing_id)
        both = feedback_pairs(session, None, [listing_id])
        return rank_need(session, need, limit, both) if need is not None else []
    offering = match_records.offering_by_id(session, listing_id)
    if offering is None:
        return []
    return rank_offering(session, offering, limit, _both_for_offering(session, listing_id))


def _both_for_offering(session: Session, offering_id: int) -> frozenset[tuple[int, int]]:
    stmt = (
        select(MatchFeedback.need_id, MatchFeedback.offering_id)
        .where(MatchFeedback.offering_id == offering_id)
        .group_by(MatchFeedback.need_id, MatchFeedback.offering_id)
        .having(func.count(func.distinct(MatchFeedback.side)) > 1)
    )
    return frozenset((n, o) for n, o in session.execute(stmt))


def recompute_listing(session: Session, side_name: str, listing_id: int) -> int:
    """Recompute one listing's recommendations in ``session`` (the caller commits).

    Returns how many pairs the listing's own list holds now (0 when it is no longer
    public or no longer exists: its rows then leave both sides' lists).
    """
    side = SIDES[side_name]
    other = side.other
    ranked = _rank(session, side, listing_id, WIDE)
    board = _Board(session)
    board.set_list(side, listing_id, ranked[:LIMIT])
    scores = {side.match_partner(m): m for m in ranked}
    own = board.own_rows(side, listing_id)
    touched = set(scores) | {p for p, r in own.items() if getattr(r, other.rank) is not None}
    # The partners' current lists (rows ranked on their side).
    lists: dict[int, dict[int, Recommendation]] = defaultdict(dict)
    for batch in match_records.chunks(sorted(touched)):
        stmt = select(Recommendation).where(
            other.own_column().in_(batch), other.rank_column().is_not(None)
        )
        for row in board.load(session.scalars(stmt)):
            lists[other.own(row)][other.partner(row)] = row
    refill = []
    for partner in sorted(touched):
        current = lists.get(partner, {})
        entries = {k: row.score for k, row in current.items() if k != listing_id}
        m = scores.get(partner)
        if m is not None:
            entries[listing_id] = m.score
        order = sorted(entries, key=lambda k: (-entries[k], k))[:LIMIT]
        for k, row in current.items():
            if k not in order:
                setattr(row, other.rank, None)
        for rank, k in enumerate(order, 1):
            row = board.put(m) if k == listing_id and m is not None else current[k]
            setattr(row, other.rank, rank)
        if listing_id in current and listing_id not in order and len(current) >= LIMIT:
            refill.append(partner)
    for partner in refill:
        # The partner's list lost this listing while full: its 21st pair is unknown.
        board.set_list(other, partner, _rank(session, other, partner, LIMIT))
    board.prune()
    return min(len(ranked), LIMIT)
