"""The supply–demand catalogue end to end in Chromium, CSRF on, through the real forms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from playwright.sync_api import Page, expect
from sqlalchemy import select

from market.catalogue import compile as catalogue_compile
from market.catalogue import service
from market.core.extensions import db
from market.models import Park, utcnow
from tests.browser import test_accessibility as a11y
from tests.conftest import PASSWORD, make_need, make_offering, make_org, make_park, make_user

Seed = Callable[[Callable[[], Any]], Any]
# The accessibility suite's fixtures: axe-core's source and the page audit.
axe_source = a11y.axe_source
audit = a11y.audit


def _park_with_listings() -> dict[str, str]:
    park = make_park(name="示例经开区", province="江苏省")
    operator = make_org(kind="park_operator", park=park, name="示例经开区管委会")
    staff = make_user(org=operator, role="park_staff", name="张主任")
    provider = make_org(kind="solution_provider", name="示例视觉科技有限公司")
    vendor = make_user(org=provider, role="org_admin", name="李经理")
    later = utcnow() + timedelta(days=90)
    kept = make_offering(
        org=provider, title="冲压件表面缺陷视觉检测", parks=[park], regions=[], expires_at=later
    )
    dropped = make_offering(
        org=provider,
        title="不宜发布的试点方案",
        category="platform.equipment_cloud",
        regions=["江苏省"],
        expires_at=later,
    )
    enterprise = make_org(kind="enterprise", park=park, name="示例精密冲压有限公司")
    make_need(org=enterprise, park=park, title="车间设备联网改造")
    return {
        "park": str(park.ref),
        "staff": staff.email,
        "vendor": vendor.email,
        "kept": str(kept.ref),
        "dropped": str(dropped.ref),
    }


def _publish_from_compile_page(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("link", name="预览并发布").click()
    expect(page.locator(".alert-info")).to_contain_text("这是预览")
    with page.expect_navigation():
        page.get_by_role("button", name="确认发布").click()


def test_staff_compile_exclude_preview_publish_and_the_next_edition_lists_the_edit(
    page: Page, seed: Seed, sign_in: Callable[..., None], sign_out: Callable[[Page], None]
) -> None:
    data = seed(_park_with_listings)

    # 张主任 starts an edition from the park's catalogue page.
    sign_in(page, data["staff"], PASSWORD)
    page.goto(f"/catalogue/parks/{data['park']}")
    with page.expect_navigation():
        page.get_by_role("button", name="编制新一期").click()
    expect(page.locator("h1")).to_contain_text("编制")
    proposals = page.locator("table[data-table=proposals]")
    expect(proposals).to_contain_text("冲压件表面缺陷视觉检测")
    expect(proposals).to_contain_text("车间设备联网改造")

    # Exclude the pilot offering, add a foreword.
    with page.expect_navigation():
        page.get_by_role("button", name="排除：不宜发布的试点方案").click()
    expect(page.locator(f"tr[data-proposal='{data['dropped']}']")).to_have_attribute(
        "data-included", "0"
    )
    page.fill("textarea[name=foreword]", "本期由园区经发局编制，联系电话 0512-12345678。")
    with page.expect_navigation():
        page.get_by_role("button", name="保存").click()

    # The preview shows exactly the edition: the excluded entry is not in it.
    with page.expect_navigation():
        page.get_by_role("link", name="预览并发布").click()
    main = page.locator("main")
    expect(main).to_contain_text("冲压件表面缺陷视觉检测")
    expect(main).to_contain_text("本期由园区经发局编制")
    expect(main).not_to_contain_text("不宜发布的试点方案")
    with page.expect_navigation():
        page.get_by_role("button", name="确认发布").click()
    expect(page.locator("h1")).to_contain_text("年第 1 期")
    edition_url = page.url
    sign_out(page)

    # The public sees it on the park's catalogue page and the edition page.
    page.goto(f"/catalogue/parks/{data['park']}")
    with page.expect_navigation():
        page.locator("table[data-table=editions] a").first.click()
    assert page.url == edition_url
    expect(page.locator(f"tr[data-entry='{data['kept']}']")).to_contain_text(
        "冲压件表面缺陷视觉检测"
    )
    expect(page.locator("main")).not_to_contain_text("不宜发布的试点方案")

    # The vendor renames the offering; it goes back to review and staff approve it.
    sign_in(page, data["vendor"], PASSWORD)
    page.goto(f"/offerings/{data['kept']}/edit")
    page.fill("input[name=title]", "冲压件表面缺陷AI视觉检测（升级版）")
    with page.expect_navigation():
        page.get_by_role("button", name="保存并提交审核").click()
    sign_out(page)
    sign_in(page, data["staff"], PASSWORD)
    page.goto("/moderation/")
    with page.expect_navigation():
        page.locator("tr", has_text="升级版").get_by_role("button", name="审核通过").click()

    # The published edition has not changed.
    page.goto(edition_url)
    row = page.locator(f"tr[data-entry='{data['kept']}']")
    expect(row).to_contain_text("冲压件表面缺陷视觉检测")
    expect(row).not_to_contain_text("升级版")

    # The next edition's changes page lists the edit.
    page.goto(f"/catalogue/parks/{data['park']}")
    with page.expect_navigation():
        page.get_by_role("button", name="编制新一期").click()
    expect(page.locator(f"tr[data-proposal='{data['dropped']}']")).to_have_attribute(
        "data-included", "0"
    )  # what was excluded stays excluded
    _publish_from_compile_page(page)
    expect(page.locator("h1")).to_contain_text("年第 2 期")
    with page.expect_navigation():
        page.get_by_role("link", name="本期变化").click()
    updated = page.locator("section[data-change=updated]")
    expect(updated).to_contain_text("冲压件表面缺陷AI视觉检测（升级版）")
    expect(updated).to_contain_text("原名称：冲压件表面缺陷视觉检测")


def _published_edition() -> dict[str, str]:
    data = _park_with_listings()
    park = db.session.scalar(select(Park).where(Park.ref == data["park"]))
    assert park is not None
    first = service.new_edition(catalogue_compile.park_scope(park), None)
    service.publish(first, None)
    draft = service.new_edition(catalogue_compile.park_scope(park), None)
    data.update(edition=str(first.ref), draft=str(draft.ref))
    return data


def test_catalogue_pages_have_no_serious_accessibility_violations(
    page: Page, seed: Seed, sign_in: Callable[..., None], audit: a11y.Audit
) -> None:
    data = seed(_published_edition)
    for url in (
        "/catalogue/",
        f"/catalogue/parks/{data['park']}",
        f"/catalogue/{data['edition']}",
        f"/catalogue/{data['edition']}/changes",
        f"/parks/{data['park']}",
    ):
        audit.page(page, url)
    sign_in(page, data["staff"], PASSWORD)
    for url in (
        "/catalogue/manage",
        f"/catalogue/{data['draft']}/compile",
        f"/catalogue/{data['draft']}/preview",
        f"/catalogue/{data['edition']}",
    ):
        audit.page(page, url)
    audit.check()
