"""The nightly rematch."""

from __future__ import annotations

from flask import Flask

from market.jobs import scheduled
from market.jobs.scheduler import JobSpec, Result


def rematch(period: str) -> Result:
    from market.recommendations import service as matching

    figures = matching.recompute_all()
    return "ok", f"recompute_all: {figures}; match outbox: {matching.process_match_outbox()}"


def init_app(app: Flask) -> None:
    scheduled.add(
        app,
        lambda app: JobSpec(
            "rematch", "30 2 * * *", "day", rematch, catch_up=True, retry_failed=True
        ),
    )
