"""URL helpers: where a login may send you back to, and absolute links for mail."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site relative paths are followed after login or a language switch."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    # Browsers read "/\evil" as "//evil"; control characters never belong in a path.
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return fallback
    return target.rstrip("?") or fallback


def base_url() -> str:
    """Where the site lives (``MARKET_BASE_URL``), without a trailing slash."""
    return str(current_app.config["BASE_URL"]).rstrip("/")


def absolute_url(endpoint: str, **values: Any) -> str:
    """A full link for mail: ``BASE_URL`` plus the endpoint's path.

    Built from the URL map, not the request, so the scheduler and commands (no request)
    build the same links as a page does. Raises BuildError for an unknown endpoint.
    """
    parts = urlsplit(base_url())
    adapter = current_app.url_map.bind(
        parts.netloc or "localhost", script_name=parts.path or "/", url_scheme=parts.scheme
    )
    return adapter.build(endpoint, values, force_external=True)
