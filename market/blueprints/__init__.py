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
    ("search", "/search"),
    ("moderation", "/moderation"),
    ("admin", "/admin"),
    ("matching", "/matching"),
    ("parkops", "/parkops"),
    ("digest", "/digest"),
    ("digest_admin", "/admin"),
    ("concepts_admin", "/admin"),
    ("docking", "/dockings"),
    ("catalogue", "/catalogue"),
)


def register_blueprints(app: Flask) -> None:
    from market.apidoc import API_CONFIG
    from market.blueprints.api.routes import bp as api_bp
    from market.extensions import api, csrf

    for package, prefix in BLUEPRINTS:
        module = import_module(f"market.blueprints.{package}.routes")
        app.register_blueprint(module.bp, url_prefix=prefix)
    for key, value in API_CONFIG.items():
        app.config.setdefault(key, value)
    api.init_app(app)
    api.register_blueprint(api_bp, url_prefix="/api/v1")
    # The API is read-only and cookie-less for outside tools; forms keep CSRF.
    csrf.exempt(api_bp)
