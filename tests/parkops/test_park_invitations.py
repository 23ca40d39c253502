"""Park staff invite a provider's offering to serve the park; the provider answers."""

from __future__ import annotations

import re
from datetime import timedelta
from unittest import mock

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from market.core.extensions import db
from market.models import Offering, Park, ParkInvitation, User, utcnow
from market.parkops import invitations as park_invitations
from tests.conftest import (
    Auth,
    mail_text,
    make_offering,
    make_org,
    make_park,
    make_user,
    read_outbox,
)


@pytest.fixture
def park(app: Flask) -> Park:
    return make_park(ref="P-SIP", name="苏州工业园区")


@pytest.fixture
def staff(park: Park) -> User:
    return make_user(role="park_staff", org=make_org(kind="park_operator", park=park))


@pytest.fixture
def offering(app: Flask) -> Offering:
    provider = make_org(kind="solution_provider", name="杭州精益智造有限公司", province="浙江省")
    make_user(org=provider, role="org_admin", email="boss@provider.example.com")
    make_user(org=provider, role="member", email="sales@provider.example.com")
    return make_offering(org=provider, regions=["浙江省"], title="MES 精益生产")


def invite(client: FlaskClient, auth: Auth, staff: User, offering: Offering, **data: str) -> str:
    auth.login(staff)
    response = client.post(
        "/parkops/parks/P-SIP/invitations",
        data={"offering": offering.ref, "message": "园区有配套补贴", **data},
    )
    assert response.status_code == 302
    return response.headers["Location"]


def link_in_mail(app: Flask) -> str:
    body = mail_text(read_outbox(app)[-1])
    found = re.search(r"https?://\S+/parkops/invitations/(\S+)", body)
    assert found, body
    return found.group(1)


def test_staff_invitation_mails_the_provider_admins_a_signed_link(
    app: Flask, client: FlaskClient, auth: Auth, staff: User, offering: Offering
) -> None:
    invite(client, auth, staff, offering)
    messages = read_outbox(app)
    assert [m["To"] for m in messages] == ["boss@provider.example.com"]
    assert "苏州工业园区" in str(messages[0]["Subject"])
    assert "园区有配套补贴" in mail_text(messages[0])
    invitation = db.session.scalar(select(ParkInvitation))
    assert invitation is not None and invitation.status == "sent"
    page = client.get("/parkops/parks/P-SIP/invitations").get_data(as_text=True)
    assert 'data-status="sent"' in page and "MES 精益生产" in page


def test_provider_member_accepts_and_the_park_joins_the_served_parks(
    app: Flask, client: FlaskClient, auth: Auth, staff: User, offering: Offering
) -> None:
    invite(client, auth, staff, offering)
    token = link_in_mail(app)
    auth.logout()
    anonymous = client.get(f"/parkops/invitations/{token}").get_data(as_text=True)
    assert "登录后答复" in anonymous
    member = db.session.scalar(select(User).where(User.email == "sales@provider.example.com"))
    auth.login(member)
    assert "接受邀请" in client.get(f"/parkops/invitations/{token}").get_data(as_text=True)
    response = client.post(f"/parkops/invitations/{token}/accept")
    assert response.status_code == 302
    db.session.expire_all()
    assert [p.ref for p in offering.parks] == ["P-SIP"]
    invitation = db.session.scalar(select(ParkInvitation))
    assert invitation is not None and invitation.status == "accepted"
    assert invitation.answered_by_id == member.id
    # Answering twice changes nothing.
    client.post(f"/parkops/invitations/{token}/decline")
    db.session.expire_all()
    assert db.session.scalar(select(ParkInvitation.status)) == "accepted"


def test_decline_is_shown_to_staff(
    app: Flask, client: FlaskClient, auth: Auth, staff: User, offering: Offering
) -> None:
    invite(client, auth, staff, offering)
    token = link_in_mail(app)
    auth.logout()
    auth.login("boss@provider.example.com")
    client.post(f"/parkops/invitations/{token}/decline")
    auth.logout()
    auth.login(staff)
    page = client.get("/parkops/parks/P-SIP/invitations").get_data(as_text=True)
    assert 'data-status="declined"' in page
    db.session.expire_all()
    assert offering.parks == []


def test_someone_outside_the_provider_cannot_accept(
    app: Flask, client: FlaskClient, auth: Auth, staff: User, offering: Offering
) -> None:
    invite(client, auth, staff, offering)
    token = link_in_mail(app)
    auth.logout()
    auth.login(make_user(role="org_admin"))
    assert client.post(f"/parkops/invitations/{token}/accept").status_code == 403
    db.session.expire_all()
    assert offering.parks == []
    assert db.session.scalar(select(ParkInvitation.status)) == "sent"


def test_an_expired_link_cannot_be_accepted_and_shows_as_expired(
    app: Flask, client: FlaskClient, auth: Auth, staff: User, offering: Offering
) -> None:
    invite(client, auth, staff, offering)
    token = link_in_mail(app)
    auth.logout()
    auth.login("boss@provider.example.com")
    later = utcnow() + timedelta(days=park_invitations.VALID_DAYS, hours=1)
    with mock.patch("itsdangerous.timed.time.time", return_value=later.timestamp()):
        page = client.get(f"/parkops/invitations/{token}").get_data(as_text=True)
        assert "邀请已过期" in page and "接受邀请</button>" not in page
        response = client.post(f"/parkops/invitations/{token}/accept")
    assert response.status_code == 302
    db.session.expire_all()
    assert offering.parks == []
    invitation = db.session.scalar(select(ParkInvitation))
    assert invitation is not None
    invitation.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    auth.logout()
    auth.login(staff)
    page = client.get("/parkops/parks/P-SIP/invitations").get_data(as_text=True)
    assert 'data-status="expired"' in page


def test_a_forged_or_mangled_link_is_not_found(
    app: Flask, client: FlaskClient, auth: Auth, staff: User, offering: Offering
) -> None:
    invite(client, auth, staff, offering)
    token = link_in_mail(app)
    auth.logout()
    auth.login("boss@provider.example.com")
    forged = token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb")
    assert client.get(f"/parkops/invitations/{forged}").status_code == 404
    assert client.post(f"/parkops/invitations/{forged}/accept").status_code == 404
    with app.test_request_context():
        other_secret = park_invitations.URLSafeTimedSerializer(
            "not-the-secret", salt="park-invitation"
        )
        assert (
            client.get(f"/parkops/invitations/{other_secret.dumps({'inv': 1})}").status_code == 404
        )
    db.session.expire_all()
    assert offering.parks == []


def test_inviting_twice_or_an_offering_already_serving_is_refused(
    app: Flask, client: FlaskClient, auth: Auth, staff: User, offering: Offering, park: Park
) -> None:
    invite(client, auth, staff, offering)
    client.post("/parkops/parks/P-SIP/invitations", data={"offering": offering.ref})
    page = client.get("/parkops/parks/P-SIP/invitations").get_data(as_text=True)
    assert len(read_outbox(app)) == 1
    serving = make_offering(parks=[park])
    db.session.commit()
    response = client.post("/parkops/parks/P-SIP/invitations", data={"offering": serving.ref})
    assert "该供给已服务本园区" in response.get_data(as_text=True)
    assert 'value="' + (serving.ref or "") + '"' in response.get_data(as_text=True)
    response = client.post("/parkops/parks/P-SIP/invitations", data={"offering": "S-NOPE"})
    assert "供给不存在" in response.get_data(as_text=True)
    assert (
        db.session.scalar(select(ParkInvitation.id).where(ParkInvitation.offering_id == serving.id))
        is None
    )
    assert page


def test_staff_of_another_park_cannot_invite(
    app: Flask, client: FlaskClient, auth: Auth, offering: Offering, park: Park
) -> None:
    outsider = make_user(role="park_staff", org=make_org(kind="park_operator"))
    auth.login(outsider)
    response = client.post("/parkops/parks/P-SIP/invitations", data={"offering": offering.ref})
    assert response.status_code == 403
    assert read_outbox(app) == []
    assert db.session.scalar(select(ParkInvitation.id)) is None
