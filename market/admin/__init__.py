"""Platform administration: users, organizations, parks."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from market.admin import views

    app.register_blueprint(views.bp, url_prefix="/admin")
