"""Park operations: dashboards, the industrial-chain map, invitations, campaign reports."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from market.parkops import cache, views
    from market.parkops.commands import report_command

    cache.init_app(app)
    app.register_blueprint(views.bp, url_prefix="/parkops")
    app.cli.add_command(report_command)
