"""Signing up in Chromium: the form, the mailed link, the confirmed account, signing in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask
from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer
from tests.conftest import mail_text, make_user, read_outbox

Seed = Callable[[Callable[[], Any]], Any]
PASSWORD = "vendor-pass-1"


def fill_signup(page: Page, email: str, org_name: str = "示例智造科技有限公司") -> None:
    """Fill in and send the sign-up form as a solution provider in 江苏省."""
    page.goto("/auth/signup")
    page.fill("input[name=name]", "李经理")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    page.select_option("select[name=kind]", "solution_provider")
    page.fill("input[name=org_name]", org_name)
    page.select_option("select[name=province]", "江苏省")
    page.fill("input[name=city]", "苏州市")
    with page.expect_navigation():
        page.get_by_role("button", name="注册").click()


def mailed_link(app: Flask, email: str, marker: str) -> str:
    """The path of the newest link containing ``marker`` mailed to ``email``."""
    mails = [m for m in read_outbox(app) if m["To"] == email]
    assert mails, f"no mail to {email}"
    body = mail_text(mails[-1])
    return urlsplit(next(w for w in body.split() if marker in w)).path


def sign_up_and_confirm(page: Page, app: Flask, email: str) -> None:
    """Sign up through the form and the mailed confirmation link; ends signed in."""
    fill_signup(page, email)
    expect(page.locator("h1")).to_have_text("请查收邮件")
    page.goto(mailed_link(app, email, "/auth/confirm/"))
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="确认并登录").click()


def test_sign_up_confirm_by_mail_then_sign_in_again(
    page: Page,
    live_server: LiveServer,
    sign_in: Callable[..., None],
    sign_out: Callable[[Page], None],
) -> None:
    email = "new-vendor@example.com"
    fill_signup(page, email)
    expect(page.locator("h1")).to_have_text("请查收邮件")
    expect(page.locator("main")).to_contain_text(email)
    # Nobody is signed in, and the account cannot be used before the link is opened.
    expect(page.locator("form[action$='/auth/logout']")).to_have_count(0)
    page.goto("/auth/login")
    page.fill("main input[name=email]", email)
    page.fill("main input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.press("main input[name=password]", "Enter")
    expect(page.locator(".alert-danger")).to_contain_text("邮箱或密码不正确")

    page.goto(mailed_link(live_server.app, email, "/auth/confirm/"))
    expect(page.locator("main")).to_contain_text("示例智造科技有限公司")
    page.fill("input[name=password]", "not-my-password")
    with page.expect_navigation():
        page.get_by_role("button", name="确认并登录").click()
    expect(page.locator("main")).to_contain_text("密码与注册时设置的不一致")
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="确认并登录").click()
    expect(page.locator(".alert-success")).to_contain_text("账号已开通")
    expect(page.locator("h1")).to_contain_text("示例智造科技有限公司")
    expect(page.get_by_role("navigation", name="主导航")).to_contain_text("李经理")

    sign_out(page)
    sign_in(page, email, PASSWORD)
    expect(page.get_by_role("navigation", name="主导航")).to_contain_text("李经理")


def test_signing_up_with_a_taken_address_looks_the_same_and_mails_its_owner(
    page: Page, new_page: Callable[[], Page], live_server: LiveServer, seed: Seed
) -> None:
    taken = seed(lambda: make_user(email="owner@example.com", name="王老板").email)
    fill_signup(page, "someone-new@example.com")
    fresh_text = page.locator("main").inner_text()
    other = new_page()
    fill_signup(other, taken)
    taken_text = other.locator("main").inner_text()
    assert taken_text.replace(taken, "X") == fresh_text.replace("someone-new@example.com", "X")

    page.goto(mailed_link(live_server.app, taken, "/auth/forgot"))
    expect(page.locator("h1")).to_have_text("忘记密码")
    warning = next(m for m in read_outbox(live_server.app) if m["To"] == taken)
    assert "有人尝试用您的邮箱" in mail_text(warning)
