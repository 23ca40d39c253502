"""The foundation's end-to-end flows in Debian's Chromium, CSRF on, through the real forms."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from market.core.extensions import db
from market.models import Need, Offering
from tests.browser.conftest import LiveServer
from tests.browser.test_signup import sign_up_and_confirm
from tests.conftest import make_need, make_org, make_park, make_user

Seed = Callable[[Callable[[], Any]], Any]


def _park_with_staff() -> tuple[str, str, str]:
    park = make_park(name="示例高新区", province="江苏省")
    operator = make_org(kind="park_operator", park=park, name="示例高新区运营公司")
    staff = make_user(org=operator, role="park_staff", name="张主任")
    return park.ref, park.name, staff.email


def _create_and_submit_offering(page: Page, title: str, park_ref: str) -> None:
    page.goto("/offerings/new")
    page.select_option("select[name=category]", "application.quality")
    page.fill("input[name=title]", title)
    description = "工业相机加边缘计算盒，识别冲压件划痕、凹坑，漏检率低于0.5%。"
    page.fill("textarea[name=description]", description)
    page.select_option("select[name=regions]", ["江苏省"])
    page.select_option("select[name=parks]", [park_ref])
    page.fill("input[name=price_min]", "200000")
    page.fill("input[name=price_max]", "350000")
    with page.expect_navigation():
        page.get_by_role("button", name="保存并提交审核").click()
    expect(page.locator(".owner-panel")).to_contain_text("待审核")


def test_vendor_signs_up_lists_offering_and_park_staff_approval_publishes_it(
    page: Page,
    live_server: LiveServer,
    seed: Seed,
    sign_in: Callable[..., None],
    sign_out: Callable[[Page], None],
) -> None:
    park_ref, _park_name, staff_email = seed(_park_with_staff)
    title = "冲压件表面缺陷视觉检测"

    sign_up_and_confirm(page, live_server.app, "vendor-e2e@example.com")
    expect(page.get_by_role("navigation", name="主导航")).to_contain_text("李经理")
    _create_and_submit_offering(page, title, park_ref)
    page.goto("/offerings/")
    expect(page.get_by_role("link", name=title)).to_have_count(0)  # not public before review
    sign_out(page)

    sign_in(page, staff_email)
    page.goto("/moderation/")
    row = page.locator("tr", has_text=title)
    with page.expect_navigation():
        row.get_by_role("button", name="审核通过").click()
    sign_out(page)

    page.goto("/offerings/")
    with page.expect_navigation():
        page.get_by_role("link", name=title).click()
    expect(page.locator("h1")).to_have_text(title)
    expect(page.locator("main")).to_contain_text("示例智造科技有限公司")
    expect(page.locator("main")).to_contain_text("20 万元")


def test_enterprise_posts_a_need_that_goes_public_after_review(
    page: Page, seed: Seed, sign_in: Callable[..., None], sign_out: Callable[[Page], None]
) -> None:
    def world() -> tuple[str, str]:
        park_ref, _name, staff_email = _park_with_staff()
        from market.models import Park

        park = db.session.scalar(db.select(Park).where(Park.ref == park_ref))
        owner = make_user(org=make_org(kind="enterprise", park=park), name="王工", role="org_admin")
        return owner.email, staff_email

    owner_email, staff_email = seed(world)
    title = "冲压线设备联网与OEE看板"
    sign_in(page, owner_email)
    page.goto("/needs/new")
    page.select_option("select[name=category]", "platform.equipment_cloud")
    page.fill("input[name=title]", title)
    description = "12台冲压机没有联网，停机原因靠手写记录，希望实时看到OEE。"
    page.fill("textarea[name=description]", description)
    page.fill("input[name=budget_max]", "300000")
    with page.expect_navigation():
        page.get_by_role("button", name="保存并提交审核").click()
    expect(page.locator(".owner-panel")).to_contain_text("待审核")
    sign_out(page)

    sign_in(page, staff_email)
    page.goto("/moderation/")
    with page.expect_navigation():
        page.locator("tr", has_text=title).get_by_role("button", name="审核通过").click()
    sign_out(page)

    page.goto("/needs/")
    expect(page.get_by_role("link", name=title)).to_be_visible()
    status = seed(lambda: db.session.scalar(db.select(Need.status).where(Need.title == title)))
    assert status == "open"


def test_rejected_offering_shows_the_reason_to_its_owner(
    page: Page,
    live_server: LiveServer,
    seed: Seed,
    sign_in: Callable[..., None],
    sign_out: Callable[[Page], None],
) -> None:
    park_ref, _name, staff_email = seed(_park_with_staff)
    title = "注塑车间能耗监测"

    sign_up_and_confirm(page, live_server.app, "vendor-reject@example.com")
    _create_and_submit_offering(page, title, park_ref)
    sign_out(page)

    reason = "价格区间与描述不符，请补充报价包含的内容"
    sign_in(page, staff_email)
    page.goto("/moderation/")
    row = page.locator("tr", has_text=title)
    row.locator("input[name=reason]").fill(reason)
    with page.expect_navigation():
        row.get_by_role("button", name="驳回").click()
    sign_out(page)

    sign_in(page, "vendor-reject@example.com", "vendor-pass-1")
    page.goto("/offerings/mine")
    expect(page.locator("main")).to_contain_text("已驳回")
    expect(page.locator("main")).to_contain_text(reason)
    with page.expect_navigation():
        page.get_by_role("link", name=title).first.click()
    expect(page.locator(".owner-panel")).to_contain_text(reason)
    stored = seed(
        lambda: db.session.scalar(db.select(Offering.reject_reason).where(Offering.title == title))
    )
    assert stored == reason


def test_need_from_another_park_is_not_in_this_staffs_queue(
    page: Page, seed: Seed, sign_in: Callable[..., None]
) -> None:
    def world() -> str:
        _ref, _name, staff_email = _park_with_staff()
        make_need(title="别的园区的需求", status="pending")
        return staff_email

    sign_in(page, seed(world))
    page.goto("/moderation/")
    expect(page.locator("main")).not_to_contain_text("别的园区的需求")
