"""One blueprint per feature; each package holds routes.py (and forms.py)."""

from __future__ import annotations

from importlib import import_module

from flask import Flask

# (package, url_prefix)
BLUEPRINTS: tuple[tuple[str, str | None], ...] = (
    ("main", None),
    ("auth", "/auth"),
    ("parks", "/parks"),
    ("orgs", "/orgs"),
    ("offerings", "/offerings"),
    ("needs", "/needs"),
    ("moderation", "/moderation"),
    ("admin", "/admin"),
)


def register_blueprints(app: Flask) -> None:
    for package, prefix in BLUEPRINTS:
        module = import_module(f"market.blueprints.{package}.routes")
        app.register_blueprint(module.bp, url_prefix=prefix)
