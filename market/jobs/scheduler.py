"""The scheduler: APScheduler 3 triggers, run once per trigger across processes.

Every process that runs a scheduler (``market serve``, ``market scheduler``, one per
gunicorn worker if someone wires it so) builds the same triggers. APScheduler's job
stores cannot be shared between processes, so they stay in memory and the
database decides who acts (see ``job_runs``): a fired trigger does nothing unless
this process holds the lease, and the run itself is claimed by (job, period).

The lease is renewed by an interval job every third of its length. While it holds
the lease, each tick also *recovers*: it resumes runs left ``running`` by a holder
that died, retries failed runs of retryable jobs (with backoff), and catches up a
period whose trigger time passed while no scheduler ran (the machine was down on
Monday at 09:00: the digest goes out when it comes back, in the same week).

Never started by ``create_app`` or in tests: ``market serve`` starts it unless
``MARKET_SCHEDULER=off``; ``market scheduler`` runs only it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from market.core.report_period import iso_week
from market.jobs import runs as job_runs

log = logging.getLogger("market.scheduler")

DEFAULT_LEASE_SECONDS = 60
RETRY_LIMIT = 5  # starts of a retryable run before it stays failed for the admin
RETRY_BASE = timedelta(minutes=5)  # backoff of failed runs: 5, 10, 20, 40 minutes

# What a job returns: (outcome, detail) with outcome "ok", "failed" or "skipped".
Result = tuple[str, str]


@dataclass(frozen=True)
class JobSpec:
    """One scheduled job: its cron, how its period is named, and what it does."""

    name: str
    cron: str  # crontab fields, in the scheduler's time zone
    granularity: str  # "week", "day" or "<n>min": what one period is
    run: Callable[[str], Result]  # called with the period key, in an app context
    catch_up: bool = False  # run a missed period when a leader comes up
    retry_failed: bool = False  # re-run a failed period with backoff

    def period(self, now: datetime) -> tuple[datetime, str]:
        """The period ``now`` (local time) falls in: its start and its key."""
        if self.granularity == "week":
            start = (now - timedelta(days=now.weekday())).replace(
                hour=0, minute=0, second=0, microsecond=0
            )
            return start, iso_week(now)
        if self.granularity == "day":
            start = now.replace(hour=0, minute=0, second=0, microsecond=0)
            return start, start.date().isoformat()
        minutes = int(self.granularity.removesuffix("min"))
        floored = now.minute - now.minute % minutes
        start = now.replace(minute=floored, second=0, microsecond=0)
        return start, start.strftime("%Y-%m-%dT%H:%M")


def cron_trigger(expression: str, zone: ZoneInfo) -> CronTrigger:
    """A trigger from five crontab fields; raises ValueError on a malformed one."""
    return CronTrigger.from_crontab(expression, timezone=zone)


class Scheduler:
    """The BackgroundScheduler, the lease loop and the exactly-once wrapper of every job."""

    def __init__(self, app: Flask, specs: list[JobSpec] | None = None) -> None:
        from market.jobs import scheduled as scheduled_jobs

        self.app = app
        self.zone = ZoneInfo(str(app.config.get("SCHEDULER_TIMEZONE", "Asia/Shanghai")))
        self.lease_seconds = float(app.config.get("SCHEDULER_LEASE_SECONDS", DEFAULT_LEASE_SECONDS))
        self.holder = job_runs.new_holder_id()
        self.specs = {spec.name: spec for spec in (specs or scheduled_jobs.specs(app))}
        self.leader = False
        self._lock = threading.Lock()
        self.aps = BackgroundScheduler(timezone=self.zone)
        for spec in self.specs.values():
            self.aps.add_job(
                self.fire,
                cron_trigger(spec.cron, self.zone),
                args=[spec.name],
                id=spec.name,
                name=spec.name,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=300,
            )
        self.aps.add_job(
            self.tick,
            IntervalTrigger(seconds=max(self.lease_seconds / 3, 0.5)),
            id="lease",
            name="lease",
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(self.zone),
        )

    # --- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        log.info("scheduler %s starting (%d jobs)", self.holder, len(self.specs))
        self.aps.start()

    def shutdown(self) -> None:
        """Stop the triggers, wait for running jobs, and hand the lease on at once."""
        self.aps.shutdown(wait=True)
        with self.app.app_context():
            job_runs.release(self.holder)
        log.info("scheduler %s stopped", self.holder)

    # --- the lease loop ----------------------------------------------------------------

    def tick(self) -> None:
        """Take or renew the lease; as leader, recover what other holders left."""
        with self.app.app_context():
            leader = job_runs.acquire(self.holder, self.lease_seconds)
            if leader != self.leader:
                log.info("scheduler %s %s the lease", self.holder, "took" if leader else "lost")
            self.leader = leader
            if leader:
                try:
                    self.recover()
                except Exception:
                    log.exception("scheduler recovery failed")

    def is_leader(self) -> bool:
        if not self.leader:
            return False
        with self.app.app_context():
            return job_runs.holds(self.holder)

    def recover(self) -> None:
        now = datetime.now(self.zone)
        for run in job_runs.orphaned(self.holder):
            spec = self.specs.get(run.job)
            if spec is None:
                continue
            job, period, previous = run.job, run.period, run.holder
            claim = job_runs.take_over(run, self.holder)
            if claim is not None:
                log.warning("resuming %s %s left running by %s", job, period, previous)
                self._submit(spec, period, claim)
        for spec in self.specs.values():
            start, period = spec.period(now)
            found = job_runs.find(spec.name, period)
            if found is None and spec.catch_up and self._due_in(spec, start, now):
                claim = job_runs.claim(spec.name, period, self.holder)
                if claim is not None:
                    log.info("catching up %s %s", spec.name, period)
                    self._submit(spec, period, claim)
            elif found is not None and spec.retry_failed and self._retry_due(found, now):
                claim = job_runs.take_over(found, self.holder, retry_failed=True)
                if claim is not None:
                    log.info("retrying %s %s (start %d)", spec.name, period, found.attempts + 1)
                    self._submit(spec, period, claim)

    def _due_in(self, spec: JobSpec, start: datetime, now: datetime) -> bool:
        """Has the trigger had a fire time in this period, up to now?"""
        trigger = cron_trigger(spec.cron, self.zone)
        first = trigger.get_next_fire_time(None, start)
        return first is not None and first <= now

    @staticmethod
    def _retry_due(run: Any, now: datetime) -> bool:
        if run.outcome != "failed" or run.attempts >= RETRY_LIMIT or run.finished_at is None:
            return False
        wait = RETRY_BASE * (2 ** (run.attempts - 1))
        return bool(run.finished_at + wait <= now)

    def _submit(self, spec: JobSpec, period: str, claim: job_runs.Claim) -> None:
        self.aps.add_job(
            self._execute,
            args=[spec.name, period, claim.run_id],
            id=f"{spec.name}@{period}",
            name=f"{spec.name} {period}",
            replace_existing=True,
            max_instances=1,
        )

    # --- running jobs ------------------------------------------------------------------

    def fire(self, name: str) -> None:
        """A trigger fired: run the job for this period unless another process did."""
        if not self.is_leader():
            return
        spec = self.specs[name]
        _start, period = spec.period(datetime.now(self.zone))
        with self.app.app_context():
            claim = job_runs.claim(name, period, self.holder)
        if claim is None:
            return  # this period ran (or runs) already
        self._execute(name, period, claim.run_id)

    def _execute(self, name: str, period: str, run_id: int) -> None:
        spec = self.specs[name]
        with self.app.app_context():
            log.info("running %s %s", name, period)
            try:
                outcome, detail = spec.run(period)
            except Exception as exc:
                log.exception("job %s %s failed", name, period)
                outcome, detail = "failed", f"{type(exc).__name__}: {exc}"
            job_runs.finish(run_id, outcome, detail)
            log.info("%s %s: %s %s", name, period, outcome, detail)

    def run_now(self, name: str) -> tuple[str, str] | None:
        """Claim and run ``name`` for the current period in this thread (the CLI's --once)."""
        spec = self.specs[name]
        _start, period = spec.period(datetime.now(self.zone))
        with self.app.app_context():
            claim = job_runs.claim(name, period, self.holder)
        if claim is None:
            return None
        self._execute(name, period, claim.run_id)
        with self.app.app_context():
            run = job_runs.find(name, period)
            return (run.outcome, run.detail) if run else None


def enabled(app: Flask) -> bool:
    """Whether ``market serve`` should start the scheduler (MARKET_SCHEDULER, not in tests)."""
    flag = str(app.config.get("SCHEDULER", "on")).lower()
    return flag in ("on", "1", "true", "yes") and not app.testing
