"""The disk the instance lives on: is an error a full disk, and how much room is left.

A full disk shows up in three shapes: an ``OSError`` with ENOSPC or EDQUOT from a file
write (mail outbox, search index, exports), SQLite's SQLITE_FULL ("database or disk is
full") and PostgreSQL's ``disk_full`` (SQLSTATE 53100). SQLAlchemy and our own code wrap
them, so the whole chain of causes is searched.
"""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
SQLITE_FULL = 13
PG_DISK_FULL = "53100"


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and everything it was raised from or wraps (SQLAlchemy's ``orig``)."""
    seen: list[BaseException] = []
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop()
        if current is None or any(current is known for known in seen):
            continue
        seen.append(current)
        todo += [
            current.__cause__,
            current.__context__,
            getattr(current, "orig", None),
            getattr(current, "original_exception", None),
        ]
    return seen


def _is_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in FULL_ERRNOS:
        return True
    if isinstance(exc, sqlite3.OperationalError):
        return getattr(exc, "sqlite_errorcode", None) == SQLITE_FULL
    return getattr(exc, "sqlstate", None) == PG_DISK_FULL


def out_of_space(exc: BaseException) -> bool:
    """True when ``exc`` (or anything behind it) says the disk or a quota is full."""
    return any(_is_full(cause) for cause in _chain(exc))


def free_bytes(folder: str | Path) -> int:
    """Bytes free for this process's user on the file system holding ``folder``."""
    return shutil.disk_usage(folder).free
