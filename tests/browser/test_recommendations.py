"""An enterprise sees 「为您推荐」 with reasons on its need and marks one 不相关."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, expect

from tests.recommendations.factories import make_market

Seed = Callable[[Callable[[], Any]], Any]


def _market() -> str:
    return make_market().owner.email


def test_enterprise_sees_recommendations_with_reasons_and_marks_one_irrelevant(
    page: Page, seed: Seed, sign_in: Callable[..., None]
) -> None:
    owner_email = seed(_market)
    sign_in(page, owner_email)
    page.goto("/needs/D-NEED")
    panel = page.locator("section.match-panel")
    expect(panel.get_by_role("heading", name="为您推荐")).to_be_visible()
    best = panel.locator("li.match-card[data-offering='S-BEST']")
    expect(best).to_contain_text("冲压件表面缺陷视觉检测系统")
    expect(best.locator(".match-reasons")).to_contain_text("服务江苏省")
    expect(best.locator(".match-reasons")).to_contain_text("预算内")
    expect(best.get_by_role("link", name="申请对接")).to_have_attribute(
        "href", "/dockings/new?offering=S-BEST&need=D-NEED&source=recommendation"
    )
    expect(panel).not_to_contain_text("冲压件表面缺陷视觉检测（浙江）")

    best.locator("summary", has_text="不相关").click()
    best.get_by_label("不相关的原因").fill("我们的冲压件已有检测设备")
    with page.expect_navigation():
        best.get_by_role("button", name="提交反馈").click()
    expect(page.locator(".alert")).to_contain_text("已标记为不相关")
    expect(page.locator("li.match-card[data-offering='S-BEST']")).to_have_count(0)
    expect(page.locator("li.match-card[data-offering='S-SECOND']")).to_have_count(1)
