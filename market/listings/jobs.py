"""Listing expiry: reminders a week before, expiry notices, index updates."""

from __future__ import annotations

from flask import Flask

from market.jobs import scheduled
from market.jobs.scheduler import JobSpec, Result
from market.models import utcnow


def expiry(period: str) -> Result:
    from market.listings.expiry import run

    report = run(utcnow())
    return ("failed" if report.failed else "ok"), report.summary()


def init_app(app: Flask) -> None:
    scheduled.add(
        app,
        lambda app: JobSpec("expiry", "0 8 * * *", "day", expiry, catch_up=True, retry_failed=True),
    )
