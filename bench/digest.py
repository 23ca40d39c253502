"""Rendering weekly digests for 100,000 users: time and peak memory (SMTP left out).

    .venv/bin/python bench/digest.py                 # 100,000 users, limit 120 s
    .venv/bin/python bench/digest.py --users 5000    # a quick look
    .venv/bin/python bench/digest.py --mime          # also build the MIME messages

Synthetic digests are built in memory (1–4 sections of 1–10 items each, nine in ten
users in Chinese, one in ten in English) and rendered by the function the digest
job uses, ``digest_render.render`` (subject, plain text, HTML, unsubscribe link);
``--mime`` adds ``digest_render.build`` (the MIME message and its headers), which
Python's email package makes several times dearer than the rendering. The digests
are generated lazily, so memory stays flat however many users there are. Prints
wall-clock and CPU time (they differ when other work shares the machine) and the
peak resident memory; exits 1 when the wall-clock time exceeds ``--limit`` seconds.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from market import create_app
from market.digest import render as digest_render
from market.digest.collect import SECTIONS, DigestContent, Item, Section
from market.models import utcnow

TITLES = ("冲压件表面缺陷视觉检测", "设备联网与数据采集", "供应链金融贷款", "PLC 编程实训班")
ORGS = ("智检视觉科技有限公司", "苏州精密冲压有限公司", "工业互联网服务中心")


def digests(count: int, language: str, seed: int) -> Iterator[DigestContent]:
    rng = random.Random(seed)
    now = utcnow()
    for n in range(count):
        names = rng.sample(SECTIONS, rng.randint(1, 4))
        sections = []
        for name in names:
            total = rng.randint(1, 14)
            items = [
                Item(
                    title=f"{rng.choice(TITLES)} {n}-{i}",
                    url=f"https://market.example.cn/offerings/S-{n:06d}{i}",
                    counterpart=rng.choice(ORGS),
                    score=rng.uniform(60, 99) if name.startswith("rec") else None,
                    status="request" if name == "dockings" else "registered",
                    when=now - timedelta(days=rng.randint(0, 6)),
                )
                for i in range(min(total, 10))
            ]
            sections.append(Section(name, items, total))
        yield DigestContent(
            user_id=n + 1,
            user_ref=f"U-{n + 1:06d}",
            email=f"user{n + 1}@example.com",
            name=f"用户{n + 1}",
            org_name=rng.choice(ORGS),
            language=language,
            week="2026-W05",
            since=now - timedelta(days=7),
            cutoff=now,
            sections=sections,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--limit", type=float, default=120.0, help="seconds allowed")
    parser.add_argument("--mime", action="store_true", help="also build the MIME messages")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as folder:
        app = create_app({"INSTANCE": folder, "SECRET_KEY": "bench"})
        english = args.users // 10
        groups = (("zh", args.users - english), ("en", english))
        rendered = 0
        size = 0
        started = time.perf_counter()
        cpu_started = time.process_time()
        with app.app_context():
            for language, count in groups:
                for content in digests(count, language, seed=len(language) + count):
                    if args.mime:
                        size += len(bytes(digest_render.build(content)))
                    else:
                        out = digest_render.render(content)
                        size += len(out.text) + len(out.html)
                    rendered += 1
                    if rendered % 10_000 == 0:
                        elapsed = time.perf_counter() - started
                        print(f"  {rendered:>7} digests  {elapsed:6.1f} s", file=sys.stderr)
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    what = "rendered and built as MIME" if args.mime else "rendered (text + HTML)"
    print(
        f"{rendered} digests {what} in {elapsed:.1f} s wall, {cpu:.1f} s CPU "
        f"({rendered / elapsed:.0f}/s, {size / rendered / 1024:.1f} KiB each); "
        f"peak memory {peak_mb:.0f} MiB (max RSS)"
    )
    if elapsed > args.limit:
        print(f"too slow: over the {args.limit:.0f} s limit", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
