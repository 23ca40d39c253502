"""园区供需对接平台 — the Flask application."""

from __future__ import annotations

from typing import Any

from flask import Flask

from market.core import config as config_module


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

    from market import (
        accounts,
        admin,
        api,
        catalogue,
        core,
        dataset,
        digest,
        docking,
        home,
        jobs,
        listing_search,
        listings,
        parkops,
        parks,
        recommendations,
    )
    from market.cli import register_commands

    core.init_app(app)
    # Blueprints, commands and jobs register in this order: the home page first and
    # the order the blueprints had before, then the API and the scheduler, which reads
    # the jobs the features handed it.
    for feature in (
        home,
        accounts,
        parks,
        listings,
        listing_search,
        admin,
        recommendations,
        parkops,
        digest,
        docking,
        catalogue,
        dataset,
        api,
        jobs,
    ):
        feature.init_app(app)
    register_commands(app)
    return app
