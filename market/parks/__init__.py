"""Parks: the public park pages and which park a listing serves."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from market.parks import views

    app.register_blueprint(views.bp, url_prefix="/parks")
