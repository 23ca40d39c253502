"""Needs (需求): enterprises post them, park staff approve them, providers browse them."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from market.core.extensions import db
from market.models import Need, Park, User, utcnow
from tests.conftest import Auth, make_need, make_org, make_park, make_user


def in_days(days: int) -> date:
    return utcnow().date() + timedelta(days=days)


def need_form(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "category": "application.quality",
        "title": "冲压件表面缺陷视觉检测",
        "description": "人工目检漏检率高，希望引入视觉检测。",
        "tags": "机器视觉，缺陷检测",
        "industries": ["C36"],
        "budget_min": "200000",
        "budget_max": "500000",
        "deadline": in_days(60).isoformat(),
        "save": "保存草稿",
    }
    data.update(overrides)
    return data


def enterprise_user(park: Park | None = None) -> User:
    org = make_org(kind="enterprise", park=park) if park else make_org(kind="enterprise")
    return make_user(org=org)


def the_need(title: str) -> Need:
    db.session.expire_all()
    item = db.session.scalar(select(Need).where(Need.title == title))
    assert item is not None
    return item


def need_count() -> int:
    return db.session.scalar(select(func.count(Need.id))) or 0


def test_enterprise_posts_need_that_goes_public_after_approval(
    client: FlaskClient, auth: Auth
) -> None:
    park = make_park(ref="P-SIP", name="苏州工业园区")
    owner = enterprise_user(park)
    staff = make_user(role="park_staff", org=make_org(kind="park_operator", park=park))
    auth.login(owner)
    form = client.get("/needs/new").get_data(as_text=True)
    assert '<option selected value="P-SIP">' in form

    response = client.post("/needs/new", data=need_form(park="P-SIP"))
    assert response.status_code == 302
    item = the_need("冲压件表面缺陷视觉检测")
    assert (item.status, item.kind, item.park_id) == ("draft", "solution", park.id)
    assert item.tags == ["机器视觉", "缺陷检测"]
    client.post(f"/needs/{item.ref}/submit")
    assert the_need(item.title).status == "pending"

    auth.logout()
    assert client.get(f"/needs/{item.ref}").status_code == 404
    auth.login(staff)
    client.post(f"/moderation/need/{item.ref}/approve")
    assert the_need(item.title).status == "open"

    auth.logout()
    page = client.get("/needs/").get_data(as_text=True)
    assert item.title in page
    assert "苏州工业园区" in page
    detail = client.get(f"/needs/{item.ref}").get_data(as_text=True)
    assert "20 万元 – 50 万元" in detail
    assert "/parks/P-SIP" in detail


def test_vendor_cannot_post_needs(client: FlaskClient, auth: Auth) -> None:
    auth.login(make_user(org=make_org(kind="solution_provider")))
    assert client.get("/needs/new").status_code == 403
    assert client.post("/needs/new", data=need_form()).status_code == 403
    assert client.get("/needs/mine").status_code == 403
    assert need_count() == 0


def test_deadline_must_be_in_the_future(client: FlaskClient, auth: Auth) -> None:
    auth.login(enterprise_user())
    response = client.post("/needs/new", data=need_form(deadline=in_days(-1).isoformat()))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "截止日期必须晚于今天" in page
    assert 'value="冲压件表面缺陷视觉检测"' in page
    assert need_count() == 0


def test_budget_min_above_max_is_a_field_error(client: FlaskClient, auth: Auth) -> None:
    auth.login(enterprise_user())
    response = client.post("/needs/new", data=need_form(budget_min="900000"))
    assert "最高预算不能低于最低预算" in response.get_data(as_text=True)
    assert need_count() == 0


def test_finance_need_keeps_amount_and_term(client: FlaskClient, auth: Auth) -> None:
    auth.login(enterprise_user())
    data = need_form(
        category="finance.leasing", title="冲压线设备融资租赁", amount="3000000", term_months="36"
    )
    client.post("/needs/new", data=data)
    item = the_need("冲压线设备融资租赁")
    assert (item.kind, item.amount, item.term_months) == ("finance", 3_000_000, 36)
    detail = client.get(f"/needs/{item.ref}").get_data(as_text=True)
    assert "300 万元" in detail
    assert "36 个月" in detail


def test_non_finance_need_drops_financing_fields(client: FlaskClient, auth: Auth) -> None:
    auth.login(enterprise_user())
    client.post("/needs/new", data=need_form(amount="3000000", term_months="36"))
    item = the_need("冲压件表面缺陷视觉检测")
    assert (item.amount, item.term_months) == (None, None)


def test_foreign_enterprise_cannot_touch_need(client: FlaskClient, auth: Auth) -> None:
    draft = make_need(status="draft")
    live = make_need(status="open")
    auth.login(enterprise_user())
    assert client.get(f"/needs/{draft.ref}").status_code == 404
    assert client.get(f"/needs/{draft.ref}/edit").status_code == 403
    assert client.post(f"/needs/{draft.ref}/submit").status_code == 403
    assert client.post(f"/needs/{live.ref}/close").status_code == 403
    assert client.post(f"/needs/{live.ref}/reopen").status_code == 403


def test_owner_closes_and_reopens_need(client: FlaskClient, auth: Auth) -> None:
    owner = enterprise_user()
    item = make_need(org=owner.org, status="open", title="MES 选型")
    auth.login(owner)
    client.post(f"/needs/{item.ref}/close")
    assert the_need("MES 选型").status == "closed"
    mine = client.get("/needs/mine").get_data(as_text=True)
    assert "已关闭" in mine
    client.post(f"/needs/{item.ref}/reopen")
    assert the_need("MES 选型").status == "draft"


def test_editing_open_need_sends_it_back_to_draft(client: FlaskClient, auth: Auth) -> None:
    owner = enterprise_user()
    item = make_need(org=owner.org, status="open", deadline=in_days(10))
    auth.login(owner)
    form = client.get(f"/needs/{item.ref}/edit").get_data(as_text=True)
    assert in_days(10).isoformat() in form
    response = client.post(
        f"/needs/{item.ref}/edit",
        data=need_form(title="改过的需求", deadline=in_days(10).isoformat(), park=item.park.ref),
        follow_redirects=True,
    )
    assert "需要重新提交审核" in response.get_data(as_text=True)
    assert the_need("改过的需求").status == "draft"


def test_expired_need_is_hidden_and_marked_for_owner(client: FlaskClient, auth: Auth) -> None:
    owner = enterprise_user()
    make_need(org=owner.org, title="过期需求", deadline=in_days(-2))
    make_need(org=owner.org, title="征集中需求", deadline=in_days(5))
    page = client.get("/needs/").get_data(as_text=True)
    assert "征集中需求" in page
    assert "过期需求" not in page
    auth.login(owner)
    mine = client.get("/needs/mine?status=expired").get_data(as_text=True)
    assert "过期需求" in mine and "已过期" in mine and "征集中需求" not in mine


def test_need_list_filters_by_province_park_and_category(client: FlaskClient) -> None:
    jiangsu = make_park(ref="P-JS", province="江苏省")
    zhejiang = make_park(ref="P-ZJ", province="浙江省")
    make_need(org=make_org(kind="enterprise", park=jiangsu), title="苏州需求")
    make_need(
        org=make_org(kind="enterprise", park=zhejiang),
        title="杭州融资需求",
        kind="finance",
        category="finance.loan",
    )

    def titles(query: str) -> set[str]:
        page = client.get(f"/needs/?{query}").get_data(as_text=True)
        return {t for t in ("苏州需求", "杭州融资需求") if t in page}

    assert titles("province=浙江省") == {"杭州融资需求"}
    assert titles("park=P-JS") == {"苏州需求"}
    assert titles("category=finance") == {"杭州融资需求"}
    assert titles("category=application.quality") == {"苏州需求"}
    assert titles("sort=price&kind=bogus&page=zz") == {"苏州需求", "杭州融资需求"}
