"""对接 end to end in Chromium, CSRF on: a request from an offering page through accept,
negotiation and a deal, seen in both inboxes; a registration beyond capacity waits."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from playwright.sync_api import Page, expect

from market.core.extensions import db
from market.models import utcnow
from market.models.docking import Docking
from tests.browser.test_accessibility import Audit, audit, axe_source  # noqa: F401 (fixtures)
from tests.conftest import make_need, make_offering, make_org, make_park, make_user
from tests.docking.factories import make_docking

Seed = Callable[[Callable[[], Any]], Any]


def _two_sides() -> dict[str, str]:
    park = make_park(name="苏州工业园区", province="江苏省")
    enterprise = make_org(kind="enterprise", park=park, name="苏州精密冲压件有限公司")
    buyer = make_user(org=enterprise, name="王工")
    need = make_need(org=enterprise, park=park, title="冲压件表面缺陷在线检测")
    vendor = make_org(kind="solution_provider", name="示例智造科技有限公司")
    seller = make_user(org=vendor, name="李经理")
    offering = make_offering(org=vendor, title="冲压件表面缺陷视觉检测", regions=["江苏省"])
    return {
        "buyer": buyer.email,
        "seller": seller.email,
        "offering": offering.ref or "",
        "need": need.ref or "",
        "need_title": need.title,
    }


def test_enterprise_request_is_accepted_negotiated_and_closed_with_a_deal(
    new_page: Callable[[], Page],
    seed: Seed,
    sign_in: Callable[..., None],
) -> None:
    world = seed(_two_sides)
    buyer_page = new_page()
    sign_in(buyer_page, world["buyer"])
    buyer_page.goto(f"/offerings/{world['offering']}")
    with buyer_page.expect_navigation():
        buyer_page.get_by_role("link", name="申请对接").click()
    buyer_page.get_by_label("关联需求").select_option(world["need"])
    buyer_page.get_by_label("留言").fill("我们有 3 条冲压线，希望本周安排现场调研。")
    with buyer_page.expect_navigation():
        buyer_page.get_by_role("button", name="发送对接申请").click()
    expect(buyer_page.locator(".alert-success")).to_contain_text("对接申请已发送")
    expect(buyer_page.locator("main")).to_contain_text("待答复")
    ref = buyer_page.locator("h1 small").inner_text()

    seller_page = new_page()
    sign_in(seller_page, world["seller"])
    nav = seller_page.get_by_role("navigation", name="主导航")
    inbox_link = nav.get_by_role("link", name="对接 1 条待答复", exact=True)
    expect(inbox_link).to_be_visible()
    with seller_page.expect_navigation():
        inbox_link.click()
    row = seller_page.locator("tr", has_text=ref)
    expect(row).to_contain_text("待您答复")
    with seller_page.expect_navigation():
        row.get_by_role("link", name=ref).click()
    expect(seller_page.locator("main")).to_contain_text("我们有 3 条冲压线")
    accept = seller_page.get_by_role("form", name="接受")
    accept.get_by_label("说明（可选）").fill("欢迎，周三上午可以到现场。")
    with seller_page.expect_navigation():
        accept.get_by_role("button", name="接受").click()
    with seller_page.expect_navigation():
        seller_page.get_by_role("button", name="进入洽谈").click()
    deal = seller_page.get_by_role("form", name="记录成交")
    deal.get_by_label("金额（元）").fill("320000")
    deal.get_by_label("说明（可选）").fill("合同已签，两条线先行部署。")
    with seller_page.expect_navigation():
        deal.get_by_role("button", name="记录成交").click()
    expect(seller_page.locator(".alert-success")).to_contain_text("已记录成交")
    expect(seller_page.locator("main")).to_contain_text("32 万元")

    history = ("待答复", "已接受", "洽谈中", "已成交")
    seller_page.goto("/dockings/?box=received&status=deal")
    expect(seller_page.locator("tr", has_text=ref)).to_contain_text("已成交")
    buyer_page.goto("/dockings/?box=sent")
    row = buyer_page.locator("tr", has_text=ref)
    expect(row).to_contain_text("已成交")
    expect(row).to_contain_text("32 万元")
    with buyer_page.expect_navigation():
        row.get_by_role("link", name=ref).click()
    timeline = buyer_page.locator(".docking-timeline")
    for step in history:
        expect(timeline).to_contain_text(step)
    expect(timeline).to_contain_text("合同已签，两条线先行部署。")
    expect(timeline).to_contain_text("示例智造科技有限公司（李经理）")

    def recorded() -> tuple[str, int | None]:
        docking = db.session.scalar(db.select(Docking).where(Docking.ref == ref))
        assert docking is not None
        return docking.status, docking.deal_amount

    assert seed(recorded) == ("deal", 320_000)


def _course_with_one_seat() -> dict[str, str]:
    trainer = make_org(kind="training_body", name="示例职业技术学院")
    teacher = make_user(org=trainer, name="陈老师")
    course = make_offering(
        org=trainer,
        kind="training",
        category="talent",
        title="PLC 编程与调试实训班",
        mode="offline",
        capacity=1,
        starts_on=utcnow().date() + timedelta(days=20),
        price_min=None,
        price_max=None,
    )
    first = make_user(org=make_org(kind="enterprise", name="先报名的企业"), name="赵工")
    late = make_user(org=make_org(kind="enterprise", name="后报名的企业"), name="王工")
    return {
        "course": course.ref or "",
        "first": first.email,
        "late": late.email,
        "teacher": teacher.email,
    }


def _register(page: Page, course: str) -> None:
    page.goto(f"/offerings/{course}")
    with page.expect_navigation():
        page.get_by_role("link", name="报名").click()
    with page.expect_navigation():
        page.get_by_role("button", name="确认报名").click()


def test_a_registration_beyond_capacity_lands_on_the_waiting_list(
    page: Page,
    seed: Seed,
    sign_in: Callable[..., None],
    sign_out: Callable[[Page], None],
) -> None:
    world = seed(_course_with_one_seat)
    sign_in(page, world["first"])
    _register(page, world["course"])
    expect(page.locator(".alert-success")).to_contain_text("报名成功")
    sign_out(page)

    sign_in(page, world["late"])
    page.goto(f"/offerings/{world['course']}")
    with page.expect_navigation():
        page.get_by_role("link", name="报名").click()
    expect(page.locator("main")).to_contain_text("已满，报名将进入候补名单")
    with page.expect_navigation():
        page.get_by_role("button", name="确认报名").click()
    expect(page.locator(".alert-success")).to_contain_text("候补名单（第 1 位）")
    expect(page.locator("main")).to_contain_text("候补中")
    sign_out(page)

    sign_in(page, world["teacher"])
    page.goto(f"/dockings/roster/{world['course']}")
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("先报名的企业")
    expect(rows.nth(0)).to_contain_text("已报名")
    expect(rows.nth(1)).to_contain_text("后报名的企业")
    expect(rows.nth(1)).to_contain_text("候补第 1 位")
    with page.expect_download() as download:
        page.get_by_role("link", name="导出 Excel").click()
    assert download.value.suggested_filename.endswith(".xlsx")


def test_docking_pages_have_no_serious_accessibility_violations(
    page: Page,
    seed: Seed,
    sign_in: Callable[..., None],
    sign_out: Callable[[Page], None],
    audit: Audit,  # noqa: F811 (the fixture imported above)
) -> None:
    def world() -> dict[str, str]:
        refs = _two_sides()
        course = _course_with_one_seat()
        docking = make_docking(status="negotiating")
        park = docking.park
        staff = make_user(
            role="park_staff", org=make_org(kind="park_operator", park=park), name="张主任"
        )
        seller = db.session.get(type(staff), docking.offering.org.users[0].id)
        assert seller is not None
        return {
            **refs,
            **course,
            "docking": docking.ref or "",
            "docking_seller": seller.email,
            "staff": staff.email,
        }

    refs = seed(world)
    sign_in(page, refs["buyer"])
    audit.page(page, f"/dockings/new?offering={refs['offering']}&need={refs['need']}")
    with page.expect_navigation():
        page.get_by_role("button", name="发送对接申请").click()
    audit.current(page, "docking detail (enterprise)")
    audit.page(page, "/dockings/?box=sent")
    sign_out(page)
    sign_in(page, refs["docking_seller"])
    audit.page(page, f"/dockings/{refs['docking']}")  # deal and no-deal forms
    audit.page(page, "/dockings/")
    sign_out(page)
    sign_in(page, refs["teacher"])
    audit.page(page, f"/dockings/roster/{refs['course']}")
    sign_out(page)
    sign_in(page, refs["staff"])
    audit.page(page, "/dockings/park")
    audit.page(page, f"/dockings/{refs['docking']}")
    audit.check()
