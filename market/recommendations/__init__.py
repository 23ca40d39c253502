"""Recommendations on listing pages, 不相关 feedback, and the admins' weight tuning."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from market.recommendations import jobs, views
    from market.recommendations.commands import match_commands

    # views.bp installs the match outbox listeners when it is registered (record_once).
    app.register_blueprint(views.bp, url_prefix="/matching")
    for command in match_commands:
        app.cli.add_command(command)
    jobs.init_app(app)
