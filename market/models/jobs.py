"""Scheduled jobs: one row per run (job, period), the leader lease, listing-expiry notices.

``job_runs`` is both the record admins read and the exactly-once guard: a run is
claimed by inserting its (job, period) row, which the unique key lets only one
process do. ``scheduler_lease`` is a single row (id 1) naming the process that may
run jobs at all and until when; see ``market/services/job_runs.py``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from market.core.extensions import db
from market.models.base import UTCDateTime, utcnow

RUN_OUTCOMES = ("running", "ok", "failed", "skipped")
NOTICE_KINDS = ("reminder", "expired")


class JobRun(db.Model):  # type: ignore[name-defined]
    """One run of a scheduled job for one period (an ISO week, a day, a minute …).

    ``outcome`` is ``running`` until the run ends; ``holder`` is the scheduler process
    that runs it (a new leader takes over a run whose holder lost the lease);
    ``attempts`` counts starts, take-overs and retries included.
    """

    __tablename__ = "job_runs"
    __table_args__ = (UniqueConstraint("job", "period", name="uq_job_runs_job_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(40), index=True)
    period: Mapped[str] = mapped_column(String(40))
    holder: Mapped[str] = mapped_column(String(120), default="")
    outcome: Mapped[str] = mapped_column(String(16), default="running", index=True)
    attempts: Mapped[int] = mapped_column(default=1)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    detail: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<JobRun {self.job} {self.period} {self.outcome}>"


class SchedulerLease(db.Model):  # type: ignore[name-defined]
    """The single leader lease (id 1): ``holder`` may run jobs until ``expires_at``."""

    __tablename__ = "scheduler_lease"

    id: Mapped[int] = mapped_column(primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(120))
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ExpiryNotice(db.Model):  # type: ignore[name-defined]
    """A reminder (a week before) or expiry notice mailed for one listing's due date.

    Keyed by the due date it concerns, so a renewed listing gets new notices for its
    new date and an unchanged one never gets the same notice twice.
    """

    __tablename__ = "expiry_notices"
    __table_args__ = (
        UniqueConstraint("item_type", "item_id", "kind", "due", name="uq_expiry_notices_item"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type: Mapped[str] = mapped_column(String(16))  # offering | need
    item_id: Mapped[int] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(16))  # reminder | expired
    due: Mapped[str] = mapped_column(String(32))  # the expiry (ISO) the notice is about
    recipients: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
