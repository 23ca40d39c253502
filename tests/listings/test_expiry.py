"""Listings running out: the reminder a week before, the expiry notice, the one-click renewal."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from market.core.extensions import db
from market.listing_search import outbox as search_outbox
from market.listings import expiry
from market.models import ExpiryNotice, Need, Offering, utcnow
from tests.conftest import mail_text, make_need, make_offering, make_org, make_user, read_outbox
from tests.digest.factories import freeze_matching

pytestmark = pytest.mark.usefixtures("freeze_matching")
assert freeze_matching


def _renew_path(text: str) -> str:
    found = re.search(r"http://127\.0\.0\.1:5000(/digest/renew/\S+)", text)
    assert found, text
    return found.group(1)


def test_the_owner_is_reminded_a_week_before_and_only_once(app: Flask) -> None:
    org = make_org(kind="solution_provider")
    admin = make_user(org=org, role="org_admin", email="boss@example.com")
    make_user(org=org, email="staff@example.com")  # org admins get it when there are any
    make_offering(org=org, title="即将到期的供给", expires_at=utcnow() + timedelta(days=5))
    make_offering(org=org, title="还早的供给", expires_at=utcnow() + timedelta(days=40))
    db.session.commit()

    first = expiry.run()
    again = expiry.run()

    assert (first.reminders, first.mails, again.reminders, again.mails) == (1, 1, 0, 0)
    [message] = read_outbox(app)
    assert message["To"] == admin.email
    text = mail_text(message)
    assert "即将到期的供给" in text and "将于" in text and "/digest/renew/" in text


def test_an_expired_listing_gets_a_notice_and_leaves_the_index_at_once(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    org = make_org(kind="enterprise")
    make_user(org=org, email="owner@example.com")
    need = make_need(org=org, title="过期的需求", deadline=utcnow().date() - timedelta(days=1))
    db.session.commit()
    queued: list[tuple[str, list[str]]] = []
    real = search_outbox.enqueue

    def spy(session: Any, index: str, refs: Any, op: str = "upsert") -> int:
        queued.append((index, list(refs)))
        return real(session, index, queued[-1][1], op)

    monkeypatch.setattr(search_outbox, "enqueue", spy)

    report = expiry.run()

    assert report.expired == 1
    assert "截止日期" in mail_text(read_outbox(app)[0])
    assert queued == [("needs", [need.ref])]
    assert db.session.scalars(select(ExpiryNotice.kind)).all() == ["expired"]


def test_the_renew_link_asks_first_then_renews_once_without_signing_in(
    app: Flask, client: FlaskClient
) -> None:
    org = make_org(kind="solution_provider")
    make_user(org=org)
    offering = make_offering(org=org, title="续期测试供给", expires_at=utcnow() + timedelta(days=3))
    db.session.commit()
    expiry.run()
    path = _renew_path(mail_text(read_outbox(app)[0]))

    page = client.get(path)
    assert page.status_code == 200 and "确认续期" in page.get_data(as_text=True)
    db.session.refresh(offering)
    assert offering.expires_at is not None and offering.expires_at < utcnow() + timedelta(days=4)

    done = client.post(path)
    assert done.status_code == 200 and "已续期" in done.get_data(as_text=True)
    db.session.refresh(offering)
    assert offering.expires_at is not None
    assert offering.expires_at > utcnow() + timedelta(days=170)

    assert client.get(path).status_code == 404  # used: the date it named has moved on
    assert client.post(path).status_code == 404
    assert client.get("/digest/renew/forged").status_code == 404


def test_a_need_is_extended_by_thirty_days_and_a_closed_one_is_not(
    app: Flask, client: FlaskClient
) -> None:
    org = make_org(kind="enterprise")
    make_user(org=org)
    deadline = utcnow().date() + timedelta(days=2)
    need = make_need(org=org, deadline=deadline)
    closed = make_need(org=org, title="已关闭需求", deadline=deadline)
    db.session.commit()
    expiry.run()
    paths = {("已关闭需求" in mail_text(m)): _renew_path(mail_text(m)) for m in read_outbox(app)}
    closed.status = "closed"
    db.session.commit()

    assert client.post(paths[False]).status_code == 200
    refused = client.post(paths[True])
    assert "该需求已不在征集状态" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Need, need.id).deadline == deadline + timedelta(days=30)  # type: ignore[union-attr]
    assert db.session.get(Need, closed.id).deadline == deadline  # type: ignore[union-attr]
    assert db.session.scalars(select(Offering)).all() == []
