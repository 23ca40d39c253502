"""The home page in a real browser: Chinese first, no console errors, English on request."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import LiveServer

SITE_NAME = "园区供需对接平台"
HAN = re.compile(r"[\u4e00-\u9fff]")


def _english_catalogue_compiled(live_server: LiveServer) -> bool:
    return (Path(live_server.app.root_path) / "translations/en/LC_MESSAGES/messages.mo").exists()


def test_home_page_loads_in_chinese_without_console_errors(
    page: Page, console_errors: list[str]
) -> None:
    response = page.goto("/")

    assert response is not None and response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page).to_have_title(re.compile(SITE_NAME))
    expect(page.locator("nav.navbar")).to_contain_text(SITE_NAME)
    assert HAN.search(page.locator("main").inner_text())
    # Stylesheets and scripts are served by the site itself and pass the CSP.
    page.wait_for_load_state("networkidle")
    assert console_errors == []


def test_language_switch_turns_the_site_english_and_back(
    page: Page, live_server: LiveServer
) -> None:
    page.goto("/")

    with page.expect_navigation():
        page.get_by_role("button", name="English").click()

    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="中文")).to_be_visible()
    if _english_catalogue_compiled(live_server):
        expect(page).not_to_have_title(re.compile(SITE_NAME))

    page.goto("/")  # the choice is remembered
    expect(page.locator("html")).to_have_attribute("lang", "en")

    with page.expect_navigation():
        page.get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page).to_have_title(re.compile(SITE_NAME))
