"""A rate-limit store in a SQLite file, shared by every worker process on one machine.

Flask-Limiter keeps its counters in a `limits` storage. The default "memory://" is
per process, so under ``gunicorn -w 4`` each worker would allow its own ten failed
sign-ins. A single-machine install has no Redis; the instance folder is what all
workers share, so the counters live there. Importing this module registers the
``sqlite`` scheme with `limits`; the URI follows SQLAlchemy's spelling:
``sqlite:////abs/path/ratelimit.db`` (absolute) or ``sqlite:///relative.db``.

Only the fixed-window strategy (Flask-Limiter's default) is supported.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import urllib.parse
from pathlib import Path

from limits.storage import Storage

SCHEME = "sqlite"
# A worker waits this long for another's write instead of failing the request.
BUSY_TIMEOUT_SECONDS = 5.0
# Expired windows are deleted at most this often per process: the table stays small
# without a delete on every hit.
PURGE_EVERY_SECONDS = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ratelimit (
    key TEXT PRIMARY KEY,
    count INTEGER NOT NULL,
    expires_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS ratelimit_expires_at ON ratelimit (expires_at);
"""

# One statement, so it is atomic without an explicit transaction: a window that has
# run out starts again at ``amount``, a live one adds ``amount``.
_INCR = """
INSERT INTO ratelimit (key, count, expires_at) VALUES (:key, :amount, :expires_at)
ON CONFLICT (key) DO UPDATE SET
    count = CASE WHEN ratelimit.expires_at <= :now THEN excluded.count
                 ELSE ratelimit.count + excluded.count END,
    expires_at = CASE WHEN ratelimit.expires_at <= :now THEN excluded.expires_at
                      ELSE ratelimit.expires_at END
RETURNING count
"""


def uri_for(path: Path | str) -> str:
    """The storage URI naming the SQLite file at ``path`` (made absolute)."""
    return f"{SCHEME}:///{Path(path).resolve()}"


def path_from_uri(uri: str) -> Path:
    """The file a ``sqlite:///…`` URI names; raises ValueError when it names none."""
    parsed = urllib.parse.urlparse(uri)
    if parsed.scheme != SCHEME or not parsed.path.startswith("/") or parsed.netloc:
        raise ValueError(f"not a {SCHEME}:/// rate-limit storage URI: {uri!r}")
    # As in SQLAlchemy: three slashes then a relative path, four for an absolute one.
    relative = urllib.parse.unquote(parsed.path[1:])
    if not relative:
        raise ValueError(f"the rate-limit storage URI names no file: {uri!r}")
    return Path(relative)


class SQLiteStorage(Storage):
    """Fixed-window counters in one SQLite table (WAL, busy timeout, atomic upsert).

    Connections are opened lazily, one per process and thread: a store created in a
    master process before gunicorn forks never hands its connection to a worker.
    """

    # limits declares this as a plain list attribute and reads it when the class is made.
    STORAGE_SCHEME = [SCHEME]  # noqa: RUF012

    def __init__(
        self, uri: str | None = None, wrap_exceptions: bool = False, **options: float | str | bool
    ) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.path = path_from_uri(uri or "")
        self._local = threading.local()
        self._purged_at = 0.0

    @property
    def storage(self) -> str:
        """Where the counters live (Flask-Limiter's ``flask limiter config`` shows it)."""
        return str(self.path)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            return conn
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: each statement commits on its own (autocommit).
        conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        # Losing the last counts in a power cut is acceptable; waiting on fsync per hit is not.
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.executescript(_SCHEMA)
        self._local.conn = conn
        self._local.pid = os.getpid()
        return conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add ``amount`` to ``key``'s window (starting one of ``expiry`` s); returns the count."""
        now = time.time()
        conn = self._connection()
        self._purge(conn, now)
        row = conn.execute(
            _INCR, {"key": key, "amount": amount, "expires_at": now + expiry, "now": now}
        ).fetchone()
        return int(row[0])

    def get(self, key: str) -> int:
        """The count in ``key``'s live window; 0 when there is none."""
        row = (
            self._connection()
            .execute(
                "SELECT count FROM ratelimit WHERE key = ? AND expires_at > ?", (key, time.time())
            )
            .fetchone()
        )
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        """When ``key``'s window ends (epoch seconds); now when there is no live window."""
        now = time.time()
        row = (
            self._connection()
            .execute(
                "SELECT expires_at FROM ratelimit WHERE key = ? AND expires_at > ?", (key, now)
            )
            .fetchone()
        )
        return float(row[0]) if row else now

    def check(self) -> bool:
        """True when the file can be opened and queried."""
        try:
            self._connection().execute("SELECT 1 FROM ratelimit LIMIT 1").fetchall()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        """Forget every counter; returns how many windows were deleted."""
        return self._connection().execute("DELETE FROM ratelimit").rowcount

    def clear(self, key: str) -> None:
        """Forget ``key``'s counter."""
        self._connection().execute("DELETE FROM ratelimit WHERE key = ?", (key,))

    def _purge(self, conn: sqlite3.Connection, now: float) -> None:
        if now - self._purged_at < PURGE_EVERY_SECONDS:
            return
        self._purged_at = now
        conn.execute("DELETE FROM ratelimit WHERE expires_at <= ?", (now,))
