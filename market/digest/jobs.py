"""The weekly digest's jobs: the week's send and the retry of failed ones."""

from __future__ import annotations

from flask import Flask

from market.jobs import scheduled
from market.jobs.scheduler import JobSpec, Result

DIGEST_CRON = "0 9 * * mon"


def digest(period: str) -> Result:
    from market.digest import send as digest_send

    report = digest_send.send_week(period)
    outcome = "failed" if report.aborted else "ok"
    return outcome, report.summary()


def digest_retry(period: str) -> Result:
    from market.digest import send as digest_send

    report = digest_send.retry_due()
    return "ok", report.summary()


def init_app(app: Flask) -> None:
    scheduled.add(
        app,
        lambda app: JobSpec(
            "digest",
            str(app.config.get("SCHEDULER_DIGEST_CRON") or DIGEST_CRON),
            "week",
            digest,
            catch_up=True,
            retry_failed=True,
        ),
        lambda app: JobSpec("digest-retry", "*/30 * * * *", "30min", digest_retry),
    )
