"""Organization profiles, profile edits, members and invitations."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from market.core import credit_code
from market.core.extensions import db
from market.models import Organization, User
from tests.conftest import (
    PASSWORD,
    Auth,
    mail_text,
    make_need,
    make_offering,
    make_org,
    make_park,
    make_user,
    read_outbox,
)
from tests.parkops.factories import make_docking


def valid_code(body: str = "91320594MA1W2X3Y4") -> str:
    return body + credit_code.check_digit(body)


def text_of(response: Any) -> str:
    return str(response.get_data(as_text=True))


def edit_data(org: Organization, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "org_name": org.name,
        "credit_code": org.credit_code or "",
        "province": org.province,
        "city": org.city,
        "park": org.park.ref if org.park else "",
        "size": org.size or "",
        "industries": list(org.industries),
        "description": org.description,
    }
    data.update(overrides)
    return data


def invite_link(app: Flask) -> str:
    body = mail_text(read_outbox(app)[-1])
    return urlsplit(next(w for w in body.split() if "/auth/invite/" in w)).path


# --- profile ------------------------------------------------------------------------------


def test_profile_shows_public_listings_and_hides_contacts_from_visitors(
    client: FlaskClient,
) -> None:
    park = make_park(ref="P-SIP", name="苏州工业园区")
    org = make_org(kind="enterprise", park=park, name="苏州精密冲压有限公司", industries=["C36"])
    make_user(org=org, role="org_admin", name="王工", email="wang@stamping.example.com")
    make_need(org=org, title="冲压件表面划痕检测", status="open")
    make_need(org=org, title="草稿中的需求", status="draft")
    db.session.commit()

    page = text_of(client.get(f"/orgs/{org.ref}"))
    assert "苏州精密冲压有限公司" in page
    assert "园区企业" in page and "已认证" in page
    assert 'href="/parks/P-SIP"' in page
    assert "冲压件表面划痕检测" in page
    assert "草稿中的需求" not in page
    assert "登录后查看联系方式" in page
    assert "wang@stamping.example.com" not in page


def test_the_other_party_of_a_docking_sees_the_org_admins_contact_details(
    client: FlaskClient, auth: Auth
) -> None:
    org = make_org(name="苏州智造软件有限公司")
    make_user(org=org, role="org_admin", name="李经理", email="li@vendor.example.com")
    make_user(org=org, role="member", name="小张", email="zhang@vendor.example.com")
    offering = make_offering(
        org=org, title="注塑机设备上云与OEE分析", category="platform.equipment_cloud"
    )
    make_offering(org=org, title="待审核的方案", status="pending")
    docking = make_docking(make_park(), offering=offering)
    auth.login(make_user(org=db.session.get(Organization, docking.enterprise_org_id)))

    page = text_of(client.get(f"/orgs/{org.ref}"))
    assert "li@vendor.example.com" in page and "李经理" in page
    assert "zhang@vendor.example.com" not in page
    assert "注塑机设备上云与OEE分析" in page
    assert "待审核的方案" not in page
    assert "登录后查看联系方式" not in page


def test_unknown_org_is_404(client: FlaskClient) -> None:
    assert client.get("/orgs/O-NOPE").status_code == 404


# --- edit ---------------------------------------------------------------------------------


def test_org_admin_edits_the_profile(client: FlaskClient, auth: Auth) -> None:
    admin = make_user(role="org_admin")
    org = admin.org
    auth.login(admin)
    assert "编辑机构资料" in text_of(client.get(f"/orgs/{org.ref}/edit"))
    response = client.post(
        f"/orgs/{org.ref}/edit",
        data=edit_data(org, description="专注汽车零部件行业的MES实施。", industries=["C36", "C34"]),
    )
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.description == "专注汽车零部件行业的MES实施。"
    assert org.industries == ["C36", "C34"]
    assert org.verified is True


def test_renaming_a_verified_org_withdraws_its_verification(
    client: FlaskClient, auth: Auth
) -> None:
    admin = make_user(role="org_admin")
    org = admin.org
    org.credit_code = valid_code()
    auth.login(admin)
    assert "修改机构名称或统一社会信用代码后将取消认证" in text_of(
        client.get(f"/orgs/{org.ref}/edit")
    )
    response = client.post(
        f"/orgs/{org.ref}/edit",
        data=edit_data(org, org_name="新名字科技有限公司"),
        follow_redirects=True,
    )
    assert "需平台管理员重新认证" in text_of(response)
    db.session.refresh(org)
    assert org.name == "新名字科技有限公司" and org.verified is False


def test_invalid_credit_code_is_refused_and_typed_values_kept(
    client: FlaskClient, auth: Auth
) -> None:
    admin = make_user(role="org_admin")
    org = admin.org
    name = org.name
    auth.login(admin)
    response = client.post(
        f"/orgs/{org.ref}/edit",
        data=edit_data(org, org_name="改过的名字有限公司", credit_code="12345"),
    )
    page = text_of(response)
    assert response.status_code == 200
    assert "统一社会信用代码无效" in page
    assert 'value="改过的名字有限公司"' in page
    db.session.refresh(org)
    assert org.name == name


def test_foreign_org_admin_cannot_edit(client: FlaskClient, auth: Auth) -> None:
    org = make_org()
    name = org.name
    auth.login(make_user(role="org_admin"))
    assert client.get(f"/orgs/{org.ref}/edit").status_code == 403
    response = client.post(f"/orgs/{org.ref}/edit", data=edit_data(org, org_name="抢注有限公司"))
    assert response.status_code == 403
    db.session.refresh(org)
    assert org.name == name


def test_plain_member_cannot_edit_and_visitor_is_sent_to_login(
    client: FlaskClient, auth: Auth
) -> None:
    member = make_user(role="member")
    org = member.org
    db.session.commit()
    response = client.get(f"/orgs/{org.ref}/edit")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/auth/login"
    assert client.post(f"/orgs/{org.ref}/edit", data=edit_data(org)).status_code == 302
    auth.login(member)
    assert client.get(f"/orgs/{org.ref}/edit").status_code == 403


def test_park_operator_cannot_move_itself_to_another_park(client: FlaskClient, auth: Auth) -> None:
    home = make_park(ref="P-HOME")
    make_park(ref="P-OTHER")
    org = make_org(kind="park_operator", park=home)
    admin = make_user(org=org, role="org_admin")
    auth.login(admin)
    assert 'name="park"' not in text_of(client.get(f"/orgs/{org.ref}/edit"))
    response = client.post(f"/orgs/{org.ref}/edit", data=edit_data(org, park="P-OTHER"))
    assert response.status_code == 302
    db.session.refresh(org)
    assert org.park_id == home.id


# --- members and invitations --------------------------------------------------------------


def test_members_page_is_for_the_orgs_admins_only(client: FlaskClient, auth: Auth) -> None:
    admin = make_user(role="org_admin")
    org = admin.org
    member = make_user(org=org, role="member")
    auth.login(member)
    assert client.get(f"/orgs/{org.ref}/members").status_code == 403
    assert (
        client.post(
            f"/orgs/{org.ref}/members/invite", data={"email": "x@example.com", "role": "member"}
        ).status_code
        == 403
    )
    auth.logout()
    auth.login(admin)
    page = text_of(client.get(f"/orgs/{org.ref}/members"))
    assert member.email in page and "邀请同事" in page


def test_invited_person_creates_an_account_in_the_org(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    admin = make_user(role="org_admin")
    org = admin.org
    auth.login(admin)
    response = client.post(
        f"/orgs/{org.ref}/members/invite",
        data={"email": "New@Vendor.example.com", "role": "member"},
    )
    assert response.status_code == 302
    messages = read_outbox(app)
    assert len(messages) == 1 and messages[0]["To"] == "new@vendor.example.com"
    assert org.name in str(messages[0]["Subject"])
    link = invite_link(app)
    auth.logout()

    guest = app.test_client()
    page = text_of(guest.get(link))
    assert "new@vendor.example.com" in page and org.name in page
    response = guest.post(link, data={"name": "小陈", "password": PASSWORD, "confirm": PASSWORD})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "new@vendor.example.com"))
    assert user is not None and user.org_id == org.id and user.role == "member"
    assert guest.get("/auth/account").status_code == 200
    # The address has an account now: the same link asks its owner to sign in.
    again = app.test_client().get(link)
    assert again.status_code == 302
    assert urlsplit(again.headers["Location"]).path == "/auth/login"


def test_invitation_as_org_admin_grants_the_role(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    admin = make_user(role="org_admin")
    auth.login(admin)
    client.post(
        f"/orgs/{admin.org.ref}/members/invite",
        data={"email": "boss@example.com", "role": "org_admin"},
    )
    guest = app.test_client()
    guest.post(invite_link(app), data={"name": "赵总", "password": PASSWORD, "confirm": PASSWORD})
    user = db.session.scalar(select(User).where(User.email == "boss@example.com"))
    assert user is not None and user.role == "org_admin"


def test_signed_in_user_without_org_joins_through_the_invitation(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    admin = make_user(role="org_admin")
    loner = make_user(org=None, email="loner@example.com")
    auth.login(admin)
    client.post(
        f"/orgs/{admin.org.ref}/members/invite", data={"email": loner.email, "role": "member"}
    )
    link = invite_link(app)
    other = app.test_client()
    Auth(other).login(loner)
    assert "加入该机构" in text_of(other.get(link))
    assert other.post(link).status_code == 302
    db.session.refresh(loner)
    assert loner.org_id == admin.org_id and loner.role == "member"


def test_invitation_for_someone_else_is_refused(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    admin = make_user(role="org_admin")
    loner = make_user(org=None)
    auth.login(admin)
    client.post(
        f"/orgs/{admin.org.ref}/members/invite",
        data={"email": "intended@example.com", "role": "member"},
    )
    other = app.test_client()
    Auth(other).login(loner)
    response = other.post(invite_link(app), follow_redirects=True)
    assert "与您当前登录的账号不一致" in text_of(response)
    db.session.refresh(loner)
    assert loner.org_id is None


def test_inviting_an_existing_member_says_so(app: Flask, client: FlaskClient, auth: Auth) -> None:
    admin = make_user(role="org_admin")
    member = make_user(org=admin.org)
    auth.login(admin)
    response = client.post(
        f"/orgs/{admin.org.ref}/members/invite", data={"email": member.email, "role": "member"}
    )
    assert response.status_code == 200
    assert "已是本机构成员" in text_of(response)
    assert read_outbox(app) == []


def test_forged_invitation_is_refused(client: FlaskClient) -> None:
    response = client.get("/auth/invite/forged-token")
    assert response.status_code == 400
    assert "邀请链接无效或已过期" in text_of(response)


def test_org_admin_promotes_and_removes_members(client: FlaskClient, auth: Auth) -> None:
    admin = make_user(role="org_admin")
    org = admin.org
    member = make_user(org=org)
    other = make_user(org=org)
    auth.login(admin)
    response = client.post(f"/orgs/{org.ref}/members/{member.ref}/role", data={"role": "org_admin"})
    assert response.status_code == 302
    response = client.post(f"/orgs/{org.ref}/members/{other.ref}/remove")
    assert response.status_code == 302
    db.session.refresh(member)
    db.session.refresh(other)
    assert member.role == "org_admin"
    assert other.org_id is None


def test_last_org_admin_cannot_demote_or_remove_themselves(client: FlaskClient, auth: Auth) -> None:
    admin = make_user(role="org_admin")
    org = admin.org
    make_user(org=org)
    auth.login(admin)
    response = client.post(
        f"/orgs/{org.ref}/members/{admin.ref}/role", data={"role": "member"}, follow_redirects=True
    )
    assert "机构至少需要一位机构管理员" in text_of(response)
    response = client.post(f"/orgs/{org.ref}/members/{admin.ref}/remove", follow_redirects=True)
    assert "机构至少需要一位机构管理员" in text_of(response)
    db.session.refresh(admin)
    assert admin.role == "org_admin" and admin.org_id == org.id


def test_foreign_org_admin_cannot_touch_members(client: FlaskClient, auth: Auth) -> None:
    victim = make_user(role="org_admin")
    member = make_user(org=victim.org)
    auth.login(make_user(role="org_admin"))
    org = victim.org
    assert (
        client.post(
            f"/orgs/{org.ref}/members/{member.ref}/role", data={"role": "org_admin"}
        ).status_code
        == 403
    )
    assert client.post(f"/orgs/{org.ref}/members/{member.ref}/remove").status_code == 403
    db.session.refresh(member)
    assert member.role == "member" and member.org_id == org.id


def test_member_of_another_org_is_404_on_my_members_routes(client: FlaskClient, auth: Auth) -> None:
    admin = make_user(role="org_admin")
    stranger = make_user()
    auth.login(admin)
    url = f"/orgs/{admin.org.ref}/members/{stranger.ref}/remove"
    assert client.post(url).status_code == 404
    db.session.refresh(stranger)
    assert stranger.org_id is not None
