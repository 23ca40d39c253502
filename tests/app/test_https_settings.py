"""HTTPS: cookies Secure when the site is served over it (directly, behind a trusted
proxy, or declared), HSTS only when MARKET_HSTS_SECONDS is set, ProxyFix behind a switch."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from market import create_app
from market.core.extensions import db
from market.core.logs import FORMAT, SingleLineFormatter
from market.core.security import SecureCookies, _secure
from tests.conftest import PASSWORD, IsolatedClient, make_user

YEAR = 31_536_000
HTTPS = {"base_url": "https://localhost"}
FORWARDED_HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}


@pytest.fixture
def make_app(app_config: dict[str, Any]) -> Iterator[Any]:
    """Builds the app with extra settings, with its tables, and cleans up after."""
    made: list[Flask] = []

    def build(**settings: Any) -> Flask:
        built = create_app({**app_config, **settings})
        built.test_client_class = IsolatedClient
        with built.app_context():
            db.create_all()
        made.append(built)
        return built

    yield build
    for built in made:
        with built.app_context():
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


def cookies(response: TestResponse) -> dict[str, str]:
    """Set-Cookie headers by cookie name."""
    headers = response.headers.getlist("Set-Cookie")
    return {header.split("=", 1)[0]: header for header in headers}


def is_secure(header: str) -> bool:
    return "secure" in {part.strip().lower() for part in header.split(";")[1:]}


def sign_in(app: Flask, client: FlaskClient, **request: Any) -> TestResponse:
    with app.app_context():
        email = make_user().email
        db.session.commit()
    response = client.post("/auth/login", data={"email": email, "password": PASSWORD}, **request)
    assert response.status_code == 302
    return response


def choose_language(client: FlaskClient, **request: Any) -> TestResponse:
    return client.post("/language", data={"lang": "en"}, **request)


def test_plain_http_cookies_are_httponly_and_samesite_but_not_secure(make_app: Any) -> None:
    app = make_app()
    client = app.test_client()

    session = cookies(sign_in(app, client))["session"]
    language = cookies(choose_language(client))["lang"]

    for header in (session, language):
        assert "HttpOnly" in header and "SameSite=Lax" in header
        assert not is_secure(header)


def test_request_over_https_gets_secure_cookies(make_app: Any) -> None:
    app = make_app()
    client = app.test_client()

    assert is_secure(cookies(sign_in(app, client, **HTTPS))["session"])
    assert is_secure(cookies(choose_language(client, **HTTPS))["lang"])


def test_preferred_https_scheme_makes_every_cookie_secure(make_app: Any) -> None:
    """Behind a TLS proxy that does not say so, the setting alone marks the cookies."""
    app = make_app(PREFERRED_URL_SCHEME="https")
    client = app.test_client()

    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert is_secure(cookies(sign_in(app, client))["session"])
    assert is_secure(cookies(choose_language(client))["lang"])


def test_forwarded_proto_counts_only_with_proxy_fix(make_app: Any) -> None:
    trusting = make_app(PROXY_FIX=1)
    trusting_client = trusting.test_client()
    assert is_secure(
        cookies(sign_in(trusting, trusting_client, headers=FORWARDED_HTTPS))["session"]
    )

    # Without the switch the header is anyone's to send, so it changes nothing.
    plain = make_app()
    plain_client = plain.test_client()
    assert not is_secure(cookies(sign_in(plain, plain_client, headers=FORWARDED_HTTPS))["session"])


def test_proxy_fix_gives_the_client_address_to_the_log_and_limiter(make_app: Any) -> None:
    app = make_app(PROXY_FIX=1)
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(SingleLineFormatter(FORMAT))
    logging.getLogger("market").addHandler(handler)
    try:
        app.test_client().post(
            "/auth/login",
            data={"email": "nobody@example.com", "password": "wrong-password-1"},
            headers=FORWARDED_HTTPS,
        )
    finally:
        logging.getLogger("market").removeHandler(handler)

    assert "ip=203.0.113.9" in out.getvalue()


def test_proxy_fix_is_read_from_the_environment(
    make_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARKET_PROXY_FIX", "1")
    app = make_app()

    assert app.config["PROXY_FIX"] == 1
    assert is_secure(cookies(choose_language(app.test_client(), headers=FORWARDED_HTTPS))["lang"])


@pytest.mark.parametrize("value", [-1, "two", 1.5])
def test_a_bad_proxy_fix_setting_is_refused(app_config: dict[str, Any], value: Any) -> None:
    with pytest.raises(ValueError, match="PROXY_FIX"):
        create_app({**app_config, "PROXY_FIX": value})


def test_no_hsts_unless_configured(make_app: Any) -> None:
    client = make_app().test_client()

    assert "Strict-Transport-Security" not in client.get("/", **HTTPS).headers


@pytest.mark.parametrize("path", ["/", "/no-such-page", "/static/css/market.css"])
def test_hsts_when_configured_on_https_responses_only(make_app: Any, path: str) -> None:
    client = make_app(HSTS_SECONDS=YEAR).test_client()

    over_https = client.get(path, **HTTPS).headers
    assert over_https["Strict-Transport-Security"] == f"max-age={YEAR}; includeSubDomains"
    # RFC 6797: not over plain HTTP, where an attacker could strip or forge it anyway.
    assert "Strict-Transport-Security" not in client.get(path).headers


def test_hsts_with_declared_https_and_behind_a_trusted_proxy(make_app: Any) -> None:
    declared = make_app(HSTS_SECONDS=YEAR, PREFERRED_URL_SCHEME="https").test_client()
    assert "Strict-Transport-Security" in declared.get("/").headers

    proxied = make_app(HSTS_SECONDS=YEAR, PROXY_FIX=1).test_client()
    assert "Strict-Transport-Security" in proxied.get("/", headers=FORWARDED_HTTPS).headers


def test_hsts_seconds_from_the_environment(make_app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MARKET_HSTS_SECONDS", "600")
    client = make_app().test_client()

    assert client.get("/", **HTTPS).headers["Strict-Transport-Security"].startswith("max-age=600")


def test_secure_is_added_once() -> None:
    assert _secure("a=1; Path=/") == "a=1; Path=/; Secure"
    assert _secure("a=1; Path=/; Secure") == "a=1; Path=/; Secure"
    assert _secure("a=1; secure; HttpOnly") == "a=1; secure; HttpOnly"
    # A value that merely contains the word is not the attribute.
    assert _secure("note=secure") == "note=secure; Secure"


def test_secure_cookies_middleware_leaves_other_headers_alone() -> None:
    seen: list[list[tuple[str, str]]] = []

    def inner(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Set-Cookie", "a=1"), ("X-Other", "secure-ish")])
        return [b""]

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        seen.append(headers)

    SecureCookies(inner)({"wsgi.url_scheme": "https"}, start_response)
    SecureCookies(inner)({"wsgi.url_scheme": "http"}, start_response)

    assert seen == [
        [("Set-Cookie", "a=1; Secure"), ("X-Other", "secure-ish")],
        [("Set-Cookie", "a=1"), ("X-Other", "secure-ish")],
    ]
