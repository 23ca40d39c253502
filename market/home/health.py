"""What a monitor or load balancer asks a worker: can it serve, and for how long still.

Each check answers on its own (a failing one never hides the others) and says only
"ok" or what kind of failure it saw: the report is public, so it names no paths, hosts
or error texts.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask
from sqlalchemy import text

from market.core import storage
from market.core.extensions import db
from market.listing_search import indexing
from search import SearchError

log = logging.getLogger("market.health")

MB = 1024 * 1024


def _database() -> dict[str, Any]:
    try:
        db.session.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means the same thing to a monitor
        log.warning("health: database unreachable: %r", exc)
        db.session.rollback()
        return {"ok": False}
    return {"ok": True}


def _search(app: Flask) -> dict[str, Any]:
    try:
        indexing.backend(app).search("offerings", "", per_page=1)
    except SearchError as exc:
        log.warning("health: search unreachable: %r", exc)
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True}


def _disk(app: Flask) -> dict[str, Any]:
    threshold = int(app.config["HEALTH_MIN_FREE_MB"]) * MB
    try:
        free = storage.free_bytes(app.instance_path)
    except OSError as exc:
        log.warning("health: cannot measure free space: %r", exc)
        return {"ok": False, "free_bytes": None, "min_free_bytes": threshold}
    return {"ok": free >= threshold, "free_bytes": free, "min_free_bytes": threshold}


def report(app: Flask) -> dict[str, Any]:
    """``{"status": "ok" | "degraded", "database", "search", "disk"}``: degraded when any
    check fails (the database unreachable, the search engine unreachable, less free
    space in the instance folder than ``HEALTH_MIN_FREE_MB``)."""
    checks = {"database": _database(), "search": _search(app), "disk": _disk(app)}
    healthy = all(check["ok"] for check in checks.values())
    return {"status": "ok" if healthy else "degraded", **checks}
