"""What the scheduler runs, when, and how each job reports (outcome, detail).

Times are in ``MARKET_SCHEDULER_TIMEZONE`` (Asia/Shanghai). Each job is safe to run
again for the same period (a take-over after a crash does that):

| job | when | does |
|---|---|---|
| digest | Mon 09:00 (``MARKET_SCHEDULER_DIGEST_CRON``) | the week's digests, once per user |
| digest-retry | every 30 min | failed digests whose backoff ran out, stale claims |
| rematch | 02:30 daily | ``matching.recompute_all`` and the match outbox |
| search-outbox | every 5 min | ``search_sync.process_outbox`` |
| search-reconcile | 03:30 daily | ``search_sync.reconcile`` |
| expiry | 08:00 daily | reminders a week before expiry, expiry notices, index updates |
| catalogue-publish | every 5 min | ``catalogue.publish_due`` (scheduled editions) |
| zero-results-prune | 04:10 daily | ``zero_results.prune`` (days over ``ZERO_RESULTS_KEEP_DAYS``) |
| mail-queue | every 5 min | queued mail no drainer sent (a process died, the server was down) |
"""

from __future__ import annotations

from flask import Flask

from market.db import write_intent
from market.extensions import db
from market.models import utcnow
from market.services.scheduler import JobSpec, Result

DIGEST_CRON = "0 9 * * mon"


def digest(period: str) -> Result:
    from market.services import digest_send

    report = digest_send.send_week(period)
    outcome = "failed" if report.aborted else "ok"
    return outcome, report.summary()


def digest_retry(period: str) -> Result:
    from market.services import digest_send

    report = digest_send.retry_due()
    return "ok", report.summary()


def rematch(period: str) -> Result:
    from market.services import matching

    figures = matching.recompute_all()
    return "ok", f"recompute_all: {figures}; match outbox: {matching.process_match_outbox()}"


def search_outbox(period: str) -> Result:
    from market.services import search_sync

    report = search_sync.process_outbox()
    outcome = "failed" if report.failed else "ok"
    return outcome, f"applied {report.applied}, failed {report.failed} {report.errors[:3]}"


def search_reconcile(period: str) -> Result:
    from market.services import search_sync

    report = search_sync.reconcile()
    return "ok", (
        f"missing {report.missing}, ghosts {report.ghosts}, stale {report.stale}, "
        f"applied {report.sync.applied if report.sync else 0}"
    )


def expiry(period: str) -> Result:
    from market.services.expiry import run

    report = run(utcnow())
    return ("failed" if report.failed else "ok"), report.summary()


def catalogue_publish(period: str) -> Result:
    from market.services import catalogue

    editions = catalogue.publish_due(utcnow())
    refs = ", ".join(str(edition.ref) for edition in editions)
    return "ok", f"published {len(editions)}" + (f": {refs}" if refs else "")


def send_queued_mail(period: str) -> Result:
    from market.services import mail_queue, signup

    report = mail_queue.drain()
    purged = mail_queue.purge(utcnow())
    with write_intent():
        expired = signup.purge_signups(utcnow())
        db.session.commit()
    detail = f"{report.summary()}; purged {purged} given-up mails, {expired} expired sign-ups"
    return ("failed" if report.failed else "ok"), detail


def zero_results_prune(period: str) -> Result:
    from market.services import zero_results

    removed = zero_results.prune_and_commit()
    return "ok", f"pruned {removed} day counts of searches that found nothing"


def specs(app: Flask) -> list[JobSpec]:
    """The scheduled jobs, with the crons the configuration asks for.

    ``MARKET_SCHEDULER_JOBS`` (comma-separated names) limits them, e.g. to run the
    digest alone on one machine; unset means every job.
    """
    wanted = app.config.get("SCHEDULER_JOBS")
    names = {name.strip() for name in str(wanted).split(",")} if wanted else None
    return [spec for spec in _all(app) if names is None or spec.name in names]


def _all(app: Flask) -> list[JobSpec]:
    return [
        JobSpec(
            "digest",
            str(app.config.get("SCHEDULER_DIGEST_CRON") or DIGEST_CRON),
            "week",
            digest,
            catch_up=True,
            retry_failed=True,
        ),
        JobSpec("digest-retry", "*/30 * * * *", "30min", digest_retry),
        JobSpec("rematch", "30 2 * * *", "day", rematch, catch_up=True, retry_failed=True),
        JobSpec("search-outbox", "*/5 * * * *", "5min", search_outbox),
        JobSpec("search-reconcile", "30 3 * * *", "day", search_reconcile, catch_up=True),
        JobSpec("expiry", "0 8 * * *", "day", expiry, catch_up=True, retry_failed=True),
        JobSpec("catalogue-publish", "*/5 * * * *", "5min", catalogue_publish),
        JobSpec("mail-queue", "*/5 * * * *", "5min", send_queued_mail),
        JobSpec("zero-results-prune", "10 4 * * *", "day", zero_results_prune, catch_up=True),
    ]
