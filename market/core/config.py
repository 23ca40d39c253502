"""Configuration: defaults, then MARKET_* environment, then the factory's mapping."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from flask import Flask

from market.core import ratelimit_store

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"

DEFAULTS: dict[str, Any] = {
    "SEARCH_BACKEND": "embedded",
    "MEILI_URL": None,
    "MEILI_KEY": None,
    "SMTP_URL": None,
    "MAIL_FROM": "园区供需对接平台 <noreply@market.localhost>",
    # Absolute links in mail need to know where the site lives.
    "BASE_URL": "http://127.0.0.1:5000",
    "LISTING_VALIDITY_DAYS": 180,
    "PAGE_SIZE": 20,
    "MAX_CONTENT_LENGTH": 8 * 1024 * 1024,
    "UPLOAD_MAX_ROWS": 5000,
    "BABEL_DEFAULT_LOCALE": "zh",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
    "LANGUAGES": ["zh", "en"],
    "BOOTSTRAP_SERVE_LOCAL": True,
    # Unset: a SQLite file in the instance folder, shared by all worker processes.
    "RATELIMIT_STORAGE_URI": None,
    "RATELIMIT_HEADERS_ENABLED": True,
    "LOGIN_RATE_LIMIT": "10 per minute",
    # Accepted sign-ups per client address; each one mails the address it names.
    "SIGNUP_RATE_LIMIT": "10 per hour",
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "WTF_CSRF_TIME_LIMIT": None,
    "SQLALCHEMY_TRACK_MODIFICATIONS": False,
    # Strict-Transport-Security max-age; 0 leaves the header off (plain-HTTP intranets).
    "HSTS_SECONDS": 0,
    "PREFERRED_URL_SCHEME": "http",
    # Reverse proxies in front whose X-Forwarded-For/-Proto/-Host/-Port/-Prefix to trust.
    "PROXY_FIX": 0,
    "LOG_LEVEL": "INFO",
    # /healthz reports "degraded" (503) when the instance folder has less room than this.
    "HEALTH_MIN_FREE_MB": 512,
}


def instance_path_from(config: dict[str, Any] | None) -> Path:
    """Where state lives: the mapping's INSTANCE, else MARKET_INSTANCE, else ./instance."""
    raw = (config or {}).get("INSTANCE") or os.environ.get("MARKET_INSTANCE") or "instance"
    return Path(raw).resolve()


def load(app: Flask, config: dict[str, Any] | None) -> None:
    """Fill app.config in the documented order and derive what depends on it."""
    app.config.from_mapping(DEFAULTS)
    app.config.from_prefixed_env("MARKET")
    if config:
        app.config.from_mapping(config)
    app.config["INSTANCE"] = app.instance_path
    instance = Path(app.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    app.config.setdefault("OUTBOX_DIR", str(instance / "outbox"))
    app.config.setdefault("SEARCH_DIR", str(instance / "search"))
    if not app.config.get("RATELIMIT_STORAGE_URI"):
        app.config["RATELIMIT_STORAGE_URI"] = ratelimit_store.uri_for(instance / "ratelimit.db")
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = _instance_secret(instance)
    url = app.config.get("DATABASE_URL") or f"sqlite:///{instance / 'market.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        # Busy timeout: a writer waits for the lock instead of failing at once.
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"connect_args": {"timeout": 30}})
    else:
        app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {"pool_pre_ping": True})


def _instance_secret(instance: Path) -> str:
    """A per-installation secret kept in the instance folder, shared by all workers."""
    path = instance / "secret_key"
    if not path.exists():
        token = secrets.token_hex(32)
        try:
            with path.open("x") as fh:
                fh.write(token)
            path.chmod(0o600)
        except FileExistsError:
            pass  # another worker wrote it first; read theirs
    return path.read_text().strip()
