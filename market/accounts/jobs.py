"""Queued mail no drainer sent, and expired sign-ups."""

from __future__ import annotations

from flask import Flask

from market.core.db import write_intent
from market.core.extensions import db
from market.jobs import scheduled
from market.jobs.scheduler import JobSpec, Result
from market.models import utcnow


def send_queued_mail(period: str) -> Result:
    from market.accounts import signup
    from market.core import mail_queue

    report = mail_queue.drain()
    purged = mail_queue.purge(utcnow())
    with write_intent():
        expired = signup.purge_signups(utcnow())
        db.session.commit()
    detail = f"{report.summary()}; purged {purged} given-up mails, {expired} expired sign-ups"
    return ("failed" if report.failed else "ok"), detail


def init_app(app: Flask) -> None:
    scheduled.add(app, lambda app: JobSpec("mail-queue", "*/5 * * * *", "5min", send_queued_mail))
