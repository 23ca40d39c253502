"""Search jobs: the outbox, the nightly reconcile, pruning the zero-result counts."""

from __future__ import annotations

from flask import Flask

from market.jobs import scheduled
from market.jobs.scheduler import JobSpec, Result


def search_outbox(period: str) -> Result:
    from market.listing_search import sync as search_sync

    report = search_sync.process_outbox()
    outcome = "failed" if report.failed else "ok"
    return outcome, f"applied {report.applied}, failed {report.failed} {report.errors[:3]}"


def search_reconcile(period: str) -> Result:
    from market.listing_search import sync as search_sync

    report = search_sync.reconcile()
    return "ok", (
        f"missing {report.missing}, ghosts {report.ghosts}, stale {report.stale}, "
        f"applied {report.sync.applied if report.sync else 0}"
    )


def zero_results_prune(period: str) -> Result:
    from market.listing_search import zero_results

    removed = zero_results.prune_and_commit()
    return "ok", f"pruned {removed} day counts of searches that found nothing"


def init_app(app: Flask) -> None:
    scheduled.add(
        app,
        lambda app: JobSpec("search-outbox", "*/5 * * * *", "5min", search_outbox),
        lambda app: JobSpec(
            "search-reconcile", "30 3 * * *", "day", search_reconcile, catch_up=True
        ),
        lambda app: JobSpec(
            "zero-results-prune", "10 4 * * *", "day", zero_results_prune, catch_up=True
        ),
    )
