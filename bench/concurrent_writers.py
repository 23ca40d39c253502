"""Concurrent writers against gunicorn on SQLite: does any write fail or get lost?

Starts ``gunicorn -w 4 'market:create_app()'`` on a fresh SQLite instance, signs in
16 users (each its own HTTP session, each in its own enterprise), lets every one of
them write as fast as the server answers for ``--seconds``, then stops the server
and compares what the server acknowledged with what the database holds:

    .venv/bin/python bench/concurrent_writers.py                  # BEGIN IMMEDIATE
    .venv/bin/python bench/concurrent_writers.py --plain-begin    # SQLite's plain BEGIN
    .venv/bin/python bench/concurrent_writers.py --compare        # both, side by side

The write is the real "save a need as a draft" form (POST /needs/new), each title
carrying a unique marker; until that route exists, a sign-in (POST /auth/login, which
stores a sign-in session row whose user agent carries the marker). A write counts as
acknowledged when the server answered with a redirect that is not to the sign-in page
(the views redirect after a successful commit); a lost write is an acknowledged
marker missing from the database afterwards.

Two switches are set for the bench's server only, never elsewhere:
``MARKET_WTF_CSRF_ENABLED=false`` (Flask's ``from_prefixed_env`` reads it as JSON
``false``) so the clients can post without scraping CSRF tokens, and
``MARKET_RATELIMIT_ENABLED=false`` so 16 sign-ins from one address are not throttled.
``--plain-begin`` adds ``MARKET_SQLITE_BEGIN=deferred`` (see market/db.py).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import requests
from flask import Flask
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from market import create_app
from market.core.db import write_intent
from market.core.extensions import db
from market.models import Need, Organization, Park, User, UserSession, utcnow

BIN = Path(sys.executable).parent
PASSWORD = "bench-writers-9"  # noqa: S105 - throwaway accounts in a temporary instance
PARK_REF = "P-BENCH"
NEED_TITLE = "并发写入测试"
MARKER_PREFIX = "bench-"
STARTUP_SECONDS = 60
SIGN_IN_ATTEMPTS = 50
# A request may wait up to the SQLite busy timeout (30 s) for the write lock.
REQUEST_TIMEOUT = (5, 90)


@dataclass(frozen=True)
class Account:
    email: str
    org_ref: str


@dataclass
class Result:
    """What one run saw; ``lost`` is the number that must be zero."""

    begin: str
    route: str
    writers: int
    workers: int
    seconds: float
    statuses: Counter[int] = field(default_factory=Counter)
    network_errors: int = 0
    signed_out: int = 0
    acknowledged: int = 0
    rows_found: int = 0
    lost: int = 0
    stored_unacknowledged: int = 0
    locked_in_log: int = 0

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + self.network_errors

    def count(self, low: int, high: int) -> int:
        return sum(n for status, n in self.statuses.items() if low <= status < high)

    @property
    def server_errors(self) -> int:
        return self.count(500, 600)

    @property
    def writes_per_second(self) -> float:
        return self.acknowledged / self.seconds if self.seconds else 0.0

    def rows(self) -> list[tuple[str, str]]:
        """The table's lines: (label, value)."""
        return [
            ("requests", str(self.requests)),
            ("2xx/3xx", f"{self.count(200, 300)}/{self.count(300, 400)}"),
            ("4xx", str(self.count(400, 500))),
            ("5xx", str(self.server_errors)),
            ("network errors", str(self.network_errors)),
            ("acknowledged writes", str(self.acknowledged)),
            ("rows found", str(self.rows_found)),
            ("lost writes", str(self.lost)),
            ("stored, not acknowledged", str(self.stored_unacknowledged)),
            ("'database is locked' errors", str(self.locked_in_log)),
            ("seconds", f"{self.seconds:g}"),
            ("writes/s", f"{self.writes_per_second:.1f}"),
        ]

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data["statuses"] = {str(k): v for k, v in sorted(self.statuses.items())}
        data.update(requests=self.requests, server_errors=self.server_errors)
        data["writes_per_second"] = round(self.writes_per_second, 2)
        return data


class WriteRoute(Protocol):
    """One kind of real write a signed-in user can make over HTTP."""

    name: str
    needs_sign_in: bool

    def write(
        self, http: requests.Session, account: Account, base: str, marker: str
    ) -> requests.Response: ...

    def stored_markers(self) -> set[str]:
        """The markers of the rows this route wrote (inside an app context)."""
        ...


class NeedDrafts:
    """POST /needs/new with "save as draft": one need row per acknowledged request."""

    name = "needs.new"
    needs_sign_in = True

    def write(
        self, http: requests.Session, account: Account, base: str, marker: str
    ) -> requests.Response:
        form = {
            "category": "application.quality",
            "title": f"{NEED_TITLE} {marker}",
            "description": "多个用户同时保存需求草稿，检验写入不丢失。",
            "park": PARK_REF,
            "save": "保存草稿",
        }
        return http.post(
            f"{base}/needs/new", data=form, allow_redirects=False, timeout=REQUEST_TIMEOUT
        )

    def stored_markers(self) -> set[str]:
        titles = db.session.scalars(select(Need.title).where(Need.title.startswith(NEED_TITLE)))
        return {title.removeprefix(NEED_TITLE).strip() for title in titles}


class SignIns:
    """POST /auth/login with a fresh cookie jar: one sign-in session row per request."""

    name = "auth.login"
    needs_sign_in = False

    def write(
        self, http: requests.Session, account: Account, base: str, marker: str
    ) -> requests.Response:
        http.cookies.clear()
        return http.post(
            f"{base}/auth/login",
            data={"email": account.email, "password": PASSWORD},
            headers={"User-Agent": marker},
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT,
        )

    def stored_markers(self) -> set[str]:
        agents = db.session.scalars(
            select(UserSession.user_agent).where(UserSession.user_agent.startswith(MARKER_PREFIX))
        )
        return set(agents)


def choose_route(app: Flask, name: str) -> WriteRoute:
    """The requested route, or for "auto" the need form when the app has it."""
    routes: dict[str, WriteRoute] = {"needs": NeedDrafts(), "signin": SignIns()}
    if name != "auto":
        return routes[name]
    has_need_form = any(
        rule.endpoint == "needs.new" and "POST" in (rule.methods or ())
        for rule in app.url_map.iter_rules()
    )
    return routes["needs" if has_need_form else "signin"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def server_environment(instance: Path, begin: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MARKET_")}
    env.update(
        MARKET_INSTANCE=str(instance),
        MARKET_WTF_CSRF_ENABLED="false",
        MARKET_RATELIMIT_ENABLED="false",
        MARKET_SQLITE_BEGIN=begin,
    )
    return env


def prepare_instance(
    instance: Path, writers: int, env: dict[str, str]
) -> tuple[Flask, list[Account]]:
    """`market init`, then one park, and per writer an enterprise with one signed-up user."""
    subprocess.run([str(BIN / "market"), "init"], env=env, check=True, capture_output=True)
    app = create_app({"INSTANCE": str(instance), "DATABASE_URL": None})
    accounts: list[Account] = []
    password_hash = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    with app.app_context(), write_intent():
        park = Park(
            ref=PARK_REF,
            name="并发测试园区",
            province="江苏省",
            city="苏州市",
            level="national",
            zone_type="economic_development",
            industries=["C36"],
            description="",
        )
        db.session.add(park)
        for n in range(1, writers + 1):
            org = Organization(
                ref=f"O-BENCH-{n:02d}",
                name=f"并发测试企业{n:02d}有限公司",
                kind="enterprise",
                province="江苏省",
                city="苏州市",
                park=park,
                industries=["C36"],
                verified=True,
            )
            user = User(
                email=f"writer{n:02d}@bench.example.com",
                name=f"写入者{n:02d}",
                org=org,
                role="org_admin",
            )
            # A cheap hash: 16 scrypt sign-ins would only lengthen the set-up.
            user.password_hash = password_hash
            user.password_changed_at = utcnow()
            db.session.add_all([org, user])
            accounts.append(Account(email=user.email, org_ref=str(org.ref)))
        db.session.commit()
    return app, accounts


@contextmanager
def gunicorn(instance: Path, workers: int, env: dict[str, str]) -> Iterator[str]:
    """Serve the app with gunicorn; yields its base URL, stops it on exit."""
    port = free_port()
    log_path = instance / "gunicorn.log"
    command = [
        str(BIN / "gunicorn"),
        "--workers",
        str(workers),
        "--bind",
        f"127.0.0.1:{port}",
        "--timeout",
        "120",
        "--graceful-timeout",
        "10",
        "market:create_app()",
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_serving(base, process, log_path)
            yield base
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_until_serving(base: str, process: subprocess.Popen[bytes], log_path: Path) -> None:
    """Returns once the sign-in page answers; raises RuntimeError if gunicorn dies or hangs."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}:\n{tail(log_path)}")
        try:
            if requests.get(f"{base}/auth/login", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer within {STARTUP_SECONDS} s:\n{tail(log_path)}")


def count_locked_errors(log_path: Path) -> int:
    """How many requests the server logged as failed on "database is locked"."""
    return sum(
        1
        for line in log_path.read_text(errors="replace").splitlines()
        if line.startswith("sqlalchemy.exc.OperationalError") and "database is locked" in line
    )


def tail(path: Path, lines: int = 40) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def sign_in(http: requests.Session, base: str, account: Account) -> None:
    """Sign in before the clock starts, retrying server errors (plain BEGIN has many).

    Raises RuntimeError unless the login form accepts the account.
    """
    status = 0
    for _attempt in range(SIGN_IN_ATTEMPTS):
        response = http.post(
            f"{base}/auth/login",
            data={"email": account.email, "password": PASSWORD},
            allow_redirects=False,
            timeout=REQUEST_TIMEOUT,
        )
        status = response.status_code
        if status == 302:
            return
        if status < 500:
            break
        time.sleep(0.1)
    raise RuntimeError(f"sign-in of {account.email} answered {status}")


@dataclass
class WriterLog:
    statuses: Counter[int] = field(default_factory=Counter)
    network_errors: int = 0
    signed_out: int = 0
    acknowledged: set[str] = field(default_factory=set)
    failure: str | None = None


class Clock:
    """The shared deadline, set when the last client is ready (a barrier action)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.started = 0.0
        self.deadline = 0.0

    def start(self) -> None:
        self.started = time.monotonic()
        self.deadline = self.started + self.seconds


def writer(
    number: int,
    account: Account,
    route: WriteRoute,
    base: str,
    start: threading.Barrier,
    clock: Clock,
    log: WriterLog,
) -> None:
    """One client: sign in, wait for the others, then write until the deadline."""
    http = requests.Session()
    try:
        if route.needs_sign_in:
            sign_in(http, base, account)
    except (RuntimeError, requests.RequestException) as exc:
        log.failure = str(exc)
        start.abort()  # releases the other clients and the main thread at once
        return
    try:
        start.wait()
    except threading.BrokenBarrierError:
        return
    sequence = 0
    while time.monotonic() < clock.deadline:
        sequence += 1
        marker = f"{MARKER_PREFIX}w{number:02d}-{sequence:06d}"
        try:
            response = route.write(http, account, base, marker)
        except requests.RequestException:
            log.network_errors += 1
            continue
        log.statuses[response.status_code] += 1
        if 300 <= response.status_code < 400:
            if "/auth/login" in response.headers.get("Location", ""):
                log.signed_out += 1
            else:
                log.acknowledged.add(marker)


def drive(
    accounts: list[Account], route: WriteRoute, base: str, seconds: float
) -> tuple[list[WriterLog], float]:
    """Run one client thread per account; returns their logs and the seconds they wrote for.

    Raises RuntimeError if a client could not sign in.
    """
    logs = [WriterLog() for _ in accounts]
    clock = Clock(seconds)
    start = threading.Barrier(len(accounts) + 1, action=clock.start)
    threads = [
        threading.Thread(target=writer, args=(n, account, route, base, start, clock, log))
        for n, (account, log) in enumerate(zip(accounts, logs, strict=True), start=1)
    ]
    for thread in threads:
        thread.start()
    with suppress(threading.BrokenBarrierError):  # a client's failure is reported below
        start.wait(timeout=STARTUP_SECONDS)
    for thread in threads:
        thread.join()
    failures = [log.failure for log in logs if log.failure]
    if failures or not clock.started:
        raise RuntimeError(f"clients could not start: {failures or 'timed out signing in'}")
    return logs, time.monotonic() - clock.started


def run_bench(
    seconds: float = 30,
    writers: int = 16,
    workers: int = 4,
    begin: str = "immediate",
    route_name: str = "auto",
    keep: bool = False,
) -> Result:
    """One run on a fresh instance; raises RuntimeError if the server or a sign-in fails."""
    with tempfile.TemporaryDirectory(prefix="bench-writers-") as folder:
        instance = Path(folder) / "instance"
        env = server_environment(instance, begin)
        app, accounts = prepare_instance(instance, writers, env)
        route = choose_route(app, route_name)
        result = Result(
            begin=begin, route=route.name, writers=writers, workers=workers, seconds=seconds
        )
        with gunicorn(instance, workers, env) as base:
            logs, elapsed = drive(accounts, route, base, seconds)
        result.seconds = round(elapsed, 1)
        acknowledged: set[str] = set().union(*(log.acknowledged for log in logs))
        with app.app_context():
            stored = route.stored_markers()
            db.engine.dispose()
        for log in logs:
            result.statuses.update(log.statuses)
            result.network_errors += log.network_errors
            result.signed_out += log.signed_out
        result.acknowledged = len(acknowledged)
        result.rows_found = len(stored)
        result.lost = len(acknowledged - stored)
        result.stored_unacknowledged = len(stored - acknowledged)
        result.locked_in_log = count_locked_errors(instance / "gunicorn.log")
        if keep:
            kept = Path(tempfile.mkdtemp(prefix="bench-writers-kept-"))
            subprocess.run(["cp", "-a", str(instance), str(kept)], check=True)
            print(f"instance kept in {kept / 'instance'}", file=sys.stderr)
    return result


def print_table(results: list[Result]) -> None:
    header = ["BEGIN IMMEDIATE" if r.begin == "immediate" else "plain BEGIN" for r in results]
    rows = [r.rows() for r in results]
    first = results[0]
    print(
        f"{first.writers} writers, gunicorn -w {first.workers}, SQLite, "
        f"write: POST {'/needs/new' if first.route == 'needs.new' else '/auth/login'}"
    )
    width = max(len(label) for label, _ in rows[0])
    print(f"{'':<{width}}  " + "  ".join(f"{h:>18}" for h in header))
    for index, (label, _) in enumerate(rows[0]):
        print(f"{label:<{width}}  " + "  ".join(f"{r[index][1]:>18}" for r in rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--plain-begin", action="store_true", help="SQLite's deferred BEGIN for writes"
    )
    mode.add_argument("--compare", action="store_true", help="run with IMMEDIATE, then plain BEGIN")
    parser.add_argument("--route", choices=("auto", "needs", "signin"), default="auto")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the instance folder")
    args = parser.parse_args(argv)

    begins = (
        ["immediate", "deferred"]
        if args.compare
        else ["deferred" if args.plain_begin else "immediate"]
    )
    results = [
        run_bench(args.seconds, args.writers, args.workers, begin, args.route, args.keep)
        for begin in begins
    ]
    if args.json:
        print(json.dumps([r.as_json() for r in results], ensure_ascii=False, indent=2))
    else:
        print_table(results)
    # Exit status tells a script whether BEGIN IMMEDIATE held up.
    immediate = [r for r in results if r.begin == "immediate"]
    return 1 if any(r.server_errors or r.lost or r.network_errors for r in immediate) else 0


if __name__ == "__main__":
    sys.exit(main())
