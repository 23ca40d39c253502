"""The SQLite rate-limit store: fixed-window counting, expiry, and counts shared by processes."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter

from market import create_app
from market.core import ratelimit_store
from market.core.extensions import limiter
from market.core.ratelimit_store import SQLiteStorage


@pytest.fixture
def store(tmp_path: Path) -> SQLiteStorage:
    return SQLiteStorage(ratelimit_store.uri_for(tmp_path / "ratelimit.db"))


class Clock:
    """A clock the test moves by hand, standing in for the store's ``time`` module."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now


def test_incr_counts_within_a_window_and_get_reads_it(store: SQLiteStorage) -> None:
    assert store.get("login/1.2.3.4") == 0
    assert store.incr("login/1.2.3.4", 60) == 1
    assert store.incr("login/1.2.3.4", 60) == 2
    assert store.incr("login/1.2.3.4", 60, amount=3) == 5
    assert store.get("login/1.2.3.4") == 5
    assert store.get("login/5.6.7.8") == 0


def test_window_ends_after_its_expiry_and_starts_again(
    store: SQLiteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(ratelimit_store, "time", SimpleNamespace(time=clock.time))
    store.incr("k", 60)
    store.incr("k", 60)
    assert store.get_expiry("k") == clock.now + 60

    clock.now += 59
    assert store.get("k") == 2
    # A hit inside the window does not move its end.
    assert store.incr("k", 60) == 3
    assert store.get_expiry("k") == clock.now + 1

    clock.now += 1
    assert store.get("k") == 0
    assert store.get_expiry("k") == clock.now
    assert store.incr("k", 60) == 1
    assert store.get_expiry("k") == clock.now + 60


def test_expired_windows_are_purged_from_the_file(
    store: SQLiteStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(ratelimit_store, "time", SimpleNamespace(time=clock.time))
    for n in range(5):
        store.incr(f"old/{n}", 10)
    clock.now += ratelimit_store.PURGE_EVERY_SECONDS + 1
    store.incr("new", 10)

    rows = store._connection().execute("SELECT key FROM ratelimit").fetchall()
    assert rows == [("new",)]


def test_clear_and_reset_forget_counters(store: SQLiteStorage) -> None:
    store.incr("a", 60)
    store.incr("b", 60)
    store.clear("a")
    assert store.get("a") == 0
    assert store.get("b") == 1
    assert store.reset() == 1
    assert store.get("b") == 0
    assert store.check() is True


def test_file_uses_write_ahead_logging(store: SQLiteStorage) -> None:
    store.incr("a", 60)
    mode = store._connection().execute("PRAGMA journal_mode").fetchone()
    assert mode == ("wal",)


def _hit(uri: str, times: int) -> list[int]:
    """In a child process: hit one key ``times`` times, returning the counts seen."""
    child = SQLiteStorage(uri)
    return [child.incr("shared", 60) for _ in range(times)]


def test_two_processes_share_one_count(tmp_path: Path) -> None:
    uri = ratelimit_store.uri_for(tmp_path / "ratelimit.db")
    # spawn: a fresh interpreter, as separate gunicorn workers are, with no inherited state.
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        seen = pool.starmap(_hit, [(uri, 50), (uri, 50)])

    # The upsert is atomic: every count from 1 to 100 was handed out exactly once.
    assert sorted(seen[0] + seen[1]) == list(range(1, 101))
    assert SQLiteStorage(uri).get("shared") == 100


def test_fixed_window_limiter_refuses_the_eleventh_hit(store: SQLiteStorage) -> None:
    ten_a_minute = RateLimitItemPerMinute(10)
    strategy = FixedWindowRateLimiter(store)

    assert all(strategy.hit(ten_a_minute, "127.0.0.1") for _ in range(10))
    assert strategy.hit(ten_a_minute, "127.0.0.1") is False
    assert strategy.test(ten_a_minute, "127.0.0.2") is True


def test_uri_spells_paths_as_sqlalchemy_does(tmp_path: Path) -> None:
    absolute = ratelimit_store.uri_for(tmp_path / "r.db")
    assert absolute == f"sqlite:///{tmp_path.resolve()}/r.db"
    assert ratelimit_store.path_from_uri(absolute) == tmp_path.resolve() / "r.db"
    assert ratelimit_store.path_from_uri("sqlite:///r.db") == Path("r.db")
    for bad in ("sqlite://", "sqlite:///", "sqlite://host/r.db", "redis://localhost:6379"):
        with pytest.raises(ValueError):
            ratelimit_store.path_from_uri(bad)


def test_limits_resolves_the_sqlite_scheme(tmp_path: Path) -> None:
    found = storage_from_string(ratelimit_store.uri_for(tmp_path / "r.db"))
    assert isinstance(found, SQLiteStorage)
    assert found.storage == str(tmp_path.resolve() / "r.db")


def test_app_defaults_to_a_store_in_the_instance_folder(app_config: dict[str, Any]) -> None:
    app = create_app({**app_config, "RATELIMIT_ENABLED": True})

    assert isinstance(limiter.storage, SQLiteStorage)
    assert limiter.storage.path == Path(app.instance_path) / "ratelimit.db"


def test_configured_storage_uri_wins_over_the_default(
    app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MARKET_RATELIMIT_STORAGE_URI", "memory://")
    app = create_app({**app_config, "RATELIMIT_ENABLED": True})

    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert isinstance(limiter.storage, MemoryStorage)


def test_hits_are_fast_enough_to_sit_in_front_of_every_sign_in(store: SQLiteStorage) -> None:
    started = time.perf_counter()
    for _ in range(200):
        store.incr("speed", 60)
        store.get("speed")
    assert time.perf_counter() - started < 2.0
