"""Can the password-reset form tell who has an account? Its answer time for a registered
and an unknown address, through a real WSGI server and a real SMTP server.

Usage: python bench/security.py [--requests 30] [--servers gunicorn,waitress] [--check]

The demo data set is loaded into a fresh instance; the app runs on 127.0.0.1 under
gunicorn (``-w 2``, the several-worker deployment) and under waitress (``market
serve``, the single-process one), sending mail to an aiosmtpd server on 127.0.0.1.
For each server, ``--requests`` POSTs of /auth/forgot for a registered address, as
many for an unknown one and as many for a second unknown one (the peer: the difference
of the two unknown ones is this machine's noise at the moment, printed as "noise") are
sent in rotating order after a warm-up, each with a fresh CSRF token and one at a time,
as an attacker times them: the next request is timed once the SMTP server (in this
process) has the previous mail, and 0.15 s later. Prints the median answer time of
each, the known-unknown difference (target: under 5 ms) and ratio, the noise, the load
average, and how many mails the SMTP server received (one per registered request,
none for unknown ones).
``--check`` exits 1 when a difference reaches the target or the mails do not add up.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.load import free_port, prepare_instance, wait_until_up  # noqa: E402
from tests.smtp_server import SMTPServer  # noqa: E402

VENV_BIN = Path(sys.executable).parent
KNOWN = "enterprise@demo.example"  # a demo account
UNKNOWN = "nobody-here@demo.example"
# A second unknown address: the difference between the two unknown ones is the noise
# floor of this machine at this moment, the peer the known-unknown difference is read
# against.
PEER = "nobody-else@demo.example"
ADDRESSES = (KNOWN, UNKNOWN, PEER)
TARGET_MS = 5.0
WARM_UP = 5
PAUSE = 0.15
CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def server_command(kind: str, port: int) -> list[str]:
    if kind == "gunicorn":
        return [
            str(VENV_BIN / "gunicorn"),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            "market:create_app()",
        ]
    return [str(VENV_BIN / "market"), "serve", "--host", "127.0.0.1", "--port", str(port)]


@contextmanager
def serving(kind: str, env: dict[str, str]) -> Iterator[str]:
    port = free_port()
    process = subprocess.Popen(
        server_command(kind, port), cwd=ROOT, env=env, stdout=subprocess.DEVNULL
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/auth/forgot")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


def timed_reset(url: str, email: str) -> float:
    """Milliseconds from sending the reset form to its complete answer (a fresh session)."""
    with requests.Session() as session:
        page = session.get(url + "/auth/forgot", timeout=10).text
        found = CSRF.search(page)
        if found is None:
            raise SystemExit("error: no CSRF token on /auth/forgot")
        data = {"email": email, "csrf_token": found.group(1)}
        start = time.perf_counter()
        answer = session.post(url + "/auth/forgot", data=data, allow_redirects=False, timeout=10)
        elapsed = (time.perf_counter() - start) * 1000
    if answer.status_code != 302:
        raise SystemExit(f"error: /auth/forgot answered {answer.status_code} for {email}")
    return elapsed


def measure(url: str, count: int, smtp: SMTPServer) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {email: [] for email in ADDRESSES}
    for n in range(WARM_UP + count):
        # Rotate the order, so no address always follows another's mail.
        order = ADDRESSES[n % 3 :] + ADDRESSES[: n % 3]
        for email in order:
            mails = len(smtp.handler.received)
            elapsed = timed_reset(url, email)
            if n >= WARM_UP:
                times[email].append(elapsed)
            if email == KNOWN:
                # The SMTP server runs in this process: let it finish before the next timing.
                wait_for_mail(smtp, mails + 1)
            time.sleep(PAUSE)
    return times


def wait_for_mail(smtp: SMTPServer, expected: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    while len(smtp.handler.received) < expected and time.monotonic() < deadline:
        time.sleep(0.1)
    return len(smtp.handler.received)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--servers", default="gunicorn,waitress")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()

    instance = Path(tempfile.mkdtemp(prefix="market-security-"))
    smtp = SMTPServer().start()
    problems: list[str] = []
    try:
        env = prepare_instance(instance)
        env.update(
            MARKET_SMTP_URL=smtp.url,
            # The sign-in limit also guards this form; the benchmark sends far more.
            MARKET_RATELIMIT_ENABLED="false",
            MARKET_SCHEDULER="off",
        )
        print(f"/auth/forgot, {args.requests} requests per address, {os.cpu_count()} cores")
        header = (
            "server",
            "known ms",
            "unknown ms",
            "diff ms",
            "ratio",
            "noise ms",
            "mails",
            "load avg",
        )
        print(f"{header[0]:<10}" + "".join(f"{h:>12}" for h in header[1:-1]) + f"  {header[-1]}")
        for kind in args.servers.split(","):
            before = len(smtp.handler.received)
            with serving(kind, env) as url:
                times = measure(url, args.requests, smtp)
                expected = before + WARM_UP + args.requests
                received = wait_for_mail(smtp, expected) - before
            wrong = [r.rcpt_tos for r in smtp.handler.received[before:] if r.rcpt_tos != [KNOWN]]
            known = statistics.median(times[KNOWN])
            unknown = statistics.median(times[UNKNOWN])
            noise = statistics.median(times[PEER]) - unknown
            load = "/".join(f"{x:.2f}" for x in os.getloadavg())
            print(
                f"{kind:<10}{known:>12.2f}{unknown:>12.2f}{known - unknown:>12.2f}"
                f"{known / unknown:>12.3f}{noise:>12.2f}{received:>12}  {load}"
            )
            if abs(known - unknown) >= TARGET_MS:
                problems.append(f"{kind}: difference {known - unknown:.2f} ms")
            if received != WARM_UP + args.requests or wrong:
                problems.append(f"{kind}: {received} mails, to others: {wrong[:3]}")
    finally:
        smtp.stop()
        shutil.rmtree(instance, ignore_errors=True)
    print(f"target: |known - unknown| < {TARGET_MS:.0f} ms; mails only to {KNOWN}")
    if problems:
        print("not met: " + "; ".join(problems))
        if args.check:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
