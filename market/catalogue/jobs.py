"""Publishing the scheduled catalogue editions."""

from __future__ import annotations

from flask import Flask

from market.jobs import scheduled
from market.jobs.scheduler import JobSpec, Result
from market.models import utcnow


def catalogue_publish(period: str) -> Result:
    from market.catalogue import service as catalogue

    editions = catalogue.publish_due(utcnow())
    refs = ", ".join(str(edition.ref) for edition in editions)
    return "ok", f"published {len(editions)}" + (f": {refs}" if refs else "")


def init_app(app: Flask) -> None:
    scheduled.add(
        app, lambda app: JobSpec("catalogue-publish", "*/5 * * * *", "5min", catalogue_publish)
    )
