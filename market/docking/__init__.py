"""Docking (对接): a need and an offering brought together, its workflow, rules, mail and pages."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from market.docking import views

    app.register_blueprint(views.bp, url_prefix="/dockings")
