"""Digests through a real SMTP server on 127.0.0.1: STARTTLS, AUTH, MIME, unsubscribe end to end."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from market.core.extensions import db
from market.digest import send as digest_send
from market.digest.collect import current_week
from market.models import DigestLedger, DigestPreference
from tests.digest.factories import DigestWorld, digest_world, freeze_matching
from tests.smtp_server import SMTPServer

pytestmark = pytest.mark.usefixtures("freeze_matching")
assert freeze_matching

BASE = "https://market.example.cn"


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SMTPServer]:
    server = SMTPServer(tls_folder=tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def world(app: Flask, smtp: SMTPServer) -> DigestWorld:
    app.config.update(SMTP_URL=smtp.url, BASE_URL=BASE, DIGEST_SMTP_RETRY_DELAYS=[])
    built = digest_world()
    db.session.commit()
    return built


def test_digest_goes_through_starttls_and_auth_as_two_part_chinese_mail(
    app: Flask, smtp: SMTPServer, world: DigestWorld
) -> None:
    report = digest_send.send_week(current_week())

    assert report.sent == 2, report.summary()
    received = {r.rcpt_tos[0]: r for r in smtp.handler.received}
    assert set(received) == {world.buyer.email, world.seller.email}
    got = received[world.buyer.email]
    assert got.tls and got.authenticated
    assert got.mail_from == "noreply@market.localhost"
    message = got.message
    assert str(message["Subject"]).startswith("园区供需对接平台周报")
    assert "园区供需对接平台" in str(message["From"])
    assert message.get_content_type() == "multipart/alternative"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    text = plain.get_content()  # type: ignore[attr-defined]
    page = html.get_content()  # type: ignore[attr-defined]
    assert "冲压件表面缺陷视觉检测" in text and "冲压件表面缺陷视觉检测" in page
    assert plain.get_content_charset() == "utf-8"
    links = re.findall(r'href="([^"]+)"', page)
    assert links and all(link.startswith(BASE + "/") for link in links)
    assert all(url.startswith(BASE + "/") for url in re.findall(r"https?://\S+", text))
    assert "<img" not in page and "stylesheet" not in page
    assert message["Message-ID"] == f"<digest.{current_week()}.{world.buyer.ref}@market.localhost>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    rows = db.session.scalars(select(DigestLedger)).all()
    assert {row.status for row in rows} == {"sent"}
    assert {row.message_id for row in rows} == {
        r.message["Message-ID"] for r in smtp.handler.received
    }


def test_one_click_unsubscribe_from_the_received_headers_stops_the_next_digest(
    app: Flask, smtp: SMTPServer, world: DigestWorld
) -> None:
    digest_send.send_week(current_week())
    message = next(r.message for r in smtp.handler.received if r.rcpt_tos[0] == world.buyer.email)
    header = str(message["List-Unsubscribe"])
    url = header.strip("<>")
    assert url.startswith(f"{BASE}/digest/unsubscribe/")

    # What a mail client does for RFC 8058: a POST with this body, no cookies, no token.
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post(
        urlsplit(url).path,
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    pref = db.session.scalar(
        select(DigestPreference).where(DigestPreference.user_id == world.buyer.id)
    )
    assert pref is not None and pref.frequency == "off" and pref.unsubscribed_at is not None
    # A plain form POST without the one-click body still needs its CSRF token.
    refused = client.post(urlsplit(url).path, data={})
    assert refused.status_code == 400


def test_a_wrong_password_fails_the_digest_and_reports_why(
    app: Flask, smtp: SMTPServer, world: DigestWorld
) -> None:
    app.config["SMTP_URL"] = smtp.url.replace("s3cret-pass", "wrong")

    report = digest_send.send_week(current_week(), user_ids=[world.buyer.id])

    assert report.failed == 1 and "buyer" in report.summary()
    assert smtp.handler.received == []
    row = db.session.scalars(select(DigestLedger)).one()
    # aiosmtpd answers a bad password by going quiet: a timeout, recorded as the error.
    assert row.status == "failed" and row.error and row.next_attempt_at is not None


def test_an_untrusted_certificate_is_refused(
    app: Flask, smtp: SMTPServer, world: DigestWorld
) -> None:
    app.config["SMTP_URL"] = smtp.url.split("&cafile=")[0]

    report = digest_send.send_week(current_week(), user_ids=[world.buyer.id])

    assert report.failed == 1 and "CERTIFICATE_VERIFY_FAILED" in report.summary()
    assert smtp.handler.received == []
