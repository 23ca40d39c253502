"""Errors: never a traceback or the debugger; every 500 has an id that is in the log;
what users type cannot forge log lines; a failed request leaves nothing half-written."""

from __future__ import annotations

import io
import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, abort, render_template_string, request
from flask.testing import FlaskClient
from sqlalchemy import select

from market import create_app
from market.core.extensions import db
from market.core.logs import CONTINUATION, FORMAT, SingleLineFormatter
from market.models import Organization
from tests.conftest import IsolatedClient, make_user

ERROR_ID = re.compile(r"问题编号 <code>([0-9a-f]{12})</code>")
LEAKS = ("Traceback", "werkzeug", "Werkzeug Debugger", "__debugger__", 'File "', "secret-detail")
FORGED = "2030-01-01 00:00:00,000 INFO market.auth login ok email=admin@example.com"


class Records(logging.Handler):
    """Keeps every record of the "market" logger (which does not propagate to caplog)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def messages(self) -> list[str]:
        return [record.getMessage() for record in self.records]


@pytest.fixture
def records() -> Iterator[Records]:
    handler = Records()
    logger = logging.getLogger("market")
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture
def log_text() -> Iterator[io.StringIO]:
    """What the "market" logger writes, formatted as the app formats it."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(SingleLineFormatter(FORMAT))
    logger = logging.getLogger("market")
    logger.addHandler(handler)
    yield out
    logger.removeHandler(handler)


def _key_error() -> str:
    return request.form["missing"]  # a KeyError that Flask turns into a 400


def _template_error() -> str:
    return render_template_string("{{ nothing.attribute.missing }}")


def _duplicate_email() -> str:
    make_user(email="dup@example.com")
    make_user(email="dup@example.com")  # the unique index refuses the flush
    return "not reached"


def _raise() -> str:
    raise RuntimeError("secret-detail: connection string postgresql://admin:pw@db")


def _abort() -> str:
    abort(500)


def _write_then_fail() -> str:
    db.session.add(
        Organization(
            ref="O-HALF",
            name="写了一半的机构",
            kind="enterprise",
            province="江苏省",
            city="苏州市",
            industries=[],
        )
    )
    db.session.flush()
    raise RuntimeError("secret-detail: failed after the flush")


FAILURES: dict[str, tuple[Callable[[], str], int]] = {
    "raise": (_raise, 500),
    "abort": (_abort, 500),
    "template": (_template_error, 500),
    "database": (_duplicate_email, 500),
    "write": (_write_then_fail, 500),
    "keyerror": (_key_error, 400),
}


def add_failing_routes(app: Flask) -> None:
    """Routes that fail, added for the test only, under pages and under /api/."""
    for name, (view, _status) in FAILURES.items():
        for prefix in ("/test-fail", "/api/test-fail"):
            app.add_url_rule(
                f"{prefix}/{name}",
                f"{prefix.strip('/').replace('/', '_')}_{name}",
                view,
                methods=["GET", "POST"],
            )


@pytest.fixture
def failing(app: Flask) -> FlaskClient:
    add_failing_routes(app)
    return app.test_client()


@pytest.fixture
def debug_app(app_config: dict[str, Any]) -> Iterator[Flask]:
    """The app with DEBUG switched on, as a careless deployment might run it."""
    debug = create_app({**app_config, "DEBUG": True})
    debug.test_client_class = IsolatedClient
    add_failing_routes(debug)
    with debug.app_context():
        db.create_all()
        yield debug
        db.session.remove()
        db.drop_all()
        db.engine.dispose()


def _logged_ids(records: Records) -> set[str]:
    return {m.group(1) for text in records.messages() for m in re.finditer(r"error_id=(\w+)", text)}


@pytest.mark.parametrize("name", [n for n, (_v, s) in FAILURES.items() if s == 500])
def test_500_page_shows_an_id_that_is_in_the_log(
    failing: FlaskClient, records: Records, name: str
) -> None:
    response = failing.post(f"/test-fail/{name}")
    page = response.get_data(as_text=True)

    assert response.status_code == 500
    assert "服务器出错了" in page
    found = ERROR_ID.search(page)
    assert found, page
    assert found.group(1) in _logged_ids(records)
    logged = [r for r in records.records if found.group(1) in r.getMessage()]
    assert logged[0].levelno == logging.ERROR
    assert logged[0].exc_info is not None  # the operator gets the traceback, the user not
    assert not [leak for leak in LEAKS if leak in page]


@pytest.mark.parametrize("name", [n for n, (_v, s) in FAILURES.items() if s == 500])
def test_500_under_the_api_is_json_with_the_logged_id(
    failing: FlaskClient, records: Records, name: str
) -> None:
    response = failing.get(f"/api/test-fail/{name}")

    assert response.status_code == 500
    assert response.mimetype == "application/json"
    error = response.get_json()["error"]
    assert error["code"] == "internal"
    assert re.fullmatch(r"[0-9a-f]{12}", error["id"])
    assert error["id"] in _logged_ids(records)
    assert not [leak for leak in LEAKS if leak in response.get_data(as_text=True)]


def test_every_500_gets_its_own_id(failing: FlaskClient) -> None:
    pages = [failing.get("/test-fail/raise").get_data(as_text=True) for _ in range(2)]
    ids = [found.group(1) for page in pages if (found := ERROR_ID.search(page))]
    assert len(set(ids)) == 2


def test_missing_form_field_is_a_plain_400(failing: FlaskClient) -> None:
    response = failing.post("/test-fail/keyerror", data={})
    page = response.get_data(as_text=True)

    assert response.status_code == 400
    assert "请求无效" in page
    assert "missing" not in page and "KeyError" not in page


@pytest.mark.parametrize("name", list(FAILURES))
def test_debug_mode_still_shows_no_traceback_or_debugger(debug_app: Flask, name: str) -> None:
    client = debug_app.test_client()
    for method in ("GET", "POST"):
        for prefix in ("/test-fail", "/api/test-fail"):
            response = client.open(f"{prefix}/{name}", method=method)
            body = response.get_data(as_text=True)
            assert response.status_code == FAILURES[name][1]
            assert not [leak for leak in LEAKS if leak in body], body[:500]
            assert "KeyError" not in body and "RuntimeError" not in body


def test_failed_post_leaves_nothing_half_written(failing: FlaskClient) -> None:
    response = failing.post("/test-fail/write")

    assert response.status_code == 500
    assert db.session.scalar(select(Organization).where(Organization.ref == "O-HALF")) is None
    # The session is usable again: the next request works.
    assert failing.get("/").status_code == 200


def test_the_error_page_itself_failing_still_answers_with_a_logged_id(
    failing: FlaskClient, records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    import market.core.error_pages

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("secret-detail: the template engine is gone")

    monkeypatch.setattr(market.core.error_pages, "render_template", broken)
    response = failing.get("/test-fail/raise")
    page = response.get_data(as_text=True)

    assert response.status_code == 500
    found = ERROR_ID.search(page)
    assert found and found.group(1) in _logged_ids(records)
    assert not [leak for leak in LEAKS if leak in page]
    api = failing.get("/api/test-fail/raise")
    assert api.status_code == 500 and api.get_json()["error"]["id"] in _logged_ids(records)


def test_market_serve_refuses_debug_mode(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    served: list[Flask] = []
    monkeypatch.setattr("waitress.serve", lambda wsgi_app, **_options: served.append(wsgi_app))

    app.debug = True
    refused = app.test_cli_runner().invoke(args=["serve"])
    assert refused.exit_code == 1
    assert "refusing to serve in debug mode" in refused.output
    assert served == []

    app.debug = False
    allowed = app.test_cli_runner().invoke(args=["serve"])
    assert allowed.exit_code == 0, allowed.output
    assert served == [app]


@pytest.mark.parametrize("how", ["--debug", "FLASK_DEBUG=1"])
def test_market_command_refuses_to_serve_with_the_debugger(tmp_path: Path, how: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MARKET_", "FLASK_"))}
    env["MARKET_INSTANCE"] = str(tmp_path)
    args = [str(Path(sys.executable).parent / "market"), "serve", "--port", "1"]
    if how == "--debug":
        args.insert(1, "--debug")
    else:
        env["FLASK_DEBUG"] = "1"

    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 1
    assert "refusing to serve in debug mode" in done.stderr


# --- log lines ---------------------------------------------------------------------------------


def test_formatter_escapes_line_breaks_and_control_characters() -> None:
    out = io.StringIO()
    logger = logging.getLogger("market.test-forgery")
    handler = logging.StreamHandler(out)
    handler.setFormatter(SingleLineFormatter(FORMAT))
    logger.addHandler(handler)
    try:
        logger.warning("email=%s", f"a@b.cn\r\n{FORGED}\x1b[2K\u2028{FORGED}")
    finally:
        logger.removeHandler(handler)

    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert "email=a@b.cn\\r\\n2030-01-01" in lines[0]
    assert "\\x1b[2K" in lines[0] and "\\u2028" in lines[0]


def test_traceback_lines_are_indented_so_no_line_passes_for_a_record() -> None:
    out = io.StringIO()
    logger = logging.getLogger("market.test-forgery")
    handler = logging.StreamHandler(out)
    handler.setFormatter(SingleLineFormatter(FORMAT))
    logger.addHandler(handler)
    try:
        try:
            raise ValueError(f"bad input\n{FORGED}\r{FORGED}")
        except ValueError:
            logger.exception("failed")
    finally:
        logger.removeHandler(handler)

    first, *rest = out.getvalue().splitlines()
    assert first.endswith("ERROR market.test-forgery failed")
    assert rest and all(line.startswith(CONTINUATION) for line in rest)
    assert any("ValueError: bad input" in line for line in rest)


def test_forged_email_at_sign_in_stays_on_one_escaped_log_line(
    client: FlaskClient, log_text: io.StringIO
) -> None:
    user = make_user()
    db.session.commit()

    client.post(
        "/auth/login", data={"email": f"{user.email}\r\n{FORGED}", "password": "wrong-password-1"}
    )

    lines = [line for line in log_text.getvalue().splitlines() if line]
    assert len(lines) == 1, lines
    assert "market.auth login failed" in lines[0]
    assert f"email={user.email}\\r\\n{FORGED}" in lines[0]
    assert "wrong-password-1" not in lines[0]


def test_forged_path_in_a_500_stays_inside_its_record(app: Flask, log_text: io.StringIO) -> None:
    app.add_url_rule("/test-fail/echo/<tail>", "test_fail_echo", lambda tail: _raise())
    client = app.test_client()

    response = client.get("/test-fail/echo/x%0d%0a" + FORGED.replace(" ", "%20"))

    assert response.status_code == 500
    lines = log_text.getvalue().splitlines()
    heads = [line for line in lines if not line.startswith(CONTINUATION)]
    assert len(heads) == 1, lines
    assert "ERROR market.errors error_id=" in heads[0]
    assert "\\r\\n" + FORGED in heads[0]
    assert not any(line.startswith(FORGED[:10]) for line in lines)
