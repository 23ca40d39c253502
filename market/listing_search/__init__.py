"""The search page for offerings and needs, and its as-you-type suggestions."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from market.listing_search import jobs, sync
    from market.listing_search.commands import search_commands
    from market.listing_search.views import concepts_admin, search

    # The index slot and the outbox listeners come before any request writes.
    sync.init_app(app)
    app.register_blueprint(search.bp, url_prefix="/search")
    app.register_blueprint(concepts_admin.bp, url_prefix="/admin")
    for command in search_commands:
        app.cli.add_command(command)
    jobs.init_app(app)
