"""``market digest [--week YYYY-Www] [--dry-run]`` and ``market scheduler``."""

from __future__ import annotations

import signal
import threading
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from market.cli import fail
from market.commands import ProgressBar
from market.services import digest_send
from market.services.digest_collect import BadWeek, current_week, parse_week


@click.command("digest")
@click.option("--week", default=None, help="ISO week, e.g. 2026-W05 (default: this week).")
@click.option("--dry-run", is_flag=True, help="Print what would be sent; send nothing.")
@with_appcontext
def digest_command(week: str | None, dry_run: bool) -> None:
    """Send (or preview) the weekly digests for an ISO week; each user gets one at most."""
    try:
        week = parse_week(week) if week is not None else current_week()
    except BadWeek as exc:
        fail(str(exc))
        return
    if dry_run:
        count = 0
        for content in digest_send.preview_week(week):
            count += 1
            sections = ", ".join(f"{s.name} {s.total}" for s in content.sections)
            click.echo(
                f"{content.user_ref}  {content.email}  [{content.language}]  "
                f"{content.total} items: {sections}"
            )
        click.echo(f"week {week}: {count} digests would be sent (dry run: nothing sent)")
        return
    with ProgressBar("sending digests") as bar:
        report = digest_send.send_week(week, progress=bar.update)
    click.echo(report.summary())
    if report.uncertain:
        click.echo(
            f"warning: {report.uncertain} digests were handed to the mail server without "
            "confirmation; resolve them on /admin/jobs",
            err=True,
        )
    if report.aborted:
        fail(f"stopped: the mail server kept failing ({'; '.join(report.errors[:1])})")


@click.command("scheduler")
@click.option("--once", "job", default=None, help="Run one job for the current period, then exit.")
@with_appcontext
def scheduler_command(job: str | None) -> None:
    """Run the scheduler alone (multi-worker deployments: one or more of these, any number)."""
    from market.services.scheduler import Scheduler

    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        scheduler = Scheduler(app)
    except ValueError as exc:
        fail(f"bad scheduler configuration: {exc}")
        return
    if job is not None:
        if job not in scheduler.specs:
            fail(f"unknown job {job!r}; jobs: {', '.join(scheduler.specs)}")
        result = scheduler.run_now(job)
        if result is None:
            click.echo(f"{job}: this period has run already")
            return
        click.echo(f"{job}: {result[0]} {result[1]}")
        if result[0] == "failed":
            fail(f"{job} failed")
        return
    stop = threading.Event()

    def _stop(_signum: int, _frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    scheduler.start()
    click.echo(f"scheduler {scheduler.holder} running; Ctrl-C stops it")
    stop.wait()
    scheduler.shutdown()


digest_commands = (digest_command, scheduler_command)
