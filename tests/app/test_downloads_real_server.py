"""Every file the site sends reaches the browser through real WSGI servers.

The test client does not check response headers; gunicorn refuses a header that is not
Latin-1 and waitress raises ``UnicodeEncodeError`` on it, so a Chinese file name put
into ``Content-Disposition`` as it is answered 500 in production and 200 in the tests.
Here the route matrix's world (two parks, a province named 江苏省, every kind of record)
is served by gunicorn on 127.0.0.1, and every GET route of the URL map is asked for by
the first visitor the matrix lets through: none may fail, and each response that is a
file must name it in a header both gunicorn and waitress send (checked by serving the
same downloads through waitress as well).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
import requests
from waitress.server import create_server

from tests.app.route_matrix import (
    OK,
    ROUTES,
    Actor,
    Site,
    actor_named,
    build_url,
    first_allowed,
    open_site,
    routed_endpoints,
)
from tests.conftest import PASSWORD

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
STARTUP_SECONDS = 60
# What a page, a feed or an API answer is; anything else the site sends is a file.
NOT_FILES = ("text/html", "application/json", "application/atom+xml", "text/javascript")
# Formats tried on every route that takes one (``<fmt>``); a route answers 404 to those
# it does not make.
FILE_TYPES = ("csv", "xlsx", "pdf", "zip", "json")
# RFC 6266 with an RFC 5987 extended name: ASCII fallback, then the UTF-8 name.
DISPOSITION = re.compile(
    r"attachment; filename=\"(?P<plain>[ !#-\[\]-~]+)\"; "
    r"filename\*=UTF-8''(?P<encoded>[A-Za-z0-9%!#$&+\-.^_`|~]+)"
)


@dataclass
class Served:
    site: Site
    gunicorn: str
    waitress: str
    sessions: dict[tuple[str, str], requests.Session]

    def session(self, base: str, actor: Actor) -> requests.Session:
        """The actor's session on that server, signed in through the login form."""
        key = (base, actor.name)
        if key not in self.sessions:
            http = requests.Session()
            if actor.signed_in:
                response = http.post(
                    f"{base}/auth/login",
                    data={"email": self.site.world.actor_email(actor), "password": PASSWORD},
                    allow_redirects=False,
                    timeout=30,
                )
                assert response.status_code == 302, f"{actor.name} could not sign in"
            self.sessions[key] = http
        return self.sessions[key]

    def get(self, base: str, actor: Actor, path: str) -> requests.Response:
        return self.session(base, actor).get(base + path, allow_redirects=False, timeout=60)


def _environment(site: Site, database_url: str | None) -> dict[str, str]:
    """The settings of the world's app as MARKET_* variables (read as JSON by the app)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
    env.update(
        MARKET_INSTANCE=site.app.config["INSTANCE"],
        MARKET_SECRET_KEY="test-secret",
        MARKET_WTF_CSRF_ENABLED="false",
        MARKET_RATELIMIT_ENABLED="false",
    )
    if database_url:
        env["MARKET_DATABASE_URL"] = database_url
    return env


def _gunicorn(site: Site, database_url: str | None, log: Path) -> Iterator[str]:
    """gunicorn on an ephemeral port of 127.0.0.1 (read back from its log)."""
    command = [str(BIN / "gunicorn"), "--workers=2", "--bind=127.0.0.1:0", "market:create_app()"]
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, env=_environment(site, database_url), stdout=out, stderr=out
        )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            text = log.read_text(errors="replace")
            found = re.search(r"Listening at: http://127\.0\.0\.1:(\d+)", text)
            if found and "Booting worker" in text:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not start:\n{text[-3000:]}")
            time.sleep(0.1)
        base = f"http://127.0.0.1:{found.group(1)}"
        while requests.get(base + "/", timeout=30).status_code != 200:
            time.sleep(0.1)
        yield base
    finally:
        process.send_signal(signal.SIGINT)  # quick shutdown: nothing is left to finish
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _waitress(site: Site) -> Iterator[str]:
    """The world's own app under waitress, in a thread, on an ephemeral port."""
    # Any: the stubs know neither the port a server got nor its channel map.
    server: Any = create_server(site.app, host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Closing the listener and its channels ends run()'s loop; then the task threads.
        for channel in list(server._map.values()):
            channel.close()
        server.task_dispatcher.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, database_url: str | None) -> Iterator[Served]:
    folder = tmp_path_factory.mktemp("downloads")
    with open_site(folder, database_url) as site:
        for base in _gunicorn(site, database_url, folder / "gunicorn.log"):
            for other in _waitress(site):
                served = Served(site, base, other, {})
                yield served
                for http in served.sessions.values():
                    http.close()


def _is_file(response: requests.Response) -> bool:
    kind = response.headers.get("Content-Type", "").split(";")[0].strip()
    return "Content-Disposition" in response.headers or (
        response.status_code == 200 and kind not in NOT_FILES
    )


def _file_urls(served: Served) -> set[str]:
    """GET endpoints whose URL ends in a file type or takes one (``<fmt>``)."""
    return {
        rule.endpoint
        for rule in served.site.app.url_map.iter_rules()
        if "GET" in (rule.methods or ())
        and re.search(r"\.(csv|xlsx|pdf|zip)$|<fmt>", rule.rule)
        and rule.endpoint in ROUTES
    }


def _named(response: requests.Response) -> str:
    """The UTF-8 file name of a download, after checking the header's form."""
    value = response.headers.get("Content-Disposition", "")
    assert value.isascii(), value
    found = DISPOSITION.fullmatch(value)
    assert found, f"not an RFC 6266 attachment header: {value!r}"
    return unquote(found.group("encoded"), errors="strict")


def test_province_chart_download_names_the_province_through_gunicorn(served: Served) -> None:
    """The probe's reproduction: every province-level download answered 500."""
    response = served.get(
        served.gunicorn, actor_named("admin"), "/parkops/provinces/江苏省/charts/category.csv"
    )
    assert response.status_code == 200
    assert response.content.decode("utf-8-sig").count("\n") >= 1
    assert "江苏省" in _named(response)


def test_every_get_route_answers_and_every_file_is_named_for_every_server(
    served: Served,
) -> None:
    """Walk the URL map: each GET route as its first allowed visitor, through gunicorn."""
    world = served.site.world
    failures: list[str] = []
    downloads: dict[str, tuple[Actor, dict[str, str]]] = {}
    for endpoint, methods in routed_endpoints(served.site.app):
        if "GET" not in methods:
            continue
        try:
            actor, case = first_allowed(world, endpoint)
        except LookupError:
            continue
        assert case.expected == OK
        path = build_url(served.site.app, endpoint, case.values)
        response = served.get(served.gunicorn, actor, path)
        if response.status_code >= 500:
            failures.append(f"{endpoint} {path} as {actor.name}: {response.status_code}")
        elif _is_file(response):
            downloads[endpoint] = (actor, case.values)
    assert failures == []
    # A route whose URL names a file type and that sent none would drop out of the walk
    # silently: each of them must have been found sending its file.
    assert sorted(_file_urls(served) - set(downloads)) == []
    assert len(downloads) >= 9, sorted(downloads)

    checked = 0
    for endpoint, (actor, values) in sorted(downloads.items()):
        # Each format the route knows (the others are 404), not only the matrix's one.
        formats = FILE_TYPES if "fmt" in values else (values.get("fmt"),)
        for fmt in formats:
            path = build_url(served.site.app, endpoint, {**values, "fmt": fmt} if fmt else values)
            for base in (served.gunicorn, served.waitress):
                response = served.get(base, actor, path)
                if response.status_code == 404 and fmt != values.get("fmt"):
                    continue
                assert response.status_code == 200, f"{endpoint} {path} on {base}"
                name = _named(response)
                # Every file name carries words of the world (a park, a province, a
                # title), so each route is checked with a name that is not ASCII.
                assert not name.isascii(), f"{endpoint}: {name}"
                assert "/" not in name and "\\" not in name
                checked += 1
    assert checked >= 2 * len(downloads)
