"""Sign-in sessions that can be revoked, security headers on every response, and HTTPS:
cookies marked Secure and HSTS sent when the site is served over it, behind a proxy too."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from flask import Flask, Response, current_app, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.middleware.proxy_fix import ProxyFix

from market.core.extensions import db, login_manager
from market.models import User, UserSession, hash_token

if TYPE_CHECKING:
    from _typeshed import OptExcInfo
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment


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
    # Browsers ignore HSTS over plain HTTP, and RFC 6797 says not to send it there.
    if hsts and _served_over_https():
        response.headers.setdefault(
            "Strict-Transport-Security", f"max-age={hsts}; includeSubDomains"
        )
    return response


def _served_over_https() -> bool:
    """The request came over HTTPS (as the proxy says, with PROXY_FIX), or the site says
    all of it is (PREFERRED_URL_SCHEME=https, for a TLS proxy that does not tell)."""
    return request.is_secure or current_app.config.get("PREFERRED_URL_SCHEME") == "https"


def _secure(cookie: str) -> str:
    """A Set-Cookie value with the Secure attribute (added if missing)."""
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    return cookie if "secure" in attributes else f"{cookie}; Secure"


class SecureCookies:
    """WSGI middleware marking every cookie Secure on responses sent over HTTPS.

    Flask decides the session cookie's flag from configuration alone, and views set
    other cookies (the language) themselves; rewriting the headers on the way out
    covers all of them, per request. With ``always`` every response is treated so.
    """

    def __init__(self, wsgi_app: WSGIApplication, always: bool = False) -> None:
        self.wsgi_app = wsgi_app
        self.always = always

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if not self.always and environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def secure_start_response(
            status: str, headers: list[tuple[str, str]], exc_info: OptExcInfo | None = None
        ) -> Callable[[bytes], object]:
            marked = [
                (name, _secure(value) if name.lower() == "set-cookie" else value)
                for name, value in headers
            ]
            return start_response(status, marked, exc_info)

        return self.wsgi_app(environ, secure_start_response)


def proxy_count(app: Flask) -> int:
    """How many reverse proxies' X-Forwarded-* headers to trust (PROXY_FIX; 0 = none).

    Raises ValueError for a negative or non-integer setting.
    """
    value = app.config.get("PROXY_FIX") or 0
    if isinstance(value, bool):
        return int(value)
    if not isinstance(value, int) or value < 0:
        raise ValueError(f"PROXY_FIX must be the number of proxies (0 or more), not {value!r}")
    return value


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
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.wsgi_app = SecureCookies(  # type: ignore[method-assign]
        app.wsgi_app, always=bool(app.config.get("SESSION_COOKIE_SECURE"))
    )
    proxies = proxy_count(app)
    if proxies:
        # Outermost, so the cookie middleware and Flask see the client's scheme and address.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app,
            x_for=proxies,
            x_proto=proxies,
            x_host=proxies,
            x_port=proxies,
            x_prefix=proxies,
        )
