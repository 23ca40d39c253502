"""Park staff in the browser: the dashboard, the chain map, a 招商 shortlist export and an
invitation the provider accepts."""

from __future__ import annotations

import re
from collections.abc import Callable
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from market.models import Offering
from tests.conftest import make_need, make_offering, make_org, make_park, make_user
from tests.parkops.factories import make_docking, make_recommendation

Seed = Callable[[Callable[[], Any]], Any]


def _world() -> dict[str, str]:
    park = make_park(ref="P-SIP", name="苏州工业园区", province="江苏省", industries=["C36"])
    operator = make_org(kind="park_operator", park=park, name="园区运营公司")
    staff = make_user(
        org=operator, role="park_staff", name="张主任", email="zhang@park.example.com"
    )
    enterprise = make_org(kind="enterprise", park=park, name="苏州精密汽车部件有限公司")
    need = make_need(
        org=enterprise, park=park, category="application.mes", title="冲压车间 MES 上线"
    )
    provider = make_org(kind="solution_provider", name="杭州精益智造有限公司", province="浙江省")
    boss = make_user(org=provider, role="org_admin", name="李经理", email="li@provider.example.com")
    offering = make_offering(
        org=provider,
        category="application.mes",
        title="汽车零部件 MES 精益生产",
        regions=["浙江省"],
    )
    make_recommendation(need, offering, score=86)
    make_docking(park, status="deal", deal_amount=500_000)
    return {
        "staff": staff.email,
        "provider": boss.email,
        "offering": offering.ref or "",
    }


def _mailed_link(outbox: Path) -> str:
    messages = [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted(outbox.glob("*.eml"))
    ]
    assert messages, "no mail sent"
    body = messages[-1].get_body(preferencelist=("plain",))
    assert body is not None
    found = re.search(r"https?://\S+/parkops/invitations/\S+", body.get_content())  # type: ignore[union-attr]
    assert found
    return found.group(0)


def test_staff_use_the_dashboard_chain_map_shortlist_and_invite_a_provider(
    new_page: Callable[[], Page],
    seed: Seed,
    live_server: Any,
    sign_in: Callable[..., None],
    tmp_path: Path,
) -> None:
    world = seed(_world)
    page = new_page()
    sign_in(page, world["staff"])

    page.get_by_role("navigation", name="主导航").get_by_role("link", name="园区运营").click()
    expect(page.locator("h1")).to_contain_text("苏州工业园区 运营看板")
    # Chart.js drew the charts (a canvas it sized), and every chart has its table.
    expect(page.locator("canvas[data-chart]").first).to_be_visible()
    page.wait_for_function("() => window.Chart && Object.keys(window.Chart.instances).length >= 3")
    funnel = page.locator("section.park-chart", has_text="对接漏斗")
    funnel.get_by_text("表格视图").click()
    expect(funnel.locator("table")).to_contain_text("达成合作")

    page.get_by_role("link", name="产业链图谱").click()
    expect(page.locator("h1")).to_contain_text("产业链图谱")
    production = page.locator('tr[data-segment="production"]')
    expect(production).to_have_attribute("data-level", "national")
    production.get_by_role("link", name=re.compile("招商清单")).click()
    expect(page.locator("h1")).to_contain_text("招商清单")
    row = page.locator(f'tr[data-offering="{world["offering"]}"]')
    expect(row).to_contain_text("杭州精益智造有限公司")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="导出 Excel").click()
    download = download_info.value
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert saved.suffix == ".xlsx" and saved.stat().st_size > 0

    row.get_by_role("button", name=re.compile("邀请入园服务")).click()
    expect(page.locator(".alert-success")).to_contain_text("已向 杭州精益智造有限公司 发出邀请")
    expect(page.locator(f'tr[data-offering="{world["offering"]}"]')).to_contain_text("已邀请")

    link = _mailed_link(Path(live_server.app.config["OUTBOX_DIR"]))
    provider = new_page()
    sign_in(provider, world["provider"])
    provider.goto(link)
    expect(provider.locator("h1")).to_contain_text("苏州工业园区 邀请您服务本园区")
    provider.get_by_role("button", name="接受邀请").click()
    expect(provider.locator(".alert-success")).to_contain_text("已接受邀请")

    page.goto("/parkops/parks/P-SIP/invitations")
    expect(page.locator('[data-status="accepted"]')).to_have_count(1)

    def served() -> list[str]:
        from sqlalchemy import select

        from market.core.extensions import db

        offering = db.session.scalar(select(Offering).where(Offering.ref == world["offering"]))
        assert offering is not None
        return [p.ref for p in offering.parks]

    assert seed(served) == ["P-SIP"]


def test_park_operations_pages_pass_axe(
    new_page: Callable[[], Page], seed: Seed, live_server: Any, sign_in: Callable[..., None]
) -> None:
    """axe-core (WCAG 2.1 AA) on every park-operations page type, serious or worse fails."""
    from tests.browser.test_accessibility import AXE_JS, GATED_IMPACTS, RUN_AXE

    if not AXE_JS.exists():
        pytest.skip("axe-core is missing: run `make install`")
    world = seed(_world)
    page = new_page()
    sign_in(page, world["staff"])
    page.goto("/parkops/parks/P-SIP/chain/C36/production")
    page.locator(f'tr[data-offering="{world["offering"]}"]').get_by_role(
        "button", name=re.compile("邀请入园服务")
    ).click()
    expect(page.locator(".alert-success")).to_have_count(1)
    found = []
    for url in (
        "/parkops/parks/P-SIP",
        "/parkops/parks/P-SIP/chain",
        "/parkops/parks/P-SIP/chain/C36/production",
        "/parkops/parks/P-SIP/invitations",
        "/parkops/parks/P-SIP/report",
        _mailed_link(Path(live_server.app.config["OUTBOX_DIR"])),
    ):
        page.goto(url)
        page.evaluate(AXE_JS.read_text(encoding="utf-8"))
        for violation in page.evaluate(RUN_AXE):
            if violation["impact"] in GATED_IMPACTS:
                found.append(f"{url}: {violation['id']} {violation['nodes'][:2]}")
    assert found == []
