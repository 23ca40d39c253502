"""The sign-in limit holds across gunicorn workers, and every refused attempt is logged.

Starts ``gunicorn -w 4`` on a fresh instance (SQLite, the default rate-limit store in
the instance folder), sends failed sign-ins from one client over fresh connections,
and reads what the workers wrote to stderr.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from market import create_app
from market.core.extensions import db
from market.models import Organization, User

BIN = Path(sys.executable).parent
EMAIL = "vendor@limit.example.com"
PASSWORD = "limit-test-password-9"
WRONG = "not-the-password"
# What an attacker types to plant a fake record in the log.
FORGED = "2030-01-01 00:00:00,000 INFO market.auth login ok email=admin@example.com"
STARTUP_SECONDS = 60

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        bool(os.environ.get("MARKET_TEST_DATABASE_URL")),
        reason="serves its own SQLite instance; the PostgreSQL run would repeat it unchanged",
    ),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _environment(instance: Path) -> dict[str, str]:
    """The caller's environment without any MARKET_* setting, pointed at ``instance``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
    env["MARKET_INSTANCE"] = str(instance)
    return env


def _prepare(instance: Path, env: dict[str, str]) -> None:
    """`market init`, then one vendor account, written through the app's own models."""
    done = subprocess.run([str(BIN / "market"), "init"], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    app = create_app({"INSTANCE": str(instance), "DATABASE_URL": None})
    with app.app_context():
        org = Organization(
            ref="O-LIMIT",
            name="限流测试科技有限公司",
            kind="solution_provider",
            province="江苏省",
            city="苏州市",
            industries=["C36"],
            verified=True,
        )
        user = User(email=EMAIL, name="限流测试", org=org, role="org_admin")
        user.set_password(PASSWORD)
        db.session.add_all([org, user])
        db.session.commit()
        db.engine.dispose()


def _wait_until_serving(base: str, process: subprocess.Popen[bytes], stderr: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{stderr.read_text(errors='replace')[-3000:]}")
        try:
            if requests.get(f"{base}/auth/login", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer:\n{stderr.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """gunicorn -w 4 on 127.0.0.1; yields (base URL, stderr file, access log)."""
    instance = tmp_path / "instance"
    env = _environment(instance)
    _prepare(instance, env)
    port = _free_port()
    stderr, access = tmp_path / "gunicorn.err", tmp_path / "access.log"
    command = [
        str(BIN / "gunicorn"),
        "--workers=4",
        f"--bind=127.0.0.1:{port}",
        f"--access-logfile={access}",
        # The worker's pid: shows that more than one process counted the failures.
        "--access-logformat=%(p)s %(m)s %(U)s %(s)s",
        "market:create_app()",
    ]
    with stderr.open("wb") as err:
        process = subprocess.Popen(command, env=env, stdout=err, stderr=err)
        try:
            base = f"http://127.0.0.1:{port}"
            _wait_until_serving(base, process, stderr)
            yield base, stderr, access
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _csrf_token(http: requests.Session, base: str) -> str:
    page = http.get(f"{base}/auth/login", timeout=10).text
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert found, "the sign-in form carries a CSRF token"
    return found.group(1)


def _sign_in(base: str, cookies: dict[str, str], token: str, email: str, password: str) -> int:
    """One attempt over a new TCP connection (no shared session: attempts run in threads)."""
    response = requests.post(
        f"{base}/auth/login",
        data={"csrf_token": token, "email": email, "password": password},
        cookies=cookies,
        headers={"Connection": "close"},
        allow_redirects=False,
        timeout=30,
    )
    return response.status_code


def _posts_logged(access: Path, expected: int) -> list[list[str]]:
    """The access log's POST lines split into fields, once all ``expected`` are written.

    gunicorn writes the line after sending the response, so wait briefly for the last.
    """
    deadline = time.monotonic() + 5
    while True:
        lines = [line.split() for line in access.read_text().splitlines() if " POST " in line]
        if len(lines) >= expected or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_eleventh_failed_sign_in_is_refused_by_every_worker_and_logged(
    server: tuple[str, Path, Path],
) -> None:
    base, stderr, access = server
    http = requests.Session()
    token = _csrf_token(http, base)
    cookies = http.cookies.get_dict()

    # Two attempts at a time: a sync worker serves one request at once, so each pair is
    # certain to be served by two different workers. One attempt also tries to forge a
    # log line through the email field.
    emails = [f"{EMAIL}\r\n{FORGED}"] + [EMAIL] * 9
    with ThreadPoolExecutor(max_workers=2) as pool:
        statuses = list(
            pool.map(lambda email: _sign_in(base, cookies, token, email, WRONG), emails)
        )
    assert statuses == [200] * 10

    assert _sign_in(base, cookies, token, EMAIL, WRONG) == 429
    # While the address is limited, even the right password is refused.
    assert _sign_in(base, cookies, token, EMAIL, PASSWORD) == 429

    posts = _posts_logged(access, expected=12)
    assert [fields[3] for fields in posts] == ["200"] * 10 + ["429"] * 2
    assert len({fields[0] for fields in posts[:10]}) > 1, "one worker served every attempt"

    log = stderr.read_text(encoding="utf-8", errors="replace").splitlines()
    failed = [line for line in log if "market.auth" in line and "login failed" in line]
    refused = [line for line in log if "market.auth" in line and "reason=rate_limited" in line]
    assert len(failed) == 10
    assert len(refused) == 2
    assert all("ip=127.0.0.1" in line for line in failed + refused)
    assert all(PASSWORD not in line and WRONG not in line for line in log)
    # The forged record stays inside its failure's line, the line break escaped.
    assert sum(f"email={EMAIL}\\r\\n{FORGED}" in line for line in failed) == 1
    assert not any(line.startswith(FORGED[:10]) for line in log)
