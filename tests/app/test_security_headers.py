"""Security headers on every page, error pages included; cookies a script cannot read."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

REQUIRED_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy")


def _parameterless_get_paths(app: Flask) -> list[str]:
    """Every GET route of the app that needs no URL parameter (static files excluded)."""
    return sorted(
        {
            rule.rule
            for rule in app.url_map.iter_rules()
            if "GET" in (rule.methods or ()) and not rule.arguments
        }
    )


def _csp(response: TestResponse) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in response.headers.get("Content-Security-Policy", "").split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def _header_problems(response: TestResponse) -> list[str]:
    """What is missing or unsafe in one response's security headers (empty when fine)."""
    problems = [f"no {name}" for name in REQUIRED_HEADERS if name not in response.headers]
    if response.headers.get("X-Content-Type-Options", "nosniff").lower() != "nosniff":
        problems.append("X-Content-Type-Options is not nosniff")
    csp = _csp(response)
    script_src = csp.get("script-src", csp.get("default-src", ["*"]))
    if "'unsafe-inline'" in script_src or "'unsafe-eval'" in script_src or "*" in script_src:
        problems.append(f"script-src allows inline or foreign code: {' '.join(script_src)}")
    if "Content-Security-Policy" in response.headers and "frame-ancestors" not in csp:
        problems.append("CSP has no frame-ancestors")
    return problems


def test_every_parameterless_get_route_sends_security_headers(
    app: Flask, client: FlaskClient
) -> None:
    paths = _parameterless_get_paths(app)
    assert "/" in paths

    problems = {}
    for path in paths:
        response = client.get(path)
        if found := _header_problems(response):
            problems[f"{path} ({response.status_code})"] = found

    assert problems == {}


def test_every_parameterless_get_route_answers_without_server_error(
    app: Flask, client: FlaskClient
) -> None:
    statuses = {path: client.get(path).status_code for path in _parameterless_get_paths(app)}

    assert {path: status for path, status in statuses.items() if status >= 500} == {}


def test_static_files_send_security_headers(client: FlaskClient) -> None:
    response = client.get("/static/css/market.css")

    assert response.status_code == 200
    assert _header_problems(response) == []


def test_not_found_page_sends_security_headers_and_no_traceback(client: FlaskClient) -> None:
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert _header_problems(response) == []
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    assert "页面不存在" in body


def test_method_not_allowed_page_sends_security_headers(client: FlaskClient) -> None:
    response = client.get("/language")

    assert response.status_code == 405
    assert _header_problems(response) == []


def test_server_error_page_sends_security_headers_and_hides_the_traceback(app: Flask) -> None:
    def explode() -> str:
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/test-explode", "test_explode", explode)

    response = app.test_client().get("/test-explode")

    assert response.status_code == 500
    assert _header_problems(response) == []
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    assert "secret internal detail" not in body


def test_session_cookie_is_http_only_and_same_site_lax(client: FlaskClient) -> None:
    # Every page's language switch carries a CSRF token, which starts a session.
    response = client.get("/")

    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert cookies, "the home page set no session cookie"
    attributes = {part.strip().lower() for part in cookies[0].split(";")}
    assert "httponly" in attributes
    assert "samesite=lax" in attributes


def test_language_cookie_is_http_only_and_same_site_lax(client: FlaskClient) -> None:
    response = client.post("/language", data={"lang": "en", "next": "/"})

    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("lang=")]
    assert cookies, "switching the language set no cookie"
    attributes = {part.strip().lower() for part in cookies[0].split(";")}
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
