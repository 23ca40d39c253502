"""A short-lived, per-process cache of computed park figures, keyed by (scope, period).

The dashboard, its CSV tables, the report page and the API all compute the same
figures; on 100k listings that is a few hundred milliseconds of aggregate SQL, so the
result is kept for ``PARK_FIGURES_CACHE_SECONDS`` (60 by default, 0 turns the cache
off) and every page shows when its figures were computed ("as of").

Entries are dropped early when this process commits a write through the ORM session
(any flush, or an INSERT/UPDATE/DELETE statement run through it), so a user who
changes something sees it at once; writes by other processes (other web workers, the
CLI, the scheduler) show up when the entry expires. The cache lives in
``app.extensions`` so that each application (and each test's database) has its own.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

DEFAULT_SECONDS = 60.0
MAX_ENTRIES = 256
EXTENSION = "park_figures_cache"
_DIRTY = "park_figures_dirty"

T = TypeVar("T")


class FiguresCache:
    """Up to ``MAX_ENTRIES`` values, each valid for ``seconds`` after it was computed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._entries: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value under ``key`` if still fresh, else ``compute()`` (stored)."""
        if self.seconds <= 0:
            return compute()
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now - hit[0] < self.seconds:
                self._entries.move_to_end(key)
                return hit[1]
        # Computed outside the lock: two requests may both compute a cold entry, which
        # costs time but never a wrong figure.
        value = compute()
        with self._lock:
            self._entries[key] = (now, value)
            self._entries.move_to_end(key)
            while len(self._entries) > MAX_ENTRIES:
                self._entries.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def for_app(app: Flask | None = None) -> FiguresCache:
    """The application's cache, created on first use."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    cache: FiguresCache | None = app.extensions.get(EXTENSION)
    if cache is None:
        seconds = float(app.config.get("PARK_FIGURES_CACHE_SECONDS", DEFAULT_SECONDS))
        cache = app.extensions.setdefault(EXTENSION, FiguresCache(seconds))
    return cache


def clear(app: Flask | None = None) -> None:
    """Forget every cached figure of the application (the benchmark's cold runs)."""
    for_app(app).clear()


# --- invalidation on this process's own writes ---------------------------------------------


def _mark_dirty(session: Session, *_args: Any) -> None:
    session.info[_DIRTY] = True


def _mark_dirty_statement(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_DIRTY] = True


def _after_commit(session: Session) -> None:
    if session.info.pop(_DIRTY, False) and has_app_context():
        cache = current_app.extensions.get(EXTENSION)
        if cache is not None:
            cache.clear()


def _after_rollback(session: Session, *_args: Any) -> None:
    session.info.pop(_DIRTY, None)


def init_app(app: Flask) -> None:
    """Mark the figures dirty on writes that change them (once per process)."""
    if event.contains(Session, "after_commit", _after_commit):
        return
    event.listen(Session, "after_flush", _mark_dirty)
    event.listen(Session, "do_orm_execute", _mark_dirty_statement)
    event.listen(Session, "after_commit", _after_commit)
    event.listen(Session, "after_soft_rollback", _after_rollback)
