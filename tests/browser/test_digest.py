"""The digest in Chromium: a user sets their preferences; an admin previews a user's digest."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from market.core.extensions import db
from market.models import DigestPreference, User
from tests.conftest import make_offering, make_org, make_user
from tests.digest.factories import make_docking

Seed = Callable[[Callable[[], Any]], Any]


def _provider_with_a_waiting_request() -> tuple[str, str]:
    provider = make_org(kind="solution_provider", name="智检视觉科技有限公司")
    seller = make_user(org=provider, name="李销售", email="seller@example.com")
    offering = make_offering(org=provider, title="冲压件表面缺陷视觉检测")
    enterprise = make_org(kind="enterprise", name="苏州精密冲压有限公司")
    make_docking(offering, enterprise, initiator=enterprise)
    admin = make_user(role="admin", email="admin@example.com")
    return str(seller.ref), admin.email


def test_a_user_chooses_what_the_weekly_digest_contains(
    page: Page, seed: Seed, sign_in: Callable[..., None], console_errors: list[str]
) -> None:
    email = seed(lambda: make_user(email="member@example.com").email)
    sign_in(page, email)

    page.goto("/auth/account")
    page.get_by_role("link", name="周报设置").click()
    expect(page.get_by_role("heading", name="周报设置")).to_be_visible()
    expect(page.get_by_label("每周一次（周一上午）")).to_be_checked()
    page.get_by_label("新的匹配推荐").uncheck()
    page.get_by_label("园区新发布的供需目录").uncheck()
    page.get_by_label("English").check()
    with page.expect_navigation():
        page.get_by_role("button", name="保存设置").click()

    expect(page.get_by_role("alert").or_(page.locator(".alert"))).to_contain_text("周报设置已保存")
    expect(page.get_by_label("English")).to_be_checked()
    expect(page.get_by_label("新的匹配推荐")).not_to_be_checked()
    expect(page.get_by_label("等待我方回复的对接")).to_be_checked()

    def saved() -> tuple[list[str], str]:
        user = db.session.query(User).filter_by(email=email).one()
        pref = db.session.query(DigestPreference).filter_by(user_id=user.id).one()
        return list(pref.kinds), pref.language

    assert seed(saved) == (["dockings", "registrations"], "en")
    assert console_errors == []


def test_an_admin_previews_a_users_digest_in_the_browser(
    page: Page, seed: Seed, sign_in: Callable[..., None], console_errors: list[str]
) -> None:
    seller_ref, admin_email = seed(_provider_with_a_waiting_request)
    sign_in(page, admin_email)

    page.goto("/admin/")
    page.get_by_role("link", name="预览用户的周报").click()
    page.get_by_label("用户编号或邮箱").fill("seller@example.com")
    with page.expect_navigation():
        page.get_by_role("button", name="预览").click()

    assert page.url.endswith(f"/admin/digest/{seller_ref}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("李销售")
    expect(page.locator("#digest-total")).to_have_text("1")
    frame = page.frame_locator("iframe.digest-frame")
    expect(frame.get_by_text("等待您回复的对接")).to_be_visible()
    expect(frame.get_by_text("冲压件表面缺陷视觉检测")).to_be_visible()
    page.get_by_text("纯文本版").click()
    expect(page.locator("pre.digest-text")).to_contain_text("来自 苏州精密冲压有限公司")
    assert console_errors == []
