"""The scheduler: lease and failover, each (job, period) run once, and two real processes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, select, text, update

from market.core.extensions import db
from market.digest.collect import current_week
from market.jobs import runs as job_runs
from market.jobs.scheduler import JobSpec, Result, Scheduler, enabled
from market.models import DigestLedger, JobRun, SchedulerLease, utcnow
from tests.conftest import make_user
from tests.digest.factories import digest_world, freeze_matching
from tests.smtp_server import SMTPServer

pytestmark = pytest.mark.usefixtures("freeze_matching")
assert freeze_matching

MARKET = str(Path(sys.executable).parent / "market")


# --- the lease ------------------------------------------------------------------------------


def test_one_holder_at_a_time_and_failover_when_the_lease_runs_out(app: Flask) -> None:
    assert job_runs.acquire("a", 30)
    assert not job_runs.acquire("b", 30)
    assert job_runs.acquire("a", 30)  # renewing
    assert job_runs.holds("a") and not job_runs.holds("b")

    db.session.execute(
        update(SchedulerLease).values(expires_at=utcnow() - timedelta(seconds=1))
    )  # "a" died: nobody renewed
    db.session.commit()

    assert job_runs.acquire("b", 30)
    assert not job_runs.acquire("a", 30)  # a paused "a" waking up finds it gone
    assert not job_runs.holds("a")


def test_a_clean_shutdown_hands_the_lease_on_at_once(app: Flask) -> None:
    assert job_runs.acquire("a", 300)
    job_runs.release("a")
    assert job_runs.acquire("b", 300)


def test_a_period_is_claimed_once_and_an_orphaned_run_is_taken_over_once(app: Flask) -> None:
    first = job_runs.claim("digest", "2026-W05", "a")
    assert first is not None
    assert job_runs.claim("digest", "2026-W05", "b") is None

    orphan = job_runs.orphaned("b")
    assert [run.job for run in orphan] == ["digest"]
    # What a second would-be resumer read at the same time as "b".
    seen = SimpleNamespace(id=orphan[0].id, holder=orphan[0].holder, attempts=orphan[0].attempts)
    assert job_runs.take_over(orphan[0], "b") is not None
    assert job_runs.take_over(seen, "c") is None  # type: ignore[arg-type]  # b won the race
    run = job_runs.find("digest", "2026-W05")
    assert run is not None and run.holder == "b" and run.attempts == 2


# --- the scheduler in this process ------------------------------------------------------------


class Recorder:
    def __init__(self, outcome: str = "ok") -> None:
        self.calls: list[str] = []
        self.outcome = outcome

    def __call__(self, period: str) -> Result:
        self.calls.append(period)
        if self.outcome == "raise":
            raise RuntimeError("the job broke")
        return self.outcome, f"did {period}"


@pytest.fixture
def file_app(app: Flask) -> Flask:
    """The test app; its scheduler threads use sessions of their own (a file or PG database)."""
    db.session.commit()
    return app


def test_only_the_leader_runs_a_fired_trigger_and_only_once_per_period(file_app: Flask) -> None:
    job = Recorder()
    spec = JobSpec("probe", "* * * * *", "5min", job)
    one, two = Scheduler(file_app, [spec]), Scheduler(file_app, [spec])

    one.tick()
    two.tick()
    for scheduler in (one, two, one, two):
        scheduler.fire("probe")

    assert one.leader and not two.leader
    assert len(job.calls) == 1
    run = db.session.scalars(select(JobRun)).one()
    assert (run.job, run.outcome, run.detail) == ("probe", "ok", f"did {job.calls[0]}")


def test_a_missed_period_is_caught_up_when_a_leader_comes_up(file_app: Flask) -> None:
    job = Recorder()
    scheduler = Scheduler(file_app, [JobSpec("weekly", "0 0 * * mon", "week", job, catch_up=True)])
    scheduler.aps.start(paused=True)
    try:
        scheduler.tick()  # leader: the week's Monday 00:00 has passed, no run yet
        deadline = time.monotonic() + 10
        while not job.calls and time.monotonic() < deadline:
            scheduler.aps.resume()
            time.sleep(0.1)
    finally:
        scheduler.aps.shutdown(wait=True)
    assert job.calls == [current_week()]


def test_a_failing_job_is_recorded_and_retried_with_backoff(file_app: Flask) -> None:
    job = Recorder("raise")
    spec = JobSpec("flaky", "* * * * *", "day", job, retry_failed=True)
    scheduler = Scheduler(file_app, [spec])
    scheduler.tick()
    scheduler.fire("flaky")
    db.session.expire_all()
    run = db.session.scalars(select(JobRun)).one()
    assert run.outcome == "failed" and "RuntimeError: the job broke" in run.detail

    assert not scheduler._retry_due(run, utcnow())  # within the backoff
    assert scheduler._retry_due(run, utcnow() + timedelta(minutes=6))


def test_serve_starts_the_scheduler_unless_switched_off(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[str] = []

    class FakeScheduler:
        def __init__(self, _app: Flask) -> None:
            pass

        def start(self) -> None:
            started.append("start")

        def shutdown(self) -> None:
            started.append("stop")

    monkeypatch.setattr("waitress.serve", lambda *_a, **_k: None)
    monkeypatch.setattr("market.jobs.scheduler.Scheduler", FakeScheduler)
    assert not enabled(app)  # never in tests
    app.testing = False
    try:
        assert app.test_cli_runner().invoke(args=["serve"]).exit_code == 0
        app.config["SCHEDULER"] = "off"
        assert app.test_cli_runner().invoke(args=["serve"]).exit_code == 0
    finally:
        app.testing = True
    assert started == ["start", "stop"]


# --- two scheduler processes, and the leader killed in the middle of the digest -------------

USERS = 6  # digest worlds: 12 recipients


def _lease_holder_pid(url: str) -> int | None:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        with sqlite3.connect(path, timeout=30) as conn:
            row = conn.execute("SELECT holder FROM scheduler_lease WHERE id = 1").fetchone()
    else:
        engine = create_engine(url)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT holder FROM scheduler_lease WHERE id = 1")).fetchone()
        engine.dispose()
    if not row or not row[0]:
        return None
    return int(str(row[0]).split(":")[1])


@pytest.fixture
def two_schedulers(
    app: Flask, tmp_path: Path
) -> Iterator[tuple[SMTPServer, list[subprocess.Popen[bytes]], str, list[Path]]]:
    smtp = SMTPServer().start()
    url = str(app.config["SQLALCHEMY_DATABASE_URI"])
    logs = [tmp_path / f"scheduler{n}.log" for n in (1, 2)]
    procs: list[subprocess.Popen[bytes]] = []
    yield smtp, procs, url, logs
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    smtp.stop()


def _start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    return subprocess.Popen([MARKET, "scheduler"], env=env, stdout=handle, stderr=handle)


def test_two_schedulers_and_a_killed_leader_send_each_user_exactly_one_digest(
    app: Flask, two_schedulers: Any
) -> None:
    smtp, procs, url, logs = two_schedulers
    for _ in range(USERS):
        digest_world()
    db.session.commit()
    recipients = USERS * 2
    killed: list[int] = []

    def kill_the_leader(rcpt: int) -> None:
        # In the middle of the run, between a claim and its hand-over: the worst moment.
        if rcpt == 4 and not killed:
            pid = _lease_holder_pid(url)
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)

    smtp.handler.on_rcpt = kill_the_leader
    env = _env_of(app, smtp, url, logs)
    procs.extend(_start(env, log) for log in logs)

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(smtp.handler.received) < recipients:
        time.sleep(0.25)
    time.sleep(3)  # anything extra would show up now

    counts = Counter(r.rcpt_tos[0] for r in smtp.handler.received)
    detail = "\n".join(log.read_text(errors="replace")[-3000:] for log in logs)
    assert killed, detail
    assert len(counts) == recipients, detail
    assert set(counts.values()) == {1}, counts
    db.session.expire_all()
    rows = db.session.scalars(select(DigestLedger)).all()
    assert len(rows) == recipients and {row.status for row in rows} == {"sent"}
    run = db.session.scalar(select(JobRun).where(JobRun.job == "digest"))
    assert run is not None and run.outcome == "ok" and run.attempts == 2, detail
    assert str(killed[0]) not in run.holder  # the survivor finished it


def _env_of(app: Flask, smtp: SMTPServer, url: str, logs: list[Path]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_", "FLASK_"))}
    env.update(
        MARKET_INSTANCE=str(logs[0].parent / "instance"),
        MARKET_DATABASE_URL=url,
        MARKET_SECRET_KEY="test-secret",
        MARKET_SMTP_URL=smtp.url + "?timeout=10",
        MARKET_SCHEDULER_JOBS="digest",
        MARKET_SCHEDULER_DIGEST_CRON="* * * * *",
        MARKET_SCHEDULER_LEASE_SECONDS="2",
        MARKET_DIGEST_CLAIM_TIMEOUT="1",
        MARKET_DIGEST_SMTP_RETRY_DELAYS="[]",
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    return env


def test_the_admin_can_see_who_holds_the_lease(app: Flask, client: Any, auth: Any) -> None:
    job_runs.acquire("host:42:cafe", 60)
    auth.login(make_user(role="admin"))
    assert "host:42:cafe" in client.get("/admin/jobs").get_data(as_text=True)
