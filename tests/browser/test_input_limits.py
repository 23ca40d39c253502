"""The data format's limits in the listing editor, in a real browser (issue #18).

The form's inputs carry the same bounds as the server's check (min/max, maxlength), so
the browser already stops a capacity of 0 or a price past the database's integers; a
browser that does not check gets the server's message next to the field, in the
reader's language, and nothing is saved.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.conftest import make_org, make_user

TOO_BIG = str(2**63)


def _trainer() -> str:
    return make_user(org=make_org(kind="training_body")).email


def _fill_course(page: Page) -> None:
    page.select_option("select[name=category]", "talent.lecture")
    page.fill("input[name=title]", "PLC 编程实训")
    page.fill("textarea[name=description]", "西门子 S7-1200，四周。")


def test_the_browser_stops_values_outside_the_format(
    page: Page,
    seed: Callable[[Callable[[], Any]], Any],
    sign_in: Callable[..., None],
    console_errors: list[str],
) -> None:
    sign_in(page, seed(_trainer))
    page.goto("/offerings/new")
    _fill_course(page)
    capacity = page.locator("input[name=capacity]")
    expect(capacity).to_have_attribute("min", "1")
    expect(capacity).to_have_attribute("max", "2147483647")
    expect(page.locator("input[name=starts_on]")).to_have_attribute("max", "2099-12-31")
    expect(page.locator("input[name=title]")).to_have_attribute("maxlength", "200")

    capacity.fill("0")
    page.get_by_role("button", name="保存草稿").click()
    assert capacity.evaluate("input => input.validity.rangeUnderflow")
    expect(page).to_have_url(re.compile(r"/offerings/new$"))
    assert console_errors == []


def test_a_browser_that_does_not_check_gets_the_server_message_in_its_language(
    page: Page,
    seed: Callable[[Callable[[], Any]], Any],
    sign_in: Callable[..., None],
    console_errors: list[str],
) -> None:
    sign_in(page, seed(_trainer))
    for language, message in (
        ("zh", "数值过大（不能超过 2147483647）"),
        ("en", "at most 2147483647"),
    ):
        if language == "en":
            page.goto("/")
            with page.expect_navigation():
                page.get_by_role("button", name="English").click()
        page.goto("/offerings/new")
        _fill_course(page)
        page.fill("input[name=capacity]", "40")
        page.fill("input[name=price_max]", TOO_BIG)
        # What an old browser, or a script, sends: the form without the browser's check.
        page.locator("form:has(input[name=price_max])").evaluate("f => f.noValidate = true")
        with page.expect_navigation():
            page.locator("input[name=save]").click()
        field = page.locator("input[name=price_max]")
        expect(field).to_have_class(re.compile("is-invalid"))
        expect(page.locator("form.listing-form")).to_contain_text(message)
    page.goto("/offerings/mine")
    expect(page.locator("body")).not_to_contain_text("PLC 编程实训")
    assert console_errors == []
