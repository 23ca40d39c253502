"""The scheduler: run claims, the lease, ``market scheduler``. It knows no feature:
each feature hands it its jobs in its own ``init_app`` (``scheduled.add``)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from market.jobs import scheduler
    from market.jobs.commands import scheduler_command

    app.cli.add_command(scheduler_command)
    # `market serve` starts the background scheduler through this, so cli.py needs
    # no feature import.
    app.extensions["market.background"] = lambda: (
        scheduler.Scheduler(app) if scheduler.enabled(app) else None
    )
