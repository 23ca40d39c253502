"""Sign-up, sign-in and out, rate limiting, passwords and the account page."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from market import create_app
from market.core import credit_code
from market.core.extensions import db
from market.models import Organization, User, UserSession
from tests.conftest import (
    PASSWORD,
    Auth,
    IsolatedClient,
    mail_text,
    make_park,
    make_user,
    read_outbox,
)

NEW_PASSWORD = "another-horse-7"


def valid_code(body: str = "91320594MA1W2X3Y4") -> str:
    """A 统一社会信用代码 with a correct check digit."""
    return body + credit_code.check_digit(body)


def signup_data(**overrides: str) -> dict[str, str]:
    data = {
        "name": "李经理",
        "email": "li@vendor.example.com",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "org_name": "苏州智造软件有限公司",
        "kind": "solution_provider",
        "credit_code": "",
        "province": "江苏省",
        "city": "苏州市",
        "park": "",
        "size": "small",
    }
    data.update(overrides)
    return data


def text_of(response: Any) -> str:
    return str(response.get_data(as_text=True))


def org_count() -> int:
    return int(db.session.scalar(select(func.count(Organization.id))) or 0)


# --- sign-up ------------------------------------------------------------------------------


def confirm_link(app: Flask, email: str) -> str:
    """The path of the confirmation link mailed to ``email`` (the newest such mail)."""
    mails = [m for m in read_outbox(app) if m["To"] == email]
    assert mails, f"no mail to {email}"
    body = mail_text(mails[-1])
    link = next(w for w in body.split() if "/auth/confirm/" in w)
    return urlsplit(link).path


def sign_up(app: Flask, client: FlaskClient, **overrides: str) -> Any:
    """Sign up through the form and the mailed link; the confirmation page's answer."""
    data = signup_data(**overrides)
    response = client.post("/auth/signup", data=data)
    assert response.status_code == 302, text_of(response)
    assert response.headers["Location"] == "/auth/signup/sent"
    return client.post(confirm_link(app, data["email"]), data={"password": data["password"]})


def test_signup_creates_unverified_org_with_creator_as_org_admin(
    app: Flask, client: FlaskClient
) -> None:
    response = client.post("/auth/signup", data=signup_data(credit_code=valid_code()))
    assert response.status_code == 302
    # Nothing exists until the mailed link is opened, and nobody is signed in.
    assert db.session.scalar(select(User).where(User.email == "li@vendor.example.com")) is None
    assert org_count() == 0
    sent = text_of(client.get(response.headers["Location"]))
    assert "请查收邮件" in sent and "li@vendor.example.com" in sent
    assert client.get("/auth/account").status_code == 302

    path = confirm_link(app, "li@vendor.example.com")
    page = text_of(client.get(path))
    assert "苏州智造软件有限公司" in page and "注册时设置的密码" in page
    response = client.post(path, data={"password": PASSWORD})
    assert response.status_code == 302
    user = db.session.scalar(select(User).where(User.email == "li@vendor.example.com"))
    assert user is not None and user.role == "org_admin"
    assert user.org is not None and user.org.name == "苏州智造软件有限公司"
    assert user.org.verified is False
    assert user.org.credit_code == valid_code()
    assert response.headers["Location"] == f"/orgs/{user.org.ref}"
    # Confirming signs you in, with the password chosen at sign-up.
    assert client.get("/auth/account").status_code == 200
    assert user.check_password(PASSWORD)
    # The link works once.
    assert client.get(path).status_code == 400


def test_the_confirmation_link_asks_for_the_password_chosen_at_signup(
    app: Flask, client: FlaskClient
) -> None:
    client.post("/auth/signup", data=signup_data())
    path = confirm_link(app, "li@vendor.example.com")
    stranger = app.test_client()  # a mail scanner or whoever the mail was forwarded to
    response = stranger.post(path, data={"password": "a-guess-123"})
    assert response.status_code == 200
    assert "密码与注册时设置的不一致" in text_of(response)
    assert org_count() == 0
    assert stranger.get("/auth/account").status_code == 302


def test_a_forged_or_mangled_confirmation_link_is_refused(client: FlaskClient) -> None:
    response = client.get("/auth/confirm/not-a-token")
    assert response.status_code == 400
    assert "确认链接无效或已过期" in text_of(response)


def test_confirming_after_the_address_got_an_account_creates_nothing(
    app: Flask, client: FlaskClient
) -> None:
    client.post("/auth/signup", data=signup_data())
    path = confirm_link(app, "li@vendor.example.com")
    make_user(email="li@vendor.example.com")  # e.g. invited meanwhile
    db.session.commit()
    before = org_count()
    response = client.post(path, data={"password": PASSWORD})
    assert "该邮箱已注册" in text_of(response)
    assert org_count() == before


def test_enterprise_signup_requires_a_park(client: FlaskClient) -> None:
    response = client.post("/auth/signup", data=signup_data(kind="enterprise"))
    assert "园区企业须选择所在园区" in text_of(response)
    assert org_count() == 0


def test_enterprise_signup_joins_the_chosen_park(app: Flask, client: FlaskClient) -> None:
    park = make_park(ref="P-SIP", name="苏州工业园区")
    db.session.commit()
    response = sign_up(app, client, kind="enterprise", park="P-SIP")
    assert response.status_code == 302
    org = db.session.scalar(select(Organization))
    assert org is not None and org.park_id == park.id and org.kind == "enterprise"


def test_signup_rejects_a_credit_code_with_a_wrong_check_digit(client: FlaskClient) -> None:
    code = valid_code()
    wrong = code[:17] + ("0" if code[17] != "0" else "1")
    response = client.post("/auth/signup", data=signup_data(credit_code=wrong, city="昆山市"))
    page = text_of(response)
    assert "统一社会信用代码无效" in page
    # What was typed stays in the form.
    assert 'value="苏州智造软件有限公司"' in page and 'value="昆山市"' in page
    assert org_count() == 0


def test_signup_rejects_a_credit_code_another_org_uses(client: FlaskClient) -> None:
    make_user(email="first@example.com")
    other = db.session.scalar(select(Organization))
    assert other is not None
    other.credit_code = valid_code()
    db.session.commit()
    response = client.post("/auth/signup", data=signup_data(credit_code=valid_code()))
    assert "已被其他机构使用" in text_of(response)
    assert org_count() == 1


def test_nobody_signs_up_as_a_park_operator(client: FlaskClient) -> None:
    make_park(ref="P-SIP")
    db.session.commit()
    response = client.post("/auth/signup", data=signup_data(kind="park_operator", park="P-SIP"))
    assert response.status_code == 200
    assert org_count() == 0


def test_signup_rejects_mismatched_and_short_passwords(client: FlaskClient) -> None:
    page = text_of(client.post("/auth/signup", data=signup_data(confirm="something-else")))
    assert "两次输入的密码不一致" in page
    page = text_of(client.post("/auth/signup", data=signup_data(password="short", confirm="short")))
    assert "密码长度应为 8–128 个字符" in page
    assert org_count() == 0


# --- sign-in ------------------------------------------------------------------------------


def test_login_signs_in_and_follows_a_local_next(client: FlaskClient, auth: Auth) -> None:
    user = make_user()
    db.session.commit()
    response = client.post(
        "/auth/login?next=/auth/password", data={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/password"
    row = db.session.scalar(select(UserSession).where(UserSession.user_id == user.id))
    assert row is not None and row.revoked_at is None and row.ip == "127.0.0.1"


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_login_ignores_a_foreign_next(client: FlaskClient, target: str) -> None:
    user = make_user()
    db.session.commit()
    response = client.post(
        "/auth/login",
        query_string={"next": target},
        data={"email": user.email, "password": PASSWORD},
    )
    assert response.headers["Location"] == "/"


def test_email_is_matched_case_insensitively(client: FlaskClient) -> None:
    make_user(email="wang@park.example.com")
    db.session.commit()
    response = client.post(
        "/auth/login", data={"email": " Wang@Park.Example.com ", "password": PASSWORD}
    )
    assert response.status_code == 302


def test_wrong_password_and_unknown_email_get_the_same_generic_error(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    user = make_user()
    db.session.commit()
    caplog.set_level(logging.WARNING, logger="market.auth")
    wrong = client.post("/auth/login", data={"email": user.email, "password": "nope-nope-1"})
    unknown = client.post(
        "/auth/login", data={"email": "ghost@example.com", "password": "nope-nope-1"}
    )
    assert wrong.status_code == unknown.status_code == 200
    assert "邮箱或密码不正确" in text_of(wrong)
    assert "邮箱或密码不正确" in text_of(unknown)
    assert "nope-nope-1" not in caplog.text
    assert [r.name for r in caplog.records].count("market.auth") == 2
    assert client.get("/auth/account").status_code == 302


def test_failed_login_log_line_cannot_be_forged_with_line_breaks(
    client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="market.auth")
    client.post(
        "/auth/login",
        data={"email": "a@example.com\r\nlogin ok email=admin@example.com", "password": "x"},
    )
    messages = [r.getMessage() for r in caplog.records if r.name == "market.auth"]
    assert len(messages) == 1
    assert "\n" not in messages[0] and "\r" not in messages[0]


def test_disabled_account_is_refused(client: FlaskClient) -> None:
    user = make_user(disabled=True)
    db.session.commit()
    response = client.post("/auth/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "该账号已被停用" in text_of(response)
    assert client.get("/auth/account").status_code == 302


def test_imported_account_without_password_is_sent_to_forgot_password(
    client: FlaskClient,
) -> None:
    user = make_user(password=None)
    db.session.commit()
    response = client.post("/auth/login", data={"email": user.email, "password": "anything-1"})
    page = text_of(response)
    assert "忘记密码" in page and "尚未设置密码" in page


def test_eleventh_failed_login_in_a_minute_gets_429(app_config: dict[str, Any]) -> None:
    limited = create_app({**app_config, "RATELIMIT_ENABLED": True})
    limited.test_client_class = IsolatedClient
    with limited.app_context():
        db.create_all()
        try:
            user = make_user()
            db.session.commit()
            client = limited.test_client()
            bad = {"email": user.email, "password": "wrong-password"}
            for _ in range(5):
                assert client.post("/auth/login", data=bad).status_code == 200
            # A successful sign-in is not counted against the limit.
            good = limited.test_client().post(
                "/auth/login", data={"email": user.email, "password": PASSWORD}
            )
            assert good.status_code == 302
            for _ in range(5):
                assert client.post("/auth/login", data=bad).status_code == 200
            refused = client.post("/auth/login", data=bad)
            assert refused.status_code == 429
            assert "请求过于频繁" in text_of(refused)
            # The form itself stays readable.
            assert client.get("/auth/login").status_code == 200
        finally:
            db.session.remove()
            db.drop_all()
            db.engine.dispose()


# --- sign-out and sessions ----------------------------------------------------------------


def test_logout_revokes_the_session_so_a_replayed_cookie_is_refused(
    app: Flask, client: FlaskClient, auth: Auth
) -> None:
    user = make_user()
    auth.login(user)
    assert client.get("/auth/account").status_code == 200
    cookie = client.get_cookie("session")
    assert cookie is not None
    response = auth.logout()
    assert response.status_code == 302
    replay = app.test_client()
    replay.set_cookie("session", cookie.value)
    response = replay.get("/auth/account")
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/auth/login"


def test_logout_only_accepts_post(client: FlaskClient, auth: Auth) -> None:
    auth.login(make_user())
    assert client.get("/auth/logout").status_code == 405
    assert client.get("/auth/account").status_code == 200


def test_account_page_saves_name_and_language(client: FlaskClient, auth: Auth) -> None:
    user = make_user()
    auth.login(user)
    response = client.post("/auth/account", data={"name": "王工程师", "locale": "en"})
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.name == "王工程师" and user.locale == "en"
    assert client.get_cookie("lang") is not None and client.get_cookie("lang").value == "en"


def test_account_page_keeps_typed_values_on_error(client: FlaskClient, auth: Auth) -> None:
    user = make_user(name="王工")
    auth.login(user)
    response = client.post("/auth/account", data={"name": "", "locale": "xx"})
    assert response.status_code == 200
    assert "请填写姓名" in text_of(response)
    db.session.refresh(user)
    assert user.name == "王工"


def test_sign_out_elsewhere_ends_other_sessions_only(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    db.session.commit()
    other = app.test_client()
    Auth(other).login(user)
    Auth(client).login(user)
    page = text_of(client.get("/auth/account"))
    assert "登录中的设备" in page and "当前" in page
    response = client.post("/auth/sessions/revoke")
    assert response.status_code == 302
    assert client.get("/auth/account").status_code == 200
    assert other.get("/auth/account").status_code == 302


# --- passwords ----------------------------------------------------------------------------


def test_password_change_ends_every_other_session(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    db.session.commit()
    other = app.test_client()
    Auth(other).login(user)
    Auth(client).login(user)
    response = client.post(
        "/auth/password",
        data={"current": PASSWORD, "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert client.get("/auth/account").status_code == 200
    assert other.get("/auth/account").status_code == 302
    db.session.refresh(user)
    assert user.check_password(NEW_PASSWORD)


def test_password_change_needs_the_current_password(client: FlaskClient, auth: Auth) -> None:
    user = make_user()
    auth.login(user)
    response = client.post(
        "/auth/password",
        data={"current": "not-my-password", "password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert "当前密码不正确" in text_of(response)
    db.session.refresh(user)
    assert user.check_password(PASSWORD)


def test_reset_mail_link_sets_a_new_password_once(app: Flask, client: FlaskClient) -> None:
    user = make_user()
    db.session.commit()
    signed_in = app.test_client()
    Auth(signed_in).login(user)

    response = client.post("/auth/forgot", data={"email": user.email})
    assert response.status_code == 302
    messages = read_outbox(app)
    assert len(messages) == 1
    assert messages[0]["To"] == user.email
    body = mail_text(messages[0])
    link = next(w for w in body.split() if w.startswith(app.config["BASE_URL"]))
    path = urlsplit(link).path
    assert path.startswith("/auth/reset/")
    assert messages[0].get_body(preferencelist=("html",)) is not None

    assert "设置新密码" in text_of(client.get(path))
    response = client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert response.status_code == 302
    assert urlsplit(response.headers["Location"]).path == "/auth/login"
    # Every session ends, and the link works only once.
    assert signed_in.get("/auth/account").status_code == 302
    assert client.get(path).status_code == 400
    again = client.post(path, data={"password": "third-horse-55", "confirm": "third-horse-55"})
    assert again.status_code == 400
    login = client.post("/auth/login", data={"email": user.email, "password": NEW_PASSWORD})
    assert login.status_code == 302


def test_forgot_password_answers_the_same_for_unknown_emails(
    app: Flask, client: FlaskClient
) -> None:
    user = make_user()
    db.session.commit()
    known = client.post("/auth/forgot", data={"email": user.email}, follow_redirects=True)
    unknown = client.post(
        "/auth/forgot", data={"email": "nobody@example.com"}, follow_redirects=True
    )
    assert known.status_code == unknown.status_code == 200
    assert "如果该邮箱已注册" in text_of(unknown)
    assert text_of(known) == text_of(unknown)
    assert len(read_outbox(app)) == 1


def test_imported_user_sets_a_first_password_through_reset(app: Flask, client: FlaskClient) -> None:
    user = make_user(password=None)
    db.session.commit()
    client.post("/auth/forgot", data={"email": user.email})
    body = mail_text(read_outbox(app)[0])
    path = urlsplit(next(w for w in body.split() if "/auth/reset/" in w)).path
    client.post(path, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    login = client.post("/auth/login", data={"email": user.email, "password": NEW_PASSWORD})
    assert login.status_code == 302


def test_forged_reset_token_is_refused(client: FlaskClient) -> None:
    response = client.get("/auth/reset/not-a-token")
    assert response.status_code == 400
    assert "重置链接无效或已过期" in text_of(response)
