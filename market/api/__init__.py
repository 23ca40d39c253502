"""The read-only JSON API (/api/v1) and its OpenAPI document."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from market.api import views
    from market.core.extensions import api, csrf

    api.register_blueprint(views.bp, url_prefix="/api/v1")
    # The API is read-only and cookie-less for outside tools; forms keep CSRF.
    csrf.exempt(views.bp)
