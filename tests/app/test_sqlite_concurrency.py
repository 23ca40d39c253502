"""SQLite under concurrent writers: BEGIN IMMEDIATE queues them instead of failing.

The full figure (16 writers, gunicorn -w 4, 30 s, and plain BEGIN for comparison)
comes from `make bench-writers`; here the same harness runs for a few seconds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from bench.concurrent_writers import run_bench
from market import create_app
from market.core.extensions import db

SQLITE_ONLY = pytest.mark.skipif(
    bool(os.environ.get("MARKET_TEST_DATABASE_URL")),
    reason="SQLite write locking; the PostgreSQL run has nothing to measure here",
)


def _transaction_starts(config: dict[str, Any], method: str) -> list[str]:
    """The BEGIN statements SQLite received while serving one request with ``method``."""
    app = create_app({"WTF_CSRF_ENABLED": False, **config})
    app.add_url_rule(
        "/probe", "probe", lambda: str(db.session.scalar(text("SELECT 1"))), methods=["GET", "POST"]
    )
    with app.app_context():
        engine = db.engine
    begins: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("BEGIN"):
            begins.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        assert app.test_client().open("/probe", method=method).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", record)
        engine.dispose()
    return begins


def test_write_requests_begin_immediate_and_reads_do_not(tmp_path: Path) -> None:
    config = {"INSTANCE": str(tmp_path)}

    assert _transaction_starts(config, "POST") == ["BEGIN IMMEDIATE"]
    assert _transaction_starts(config, "GET") == ["BEGIN"]


def test_plain_begin_switch_gives_writes_a_plain_begin(tmp_path: Path) -> None:
    config = {"INSTANCE": str(tmp_path), "SQLITE_BEGIN": "deferred"}

    assert _transaction_starts(config, "POST") == ["BEGIN"]


def test_unknown_sqlite_begin_mode_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="SQLITE_BEGIN"):
        create_app({"INSTANCE": str(tmp_path), "SQLITE_BEGIN": "exclusive"})


@SQLITE_ONLY
@pytest.mark.slow
def test_sixteen_writers_against_four_gunicorn_workers_lose_nothing() -> None:
    result = run_bench(seconds=8, writers=16, workers=4, begin="immediate")

    report = dict(result.rows())
    assert result.acknowledged > 0, report
    assert result.server_errors == 0, report
    assert result.network_errors == 0, report
    assert result.signed_out == 0, report
    assert result.lost == 0, report
    assert result.rows_found == result.acknowledged, report
