"""URL helpers."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, url_for


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


def absolute_url(endpoint: str, **values: Any) -> str:
    """A full link for mail: BASE_URL (where the site lives) plus the endpoint's path."""
    base = str(current_app.config["BASE_URL"]).rstrip("/")
    return base + url_for(endpoint, _external=False, **values)
