"""The skeleton both outboxes (search, recommendations) share.

An outbox notes in ``session.info`` what a flush changed (``collect``, after_flush),
writes its rows through the flush's own connection (``write``, after_flush_postexec),
so they commit or roll back with the change, and forgets its notes when the
transaction or a savepoint ends. The notes' keys are the outbox's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

Hook = Callable[[Session, Any], None]


def forgetter(
    pending: str, seen: str, written: str
) -> Callable[[Session, SessionTransaction], None]:
    """The after_transaction_end hook of an outbox with these ``session.info`` keys.

    A rolled-back savepoint takes its rows with it, so after it the next change of the
    same record must write a row again (a flush's own inner transaction ends after
    every flush and changes nothing here). ``written`` lives until the outermost
    transaction ends: the after_commit hook that runs the worker reads it first.
    """

    def on_transaction_end(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None or transaction.nested:
            session.info.pop(seen, None)
            session.info.pop(pending, None)
        if transaction.parent is None:
            session.info.pop(written, None)

    return on_transaction_end


def install(collect: Hook, write: Hook, on_transaction_end: Hook) -> None:
    """Hook an outbox into every SQLAlchemy session (once per process)."""
    hooks = (
        ("after_flush", collect),
        ("after_flush_postexec", write),
        ("after_transaction_end", on_transaction_end),
    )
    for name, fn in hooks:
        if not event.contains(Session, name, fn):
            event.listen(Session, name, fn)
