"""Sign-in sessions that can be revoked, and security headers on every response."""

from __future__ import annotations

from flask import Flask, Response, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from market.extensions import db, login_manager
from market.models import User, UserSession, hash_token


def load_user(token: str) -> User | None:
    """Resolve the cookie's session token to its user, or None if revoked or disabled."""
    row = db.session.scalar(select(UserSession).where(UserSession.token_hash == hash_token(token)))
    if row is None or row.revoked_at is not None or row.user.disabled:
        return None
    row.token = token
    row.user.current_session = row
    return row.user


def _headers(response: Response) -> Response:
    # Everything the app serves comes from itself: parks run intranets without internet.
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "font-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'",
    )
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    hsts = int(current_app.config.get("HSTS_SECONDS") or 0)
    if hsts:
        response.headers.setdefault(
            "Strict-Transport-Security", f"max-age={hsts}; includeSubDomains"
        )
    return response


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("请先登录。")
    login_manager.login_message_category = "warning"
    app.after_request(_headers)
    if app.config.get("PREFERRED_URL_SCHEME") == "https":
        # Served over HTTPS (behind a TLS proxy): cookies must never travel in clear.
        app.config["SESSION_COOKIE_SECURE"] = True
