"""The weekly digest for users: preferences, unsubscribe links, renewing a listing by mail link."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from market.digest import admin_views, jobs, views
    from market.digest.commands import digest_commands

    app.register_blueprint(views.bp, url_prefix="/digest")
    app.register_blueprint(admin_views.bp, url_prefix="/admin")
    for command in digest_commands:
        app.cli.add_command(command)
    jobs.init_app(app)
