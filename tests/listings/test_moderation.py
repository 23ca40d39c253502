"""Moderation (审核): who sees which pending items, approving, rejecting, telling the owner."""

from __future__ import annotations

from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from market.core.extensions import db
from market.models import ListingEvent, Need, Offering, Park, User
from tests.conftest import Auth, make_need, make_offering, make_org, make_park, make_user


def staff_of(park: Park) -> User:
    return make_user(role="park_staff", org=make_org(kind="park_operator", park=park))


def outbox(app: Flask) -> list[Any]:
    folder = Path(app.config["OUTBOX_DIR"])
    files = sorted(folder.glob("*.eml")) if folder.exists() else []
    return [message_from_bytes(f.read_bytes(), policy=policy.default) for f in files]


def status_of(item: Offering | Need) -> str:
    db.session.expire_all()
    return item.status


def test_staff_queue_holds_only_their_park_scope(client: FlaskClient, auth: Auth) -> None:
    home, other = make_park(), make_park()
    make_offering(status="pending", title="本园区机构的供给", org=make_org(park=home))
    make_offering(status="pending", title="服务本园区的供给", parks=[home])
    make_offering(status="pending", title="别的园区的供给", parks=[other])
    make_offering(status="published", title="已发布的供给", parks=[home])
    make_need(
        status="pending", title="本园区企业的需求", org=make_org(kind="enterprise", park=home)
    )
    make_need(status="pending", title="别的园区的需求", org=make_org(kind="enterprise", park=other))
    auth.login(staff_of(home))
    page = client.get("/moderation/").get_data(as_text=True)
    for title in ("本园区机构的供给", "服务本园区的供给", "本园区企业的需求"):
        assert title in page
    for title in ("别的园区的供给", "已发布的供给", "别的园区的需求"):
        assert title not in page


def test_admin_queue_holds_everything_pending(client: FlaskClient, auth: Auth) -> None:
    make_offering(status="pending", title="甲园区供给", parks=[make_park()])
    make_need(status="pending", title="乙园区需求")
    auth.login(make_user(role="admin"))
    page = client.get("/moderation/").get_data(as_text=True)
    assert "甲园区供给" in page and "乙园区需求" in page


def test_queue_links_items_to_their_detail_pages(client: FlaskClient, auth: Auth) -> None:
    park = make_park()
    item = make_offering(status="pending", parks=[park])
    auth.login(staff_of(park))
    assert f'href="/offerings/{item.ref}"' in client.get("/moderation/").get_data(as_text=True)
    detail = client.get(f"/offerings/{item.ref}")
    assert detail.status_code == 200
    assert f"/moderation/offering/{item.ref}/approve" in detail.get_data(as_text=True)


def test_others_cannot_open_the_queue(client: FlaskClient, auth: Auth) -> None:
    assert client.get("/moderation/").status_code == 302  # to the login page
    auth.login(make_user())
    assert client.get("/moderation/").status_code == 403


def test_staff_of_another_park_cannot_approve_or_reject(client: FlaskClient, auth: Auth) -> None:
    park = make_park()
    offering = make_offering(status="pending", parks=[park])
    need = make_need(status="pending")
    auth.login(staff_of(make_park()))
    assert client.post(f"/moderation/offering/{offering.ref}/approve").status_code == 403
    assert client.post(f"/moderation/need/{need.ref}/approve").status_code == 403
    response = client.post(f"/moderation/need/{need.ref}/reject", data={"reason": "不行"})
    assert response.status_code == 403
    assert status_of(offering) == "pending"
    assert status_of(need) == "pending"


def test_owner_cannot_approve_own_listing(client: FlaskClient, auth: Auth) -> None:
    seller = make_user()
    item = make_offering(org=seller.org, status="pending")
    auth.login(seller)
    assert client.post(f"/moderation/offering/{item.ref}/approve").status_code == 403
    assert status_of(item) == "pending"


def test_reject_requires_a_reason(client: FlaskClient, auth: Auth) -> None:
    park = make_park()
    item = make_offering(status="pending", parks=[park])
    auth.login(staff_of(park))
    response = client.post(
        f"/moderation/offering/{item.ref}/reject", data={"reason": "   "}, follow_redirects=True
    )
    assert "驳回时请填写原因" in response.get_data(as_text=True)
    assert status_of(item) == "pending"


def test_reject_records_reason_and_mails_owner_org(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    park = make_park()
    owner = make_user(org=make_org(kind="enterprise", park=park))
    colleague = make_user(org=owner.org)
    make_user(org=owner.org, disabled=True)
    item = make_need(org=owner.org, status="pending", title="视觉检测需求")
    auth.login(staff_of(park))
    response = client.post(f"/moderation/need/{item.ref}/reject", data={"reason": "请补充预算"})
    assert response.headers["Location"].endswith("/moderation/")
    assert status_of(item) == "rejected"
    assert item.reject_reason == "请补充预算"
    event = db.session.scalar(select(ListingEvent).where(ListingEvent.action == "reject"))
    assert event is not None and event.reason == "请补充预算"
    mail = outbox(app)
    assert sorted(str(m["To"]) for m in mail) == sorted([owner.email, colleague.email])
    assert all("未通过审核" in str(m["Subject"]) for m in mail)
    text = mail[0].get_body(preferencelist=("plain",)).get_content()
    assert "请补充预算" in text
    assert f"/needs/{item.ref}" in text


def test_approve_publishes_and_mails_owner(app: Flask, client: FlaskClient, auth: Auth) -> None:
    park = make_park()
    owner = make_user(org=make_org(park=park))
    item = make_offering(org=owner.org, status="pending")
    auth.login(staff_of(park))
    client.post(f"/moderation/offering/{item.ref}/approve", data={"next": f"/offerings/{item.ref}"})
    assert status_of(item) == "published"
    assert item.expires_at is not None
    assert [str(m["To"]) for m in outbox(app)] == [owner.email]


def test_approving_twice_is_refused_without_error_page(client: FlaskClient, auth: Auth) -> None:
    park = make_park()
    item = make_offering(status="published", parks=[park])
    auth.login(staff_of(park))
    response = client.post(f"/moderation/offering/{item.ref}/approve", follow_redirects=True)
    assert response.status_code == 200
    assert "只有待审核的条目可以审核通过" in response.get_data(as_text=True)


def test_unknown_item_type_or_ref_is_404(client: FlaskClient, auth: Auth) -> None:
    auth.login(make_user(role="admin"))
    assert client.post("/moderation/park/P-1/approve").status_code == 404
    assert (
        client.post("/moderation/offering/S-NOPE/reject", data={"reason": "x"}).status_code == 404
    )
