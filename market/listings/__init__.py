"""Offerings and needs: editing, lifecycle, moderation, browse, expiry and renewal."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from market.listings import jobs
    from market.listings.views import moderation, needs, offerings

    app.register_blueprint(offerings.bp, url_prefix="/offerings")
    app.register_blueprint(needs.bp, url_prefix="/needs")
    app.register_blueprint(moderation.bp, url_prefix="/moderation")
    jobs.init_app(app)
