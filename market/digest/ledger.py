"""The digest ledger: one row per user and week, claimed before a digest is sent, so
a week's digest goes out once even with several schedulers or a take-over."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from market.core.extensions import db
from market.digest import preferences as digest_prefs
from market.digest.collect import (
    DigestContent,
)
from market.models import DigestLedger, DigestPreference, User, utcnow
from market.models.digest import DIGEST_KINDS

RETRY_BACKOFF = timedelta(minutes=15)
ERROR_MAX = 1000


# --- the ledger ------------------------------------------------------------------------------


def _claim(user_id: int, week: str, cutoff: datetime) -> DigestLedger | None:
    """Insert the (user, week) row; None when it exists. Commits."""
    try:
        row = DigestLedger(
            user_id=user_id,
            iso_week=week,
            status="claimed",
            claim_token=uuid.uuid4().hex,
            attempts=1,
            claimed_at=utcnow(),
            cutoff_at=cutoff,
        )
        db.session.add(row)
        db.session.commit()
        return row
    except IntegrityError:
        db.session.rollback()
        return None


def _take_over(row_id: int, status: str, token: str, cutoff: datetime) -> DigestLedger | None:
    """Claim a stale ``claimed`` or a due ``failed`` row again, if it is still as we read it
    (``status``, ``token``); None when another sender got there first."""
    result = db.session.execute(
        update(DigestLedger)
        .where(
            DigestLedger.id == row_id,
            DigestLedger.status == status,
            DigestLedger.claim_token == token,
        )
        .values(
            status="claimed",
            claim_token=uuid.uuid4().hex,
            attempts=DigestLedger.attempts + 1,
            claimed_at=utcnow(),
            cutoff_at=cutoff,
        )
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    return db.session.get(DigestLedger, row_id, populate_existing=True)


def _set(row_id: int, token: str, statuses: tuple[str, ...], **values: Any) -> bool:
    result = db.session.execute(
        update(DigestLedger)
        .where(
            DigestLedger.id == row_id,
            DigestLedger.claim_token == token,
            DigestLedger.status.in_(statuses),
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _mark_sent(row_id: int, token: str, content: DigestContent, message_id: str) -> None:
    """Record the 250 and move the user's window on, in one transaction."""
    _set(
        row_id,
        token,
        ("sending",),
        status="sent",
        sent_at=utcnow(),
        error=None,
        next_attempt_at=None,
        items=content.total,
        message_id=message_id,
    )
    pref = db.session.scalar(
        select(DigestPreference).where(DigestPreference.user_id == content.user_id)
    )
    if pref is None:
        user = db.session.get(User, content.user_id)
        language = digest_prefs.default_language(user) if user else "zh"
        pref = DigestPreference(
            user_id=content.user_id, frequency="weekly", kinds=list(DIGEST_KINDS), language=language
        )
        db.session.add(pref)
    if pref.last_digest_at is None or pref.last_digest_at < content.cutoff:
        pref.last_digest_at = content.cutoff
    db.session.commit()


def _mark_failed(row_id: int, token: str, attempts: int, error: str) -> None:
    wait = RETRY_BACKOFF * (2 ** max(attempts - 1, 0))
    _set(
        row_id,
        token,
        ("claimed", "sending"),
        status="failed",
        error=error[:ERROR_MAX],
        next_attempt_at=utcnow() + wait,
    )
    db.session.commit()
