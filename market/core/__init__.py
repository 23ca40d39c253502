"""What every feature stands on; imports no feature (lint-imports checks it)."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Extensions, request guards, errors and the mail queue, in the order they need."""
    from market.core import db as db_setup
    from market.core import error_pages, i18n, input_guard, logs, mail_queue, security
    from market.core.apidoc import API_CONFIG
    from market.core.config import MIGRATIONS_DIR
    from market.core.extensions import api, bootstrap, csrf, db, limiter, migrate
    from market.models import install_ref_listener

    logs.init_app(app)
    db_setup.init_app(app)
    input_guard.init_app(app)
    db.init_app(app)
    install_ref_listener()
    mail_queue.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    error_pages.init_app(app)
    for key, value in API_CONFIG.items():
        app.config.setdefault(key, value)
    api.init_app(app)
