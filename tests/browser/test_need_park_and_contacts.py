"""An enterprise files a need into its own park only; the park's staff hand it to the
right park; contact e-mails show to the other party of a docking, not to strangers."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.browser.conftest import sign_in, sign_out
from tests.conftest import make_offering, make_org, make_park, make_user
from tests.parkops.factories import make_docking

Seed = Callable[[Callable[[], Any]], Any]
BOSS = "boss@zhijian.example.com"


def _world() -> dict[str, str]:
    park_a = make_park(ref="P-A", name="苏州工业园区")
    make_park(ref="P-B", name="无锡高新区")
    enterprise = make_org(kind="enterprise", park=park_a, name="苏州精密冲压有限公司")
    provider = make_org(kind="solution_provider", name="智检科技有限公司")
    make_user(org=provider, role="org_admin", name="周总", email=BOSS)
    offering = make_offering(org=provider, title="冲压件视觉检测")
    docking = make_docking(park_a, offering=offering)
    docking.enterprise_org_id = enterprise.id
    docking.initiator_org_id = enterprise.id
    return {
        "poster": str(make_user(org=enterprise).email),
        "stranger": str(make_user(org=make_org(kind="enterprise", park=park_a)).email),
        "staff": str(
            make_user(org=make_org(kind="park_operator", park=park_a), role="park_staff").email
        ),
        "provider": str(provider.ref),
    }


def _shots(page: Page, name: str) -> None:
    """With MARKET_SCREENSHOTS=DIR: the page at 1280 and 375 px, in Chinese and English."""
    if not os.environ.get("MARKET_SCREENSHOTS"):
        return
    folder = Path(os.environ["MARKET_SCREENSHOTS"])
    folder.mkdir(parents=True, exist_ok=True)
    for lang in ("zh", "en"):
        page.context.add_cookies([{"name": "lang", "value": lang, "url": page.url}])
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            page.reload()
            page.screenshot(path=str(folder / f"{name}-{lang}-{width}.png"), full_page=True)
    page.context.add_cookies([{"name": "lang", "value": "zh", "url": page.url}])
    page.set_viewport_size({"width": 1280, "height": 900})
    page.reload()


def test_a_need_goes_to_the_own_park_and_staff_hand_it_on(page: Page, seed: Seed) -> None:
    world = seed(_world)
    sign_in(page, world["poster"])
    page.goto("/needs/new")
    park = page.get_by_label("所在园区")
    expect(park.locator("option")).to_have_count(1)
    expect(park).to_have_value("P-A")
    _shots(page, "need-form")
    page.get_by_label("类别").select_option("application.quality")
    page.get_by_label("标题").fill("冲压件表面划痕检测")
    page.get_by_label("详细描述").fill("人工目检漏检率高，希望引入视觉检测。")
    page.get_by_role("button", name="保存并提交审核").click()
    expect(page.locator(".alert-success").first).to_be_visible()
    need_url = page.url
    sign_out(page)

    sign_in(page, world["staff"])
    page.goto(need_url)
    _shots(page, "need-moderation")
    page.get_by_label("发错园区？转交给").select_option(label="无锡高新区（江苏省）")
    page.get_by_role("button", name="转交", exact=True).click()
    expect(page.locator(".alert-success")).to_contain_text("已转交无锡高新区审核")
    # It left this park's queue and this staff member's scope.
    expect(page.locator('section[aria-labelledby="q-needs"]')).to_contain_text("没有待审核的需求")


def test_contacts_show_to_the_docking_party_and_not_to_strangers(page: Page, seed: Seed) -> None:
    world = seed(_world)
    sign_in(page, world["stranger"])
    page.goto(f"/orgs/{world['provider']}")
    expect(
        page.get_by_text("联系方式仅向与该机构有对接往来的机构和园区工作人员显示")
    ).to_be_visible()
    expect(page.get_by_text(BOSS)).to_have_count(0)
    _shots(page, "org-contacts-hidden")
    sign_out(page)

    sign_in(page, world["poster"])
    page.goto(f"/orgs/{world['provider']}")
    expect(page.get_by_role("link", name=BOSS)).to_have_attribute("href", f"mailto:{BOSS}")
