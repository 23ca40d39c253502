"""The leader lease and the job-run ledger: how scheduled jobs run once across processes.

Every scheduler process (``market serve`` workers, ``market scheduler``) fires the
same triggers; two guards make each trigger do its work once:

1. **The lease.** ``scheduler_lease`` has one row. A process takes it with one
   conditional ``UPDATE … WHERE holder = me OR expires_at < now`` and renews it
   every third of its length; the row lock (PostgreSQL) or the database write
   lock (SQLite, ``BEGIN IMMEDIATE``) makes the update atomic, so at most one
   process holds an unexpired lease. Only the holder runs jobs. When the leader
   dies its lease runs out and another process takes it within one renewal
   interval. Hosts' clocks must agree to well within the lease length (NTP).
2. **The run claim.** Before a job runs, its (job, period) row is inserted into
   ``job_runs``; the unique key lets one insert win even if two processes both
   believed they led (a paused leader waking after its lease ran out). A run left
   ``running`` by a holder that lost the lease is taken over by the new leader
   (``take_over``); jobs are written so that running them again is safe.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from market.core.db import write_intent
from market.core.extensions import db
from market.models import JobRun, SchedulerLease, utcnow

log = logging.getLogger("market.scheduler")

LEASE_ID = 1
DETAIL_MAX = 4000
EPOCH = datetime(2000, 1, 1, tzinfo=utcnow().tzinfo)


def new_holder_id() -> str:
    """``host:pid:random``: unique per process start, readable on the admin page."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


# --- the lease ---------------------------------------------------------------------------


def _ensure_lease_row() -> None:
    if db.session.get(SchedulerLease, LEASE_ID) is not None:
        return
    try:
        with db.session.begin_nested():
            db.session.add(SchedulerLease(id=LEASE_ID, holder=None, expires_at=EPOCH))
    except IntegrityError:
        pass  # another process created it first


def acquire(holder: str, seconds: float) -> bool:
    """Take or renew the lease for ``seconds``; True when ``holder`` now holds it.

    Commits. Never raises for a lost race: the loser just gets False.
    """
    now = utcnow()
    with write_intent():
        try:
            _ensure_lease_row()
            result = db.session.execute(
                update(SchedulerLease)
                .where(
                    SchedulerLease.id == LEASE_ID,
                    (SchedulerLease.holder == holder)
                    | SchedulerLease.holder.is_(None)
                    | (SchedulerLease.expires_at < now),
                )
                .values(holder=holder, expires_at=now + timedelta(seconds=seconds))
                .execution_options(synchronize_session=False)
            )
            won = bool(result.rowcount)  # type: ignore[attr-defined]
            if won:
                db.session.execute(
                    update(SchedulerLease)
                    .where(SchedulerLease.id == LEASE_ID, SchedulerLease.acquired_at.is_(None))
                    .values(acquired_at=now)
                    .execution_options(synchronize_session=False)
                )
            db.session.commit()
            return won
        except Exception:
            db.session.rollback()
            log.exception("could not take or renew the scheduler lease")
            return False


def release(holder: str) -> None:
    """Give the lease up at once (a clean shutdown), so another process need not wait."""
    with write_intent():
        db.session.execute(
            update(SchedulerLease)
            .where(SchedulerLease.id == LEASE_ID, SchedulerLease.holder == holder)
            .values(holder=None, acquired_at=None, expires_at=EPOCH)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()


def current_lease() -> SchedulerLease | None:
    return db.session.get(SchedulerLease, LEASE_ID)


def holds(holder: str) -> bool:
    """True when ``holder`` has the lease and it has not run out."""
    db.session.expire_all()
    lease = current_lease()
    db.session.rollback()
    return lease is not None and lease.holder == holder and lease.expires_at > utcnow()


# --- job runs ------------------------------------------------------------------------------


@dataclass
class Claim:
    """A claimed run: ``run_id`` to finish, ``taken_over`` when it resumes a dead holder's."""

    run_id: int
    taken_over: bool = False


def claim(job: str, period: str, holder: str) -> Claim | None:
    """Insert the (job, period) run; None when it exists already (done or running elsewhere).

    Commits, so the claim is visible to every other process before the job starts.
    """
    with write_intent():
        try:
            run = JobRun(job=job, period=period, holder=holder, outcome="running")
            db.session.add(run)
            db.session.commit()
            return Claim(run.id)
        except IntegrityError:
            db.session.rollback()
            return None


def take_over(run: JobRun, holder: str, retry_failed: bool = False) -> Claim | None:
    """Resume ``run`` (left running by another holder, or failed when ``retry_failed``).

    The conditional update makes two would-be resumers race safely: one wins.
    """
    allowed = ["running", "failed"] if retry_failed else ["running"]
    with write_intent():
        result = db.session.execute(
            update(JobRun)
            .where(
                JobRun.id == run.id,
                JobRun.holder == run.holder,
                JobRun.attempts == run.attempts,
                JobRun.outcome.in_(allowed),
            )
            .values(
                holder=holder,
                outcome="running",
                attempts=JobRun.attempts + 1,
                started_at=utcnow(),
                finished_at=None,
            )
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
    return Claim(run.id, taken_over=True) if result.rowcount else None  # type: ignore[attr-defined]


def finish(run_id: int, outcome: str, detail: str = "") -> None:
    """Record how the run ended (ok, failed, skipped) and what it did."""
    with write_intent():
        db.session.rollback()  # whatever the job left uncommitted is not ours to keep
        db.session.execute(
            update(JobRun)
            .where(JobRun.id == run_id)
            .values(outcome=outcome, finished_at=utcnow(), detail=detail[:DETAIL_MAX])
            .execution_options(synchronize_session=False)
        )
        db.session.commit()


def orphaned(holder: str) -> list[JobRun]:
    """Runs still marked running by some other holder (it lost the lease: it is gone)."""
    db.session.expire_all()
    runs = list(
        db.session.scalars(
            select(JobRun).where(JobRun.outcome == "running", JobRun.holder != holder)
        )
    )
    db.session.rollback()
    return runs


def find(job: str, period: str) -> JobRun | None:
    db.session.expire_all()
    run = db.session.scalar(select(JobRun).where(JobRun.job == job, JobRun.period == period))
    db.session.rollback()
    return run


def recent(limit: int = 200, job: str | None = None) -> list[JobRun]:
    """The latest runs, newest first (the admin page)."""
    stmt = select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
    if job:
        stmt = stmt.where(JobRun.job == job)
    return list(db.session.scalars(stmt))
