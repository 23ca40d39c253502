"""Sending the weekly digests: effectively once per user and ISO week.

The ledger row (user, week) is the only way to send a digest, and its unique key
allows one per week. A digest goes through these states, each committed:

    claimed  → the row is inserted (or taken over) with a fresh ``claim_token``
    sending  → set by the transport's hand-over hook, just before the SMTP DATA
               terminator (the outbox: before the file is put in place), and only
               if the row still carries our token
    sent     → the server answered 250; the user's ``last_digest_at`` moves on
    failed   → refused, or unreachable before the hand-over (retried with backoff)

**Crash policy.** A crash (or kill) while ``claimed`` means the message was never
handed over: nothing can have been delivered, so a claim older than
``MARKET_DIGEST_CLAIM_TIMEOUT`` seconds is taken over and sent again (a slow but
alive sender then loses its hand-over, because the token changed, and aborts).
A crash while ``sending`` — between the terminator and recording the 250 — may or
may not have delivered; such a row is **never resent automatically**: it is
reported as *uncertain* on the admin page (and by ``market digest``), where an
admin marks it sent or releases it for a resend. The window is one network round
trip and one commit, so this is rare, and a duplicate weekly mail is judged worse
than a late one.

**Failures.** A delivery error before the hand-over is retried at once after
``MARKET_DIGEST_SMTP_RETRY_DELAYS`` seconds (default 1 and 5), then the row is
marked failed with ``next_attempt_at`` backing off 15 min × 2^(attempts-1); the
``digest-retry`` job sends it again until ``MARKET_DIGEST_MAX_ATTEMPTS`` (5). After
``ABORT_AFTER`` consecutive failures the run stops (the server is down): the job is
recorded failed and the scheduler re-runs it with backoff; users not reached yet
have no row and are picked up then.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select

from market.core import mail
from market.core.db import write_intent
from market.core.extensions import db
from market.digest.collect import (
    Collector,
    DigestContent,
    current_week,
    eligible_count,
    eligible_users,
    week_of,
)
from market.digest.ledger import ERROR_MAX, _claim, _mark_failed, _mark_sent, _set, _take_over
from market.digest.render import build, render
from market.models import DigestLedger, DigestPreference, User, utcnow

log = logging.getLogger("market.digest")

BATCH = 500
ABORT_AFTER = 10

Progress = Callable[[int, int], None]


@contextmanager
def writing() -> Iterator[None]:
    """A write transaction of its own: end the session's read transaction first.

    On SQLite a transaction that began as a reader cannot take the write lock while
    another connection holds it ("database is locked" at once, no busy wait); a
    fresh transaction under ``write_intent`` starts with BEGIN IMMEDIATE and queues.
    """
    db.session.commit()
    with write_intent():
        yield


class LostClaim(Exception):
    """Another sender took the row over: this one must not hand the message over."""


@dataclass
class SendReport:
    """What one run did, for the job record and the command's output."""

    week: str
    users: int = 0
    empty: int = 0
    sent: int = 0
    failed: int = 0
    already: int = 0
    uncertain: int = 0
    aborted: bool = False
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"week {self.week}: {self.users} users, {self.sent} sent, {self.empty} with nothing "
            f"new, {self.already} already handled, {self.failed} failed, "
            f"{self.uncertain} uncertain"
        )
        if self.aborted:
            text += "; stopped after repeated delivery failures"
        if self.errors:
            text += "; " + " | ".join(self.errors[:3])
        return text


def claim_timeout() -> timedelta:
    return timedelta(seconds=float(current_app.config.get("DIGEST_CLAIM_TIMEOUT", 900)))


def max_attempts() -> int:
    return int(current_app.config.get("DIGEST_MAX_ATTEMPTS", 5))


def retry_delays() -> list[float]:
    raw = current_app.config.get("DIGEST_SMTP_RETRY_DELAYS", [1, 5])
    if isinstance(raw, str):
        raw = [part for part in raw.split(",") if part.strip()]
    return [float(value) for value in raw]


def is_uncertain(row: DigestLedger, now: datetime | None = None) -> bool:
    """Handed over, never confirmed, and nobody is still sending it."""
    now = now or utcnow()
    since = row.handed_over_at or row.claimed_at
    return row.status == "sending" and since + claim_timeout() < now


# --- delivery ------------------------------------------------------------------------------


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def deliver(
    row: DigestLedger, content: DigestContent, transport: mail.Transport
) -> tuple[str, str]:
    """Send one claimed digest; returns ("sent" | "failed" | "uncertain" | "lost", error)."""
    row_id, token, attempts = row.id, row.claim_token, row.attempts
    rendered = render(content)
    message = build(content, rendered)
    handed = False

    def handover() -> None:
        nonlocal handed
        with writing():
            moved = _set(
                row_id, token, ("claimed",), status="sending", handed_over_at=utcnow(), error=None
            )
            db.session.commit()
        if not moved:
            raise LostClaim()
        handed = True

    error = ""
    for delay in [0.0, *retry_delays()]:
        if delay:
            time.sleep(delay)
        handed = False
        try:
            transport.send(message, on_handover=handover)
        except LostClaim:
            db.session.rollback()
            return "lost", ""
        except Exception as exc:
            db.session.rollback()
            error = _describe(exc)
            if handed and not isinstance(exc, smtplib.SMTPResponseException):
                # The terminator went out and no answer came: the server may have it.
                with writing():
                    _set(row_id, token, ("sending",), error=error[:ERROR_MAX])
                    db.session.commit()
                log.error("digest %s for user %s: delivery unknown: %s", row_id, row.user_id, error)
                return "uncertain", error
            if handed:  # a definite refusal after the data: not delivered, try again
                with writing():
                    _set(row_id, token, ("sending",), status="claimed", handed_over_at=None)
                    db.session.commit()
            log.warning("digest %s for user %s: %s", row_id, row.user_id, error)
            continue
        with writing():
            _mark_sent(row_id, token, content, rendered.message_id)
        return "sent", ""
    with writing():
        _mark_failed(row_id, token, attempts, error)
    return "failed", error


def _existing(week: str, user_ids: list[int]) -> dict[int, DigestLedger]:
    rows = db.session.scalars(
        select(DigestLedger).where(
            DigestLedger.iso_week == week, DigestLedger.user_id.in_(user_ids)
        )
    )
    return {row.user_id: row for row in rows}


def _retryable(row: DigestLedger, now: datetime) -> bool:
    if row.status == "claimed":
        return row.claimed_at + claim_timeout() < now
    if row.status == "failed":
        due = row.next_attempt_at is None or row.next_attempt_at <= now
        return due and row.attempts < max_attempts()
    return False


def _batches(user_ids: list[int] | None) -> Iterator[list[tuple[User, DigestPreference | None]]]:
    after = 0
    while True:
        batch = eligible_users(user_ids, after_id=after, limit=BATCH)
        if not batch:
            return
        after = batch[-1][0].id
        yield batch


def send_week(
    week: str,
    *,
    now: datetime | None = None,
    user_ids: list[int] | None = None,
    retry_only: bool = False,
    progress: Progress | None = None,
) -> SendReport:
    """Send ``week``'s digests to every eligible user who has not had one.

    ``retry_only`` touches only rows that exist (failed and due, or stale claims).
    Never raises for delivery errors (they are in the report); raises for database
    errors.
    """
    report = SendReport(week)
    collector = Collector(week, now)
    transport = mail.transport()
    total = eligible_count() if progress else 0
    done = 0
    consecutive = 0
    for batch in _batches(user_ids):
        existing = _existing(week, [user.id for user, _pref in batch])
        for user, pref in batch:
            done += 1
            report.users += 1
            email = user.email
            outcome, error = _one(
                user, pref, existing.get(user.id), collector, transport, retry_only
            )
            _count(report, outcome)
            if error:
                report.errors.append(f"{email}: {error}")
            if outcome == "failed":
                consecutive += 1
            elif outcome == "sent":
                consecutive = 0
            if consecutive >= ABORT_AFTER:
                report.aborted = True
                log.error("digest run for %s stopped: %s", week, report.summary())
                return report
        if progress:
            progress(min(done, total), total)
    report.uncertain += uncertain_count(week)
    return report


def _one(
    user: User,
    pref: DigestPreference | None,
    row: DigestLedger | None,
    collector: Collector,
    transport: mail.Transport,
    retry_only: bool,
) -> tuple[str, str]:
    now = max(collector.now, utcnow())
    if row is not None:
        if not _retryable(row, now):
            return "already", ""
    elif retry_only:
        return "already", ""
    seen = (row.id, row.status, row.claim_token) if row is not None else None
    content = collector.collect(user, pref)
    if content.empty:
        if seen is not None:
            # Nothing left to say (items were withdrawn): close the row as sent-empty.
            with writing():
                _set(seen[0], seen[2], (seen[1],), status="sent", items=0)
                db.session.commit()
        return "empty", ""
    with writing():
        if seen is None:
            claimed = _claim(user.id, collector.week, content.cutoff)
        else:
            claimed = _take_over(*seen, content.cutoff)
    if claimed is None:
        return "already", ""
    return deliver(claimed, content, transport)


def _count(report: SendReport, outcome: str) -> None:
    if outcome == "sent":
        report.sent += 1
    elif outcome == "empty":
        report.empty += 1
    elif outcome == "failed":
        report.failed += 1
    elif outcome == "uncertain":
        report.uncertain += 1
    else:
        report.already += 1


def retry_due(now: datetime | None = None) -> SendReport:
    """Re-send this week's failed digests whose backoff ran out, and stale claims."""
    week = week_of(now or utcnow())
    user_ids = list(
        db.session.scalars(
            select(DigestLedger.user_id).where(
                DigestLedger.iso_week == week, DigestLedger.status.in_(("failed", "claimed"))
            )
        )
    )
    if not user_ids:
        return SendReport(week)
    return send_week(week, now=now, user_ids=user_ids, retry_only=True)


def preview_week(week: str, now: datetime | None = None) -> Iterator[DigestContent]:
    """What ``send_week`` would send now (users with a sent row left out); no writes."""
    collector = Collector(week, now)
    for batch in _batches(None):
        existing = _existing(week, [user.id for user, _pref in batch])
        for user, pref in batch:
            row = existing.get(user.id)
            if row is not None and not _retryable(row, utcnow()):
                continue
            content = collector.collect(user, pref)
            if not content.empty:
                yield content


# --- what admins see and resolve -----------------------------------------------------------


def uncertain_count(week: str | None = None) -> int:
    rows = problem_rows(week)
    return sum(1 for row in rows if is_uncertain(row))


def problem_rows(week: str | None = None, limit: int = 200) -> list[DigestLedger]:
    """Failed and handed-over-but-unconfirmed rows, newest first."""
    stmt = (
        select(DigestLedger)
        .where(DigestLedger.status.in_(("failed", "sending")))
        .order_by(DigestLedger.claimed_at.desc())
        .limit(limit)
    )
    if week:
        stmt = stmt.where(DigestLedger.iso_week == week)
    return list(db.session.scalars(stmt))


def resolve(row: DigestLedger, action: str, admin: User) -> None:
    """An admin settles a failed or uncertain digest.

    ``sent``: the user did get it (the row is closed); ``resend``: they did not (the
    next ``digest-retry`` run sends it). Raises DomainError for anything else.
    """
    from flask_babel import gettext as _

    from market.core import permissions
    from market.core.errors import DomainError

    permissions.require(permissions.can_preview_digests(admin))
    if row.status not in ("failed", "sending"):
        raise DomainError(_("这封周报不需要处理。"))
    if action == "sent":
        row.status = "sent"
        row.sent_at = row.sent_at or utcnow()
    elif action == "resend":
        row.status = "failed"
        row.next_attempt_at = utcnow()
        row.attempts = min(row.attempts, max_attempts() - 1)
    else:
        raise DomainError(_("请选择处理方式。"))
    row.resolved_by_id = admin.id


def this_week() -> str:
    return current_week()
