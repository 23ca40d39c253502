"""axe-core on every page type, signed out, as each kind of user, and in English.

axe-core comes from the npm registry (package-lock.json; ``make install`` runs
``npm ci``). It is evaluated into each page through the DevTools protocol, so the
site's Content Security Policy stays exactly as real visitors get it. A test fails on
any violation of impact "serious" or "critical", listing every page's findings at
once: rule id, help text, and the selectors of the offending elements.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from market.accounts import service as accounts
from market.models import User
from tests.conftest import make_need, make_offering, make_org, make_park, make_user

Seed = Callable[[Callable[[], Any]], Any]
SignIn = Callable[..., None]

AXE_JS = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
GATED_IMPACTS = ("serious", "critical")

# Runs axe's default rule set (WCAG 2.x A and AA, and best practices) and returns the violations
# as plain data: per offending element its selector and axe's explanation.
RUN_AXE = """
async () => {
  const results = await window.axe.run(document, { resultTypes: ["violations"] });
  return results.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    help: v.help,
    nodes: v.nodes.map((n) => ({
      target: n.target.join(" "),
      why: [...n.any, ...n.all, ...n.none].map((c) => c.message).join("; "),
    })),
  }));
}
"""


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE_JS.exists():
        message = f"{AXE_JS} is missing: run `make install` (npm ci installs axe-core)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return AXE_JS.read_text(encoding="utf-8")


@dataclass
class Audit:
    """Collects the violations of every page a test audits, grouped by rule and element."""

    source: str
    console_errors: list[str]
    impacts: tuple[str, ...] = GATED_IMPACTS
    # (impact, rule id, help) → element selector → (axe's explanation, pages it is on)
    found: dict[tuple[str, str, str], dict[str, tuple[str, list[str]]]] = field(
        default_factory=dict
    )
    pages: int = 0

    def page(self, page: Page, url: str, status: int = 200) -> None:
        """Open ``url``, expect ``status``, and record the page's violations."""
        response = page.goto(url)
        assert response is not None, url
        assert response.status == status, f"{url}: HTTP {response.status}, expected {status}"
        if status >= 400:
            self.expect_error_status(response.url)
        self.current(page, url)

    def expect_error_status(self, url: str) -> None:
        """Chromium logs a page answered with a 4xx as a console error; this one was meant."""
        self.console_errors[:] = [
            error
            for error in self.console_errors
            if not ("the server responded with a status of 4" in error and url in error)
        ]

    def current(self, page: Page, label: str) -> None:
        """Record the violations of the page as it is now, under ``label``."""
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(self.source)
        self.pages += 1
        for violation in page.evaluate(RUN_AXE):
            if violation["impact"] not in self.impacts:
                continue
            key = (violation["impact"], violation["id"], violation["help"])
            elements = self.found.setdefault(key, {})
            for node in violation["nodes"]:
                elements.setdefault(node["target"], (node["why"], []))[1].append(label)

    def report(self) -> str:
        lines = []
        for (impact, rule, help_text), elements in sorted(self.found.items()):
            lines.append(f"[{impact}] {rule}: {help_text}")
            for target, (why, labels) in elements.items():
                more = f" and {len(labels) - 3} more" if len(labels) > 3 else ""
                lines.append(f"    {target} on {', '.join(labels[:3])}{more}")
                if why:
                    lines.append(f"        {why}")
        return "\n".join(lines)

    def check(self) -> None:
        """Fails the test, listing every finding, if any page had a gated violation."""
        if self.found:
            pytest.fail(
                f"accessibility violations on {self.pages} audited pages:\n" + self.report(),
                pytrace=False,
            )


@pytest.fixture
def audit(axe_source: str, console_errors: list[str]) -> Audit:
    return Audit(axe_source, console_errors)


def _user(**fields: Any) -> User:
    """make_user with the shared PASSWORD (its hash is made once per run)."""
    return make_user(**fields)


@dataclass(frozen=True)
class World:
    park: str
    org: str
    staff: str
    admin: str
    vendor: str
    financier: str
    trainer: str
    enterprise: str
    enterprise_org: str
    solution: str
    finance: str
    training: str
    pending: str
    rejected: str
    need: str
    pending_need: str
    reset_token: str
    invite_token: str


def _world() -> World:
    park = make_park(name="示例高新区", province="江苏省", city="苏州市")
    operator = make_org(kind="park_operator", park=park, name="示例高新区运营公司")
    staff = _user(org=operator, role="park_staff", name="张主任")
    admin = _user(role="admin", name="平台管理员")
    vendor_org = make_org(kind="solution_provider", name="示例智造科技有限公司")
    vendor = _user(org=vendor_org, role="org_admin", name="李经理")
    _user(org=vendor_org, name="赵工")
    bank = make_org(kind="financial_institution", name="示例银行苏州分行")
    financier = _user(org=bank, role="org_admin", name="钱经理")
    school = make_org(kind="training_body", name="示例职业技能培训学校")
    trainer = _user(org=school, role="org_admin", name="孙老师")
    factory = make_org(kind="enterprise", park=park, name="示例精密制造有限公司")
    enterprise = _user(org=factory, role="org_admin", name="王工")

    solution = make_offering(org=vendor_org, parks=[park])
    finance = make_offering(
        org=bank,
        kind="finance",
        category="finance.loan",
        title="智改数转专项贷款",
        price_min=None,
        price_max=None,
        price_unit=None,
        amount_min=1_000_000,
        amount_max=10_000_000,
        rate_min=3.2,
        rate_max=4.5,
        term_months_max=36,
        eligible_sizes=["small", "medium"],
    )
    training = make_offering(
        org=school,
        kind="training",
        category="talent.lecture",
        title="工业互联网平台应用实训",
        mode="offline",
        starts_on=date.today() + timedelta(days=30),
        capacity=40,
        certificate="结业证书",
    )
    pending = make_offering(
        org=vendor_org, parks=[park], title="注塑车间能耗监测", status="pending"
    )
    rejected = make_offering(
        org=vendor_org,
        title="设备预测性维护",
        status="rejected",
        reject_reason="价格区间与描述不符，请补充报价包含的内容",
    )
    make_offering(org=vendor_org, title="仓储标识解析试点", status="draft")
    need = make_need(org=factory, park=park)
    pending_need = make_need(
        org=factory, park=park, title="冲压线设备联网与OEE看板", status="pending"
    )
    make_need(
        org=factory,
        park=park,
        kind="finance",
        category="finance.leasing",
        title="新产线设备融资租赁",
        amount=5_000_000,
        term_months=24,
    )
    return World(
        park=str(park.ref),
        org=str(vendor_org.ref),
        staff=staff.email,
        admin=admin.email,
        vendor=vendor.email,
        financier=financier.email,
        trainer=trainer.email,
        enterprise=enterprise.email,
        enterprise_org=str(factory.ref),
        solution=str(solution.ref),
        finance=str(finance.ref),
        training=str(training.ref),
        pending=str(pending.ref),
        rejected=str(rejected.ref),
        need=str(need.ref),
        pending_need=str(pending_need.ref),
        reset_token=accounts.reset_token(vendor),
        invite_token=accounts.invitation_token(
            vendor_org.id, "new-colleague@example.com", "member"
        ),
    )


@pytest.fixture
def world(seed: Seed) -> World:
    return seed(_world)


def test_audit_reports_planted_violations(page: Page, audit: Audit) -> None:
    """The gate itself: an unlabelled field and pale text are caught and reported."""
    audit.page(page, "/auth/login")
    assert not audit.found
    page.evaluate(
        """() => {
          const main = document.querySelector("main");
          main.append(document.createElement("input"));
          const pale = document.createElement("p");
          pale.textContent = "浅灰色的说明文字";
          pale.style.color = "#bbb";
          main.append(pale);
        }"""
    )
    audit.current(page, "/auth/login (planted)")
    assert {rule for _impact, rule, _help in audit.found} == {"label", "color-contrast"}
    assert "main > input" in audit.report()
    with pytest.raises(pytest.fail.Exception, match="color-contrast"):
        audit.check()


def test_public_pages_have_no_serious_violations(page: Page, world: World, audit: Audit) -> None:
    audit.page(page, "/")
    audit.page(page, "/offerings/")
    audit.page(page, "/offerings/?kind=finance&province=江苏省")
    audit.page(page, "/offerings/?category=application.quality&q=检测")
    audit.page(page, "/offerings/?category=network.tsn")  # no results
    audit.page(page, f"/offerings/{world.solution}")
    audit.page(page, f"/offerings/{world.finance}")
    audit.page(page, f"/offerings/{world.training}")
    audit.page(page, "/search/")
    audit.page(page, "/search/?q=检测")
    audit.page(page, "/search/?q=联网&index=needs")
    audit.page(page, "/search/?q=没有这样的词语")
    audit.page(page, "/needs/")
    audit.page(page, "/needs/?kind=finance")
    audit.page(page, f"/needs/{world.need}")
    audit.page(page, "/parks/")
    audit.page(page, "/parks/?province=江苏省&level=national")
    audit.page(page, f"/parks/{world.park}")
    audit.page(page, f"/orgs/{world.org}")
    audit.page(page, f"/orgs/{world.enterprise_org}")
    audit.check()


def test_sign_in_and_account_recovery_pages_have_no_serious_violations(
    page: Page, world: World, audit: Audit
) -> None:
    audit.page(page, "/auth/login")
    page.fill("main input[name=email]", world.vendor)
    page.fill("main input[name=password]", "wrong-password-1")
    with page.expect_navigation():
        page.press("main input[name=password]", "Enter")
    audit.current(page, "/auth/login (wrong password)")
    audit.page(page, "/auth/signup")
    with page.expect_navigation():
        page.get_by_role("button", name="注册").click()
    audit.current(page, "/auth/signup (empty form, field errors)")
    audit.page(page, "/auth/signup/sent")
    audit.page(page, "/auth/confirm/not-a-token", status=400)
    audit.page(page, "/auth/forgot")
    audit.page(page, f"/auth/reset/{world.reset_token}")
    audit.page(page, "/auth/reset/not-a-token", status=400)
    audit.page(page, f"/auth/invite/{world.invite_token}")
    audit.check()


def test_error_pages_have_no_serious_violations(page: Page, world: World, audit: Audit) -> None:
    audit.page(page, "/no-such-page", status=404)
    audit.page(page, "/offerings/S-9999", status=404)
    audit.page(page, "/auth/logout", status=405)
    audit.check()


def test_vendor_pages_have_no_serious_violations(
    page: Page, world: World, audit: Audit, sign_in: SignIn
) -> None:
    sign_in(page, world.vendor)
    audit.page(page, "/auth/account")
    audit.page(page, "/auth/password")
    audit.page(page, f"/orgs/{world.org}/edit")
    audit.page(page, f"/orgs/{world.org}/members")
    audit.page(page, "/offerings/mine")
    audit.page(page, "/offerings/mine?status=rejected")
    audit.page(page, "/offerings/new?kind=solution")
    page.select_option("select[name=category]", "application.quality")
    page.fill("input[name=title]", "写了一半的供给")
    page.fill("input[name=price_min]", "500")
    page.fill("input[name=price_max]", "100")
    page.wait_for_timeout(600)  # the local copy is written shortly after typing stops
    with page.expect_navigation():
        page.get_by_role("button", name="保存草稿").click()
    expect(page.locator(".invalid-feedback").first).to_be_visible()
    audit.current(page, "/offerings/new (field errors)")
    page.goto("/offerings/new?kind=solution")
    expect(page.locator("[data-autosave-notice]")).to_be_visible()
    audit.current(page, "/offerings/new (restore notice)")
    audit.page(page, f"/offerings/{world.rejected}/edit")
    audit.page(page, f"/offerings/{world.rejected}")  # owner panel with the reason
    audit.page(page, f"/offerings/{world.pending}/preview")
    audit.page(page, "/offerings/upload")
    header = "标题*,分类代码*,详细描述*\r\n"
    rows = ",no.such.category,\r\n" * 3
    page.set_input_files(
        "input[type=file]",
        {"name": "offerings.csv", "mimeType": "text/csv", "buffer": (header + rows).encode()},
    )
    with page.expect_navigation():
        page.get_by_role("button", name="上传").click()
    expect(page.locator("table.upload-errors")).to_be_visible()
    audit.expect_error_status(page.url)
    audit.current(page, "/offerings/upload (error table)")
    audit.page(page, "/moderation/", status=403)
    audit.check()


def test_finance_and_training_editors_have_no_serious_violations(
    new_page: Callable[[], Page], world: World, audit: Audit, sign_in: SignIn
) -> None:
    banker = new_page()
    sign_in(banker, world.financier)
    audit.page(banker, "/offerings/new?kind=finance")
    audit.page(banker, f"/offerings/{world.finance}/edit")
    teacher = new_page()
    sign_in(teacher, world.trainer)
    audit.page(teacher, "/offerings/new?kind=training")
    audit.page(teacher, f"/offerings/{world.training}/edit")
    audit.page(teacher, "/offerings/mine")
    audit.check()


def test_enterprise_pages_have_no_serious_violations(
    page: Page, world: World, audit: Audit, sign_in: SignIn
) -> None:
    sign_in(page, world.enterprise)
    audit.page(page, "/needs/mine")
    audit.page(page, "/needs/new")
    page.select_option("select[name=category]", "finance.leasing")  # shows the finance part
    audit.current(page, "/needs/new (finance category)")
    audit.page(page, f"/needs/{world.need}/edit")
    audit.page(page, f"/needs/{world.pending_need}")
    audit.page(page, f"/needs/{world.pending_need}/preview")
    audit.page(page, f"/orgs/{world.enterprise_org}/members")
    audit.check()


def test_staff_and_admin_pages_have_no_serious_violations(
    new_page: Callable[[], Page], world: World, audit: Audit, sign_in: SignIn
) -> None:
    staff = new_page()
    sign_in(staff, world.staff)
    audit.page(staff, "/moderation/")
    expect(staff.locator("main")).to_contain_text("注塑车间能耗监测")
    admin = new_page()
    sign_in(admin, world.admin)
    audit.page(admin, "/moderation/")
    audit.page(admin, "/admin/")
    audit.page(admin, "/admin/orgs")
    audit.page(admin, "/admin/orgs?q=示例")
    audit.page(admin, "/admin/users")
    audit.page(admin, "/admin/concepts?q=仓储&term=货老是送错")
    audit.page(admin, "/admin/concepts/wms?term=货老是送错")
    admin.goto("/search/?q=货老是送错")  # a search that finds nothing, for the list's table
    audit.page(admin, "/admin/concepts/zero-results")
    expect(admin.locator("tr[data-query]")).to_have_count(1)
    audit.page(admin, "/admin/no-such-page", status=404)
    audit.check()


def test_english_pages_have_no_serious_violations(
    page: Page, world: World, audit: Audit, sign_in: SignIn
) -> None:
    page.goto("/")
    with page.expect_navigation():
        page.get_by_role("button", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    audit.current(page, "/ (English)")
    audit.page(page, "/offerings/")
    audit.page(page, f"/offerings/{world.finance}")
    audit.page(page, f"/parks/{world.park}")
    audit.page(page, "/auth/login")
    audit.page(page, "/no-such-page", status=404)
    sign_in(page, world.vendor)
    audit.page(page, "/offerings/new?kind=solution")
    audit.page(page, "/offerings/mine")
    audit.check()


def test_phone_width_pages_have_no_serious_violations(
    page: Page, world: World, audit: Audit
) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    audit.page(page, "/")
    page.get_by_role("button", name="展开导航").click()
    expect(page.locator("#nav-main")).to_be_visible()
    audit.current(page, "/ (phone, navigation open)")
    audit.page(page, "/offerings/")
    audit.page(page, f"/offerings/{world.solution}")
    audit.check()
