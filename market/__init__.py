"""园区供需对接平台 — the Flask application."""

from __future__ import annotations

from typing import Any

from flask import Flask

from market import config as config_module


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: defaults, then MARKET_* environment, then ``config``.

    Cheap on purpose: no network, no index rebuild, no scheduler, no seeding.
    """
    app = Flask(
        __name__,
        instance_path=str(config_module.instance_path_from(config)),
        template_folder="../templates",
    )
    config_module.load(app, config)

    from market import db as db_setup
    from market import errors, i18n, input_guard, logs, security
    from market.blueprints import register_blueprints
    from market.cli import register_commands
    from market.extensions import bootstrap, csrf, db, limiter, migrate
    from market.models import install_ref_listener
    from market.services import accounts, mail_queue, search_sync, signup

    logs.init_app(app)
    db_setup.init_app(app)
    input_guard.init_app(app)
    db.init_app(app)
    install_ref_listener()
    search_sync.init_app(app)
    mail_queue.init_app(
        app, {"password_reset": accounts.password_reset_mail, "signup": signup.signup_mail}
    )
    migrate.init_app(app, db, directory=str(config_module.MIGRATIONS_DIR), render_as_batch=True)
    csrf.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    register_blueprints(app)
    register_commands(app)
    return app
