"""Database engine tuning: SQLite that holds up under several writer processes.

SQLite's default deferred ``BEGIN`` lets two connections both read, then both try
to upgrade to a write lock; one of them gets "database is locked" at once, busy
timeout or not, because waiting could deadlock. Starting write transactions with
``BEGIN IMMEDIATE`` takes the write lock up front, so concurrent writers queue on
the busy timeout instead of failing. Read-only requests keep a plain ``BEGIN`` so
they never wait for a writer (WAL lets them read alongside it).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from flask import Flask, abort, request
from sqlalchemy import event, select, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

_write_intent: ContextVar[bool] = ContextVar("market_write_intent", default=False)
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SQLITE_BEGIN_MODES = ("immediate", "deferred")
T = TypeVar("T")


@contextmanager
def write_intent() -> Iterator[None]:
    """Mark the transactions started inside the block as writers (CLI jobs, workers)."""
    token = _write_intent.set(True)
    try:
        yield
    finally:
        _write_intent.reset(token)


@contextmanager
def read_intent() -> Iterator[None]:
    """Mark the transactions started inside the block as readers, even within a writer.

    For a side read on a connection of its own during a write request: with
    ``BEGIN IMMEDIATE`` it would queue behind the request's own write lock forever.
    """
    token = _write_intent.set(False)
    try:
        yield
    finally:
        _write_intent.reset(token)


def _on_connect(dbapi_connection: Any, _record: Any) -> None:
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite would otherwise
    # emit its own deferred BEGIN lazily, before the first write).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _on_begin(conn: Connection) -> None:
    if conn.dialect.name != "sqlite":
        return
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def init_app(app: Flask) -> None:
    """Install the SQLite hooks (once per process) and per-request write intent.

    Raises ValueError when ``SQLITE_BEGIN`` is neither ``immediate`` nor ``deferred``.
    """
    if not event.contains(Engine, "connect", _on_connect):
        event.listen(Engine, "connect", _on_connect)
        event.listen(Engine, "begin", _on_begin)
    # ``deferred`` (MARKET_SQLITE_BEGIN=deferred) gives write requests SQLite's plain
    # BEGIN again. It exists so bench/concurrent_writers.py can measure what
    # BEGIN IMMEDIATE buys; never set it in production.
    begin = app.config.get("SQLITE_BEGIN", "immediate")
    if begin not in SQLITE_BEGIN_MODES:
        raise ValueError(f"SQLITE_BEGIN must be one of {SQLITE_BEGIN_MODES}, not {begin!r}")
    immediate_writes = begin == "immediate"

    @app.before_request
    def _mark_writes() -> None:
        _write_intent.set(immediate_writes and request.method not in _SAFE_METHODS)


@contextmanager
def worker_session(marker: str, lock_key: int) -> Iterator[Session]:
    """A session of an outbox worker's own whose transaction holds the worker's lock.

    ``marker`` goes in ``session.info`` so the worker's own writes are not queued to
    its outbox again. Commits when the block ends normally, rolls back otherwise. On
    SQLite the lock is the database write lock (BEGIN IMMEDIATE), on PostgreSQL the
    advisory lock ``lock_key``.
    """
    from market.core.extensions import db

    with write_intent():
        session = Session(db.engine, info={marker: True}, expire_on_commit=False)
        try:
            if session.get_bind().dialect.name == "postgresql":
                session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
            else:
                session.connection()  # begins the transaction: BEGIN IMMEDIATE
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()


def by_ref(model: type[T], ref: str) -> T | None:
    """The row of ``model`` (any model with a ``ref`` column) with this ref, or None."""
    from market.core.extensions import db

    column = cast(Any, model).ref
    return cast(T | None, db.session.scalar(select(model).where(column == ref)))


def get_or_404(model: type[T], ref: str) -> T:
    """The row of ``model`` with this ref, or the 404 page (in a view)."""
    row = by_ref(model, ref)
    if row is None:
        abort(404)
    return row
