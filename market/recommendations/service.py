"""Recommendations for the app: recompute, read, explain, and 不相关 feedback.

The database is the source of truth and recommendations are derived data
(``market match --all`` rebuilds them). A change to a listing writes a
``match_outbox`` row in its own transaction (``match_outbox``); after the commit
:func:`process_match_outbox` recomputes the named listings in a session of its own.
A failure there is logged and the row kept for the next run (the nightly job calls
:func:`process_match_outbox` and :func:`recompute_all`): a user's save never fails
because of matching.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from flask import Flask, has_app_context
from flask_babel import gettext as _
from sqlalchemy import delete, event, func, select, update
from sqlalchemy.orm import Session, selectinload

from market.core import permissions
from market.core.errors import DomainError
from market.core.extensions import db
from market.models import MatchFeedback, MatchOutbox, Need, Offering, Recommendation, utcnow
from market.recommendations import outbox as match_outbox
from market.recommendations import recompute as match_recompute
from market.recommendations import records as match_records
from market.recommendations import settings as match_settings
from market.recommendations import store as match_store
from market.recommendations.reasons import reason_texts
from matching import Match
from matching import complements_for_need as _complements
from matching import recompute_all as _recompute_all

__all__ = [
    "Complement",
    "OutboxReport",
    "complements_for_need",
    "fresh_for_need",
    "fresh_for_offering",
    "mark_irrelevant",
    "process_match_outbox",
    "reason_texts",
    "recommendations_for_need",
    "recommendations_for_offering",
    "recompute_all",
    "recompute_for_need",
    "recompute_for_offering",
]

log = logging.getLogger("market.matching")


def _session() -> Session:
    """The request's (scoped) session, typed as the Session the helpers take."""
    return cast(Session, db.session)


Progress = Callable[[int, int], None]
REASON_MAX = 500
MAX_ATTEMPTS = 10  # after-commit runs skip rows that failed this often; the nightly run retries
ERROR_MAX = 1000
# More rows than this waiting: one full recompute is cheaper than one ranking per listing.
FULL_SWITCH = 200
# After a commit, a full recompute runs in the request only for a pool this small
# (about a second on one core: the request waits for it); a larger one (a big import,
# the admin's recompute button) waits for the nightly run or `market match --all`.
AFTER_COMMIT_FULL_MAX = 5_000


# --- recompute ---------------------------------------------------------------------------


def recompute_for_need(need: Need) -> int:
    """Recompute ``need``'s recommendations in the current transaction (the caller
    commits); returns how many pairs its list holds."""
    db.session.flush()
    return match_store.recompute_listing(_session(), "need", need.id)


def recompute_for_offering(offering: Offering) -> int:
    """Recompute ``offering``'s recommendations in the current transaction (the caller
    commits); returns how many pairs its list holds."""
    db.session.flush()
    return match_store.recompute_listing(_session(), "offering", offering.id)


def recompute_all(progress: Progress | None = None, workers: int = 2) -> dict[str, Any]:
    """Recompute every recommendation and replace the stored ones.

    Returns ``{"needs", "offerings", "recommendations", "seconds"}``. ``progress(done,
    total)`` goes from 0 to 100 (ranking to 50, storing to 100). Outbox rows written
    before the start are covered and deleted; later ones are processed afterwards.
    """
    started = time.monotonic()
    with match_store.worker_session() as session:
        covered = int(session.scalar(select(func.max(MatchOutbox.id))) or 0)
    with match_store.read_session() as session:
        offerings = match_records.offerings(session)
        needs = match_records.needs(session)
        ctx = match_store.context(
            session, offerings, needs, match_store.feedback_pairs(session, None)
        )

    def ranking(done: int, total: int) -> None:
        if progress:
            progress(50 * done // max(total, 1), 100)

    def storing(done: int, total: int) -> None:
        if progress:
            progress(50 + 50 * done // max(total, 1), 100)

    with match_store.state().lock:
        result = _recompute_all(offerings, needs, ctx, match_store.LIMIT, workers, ranking)
        by_need = match_recompute.pairs_of(result)
    written = match_recompute.write_all(by_need, storing)
    with match_store.worker_session() as session:
        session.execute(delete(MatchOutbox).where(MatchOutbox.id <= covered))
    if progress:
        progress(100, 100)
    return {
        "needs": len(needs),
        "offerings": len(offerings),
        "recommendations": written,
        "seconds": round(time.monotonic() - started, 2),
    }


@dataclass
class OutboxReport:
    """What one outbox run did: listings recomputed, rows kept after a failure, and
    whether it ran a full recompute instead."""

    applied: int = 0
    failed: int = 0
    full: bool = False
    deferred: bool = False
    errors: list[str] = field(default_factory=list)


def _pool_size() -> int:
    with match_store.read_session() as session:
        return match_records.pool_size(session)


def process_match_outbox(*, after_commit: bool = False, workers: int = 2) -> OutboxReport:
    """Recompute the listings named in ``match_outbox`` and delete their rows.

    Many rows (or an ``all`` row) make it one full recompute instead; right after a
    commit (``after_commit``) that happens only for a small pool, in this process
    (no workers), and rows that already failed :data:`MAX_ATTEMPTS` times are
    skipped. A failing listing keeps its rows (``attempts``, ``last_error``).
    Raises only for database errors outside a listing's recompute.
    """
    report = OutboxReport()
    stmt = select(MatchOutbox.id, MatchOutbox.listing, MatchOutbox.listing_id)
    if after_commit:
        stmt = stmt.where(MatchOutbox.attempts < MAX_ATTEMPTS)
    with match_store.read_session() as session:
        rows = session.execute(stmt.order_by(MatchOutbox.id)).all()
    if not rows:
        return report
    todo = list(dict.fromkeys((listing, lid) for _id, listing, lid in rows))
    if any(listing == "all" for listing, _id in todo) or len(todo) > FULL_SWITCH:
        if after_commit and _pool_size() > AFTER_COMMIT_FULL_MAX:
            report.deferred = True
            log.info("%d match outbox rows wait for the nightly recompute", len(rows))
            return report
        recompute_all(workers=1 if after_commit else workers)
        report.full = True
        report.applied = len(todo)
        return report
    last = max(row_id for row_id, _l, _i in rows)
    for listing, listing_id in todo:
        try:
            with match_store.worker_session() as session:
                match_store.recompute_listing(session, listing, listing_id)
                session.execute(
                    delete(MatchOutbox).where(
                        MatchOutbox.listing == listing,
                        MatchOutbox.listing_id == listing_id,
                        MatchOutbox.id <= last,
                    )
                )
            report.applied += 1
        except Exception as exc:
            # The change itself is committed; keep the row so the next run retries it.
            log.exception(
                "recompute of %s %s failed; the match outbox keeps it", listing, listing_id
            )
            report.failed += 1
            report.errors.append(f"{type(exc).__name__}: {exc}")
            _note_failure(listing, listing_id, last, f"{type(exc).__name__}: {exc}")
    return report


def _note_failure(listing: str, listing_id: int, last: int, error: str) -> None:
    with match_store.worker_session() as session:
        session.execute(
            update(MatchOutbox)
            .where(
                MatchOutbox.listing == listing,
                MatchOutbox.listing_id == listing_id,
                MatchOutbox.id <= last,
            )
            .values(attempts=MatchOutbox.attempts + 1, last_error=error[:ERROR_MAX])
        )


def queue_full_recompute(user: Any) -> None:
    """Ask the worker for a full recompute (admins only); the caller commits."""
    permissions.require(permissions.can_tune_matching(user), _("只有平台管理员可以重新计算推荐。"))
    match_outbox.enqueue(_session(), [("all", 0)])


def pending_count() -> int:
    """Outbox rows waiting (read in the caller's transaction)."""
    return int(db.session.scalar(select(func.count()).select_from(MatchOutbox)) or 0)


def _after_commit(session: Session) -> None:
    if session.info.get(match_outbox.WORKER) or session.in_nested_transaction():
        return
    if not session.info.pop(match_outbox.WRITTEN, False):
        return
    if not has_app_context():
        return  # the rows wait for an explicit run
    try:
        process_match_outbox(after_commit=True)
    except Exception:
        # The change is committed and its outbox row is safe: a failed recompute must
        # not turn a successful save into an error page. The next run retries.
        log.exception("recommendation update after commit failed; the match outbox keeps it")


def init_app(app: Flask) -> None:
    """Hook the match outbox into every session and recompute after commits."""
    match_outbox.install_listeners()
    if not event.contains(Session, "after_commit", _after_commit):
        event.listen(Session, "after_commit", _after_commit)


# --- reading ---------------------------------------------------------------------------------


def threshold() -> float:
    return float(match_settings.current().threshold)


def _hidden(side: str, need_id: int | None = None, offering_id: int | None = None) -> Any:
    stmt = select(MatchFeedback.offering_id if need_id is not None else MatchFeedback.need_id)
    stmt = stmt.where(MatchFeedback.side == side)
    if need_id is not None:
        return stmt.where(MatchFeedback.need_id == need_id)
    return stmt.where(MatchFeedback.offering_id == offering_id)


def recommendations_for_need(need: Need, limit: int = 10) -> list[Recommendation]:
    """The stored best offerings for an open ``need``: at or above the threshold,
    published, not marked 不相关 by the need's side, best first."""
    if not need.is_public or limit <= 0:
        return []
    stmt = (
        select(Recommendation)
        .join(Offering, Offering.id == Recommendation.offering_id)
        .where(
            Recommendation.need_id == need.id,
            Recommendation.need_rank.is_not(None),
            Recommendation.score >= threshold(),
            Offering.public_clause(),
            Recommendation.offering_id.not_in(_hidden("need", need_id=need.id)),
        )
        .order_by(Recommendation.need_rank)
        .limit(limit)
        .options(selectinload(Recommendation.offering).selectinload(Offering.org))
    )
    return list(db.session.scalars(stmt))


def recommendations_for_offering(offering: Offering, limit: int = 10) -> list[Recommendation]:
    """The stored best open needs for a published ``offering`` (same rules as
    :func:`recommendations_for_need`, feedback of the offering's side)."""
    if not offering.is_public or limit <= 0:
        return []
    stmt = (
        select(Recommendation)
        .join(Need, Need.id == Recommendation.need_id)
        .where(
            Recommendation.offering_id == offering.id,
            Recommendation.offering_rank.is_not(None),
            Recommendation.score >= threshold(),
            Need.public_clause(),
            Recommendation.need_id.not_in(_hidden("offering", offering_id=offering.id)),
        )
        .order_by(Recommendation.offering_rank)
        .limit(limit)
        .options(selectinload(Recommendation.need).selectinload(Need.org))
    )
    return list(db.session.scalars(stmt))


def fresh_for_need(need: Need, limit: int) -> list[Match]:
    """``need``'s best offerings ranked now (not the stored ones): at or above the
    threshold, without pairs its side marked 不相关. Used by ``market match``, which
    must work right after ``market import``."""
    record = match_records.need_by_id(_session(), need.id)
    if record is None:
        return []
    excluded = match_store.feedback_pairs(_session(), "need", [need.id])
    cut = threshold()
    ranked = match_store.rank_need(_session(), record, limit, excluded)
    return [m for m in ranked if m.score >= cut][:limit]


def fresh_for_offering(offering: Offering, limit: int) -> list[Match]:
    """``offering``'s best open needs ranked now (see :func:`fresh_for_need`)."""
    record = match_records.offering_by_id(_session(), offering.id)
    if record is None:
        return []
    excluded = match_store.offering_feedback_pairs(_session(), offering.id)
    cut = threshold()
    ranked = match_store.rank_offering(_session(), record, limit, excluded)
    return [m for m in ranked if m.score >= cut][:limit]


@dataclass(frozen=True)
class Complement:
    """A finance product or training course that fits a need's enterprise."""

    offering: Offering
    score: float
    parts: list[dict[str, Any]]


def complements_for_need(need: Need, limit: int = 3) -> dict[str, list[Complement]]:
    """「方案 + 资金 + 人才」: finance products and training courses that fit the same
    enterprise, ``{"finance": [...], "training": [...]}``, best first (empty lists
    for a need that is not an open solution need)."""
    empty: dict[str, list[Complement]] = {"finance": [], "training": []}
    record = match_records.need_by_id(_session(), need.id)
    if record is None or not record.open or record.kind != "solution":
        return empty
    match_store.ensure_fitted(_session())
    candidates = match_records.complement_candidates(_session(), record)
    if not candidates:
        return empty
    excluded = match_store.feedback_pairs(_session(), "need", [need.id])
    ctx = match_store.context(_session(), candidates, [record], excluded)
    with match_store.state().lock:
        found = _complements(record, candidates, ctx, limit=limit)
    ids = {m.offering_id for ms in found.values() for m in ms}
    items = {
        o.id: o
        for o in db.session.scalars(
            select(Offering).where(Offering.id.in_(ids)).options(selectinload(Offering.org))
        )
    }
    return {
        kind: [
            Complement(items[m.offering_id], m.score, match_store.parts_json(m.parts))
            for m in found.get(kind, [])
            if m.offering_id in items
        ]
        for kind in empty
    }


# --- feedback ------------------------------------------------------------------------------


def mark_irrelevant(
    user: Any, side: str, need: Need, offering: Offering, reason: str
) -> MatchFeedback:
    """Record that ``side`` ("need" | "offering") finds the pair 不相关; that side no
    longer sees it. Marking again replaces the reason. The caller commits.

    Raises:
        PermissionDenied: the user is not a member of that side's organization.
        DomainError: an unknown side, or an empty or too long reason.
    """
    if side not in ("need", "offering"):
        raise DomainError(_("未知的反馈方。"))
    owner = need if side == "need" else offering
    permissions.require(
        permissions.can_see_recommendations(user, owner), _("只有发布机构的成员可以反馈。")
    )
    text = (reason or "").strip()
    if not text:
        raise DomainError(_("请填写不相关的原因。"))
    if len(text) > REASON_MAX:
        raise DomainError(_("原因不能超过 %(n)d 个字。", n=REASON_MAX))
    row = db.session.scalar(
        select(MatchFeedback).where(
            MatchFeedback.need_id == need.id,
            MatchFeedback.offering_id == offering.id,
            MatchFeedback.side == side,
        )
    )
    if row is None:
        row = MatchFeedback(need_id=need.id, offering_id=offering.id, side=side)
        db.session.add(row)
    row.org_id = owner.org_id
    row.user_id = user.id
    row.reason = text
    row.created_at = utcnow()
    return row


def score_of(need_id: int, offering_id: int) -> Recommendation | None:
    """The stored pair, if either side lists it (for the admins' feedback list)."""
    return db.session.scalar(
        select(Recommendation).where(
            Recommendation.need_id == need_id, Recommendation.offering_id == offering_id
        )
    )
