"""The weekly digest: what it collects, how it renders, the ledger, the command and the pages."""

from __future__ import annotations

import re
from datetime import timedelta
from email.message import EmailMessage
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import select

from market.core.extensions import db
from market.core.links import unsubscribe_token
from market.digest import send as digest_send
from market.digest.collect import current_week, parse_week, week_of
from market.models import DigestLedger, DigestPreference, MatchFeedback, utcnow
from tests.conftest import Auth, mail_text, make_offering, make_org, make_user, read_outbox
from tests.digest.factories import (
    DigestWorld,
    digest_world,
    freeze_matching,
    make_docking,
    make_recommendation,
)

pytestmark = pytest.mark.usefixtures("freeze_matching")
assert freeze_matching  # a fixture: imported to be found by pytest

BASE = "http://127.0.0.1:5000"


@pytest.fixture
def world(app: Flask) -> DigestWorld:
    built = digest_world()
    db.session.commit()
    return built


def _send(week: str | None = None, **kwargs: Any) -> digest_send.SendReport:
    return digest_send.send_week(week or current_week(), **kwargs)


def _to(messages: list[EmailMessage], email: str) -> list[EmailMessage]:
    return [m for m in messages if m["To"] == email]


def _html(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None
    return str(part.get_content())  # type: ignore[attr-defined]


# --- what goes in ----------------------------------------------------------------------------


def test_each_side_gets_the_new_recommendation_of_its_own_listing(
    app: Flask, world: DigestWorld
) -> None:
    report = _send()

    assert report.sent == 2
    messages = read_outbox(app)
    buyer_mail = _to(messages, world.buyer.email)[0]
    seller_mail = _to(messages, world.seller.email)[0]
    assert "冲压件表面缺陷视觉检测" in mail_text(buyer_mail)  # the offering, for the need
    assert "为您的需求新推荐的供给" in mail_text(buyer_mail)
    assert "与您的供给新匹配的需求" in mail_text(seller_mail)
    assert "冲压件表面划痕检测" in mail_text(seller_mail)  # the need, for the offering
    assert "匹配度 85" in mail_text(buyer_mail)


def test_the_mail_is_multipart_with_absolute_links_and_one_click_unsubscribe(
    app: Flask, world: DigestWorld
) -> None:
    _send()
    message = _to(read_outbox(app), world.buyer.email)[0]

    assert message.get_content_type() == "multipart/alternative"
    types = [part.get_content_type() for part in message.iter_parts()]
    assert types == ["text/plain", "text/html"]
    html = _html(message)
    links = re.findall(r'href="([^"]+)"', html)
    assert links and all(link.startswith(BASE + "/") for link in links)
    assert f"{BASE}/offerings/{world.offering.ref}" in links
    assert "<img" not in html and "<link" not in html and "<style" not in html
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{BASE}/digest/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    week = current_week()
    assert message["Message-ID"] == f"<digest.{week}.{world.buyer.ref}@market.localhost>"


def test_rerunning_the_week_never_sends_a_second_digest(app: Flask, world: DigestWorld) -> None:
    first = _send()
    second = _send()

    assert (first.sent, second.sent, second.already) == (2, 0, 2)
    assert len(read_outbox(app)) == 2
    rows = db.session.scalars(select(DigestLedger)).all()
    assert sorted(row.status for row in rows) == ["sent", "sent"]


def test_an_item_is_never_in_two_digests(app: Flask, world: DigestWorld) -> None:
    this_week = current_week()
    _send(this_week)
    next_week = week_of(utcnow() + timedelta(days=7))

    report = _send(next_week, now=utcnow() + timedelta(days=7))

    assert report.sent == 0 and report.empty == 2
    assert len(read_outbox(app)) == 2


def test_a_week_with_nothing_new_sends_no_mail(app: Flask) -> None:
    digest_world(first_seen_at=utcnow() - timedelta(days=20))
    db.session.commit()

    report = _send()

    assert report.sent == 0 and report.empty == 2
    assert read_outbox(app) == []
    assert db.session.scalars(select(DigestLedger)).all() == []


def test_low_scores_and_pairs_marked_irrelevant_are_left_out(
    app: Flask, world: DigestWorld
) -> None:
    weak = make_offering(
        org=world.provider, title="低分的供给", expires_at=utcnow() + timedelta(days=9)
    )
    make_recommendation(world.need, weak, score=30)
    db.session.add(
        MatchFeedback(
            need_id=world.need.id,
            offering_id=world.offering.id,
            org_id=world.enterprise.id,
            user_id=world.buyer.id,
            side="need",
            reason="不相关",
        )
    )
    db.session.commit()

    _send()

    assert _to(read_outbox(app), world.buyer.email) == []  # hidden + weak: nothing left
    seller = mail_text(_to(read_outbox(app), world.seller.email)[0])
    assert "低分的供给" not in seller


def test_dockings_wait_in_the_receivers_digest_not_the_initiators(
    app: Flask, world: DigestWorld
) -> None:
    world.recommendation.first_seen_at = utcnow() - timedelta(days=30)  # no recommendations
    make_docking(world.offering, world.enterprise, initiator=world.enterprise)
    db.session.commit()

    _send()

    messages = read_outbox(app)
    assert _to(messages, world.buyer.email) == []
    text = mail_text(_to(messages, world.seller.email)[0])
    assert "等待您回复的对接" in text and "来自 苏州精密冲压有限公司" in text


def test_new_registrations_for_a_training_course(app: Flask) -> None:
    body = make_org(kind="training_body", name="苏州技能培训中心")
    make_user(org=body, email="trainer@example.com")
    course = make_offering(org=body, kind="training", category="talent", title="PLC 编程实训班")
    enterprise = make_org(kind="enterprise")
    make_docking(course, enterprise, initiator=enterprise, kind="registration", status="registered")
    db.session.commit()

    _send()

    text = mail_text(_to(read_outbox(app), "trainer@example.com")[0])
    assert "新的培训报名" in text and "PLC 编程实训班" in text and "已报名" in text


def test_preferences_choose_kinds_language_or_no_digest(app: Flask, world: DigestWorld) -> None:
    db.session.add(
        DigestPreference(user_id=world.buyer.id, frequency="off", kinds=[], language="zh")
    )
    db.session.add(
        DigestPreference(
            user_id=world.seller.id, frequency="weekly", kinds=["dockings"], language="en"
        )
    )
    db.session.commit()
    assert _send().sent == 0  # buyer: off; seller: only dockings, and there are none

    make_docking(world.offering, world.enterprise, initiator=world.enterprise)
    db.session.commit()
    assert _send().sent == 1
    message = read_outbox(app)[0]
    assert message["To"] == world.seller.email
    assert '<html lang="en">' in _html(message)
    assert "与您的供给新匹配的需求" not in mail_text(message)


# --- the ledger and the crash policy --------------------------------------------------------


def test_a_crash_after_the_hand_over_is_reported_and_never_resent_automatically(
    app: Flask, world: DigestWorld, monkeypatch: pytest.MonkeyPatch, client: FlaskClient, auth: Auth
) -> None:
    def crash(*_args: Any) -> None:
        raise SystemExit("killed between the 250 and the commit")

    monkeypatch.setattr(digest_send, "_mark_sent", crash)
    with pytest.raises(SystemExit):
        _send(user_ids=[world.buyer.id])
    monkeypatch.undo()
    db.session.rollback()
    row = db.session.scalars(select(DigestLedger)).one()
    assert row.status == "sending"
    assert len(read_outbox(app)) == 1  # the server had it

    app.config["DIGEST_CLAIM_TIMEOUT"] = 0
    report = _send(user_ids=[world.buyer.id])
    assert report.sent == 0 and report.uncertain == 1
    assert len(read_outbox(app)) == 1

    admin = make_user(role="admin")
    auth.login(admin)
    page = client.get("/admin/jobs").get_data(as_text=True)
    assert "不确定是否送达" in page and world.buyer.email in page
    client.post(f"/admin/digest/ledger/{row.id}/resolve", data={"action": "resend"})
    assert digest_send.retry_due().sent == 1
    assert len(read_outbox(app)) == 2


def test_a_claim_that_never_reached_the_server_is_sent_after_the_timeout(
    app: Flask, world: DigestWorld
) -> None:
    week = current_week()
    db.session.add(
        DigestLedger(
            user_id=world.buyer.id,
            iso_week=week,
            status="claimed",
            claim_token="dead-process",
            claimed_at=utcnow() - timedelta(hours=1),
            cutoff_at=utcnow(),
        )
    )
    db.session.commit()

    report = _send(week)

    assert report.sent == 2
    assert len(_to(read_outbox(app), world.buyer.email)) == 1
    row = db.session.scalar(select(DigestLedger).where(DigestLedger.user_id == world.buyer.id))
    assert row is not None and row.status == "sent" and row.attempts == 2


def test_a_sender_whose_claim_was_taken_over_hands_nothing_over(
    app: Flask, world: DigestWorld
) -> None:
    from market.core import mail
    from market.digest.collect import Collector

    week = current_week()
    content = Collector(week).collect(world.buyer, None)
    row = DigestLedger(
        user_id=world.buyer.id, iso_week=week, claim_token="mine", cutoff_at=utcnow()
    )
    db.session.add(row)
    db.session.commit()
    believed = SimpleNamespace(id=row.id, claim_token="mine", attempts=1, user_id=row.user_id)
    row.claim_token = "someone-else"  # another process took the row over
    db.session.commit()

    outcome, _error = digest_send.deliver(believed, content, mail.transport())  # type: ignore[arg-type]

    assert outcome == "lost"
    assert read_outbox(app) == []


class FlakyTransport:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[EmailMessage] = []

    def send(self, message: EmailMessage, on_handover: Any = None) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionRefusedError("mail server down")
        if on_handover:
            on_handover()
        self.sent.append(message)


def test_smtp_failures_are_retried_with_backoff_then_reported(
    app: Flask, world: DigestWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from market.core import mail

    app.config["DIGEST_SMTP_RETRY_DELAYS"] = [0, 0]
    flaky = FlakyTransport(failures=2)
    monkeypatch.setattr(mail, "transport", lambda: flaky)
    assert _send(user_ids=[world.buyer.id]).sent == 1  # two failures, third try works

    down = FlakyTransport(failures=100)
    monkeypatch.setattr(mail, "transport", lambda: down)
    report = _send(user_ids=[world.seller.id])
    assert report.failed == 1 and "mail server down" in report.summary()
    row = db.session.scalar(select(DigestLedger).where(DigestLedger.user_id == world.seller.id))
    assert row is not None and row.status == "failed" and row.next_attempt_at is not None
    assert row.next_attempt_at > utcnow() + timedelta(minutes=10)

    assert digest_send.retry_due().sent == 0  # backoff not over yet
    monkeypatch.setattr(mail, "transport", lambda: flaky)
    assert digest_send.retry_due(now=utcnow() + timedelta(minutes=20)).sent == 1
    assert [m["To"] for m in flaky.sent] == [world.buyer.email, world.seller.email]


def test_a_run_stops_when_the_mail_server_keeps_failing(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from market.core import mail

    for _ in range(7):
        digest_world()
    db.session.commit()
    app.config["DIGEST_SMTP_RETRY_DELAYS"] = []
    monkeypatch.setattr(mail, "transport", lambda: FlakyTransport(failures=1000))

    report = _send()

    assert report.aborted and report.failed == digest_send.ABORT_AFTER


# --- the command -------------------------------------------------------------------------------


def test_digest_dry_run_prints_each_user_and_sends_nothing(
    app: Flask, world: DigestWorld, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["digest", "--dry-run"])

    assert result.exit_code == 0, result.output
    assert world.buyer.email in result.output and world.seller.email in result.output
    assert "2 digests would be sent" in result.output
    assert read_outbox(app) == []


def test_digest_command_sends_and_prints_counts(
    app: Flask, world: DigestWorld, runner: FlaskCliRunner
) -> None:
    week = current_week()
    first = runner.invoke(args=["digest", "--week", week])
    again = runner.invoke(args=["digest", "--week", week.lower()])

    assert first.exit_code == 0 and f"week {week}: 2 users, 2 sent" in first.output
    assert again.exit_code == 0 and "0 sent" in again.output and "2 already handled" in again.output
    assert len(read_outbox(app)) == 2


@pytest.mark.parametrize("week", ["2026-53", "2026-W60", "next week", "2026-W"])
def test_digest_command_refuses_a_bad_week_in_one_line(runner: FlaskCliRunner, week: str) -> None:
    result = runner.invoke(args=["digest", "--week", week])

    assert result.exit_code == 1
    assert result.output.startswith("error: week") or result.output.startswith("error: '")
    assert result.output.count("\n") == 1


def test_parse_week_accepts_only_real_iso_weeks() -> None:
    assert parse_week("2026-w5") == "2026-W05"
    assert parse_week("2020-W53") == "2020-W53"
    with pytest.raises(ValueError):
        parse_week("2021-W53")


# --- pages -----------------------------------------------------------------------------------


def test_preferences_page_saves_choices(app: Flask, client: FlaskClient, auth: Auth) -> None:
    user = make_user()
    auth.login(user)

    page = client.get("/digest/preferences").get_data(as_text=True)
    assert "周报设置" in page and 'value="weekly" checked' in page

    response = client.post(
        "/digest/preferences",
        data={"frequency": "weekly", "kinds": ["dockings", "catalogues"], "language": "en"},
    )
    assert response.status_code == 302
    pref = db.session.scalar(select(DigestPreference).where(DigestPreference.user_id == user.id))
    assert pref is not None and pref.kinds == ["dockings", "catalogues"] and pref.language == "en"


def test_preferences_page_explains_a_bad_choice_in_chinese(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    auth.login(make_user())

    response = client.post(
        "/digest/preferences", data={"frequency": "weekly", "kinds": [], "language": "zh"}
    )

    assert response.status_code == 200
    assert "每周发送时请至少选择一类内容" in response.get_data(as_text=True)
    junk = client.post("/digest/preferences", data={"frequency": "daily", "language": "xx"})
    assert junk.status_code == 200 and "请选择有效的发送频率" in junk.get_data(as_text=True)


def test_preferences_need_a_sign_in(client: FlaskClient) -> None:
    response = client.get("/digest/preferences")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_unsubscribe_link_confirms_on_get_and_stops_on_post(
    app: Flask, client: FlaskClient, world: DigestWorld
) -> None:
    token = unsubscribe_token(world.buyer.id)

    page = client.get(f"/digest/unsubscribe/{token}")
    assert page.status_code == 200 and "确认退订" in page.get_data(as_text=True)
    assert db.session.scalar(select(DigestPreference)) is None  # a GET changes nothing

    done = client.post(f"/digest/unsubscribe/{token}", data={"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and "已退订" in done.get_data(as_text=True)
    assert _send().sent == 1  # the seller only


def test_a_forged_unsubscribe_link_is_refused(client: FlaskClient) -> None:
    assert client.get("/digest/unsubscribe/not-a-token").status_code == 404
    assert client.post("/digest/unsubscribe/not-a-token").status_code == 404


def test_admin_previews_any_users_digest_without_sending(
    app: Flask, client: FlaskClient, auth: Auth, world: DigestWorld
) -> None:
    auth.login(make_user(role="admin"))

    page = client.get(f"/admin/digest/{world.buyer.ref}")
    html = client.get(f"/admin/digest/{world.buyer.ref}/mail.html")
    found = client.get("/admin/digest", query_string={"user": world.buyer.email})
    bad_week = client.get(f"/admin/digest/{world.buyer.ref}?week=someday")

    assert page.status_code == 200
    assert "冲压件表面缺陷视觉检测" in page.get_data(as_text=True)
    assert "冲压件表面缺陷视觉检测" in html.get_data(as_text=True)
    assert "style-src 'unsafe-inline'" in html.headers["Content-Security-Policy"]
    assert "script-src" not in html.headers["Content-Security-Policy"]
    assert found.status_code == 302 and found.headers["Location"].endswith(world.buyer.ref or "")
    assert "周次格式应为 2026-W05" in bad_week.get_data(as_text=True)
    assert read_outbox(app) == []
    assert client.get("/admin/digest/U-999999").status_code == 404


def test_only_admins_preview_digests(client: FlaskClient, auth: Auth, world: DigestWorld) -> None:
    auth.login(world.seller)
    assert client.get(f"/admin/digest/{world.buyer.ref}").status_code == 403
    assert client.get("/admin/jobs").status_code == 403


def test_admin_jobs_page_shows_runs_and_outcomes(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    from market.jobs import runs as job_runs

    claim = job_runs.claim("digest", "2026-W05", "host:1:abc")
    assert claim is not None
    job_runs.finish(claim.run_id, "failed", "SMTPAuthenticationError: bad password")
    auth.login(make_user(role="admin"))

    page = client.get("/admin/jobs").get_data(as_text=True)

    assert "2026-W05" in page and "SMTPAuthenticationError" in page and "失败" in page
