"""The supply–demand catalogue (供需目录清单): compile, publish, read, export."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    # compile_views adds the compiling pages to views.bp: imported before it is registered.
    from market.catalogue import compile_views, jobs, views  # noqa: F401
    from market.catalogue.commands import catalogue_commands

    app.register_blueprint(views.bp, url_prefix="/catalogue")
    for command in catalogue_commands:
        app.cli.add_command(command)
    jobs.init_app(app)
