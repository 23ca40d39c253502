"""The home page, health check and about pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from market.home import views

    app.register_blueprint(views.bp)
