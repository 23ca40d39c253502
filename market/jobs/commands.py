"""``market scheduler [--once JOB]``: the scheduler alone, or one job once."""

from __future__ import annotations

import signal
import threading
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from market.core.cli_output import fail


@click.command("scheduler")
@click.option("--once", "job", default=None, help="Run one job for the current period, then exit.")
@with_appcontext
def scheduler_command(job: str | None) -> None:
    """Run the scheduler alone (multi-worker deployments: one or more of these, any number)."""
    from market.jobs.scheduler import Scheduler

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
