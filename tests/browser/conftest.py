"""Browser fixtures: a live server in a thread and Debian's Chromium driven by Playwright.

- ``live_server``: the application served by werkzeug on 127.0.0.1 (a free port) with
  real CSRF and rate limits off, on SQLite in a temporary instance folder. One server
  per test session (per xdist worker); every test starts with empty tables and an
  empty outbox. A test fails if the server answered any request with a 5xx.
- ``seed(fn)``: runs ``fn`` inside the server's application context, commits, and
  returns what ``fn`` returned. Return plain values (refs, emails), not ORM objects:
  those expire when the context closes.
- ``page`` / ``new_page()``: a fresh browser context and page per test (``new_page``
  opens more, e.g. a second user signed in at the same time). Relative URLs resolve
  against the live server. Console errors and uncaught page errors (a CSP violation is
  one) are collected in ``console_errors`` and fail the test; a test that expects one
  checks it and clears the list. On failure each page's screenshot and HTML are saved
  to test-artifacts/.
- ``sign_in(page, email, password=PASSWORD)``: signs in through the login form.

Every test in this folder gets the ``browser`` marker, so ``-m "not browser"`` skips
them. Playwright only drives /usr/bin/chromium (``make install`` installs it); its
own browser download is never used.
"""

from __future__ import annotations

import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from flask import Flask, Response, request
from flask.signals import request_finished
from playwright.sync_api import (
    Browser,
    ConsoleMessage,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from werkzeug.serving import BaseWSGIServer, make_server

from market import create_app
from market.core.db import write_intent
from market.core.extensions import db
from tests.conftest import PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Fail fast: a missing element should fail the test in seconds, not Playwright's 30 s.
TIMEOUT_MS = 10_000
HERE = Path(__file__).resolve().parent
T = TypeVar("T")
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # This hook sees the whole session's items; mark only the ones in this folder.
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    # Keep each phase's report so fixtures can tell, at teardown, whether the test failed.
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


def _failed(item: pytest.Item) -> bool:
    reports = item.stash.get(_REPORTS, {})
    return any(report.failed for report in reports.values())


@dataclass
class LiveServer:
    """The application served over HTTP in a background thread."""

    app: Flask
    url: str
    server_errors: list[str] = field(default_factory=list)

    def seed(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` in the server's app context as a write and commit; returns its result."""
        with self.app.app_context(), write_intent():
            result = fn()
            db.session.commit()
            return result

    def reset(self) -> None:
        """Empty every table and the mail outbox (the schema stays)."""
        with self.app.app_context(), write_intent():
            for table in reversed(db.metadata.sorted_tables):
                db.session.execute(table.delete())
            db.session.commit()
        shutil.rmtree(self.app.config["OUTBOX_DIR"], ignore_errors=True)
        self.server_errors.clear()


def _record_server_errors(server: LiveServer) -> Callable[..., None]:
    def record(sender: Flask, response: Response, **_extra: Any) -> None:
        if response.status_code >= 500:
            server.server_errors.append(f"{response.status} {request.method} {request.full_path}")

    return record


@pytest.fixture(scope="session")
def _live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    instance = tmp_path_factory.mktemp("live") / "instance"
    app = create_app(
        {
            "INSTANCE": str(instance),
            # Explicit, so a MARKET_DATABASE_URL in the developer's shell is not used.
            "DATABASE_URL": f"sqlite:///{instance / 'market.db'}",
            "SECRET_KEY": "browser-test-secret",
            "WTF_CSRF_ENABLED": True,
            "RATELIMIT_ENABLED": False,
            "SERVER_NAME": None,
        }
    )
    with app.app_context():
        db.create_all()
    httpd: BaseWSGIServer = make_server("127.0.0.1", 0, app, threaded=True)
    url = f"http://127.0.0.1:{httpd.server_port}"
    app.config["BASE_URL"] = url
    server = LiveServer(app=app, url=url)
    recorder = _record_server_errors(server)
    request_finished.connect(recorder, app)
    thread = threading.Thread(target=httpd.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield server
    httpd.shutdown()
    thread.join(timeout=10)
    request_finished.disconnect(recorder, app)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def live_server(_live_server: LiveServer) -> Iterator[LiveServer]:
    """The live server with empty tables; fails the test if any request got a 5xx."""
    _live_server.reset()
    yield _live_server
    errors = list(_live_server.server_errors)
    if errors:
        pytest.fail("the live server answered with a server error: " + "; ".join(errors))


@pytest.fixture
def seed(live_server: LiveServer) -> Callable[[Callable[[], T]], T]:
    return live_server.seed


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: run `make install` (installs Debian's chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@pytest.fixture
def console_errors() -> list[str]:
    """Console errors and uncaught exceptions of every page this test opened."""
    return []


@pytest.fixture
def new_page(
    request: pytest.FixtureRequest,
    browser: Browser,
    live_server: LiveServer,
    console_errors: list[str],
) -> Iterator[Callable[[], Page]]:
    """Opens a page in a fresh browser context (own cookies) on the live server."""
    pages: list[Page] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            console_errors.append(f"{message.text} ({message.location.get('url', '')})")

    def on_page_error(error: PlaywrightError) -> None:
        console_errors.append(f"uncaught: {error.message}")

    def open_page() -> Page:
        context = browser.new_context(
            base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        page = context.new_page()
        page.on("console", on_console)
        page.on("pageerror", on_page_error)
        pages.append(page)
        return page

    yield open_page

    failed = _failed(request.node)
    for number, page in enumerate(pages, start=1):
        if failed:
            _save_artifacts(request, page, number)
        page.context.close()
    if console_errors and not failed:
        pytest.fail("browser console errors: " + "; ".join(console_errors))


@pytest.fixture
def page(new_page: Callable[[], Page]) -> Page:
    return new_page()


def _save_artifacts(request: pytest.FixtureRequest, page: Page, number: int) -> None:
    folder = request.config.rootpath / "test-artifacts"
    folder.mkdir(exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "_", request.node.nodeid).strip("_") + f"-{number}"
    try:
        page.screenshot(path=str(folder / f"{stem}.png"), full_page=True)
        (folder / f"{stem}.html").write_text(page.content(), encoding="utf-8")
    except PlaywrightError as exc:  # a crashed page must not hide the test's own failure
        print(f"could not save browser artifacts for {request.node.nodeid}: {exc}")


def sign_in(page: Page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the login form; raises AssertionError if no sign-out button appears."""
    page.goto("/auth/login")
    page.fill("main input[name=email]", email)
    page.fill("main input[name=password]", password)
    with page.expect_navigation():
        page.press("main input[name=password]", "Enter")
    expect(page.locator("form[action$='/auth/logout']")).to_have_count(1)


def sign_out(page: Page) -> None:
    """Sign out with the navigation bar's button; raises AssertionError if still signed in."""
    with page.expect_navigation():
        page.locator("form[action$='/auth/logout'] button").click()
    expect(page.locator("form[action$='/auth/logout']")).to_have_count(0)


@pytest.fixture(name="sign_in")
def sign_in_fixture() -> Callable[..., None]:
    return sign_in


@pytest.fixture(name="sign_out")
def sign_out_fixture() -> Callable[[Page], None]:
    return sign_out
