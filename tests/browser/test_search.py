"""The search experience in Chromium: as-you-type suggestions, facets, highlighted results,
and the state kept in the URL when coming back from a result."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from market.listing_search import indexing
from tests.browser.conftest import LiveServer
from tests.conftest import make_offering, make_org, make_park

Seed = Callable[[Callable[[], Any]], Any]


@pytest.fixture
def empty_index(live_server: LiveServer) -> None:
    """The live server keeps one index for the session: start each test with it empty."""
    with live_server.app.app_context():  # the concept map reads admins' additions
        backend = indexing.backend(live_server.app)
        for name in ("offerings", "needs"):
            backend.reset_index(name)


def _listings() -> dict[str, str]:
    park = make_park(name="苏州工业园区", province="江苏省")
    jiangsu = make_org(kind="solution_provider", name="慧眼视觉科技有限公司", province="江苏省")
    zhejiang = make_org(kind="solution_provider", name="浙里智造科技有限公司", province="浙江省")
    cloud = make_offering(org=jiangsu, title="智能质检云平台", regions=["江苏省"], parks=[park])
    station = make_offering(org=jiangsu, title="冲压件视觉质检工作站", regions=["江苏省"])
    make_offering(org=zhejiang, title="注塑件外观质检方案", regions=["浙江省"])
    make_offering(org=zhejiang, title="草稿里的质检方案", status="draft")
    make_offering(
        org=zhejiang,
        title="MES系统快速实施",
        category="application.mes",
        summary="生产执行系统",
        description="工单、报工、追溯。",
        tags=["MES"],
        regions=["浙江省"],
    )
    return {"cloud": str(cloud.ref), "station": str(station.ref)}


def test_type_a_word_pick_a_facet_open_a_result_and_come_back_with_the_state_kept(
    page: Page, seed: Seed, empty_index: None
) -> None:
    seed(_listings)
    page.goto("/search/")
    box = page.get_by_role("combobox", name="搜索关键词")
    box.press_sequentially("质检")

    listbox = page.get_by_role("listbox", name="搜索建议")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(3)  # never the draft
    expect(listbox.locator("mark").first).to_have_text("质检")
    box.press("ArrowDown")
    expect(box).to_have_attribute("aria-activedescendant", re.compile(r"-option-0$"))
    expect(options.first).to_have_attribute("aria-selected", "true")
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")

    with page.expect_navigation():
        box.press("Enter")
    results = page.locator(".search-hit")
    expect(results).to_have_count(3)

    facet = page.locator('a.facet-link[data-facet="province"][data-value="江苏省"]')
    expect(facet.locator(".facet-count")).to_have_text("2")
    with page.expect_navigation():
        facet.click()
    expect(results).to_have_count(2)
    expect(page.locator("#results-title")).to_have_attribute("data-total", "2")
    # The typed word is marked, whole with the map's term it sits in (智能质检).
    expect(results.first.locator("h3 mark")).to_contain_text("质检")
    searched = page.url
    assert "province=" in searched and "q=" in searched

    first = results.first.locator("h3 a")
    title = first.inner_text()
    with page.expect_navigation():
        first.click()
    expect(page.locator("h1")).to_have_text(title)

    page.go_back()
    assert page.url == searched
    expect(page.get_by_role("combobox", name="搜索关键词")).to_have_value("质检")
    expect(page.locator('a.facet-link.selected[data-value="江苏省"]')).to_have_count(1)
    expect(results).to_have_count(2)


def test_arrow_keys_and_enter_open_the_chosen_suggestion(
    page: Page, seed: Seed, empty_index: None
) -> None:
    refs = seed(_listings)
    page.goto("/")
    box = page.locator("#home-q")
    box.press_sequentially("质检云")
    option = page.get_by_role("listbox").get_by_role("option").first
    expect(option).to_contain_text("智能质检云平台")
    box.press("ArrowDown")
    with page.expect_navigation():
        box.press("Enter")
    expect(page).to_have_url(re.compile(rf"/offerings/{refs['cloud']}$"))
    expect(page.locator("h1")).to_have_text("智能质检云平台")


def test_the_search_page_works_without_javascript(
    browser: Any, live_server: LiveServer, seed: Seed, empty_index: None
) -> None:
    seed(_listings)
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/search/")
        page.fill("#search-q", "质检")
        with page.expect_navigation():
            page.locator("form[role=search] button[type=submit]").click()
        expect(page.locator(".search-hit")).to_have_count(3)
        with page.expect_navigation():
            page.get_by_role("link", name=re.compile("^最新发布")).click()
        assert "sort=newest" in page.url and "q=" in page.url
    finally:
        context.close()


def _understood_listings() -> None:
    jiangsu = make_org(kind="solution_provider", name="苏南智造科技有限公司", province="江苏省")
    zhejiang = make_org(kind="solution_provider", name="浙里智造科技有限公司", province="浙江省")
    make_offering(
        org=jiangsu, title="冲压件表面缺陷视觉检测", regions=["江苏省"], price_min=150_000
    )
    make_offering(org=jiangsu, title="冲压车间MES快速实施", regions=["江苏省"], price_min=800_000)
    make_offering(org=zhejiang, title="注塑车间MES", regions=["浙江省"], price_min=120_000)


def test_places_and_budgets_show_as_chips_each_removable_and_a_typo_is_corrected_with_a_way_back(
    page: Page, seed: Seed, empty_index: None
) -> None:
    seed(_understood_listings)
    page.goto("/search/")
    page.get_by_role("combobox", name="搜索关键词").fill("江苏 MES 20万以内")
    page.get_by_role("combobox", name="搜索关键词").press("Enter")

    chips = page.locator(".search-chip")
    expect(chips).to_have_count(2)
    expect(chips.nth(0)).to_contain_text("已按 江苏省 筛选")
    expect(chips.nth(1)).to_contain_text("已按 预算 20万以内 筛选")
    expect(page.locator(".search-hit")).to_have_count(0)  # 江苏's MES costs 80 万
    _shots(page, "chips")

    chips.nth(1).click()  # drop the budget: 江苏's MES shows, 浙江's does not
    expect(page.get_by_role("combobox", name="搜索关键词")).to_have_value("江苏 MES")
    expect(page.locator(".search-chip")).to_have_count(1)
    expect(page.locator(".search-hit")).to_have_count(1)
    expect(page.locator(".search-hit")).to_contain_text("冲压车间MES快速实施")

    page.locator(".search-chip").click()  # drop the place: both MES offerings
    expect(page.get_by_role("combobox", name="搜索关键词")).to_have_value("MES")
    expect(page.locator(".search-chip")).to_have_count(0)
    expect(page.locator(".search-hit")).to_have_count(2)

    page.get_by_role("combobox", name="搜索关键词").fill("冲压见")
    page.get_by_role("combobox", name="搜索关键词").press("Enter")
    line = page.locator(".search-corrected")
    expect(line).to_contain_text("已显示 冲压件 的结果")
    expect(page.locator(".search-hit").first).to_contain_text("冲压件表面缺陷视觉检测")
    _shots(page, "corrected")
    line.get_by_role("link", name="仍搜索 冲压见").click()
    expect(page.locator(".search-corrected")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"correct=0"))


def _shots(page: Page, name: str) -> None:
    """With MARKET_SCREENSHOTS=DIR: the page at 1280 and 375 px, in Chinese and English."""
    if not os.environ.get("MARKET_SCREENSHOTS"):
        return
    folder = Path(os.environ["MARKET_SCREENSHOTS"])
    folder.mkdir(parents=True, exist_ok=True)
    url = page.url
    for lang in ("zh-CN", "en"):
        page.context.add_cookies([{"name": "lang", "value": lang, "url": url}])
        page.goto(url)
        for width in (1280, 375):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=str(folder / f"search-{name}-{lang}-{width}.png"), full_page=True)
    page.context.clear_cookies()
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(url)
