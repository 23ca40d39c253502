"""Platform administration: who gets in, organization verification, disabling accounts."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from market.core import credit_code
from market.core.extensions import db
from tests.conftest import PASSWORD, Auth, mail_text, make_org, make_user, read_outbox


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    return {**app_config, "PAGE_SIZE": 5}


def valid_code(body: str = "91320594MA1W2X3Y4") -> str:
    return body + credit_code.check_digit(body)


def text_of(response: Any) -> str:
    return str(response.get_data(as_text=True))


ADMIN_GETS = ["/admin/", "/admin/orgs", "/admin/users"]


def admin_posts(org_ref: str, user_ref: str) -> list[str]:
    return [
        f"/admin/orgs/{org_ref}/verify",
        f"/admin/orgs/{org_ref}/unverify",
        f"/admin/users/{user_ref}/disable",
        f"/admin/users/{user_ref}/enable",
    ]


@pytest.mark.parametrize("role", ["member", "org_admin", "park_staff"])
def test_non_admins_get_403_everywhere_in_admin(client: FlaskClient, auth: Auth, role: str) -> None:
    target = make_user()
    org = make_org(verified=False, credit_code=valid_code())
    auth.login(make_user(role=role))
    for url in ADMIN_GETS:
        assert client.get(url).status_code == 403, url
    for url in admin_posts(org.ref or "", target.ref or ""):
        assert client.post(url).status_code == 403, url
    db.session.refresh(org)
    db.session.refresh(target)
    assert org.verified is False and target.disabled is False


def test_visitors_are_sent_to_login(client: FlaskClient) -> None:
    for url in ADMIN_GETS:
        response = client.get(url)
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == "/auth/login"
    assert client.post("/admin/users/U-1/disable").status_code == 302


def test_index_shows_counts_and_links(client: FlaskClient, auth: Auth) -> None:
    make_org(verified=False)
    auth.login(make_user(role="admin"))
    page = text_of(client.get("/admin/"))
    assert "平台管理" in page and "待认证 1 家" in page
    assert 'href="/admin/orgs"' in page and 'href="/admin/users"' in page


def test_org_list_filters_and_paginates(client: FlaskClient, auth: Auth) -> None:
    for n in range(7):
        make_org(name=f"待认证企业{n}号", verified=False)
    make_org(name="金融机构甲", kind="financial_institution")
    auth.login(make_user(role="admin"))

    page = text_of(client.get("/admin/orgs", query_string={"verified": "no"}))
    assert "共 7 家机构" in page
    assert "verified=no" in page and "page=2" in page  # the filter survives paging
    page = text_of(client.get("/admin/orgs", query_string={"verified": "no", "page": 2}))
    assert page.count("待认证企业") == 2
    page = text_of(client.get("/admin/orgs", query_string={"kind": "financial_institution"}))
    assert "金融机构甲" in page and "待认证企业" not in page
    page = text_of(client.get("/admin/orgs", query_string={"q": "企业3"}))
    assert "待认证企业3号" in page and "待认证企业4号" not in page


@pytest.mark.parametrize(
    "query",
    [
        {"page": "abc"},
        {"page": "-4"},
        {"page": "99999999999999999999"},
        {"kind": "bogus", "verified": "maybe"},
        {"q": "%_\\"},
        {"q": "x" * 500},
        {"_scheme": "javascript", "endpoint": "x"},
    ],
)
def test_bad_list_parameters_are_ignored(
    client: FlaskClient, auth: Auth, query: dict[str, str]
) -> None:
    auth.login(make_user(role="admin"))
    assert client.get("/admin/orgs", query_string=query).status_code == 200
    assert client.get("/admin/users", query_string=query).status_code == 200


def test_verification_needs_a_valid_credit_code(client: FlaskClient, auth: Auth) -> None:
    org = make_org(verified=False, credit_code=None)
    auth.login(make_user(role="admin"))
    response = client.post(f"/admin/orgs/{org.ref}/verify", follow_redirects=True)
    assert "没有有效的统一社会信用代码" in text_of(response)
    db.session.refresh(org)
    assert org.verified is False


def test_verifying_an_org_mails_its_admins(app: Flask, client: FlaskClient, auth: Auth) -> None:
    org = make_org(verified=False, credit_code=valid_code(), name="苏州智造软件有限公司")
    contact = make_user(org=org, role="org_admin", email="li@vendor.example.com")
    make_user(org=org, role="member")
    auth.login(make_user(role="admin"))
    response = client.post(
        f"/admin/orgs/{org.ref}/verify", data={"next": "/admin/orgs?verified=no"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/orgs?verified=no"
    db.session.refresh(org)
    assert org.verified is True
    messages = read_outbox(app)
    assert [m["To"] for m in messages] == [contact.email]
    assert "认证" in str(messages[0]["Subject"])
    assert f"{app.config['BASE_URL']}/orgs/{org.ref}" in mail_text(messages[0])
    assert "已认证" in text_of(client.get(f"/orgs/{org.ref}"))


def test_unverifying_an_org(client: FlaskClient, auth: Auth) -> None:
    org = make_org(verified=True, credit_code=valid_code())
    auth.login(make_user(role="admin"))
    assert client.post(f"/admin/orgs/{org.ref}/unverify").status_code == 302
    db.session.refresh(org)
    assert org.verified is False


def test_unknown_refs_are_404(client: FlaskClient, auth: Auth) -> None:
    auth.login(make_user(role="admin"))
    assert client.post("/admin/orgs/O-NOPE/verify").status_code == 404
    assert client.post("/admin/users/U-NOPE/disable").status_code == 404


def test_disabling_a_user_ends_their_sessions_and_refuses_login(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    victim = make_user()
    db.session.commit()
    theirs = app.test_client()
    Auth(theirs).login(victim)
    assert theirs.get("/auth/account").status_code == 200

    auth.login(make_user(role="admin"))
    assert client.post(f"/admin/users/{victim.ref}/disable").status_code == 302
    db.session.refresh(victim)
    assert victim.disabled is True
    assert theirs.get("/auth/account").status_code == 302
    refused = app.test_client().post(
        "/auth/login", data={"email": victim.email, "password": PASSWORD}
    )
    assert "该账号已被停用" in text_of(refused)

    assert client.post(f"/admin/users/{victim.ref}/enable").status_code == 302
    db.session.refresh(victim)
    assert victim.disabled is False
    again = app.test_client().post(
        "/auth/login", data={"email": victim.email, "password": PASSWORD}
    )
    assert again.status_code == 302


def test_admin_cannot_disable_themselves(client: FlaskClient, auth: Auth) -> None:
    admin = make_user(role="admin")
    auth.login(admin)
    response = client.post(f"/admin/users/{admin.ref}/disable", follow_redirects=True)
    assert "不能停用自己的账号" in text_of(response)
    db.session.refresh(admin)
    assert admin.disabled is False


def test_user_list_filters_by_status_role_and_text(client: FlaskClient, auth: Auth) -> None:
    make_user(name="停用的人", disabled=True)
    make_user(name="机构管理员甲", role="org_admin")
    make_user(name="普通成员乙", email="yi@example.com")
    auth.login(make_user(role="admin"))
    page = text_of(client.get("/admin/users", query_string={"status": "disabled"}))
    assert "停用的人" in page and "普通成员乙" not in page
    page = text_of(client.get("/admin/users", query_string={"role": "org_admin"}))
    assert "机构管理员甲" in page and "普通成员乙" not in page
    page = text_of(client.get("/admin/users", query_string={"q": "yi@"}))
    assert "普通成员乙" in page and "机构管理员甲" not in page
