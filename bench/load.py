"""Load benchmark: the platform's home, list and detail pages under wrk, against a bare
Flask "hello" app served the same way in the same run.

Usage: python bench/load.py [--seconds 10] [--workers 4] [--connections 16]

Both apps run under gunicorn on 127.0.0.1 with the same worker count; wrk (Debian's
package) drives each URL for a bounded time. Prints requests/s and latency
percentiles per URL, and each page's throughput as a ratio of the hello baseline.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server at {url} did not start")


def gunicorn(
    app_spec: str, port: int, workers: int, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    cmd = [
        str(VENV_BIN / "gunicorn"),
        "-w",
        str(workers),
        "-b",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
        app_spec,
    ]
    return subprocess.Popen(cmd, cwd=ROOT, env=env)


def to_ms(value: str) -> float:
    number, unit = re.match(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(url: str, seconds: int, connections: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for pct in ("50", "90", "99"):
        figures[f"p{pct}"] = to_ms(re.search(rf"\s{pct}%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figures["non2xx"] = float(errors.group(1)) if errors else 0.0
    return figures


def prepare_instance(instance: Path) -> dict[str, str]:
    env = {**os.environ, "MARKET_INSTANCE": str(instance)}
    market = str(VENV_BIN / "market")
    subprocess.run([market, "init"], check=True, env=env, capture_output=True)
    subprocess.run(
        [market, "import", str(ROOT / "seed_data" / "demo")],
        check=True,
        env=env,
        capture_output=True,
    )
    return env


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if any page answered a non-2xx/3xx response"
    )
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    instance = Path(tempfile.mkdtemp(prefix="market-load-"))
    env = prepare_instance(instance)
    app_port, hello_port = free_port(), free_port()
    servers = [
        gunicorn("market:create_app()", app_port, args.workers, env),
        gunicorn(
            "bench.hello_app:app", hello_port, args.workers, {**os.environ, "PYTHONPATH": str(ROOT)}
        ),
    ]
    try:
        wait_until_up(f"http://127.0.0.1:{app_port}/")
        wait_until_up(f"http://127.0.0.1:{hello_port}/")
        pages = {
            "hello (bare Flask)": f"http://127.0.0.1:{hello_port}/",
            "home": f"http://127.0.0.1:{app_port}/",
            "offerings list": f"http://127.0.0.1:{app_port}/offerings/",
            "title filter 质检": f"http://127.0.0.1:{app_port}/offerings/?q=%E8%B4%A8%E6%A3%80",
            "search 质检": f"http://127.0.0.1:{app_port}/search/?q=%E8%B4%A8%E6%A3%80",
            "suggest 质检": f"http://127.0.0.1:{app_port}/search/suggest?q=%E8%B4%A8%E6%A3%80",
            "offering detail": f"http://127.0.0.1:{app_port}/offerings/S-0001",
            "park detail": f"http://127.0.0.1:{app_port}/parks/P-SIP",
        }
        results = {
            name: run_wrk(url, args.seconds, args.connections) for name, url in pages.items()
        }
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        shutil.rmtree(instance, ignore_errors=True)

    base = results["hello (bare Flask)"]["rps"]
    setup = f"wrk -t2 -c{args.connections} -d{args.seconds}s"
    print(f"gunicorn -w {args.workers}, {setup}, {os.cpu_count()} cores")
    header = ("page", "req/s", "p50 ms", "p90 ms", "p99 ms", "non-2xx", "vs hello")
    print(f"{header[0]:<20}" + "".join(f"{h:>10}" for h in header[1:]))
    for name, fig in results.items():
        print(
            f"{name:<20}{fig['rps']:>10.1f}{fig['p50']:>10.1f}{fig['p90']:>10.1f}{fig['p99']:>10.1f}"
            f"{int(fig['non2xx']):>10}{fig['rps'] / base:>10.3f}"
        )
    failing = [name for name, fig in results.items() if fig["non2xx"]]
    if args.check and failing:
        raise SystemExit(f"error: non-2xx/3xx responses under load: {', '.join(failing)}")


if __name__ == "__main__":
    main()
