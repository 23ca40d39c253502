"""Mail that is worked out and sent after the response: a queue table and its drainer.

Why: a request that looked the address up, rendered and sent the mail itself took
65 ms for an address with an account and 8 ms for one without, and failed only for
the former while the mail server was down (issue #18) — the page told who has an
account. So the request does one thing for every address: it writes a ``mail_queue``
row in its own transaction. Later a handler, chosen by the row's ``kind``, decides
whether a mail goes out and to whom.

Why this mechanism: the row commits with the request, so a request that was answered
has its mail safe in the database even if the process dies right after answering.
At the end of the request the process's drainer thread is woken; it works the same
under waitress (``market serve``) and gunicorn (several workers), because it needs
nothing from the server. Flask's ``call_on_close`` would not do: waitress calls it
before it flushes the answer, so the mail work would still delay the response.
Whatever a drainer leaves — the process died, the mail server was down — the
``mail-queue`` scheduler job sends (every 5 minutes, ``market serve`` and
``market scheduler`` alike). A row is claimed with a conditional UPDATE before it is
worked on, so two processes never both send it, and deleted once the mail server
accepted the message. A process that dies between acceptance and the delete leaves a
claim that is taken over after ``CLAIM_TIMEOUT``: the mail may go out twice, never
not at all (a second reset or confirmation mail is harmless; a lost one locks a
person out).

SQLite: the claim and the delete are short write transactions (``BEGIN IMMEDIATE``);
the handler reads and the mail server is talked to outside any write transaction, so
other writers never wait for the network.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any

from flask import Flask, current_app, g
from flask_babel import force_locale, get_locale
from sqlalchemy import delete, or_, select, update

from market.core import mail
from market.core.db import write_intent
from market.core.extensions import db
from market.models import MailJob, utcnow

log = logging.getLogger("market.mail")

EXTENSION = "market_mail_queue"
# A claim older than this belonged to a process that died while sending.
CLAIM_TIMEOUT = timedelta(minutes=10)
# Failed deliveries are tried again after 1, 2, 4, 8 and 16 minutes, then given up.
MAX_ATTEMPTS = 6
FIRST_RETRY = timedelta(minutes=1)
# Given-up rows stay this long for the log and admins, then are purged.
KEEP_FAILED = timedelta(days=7)
# A drainer thread with nothing to do for this long ends; the next request starts another.
IDLE_SECONDS = 60.0
# A kick comes while the response is still to be written. The drainer waits this long
# first: the server's thread needs the GIL to write the answer, and a drainer busy
# rendering a mail would hold it for up to the 5 ms switch interval at a time, making
# the answer for an address with an account measurably slower (issue #18: 9 ms under
# gunicorn without this pause, see bench/security.py). On a loaded machine writing the
# answer can itself wait tens of milliseconds for a core, hence a tenth of a second.
START_DELAY = 0.1
BATCH = 50
ERROR_MAX = 1000


@dataclass
class Outgoing:
    """What a handler decided: the message to send (None: nothing goes out) and what to
    change in the database once the mail server took it (in the row's delete)."""

    message: EmailMessage | None
    done: Callable[[], None] | None = None


Handler = Callable[[MailJob], Outgoing]


@dataclass
class DrainReport:
    """One drain: mails sent, jobs that sent nothing, jobs that failed (kept for a retry)."""

    sent: int = 0
    silent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"sent {self.sent}, nothing to send {self.silent}, failed {self.failed}"
        return text + (f" {self.errors[:3]}" if self.errors else "")


def enqueue(kind: str, payload: Mapping[str, Any]) -> MailJob:
    """Add a job to the session (it commits with the caller's transaction) in the current
    language; the drainer is woken when the request ends. Raises KeyError for a kind no
    handler is registered for."""
    if kind not in _state(current_app).handlers:
        raise KeyError(f"no mail handler for {kind!r}")  # fail now, not in the drainer
    job = MailJob(kind=kind, payload=dict(payload), locale=str(get_locale() or "zh"))
    db.session.add(job)
    g.mail_queued = True
    return job


class Drainer:
    """One thread per process and app that drains the queue whenever it is kicked.

    Started on the first kick and ended after ``IDLE_SECONDS`` without one; a fork
    (gunicorn preloading the app) gets a thread of its own.
    """

    def __init__(self, app: Flask, handlers: Mapping[str, Handler]) -> None:
        self.app = app
        self.handlers = dict(handlers)
        self._lock = threading.Condition()
        self._kicked = False
        self._busy = False
        self._thread: threading.Thread | None = None
        self._pid = os.getpid()

    def kick(self) -> None:
        with self._lock:
            self._kicked = True
            alive = self._thread is not None and self._thread.is_alive()
            if not alive or self._pid != os.getpid():
                self._pid = os.getpid()
                self._thread = threading.Thread(
                    target=self._run, name="market-mail-queue", daemon=True
                )
                self._thread.start()
            self._lock.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no kick is waiting and no drain runs; False when ``timeout`` ran out."""
        with self._lock:
            return self._lock.wait_for(lambda: not (self._kicked or self._busy), timeout)

    def _run(self) -> None:
        while True:
            with self._lock:
                if not self._lock.wait_for(lambda: self._kicked, IDLE_SECONDS):
                    if self._thread is threading.current_thread():
                        self._thread = None
                    return
                self._busy = True
            time.sleep(START_DELAY)
            with self._lock:
                self._kicked = False  # kicks during the delay are served by this drain
            try:
                with self.app.app_context():
                    try:
                        drain()
                    finally:
                        db.session.remove()
            except Exception:
                # The rows stay; the scheduler's mail-queue job tries them again.
                log.exception("mail queue drain failed")
            finally:
                with self._lock:
                    self._busy = False
                    self._lock.notify_all()


def init_app(app: Flask, handlers: Mapping[str, Handler] | None = None) -> None:
    """Start the app's drainer and wake it after any request that queued; the features
    that queue mail hand it their handlers with ``register``."""
    app.extensions[EXTENSION] = Drainer(app, handlers or {})

    @app.teardown_request
    def _kick(_exc: BaseException | None) -> None:
        # Teardown runs once the response is built; a failed request rolled back its row
        # and the drainer then finds nothing.
        if g.pop("mail_queued", False):
            _state(app).kick()


def register(app: Flask, kind: str, handler: Handler) -> None:
    """The handler that builds and sends the queued mail of ``kind``."""
    _state(app).handlers[kind] = handler


def _state(app: Flask) -> Drainer:
    drainer: Drainer = app.extensions[EXTENSION]
    return drainer


def wait_idle(app: Flask, timeout: float = 30.0) -> bool:
    """Wait for the app's drainer to finish what it was kicked for (tests read mail after)."""
    drainer = app.extensions.get(EXTENSION)
    return drainer.wait_idle(timeout) if drainer is not None else True


def drain(*, ignore_backoff: bool = False) -> DrainReport:
    """Send every due job (in an app context); ``ignore_backoff`` also takes the ones
    waiting for a retry. Returns what happened; failures are kept and logged."""
    report = DrainReport()
    seen: set[int] = set()
    while True:
        ids = [i for i in _due_ids(utcnow(), ignore_backoff) if i not in seen]
        if not ids:
            return report
        for job_id in ids:
            seen.add(job_id)
            _work(job_id, report)


def _due_ids(now: datetime, ignore_backoff: bool) -> list[int]:
    stale = now - CLAIM_TIMEOUT
    stmt = (
        select(MailJob.id)
        .where(MailJob.due_at.is_not(None))
        .where(or_(MailJob.claimed_at.is_(None), MailJob.claimed_at < stale))
        .order_by(MailJob.id)
        .limit(BATCH)
    )
    if not ignore_backoff:
        stmt = stmt.where(MailJob.due_at <= now)
    ids = list(db.session.scalars(stmt))
    db.session.rollback()  # end the read before the claims (SQLite: they take the write lock)
    return ids


def _claim(job_id: int) -> bool:
    """Take the job for this process; False when another process has it (or sent it)."""
    now = utcnow()
    with write_intent():
        result = db.session.execute(
            update(MailJob)
            .where(MailJob.id == job_id, MailJob.due_at.is_not(None))
            .where(or_(MailJob.claimed_at.is_(None), MailJob.claimed_at < now - CLAIM_TIMEOUT))
            .values(claimed_at=now, attempts=MailJob.attempts + 1)
        )
        db.session.commit()
    return bool(getattr(result, "rowcount", 0))


def _work(job_id: int, report: DrainReport) -> None:
    if not _claim(job_id):
        return
    job = db.session.get(MailJob, job_id)
    if job is None:
        return
    handler = _state(current_app).handlers.get(job.kind)
    try:
        if handler is None:
            raise LookupError(f"no mail handler for {job.kind!r}")
        with force_locale(job.locale or "zh"):
            outgoing = handler(job)
        db.session.rollback()  # the handler only read: no transaction open while sending
        if outgoing.message is not None:
            mail.transport().send(outgoing.message)
    except Exception as exc:
        db.session.rollback()
        _failed(job_id, exc, report)
        return
    with write_intent():
        db.session.execute(delete(MailJob).where(MailJob.id == job_id))
        if outgoing.done is not None:
            outgoing.done()
        db.session.commit()
    if outgoing.message is None:
        report.silent += 1
    else:
        report.sent += 1


def _failed(job_id: int, exc: Exception, report: DrainReport) -> None:
    error = f"{type(exc).__name__}: {exc}"[:ERROR_MAX]
    report.failed += 1
    report.errors.append(error)
    with write_intent():
        job = db.session.get(MailJob, job_id)
        if job is None:
            db.session.rollback()
            return
        kind, attempts = job.kind, job.attempts
        given_up = attempts >= MAX_ATTEMPTS
        job.claimed_at = None
        job.last_error = error
        job.due_at = None if given_up else utcnow() + FIRST_RETRY * 2 ** (attempts - 1)
        db.session.commit()
    if given_up:
        log.error("mail job %s (%s) given up after %d attempts: %s", job_id, kind, attempts, error)
    else:
        log.warning("mail job %s (%s) failed, will retry: %s", job_id, kind, error)


def purge(now: datetime) -> int:
    """Delete given-up jobs older than ``KEEP_FAILED``; returns how many."""
    with write_intent():
        result = db.session.execute(
            delete(MailJob).where(MailJob.due_at.is_(None), MailJob.created_at < now - KEEP_FAILED)
        )
        db.session.commit()
    return int(getattr(result, "rowcount", 0) or 0)
