"""The listing editors in a real browser: saving with CSRF on, the local copy, the finance part."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.conftest import make_org, make_park, make_user


def _vendor() -> str:
    return make_user(org=make_org(kind="solution_provider")).email


def _enterprise() -> str:
    park = make_park()
    return make_user(org=make_org(kind="enterprise", park=park)).email


def test_vendor_saves_a_draft_without_console_errors(
    page: Page,
    seed: Callable[[Callable[[], Any]], Any],
    sign_in: Callable[..., None],
    console_errors: list[str],
) -> None:
    sign_in(page, seed(_vendor))
    page.goto("/offerings/new")
    page.select_option("select[name=category]", "platform.equipment_cloud")
    page.fill("input[name=title]", "注塑机设备上云")
    page.fill("textarea[name=description]", "设备联网与 OEE 看板")
    with page.expect_navigation():
        page.get_by_role("button", name="保存草稿").click()
    expect(page.locator("h1")).to_contain_text("注塑机设备上云")
    expect(page.locator(".owner-panel")).to_contain_text("草稿")
    assert console_errors == []


def test_unsaved_input_can_be_restored_after_leaving_the_page(
    page: Page,
    seed: Callable[[Callable[[], Any]], Any],
    sign_in: Callable[..., None],
) -> None:
    sign_in(page, seed(_vendor))
    page.goto("/offerings/new")
    page.fill("input[name=title]", "写了一半的供给")
    page.wait_for_timeout(600)  # the copy is written shortly after typing stops
    page.goto("/offerings/new")
    notice = page.locator("[data-autosave-notice]")
    expect(notice).to_be_visible()
    notice.get_by_role("button", name="恢复未提交的内容").click()
    expect(page.locator("input[name=title]")).to_have_value("写了一半的供给")


def test_need_form_shows_financing_part_for_finance_categories(
    page: Page,
    seed: Callable[[Callable[[], Any]], Any],
    sign_in: Callable[..., None],
    console_errors: list[str],
) -> None:
    sign_in(page, seed(_enterprise))
    page.goto("/needs/new")
    financing = page.locator("[data-category-prefix=finance]")
    expect(financing).to_be_hidden()
    page.select_option("select[name=category]", "finance.leasing")
    expect(financing).to_be_visible()
    page.select_option("select[name=category]", "application.mes")
    expect(financing).to_be_hidden()
    assert console_errors == []
