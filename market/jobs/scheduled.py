"""The scheduled jobs of this app: each feature hands its own to ``add`` in its
``init_app``; the scheduler reads them back with ``specs``.

Times are in ``MARKET_SCHEDULER_TIMEZONE`` (Asia/Shanghai). Each job is safe to run
again for the same period (a take-over after a crash does that). The jobs, by feature:

| job | when | feature |
|---|---|---|
| digest | Mon 09:00 (``MARKET_SCHEDULER_DIGEST_CRON``) | digest/jobs.py |
| digest-retry | every 30 min | digest/jobs.py |
| rematch | 02:30 daily | recommendations/jobs.py |
| search-outbox | every 5 min | listing_search/jobs.py |
| search-reconcile | 03:30 daily | listing_search/jobs.py |
| expiry | 08:00 daily | listings/jobs.py |
| catalogue-publish | every 5 min | catalogue/jobs.py |
| zero-results-prune | 04:10 daily | listing_search/jobs.py |
| mail-queue | every 5 min | accounts/jobs.py |
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from market.jobs.scheduler import JobSpec

EXTENSION = "market.jobs"
# Built when asked for: a job's cron may come from the configuration (the digest's).
SpecFactory = Callable[[Flask], JobSpec]


def add(app: Flask, *factories: SpecFactory) -> None:
    """Register jobs: each factory builds one ``JobSpec`` from the app's configuration."""
    app.extensions.setdefault(EXTENSION, []).extend(factories)


def specs(app: Flask) -> list[JobSpec]:
    """The scheduled jobs, with the crons the configuration asks for.

    ``MARKET_SCHEDULER_JOBS`` (comma-separated names) limits them, e.g. to run the
    digest alone on one machine; unset means every job.
    """
    wanted = app.config.get("SCHEDULER_JOBS")
    names = {name.strip() for name in str(wanted).split(",")} if wanted else None
    every = [factory(app) for factory in app.extensions.get(EXTENSION, [])]
    return [spec for spec in every if names is None or spec.name in names]
