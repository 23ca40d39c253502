"""The search experience in Chromium: as-you-type suggestions, facets, highlighted results,
and the state kept in the URL when coming back from a result."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from market.services import indexing
from tests.browser.conftest import LiveServer
from tests.conftest import make_offering, make_org, make_park

Seed = Callable[[Callable[[], Any]], Any]


@pytest.fixture
def empty_index(live_server: LiveServer) -> None:
    """The live server keeps one index for the session: start each test with it empty."""
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
    expect(results.first.locator("h3 mark")).to_have_text("质检")
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
