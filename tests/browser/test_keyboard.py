"""The site by keyboard alone: Tab order, visible focus, the skip link, forms, the phone menu.

Every key press goes through Playwright's keyboard, as a person without a mouse would
use the site; nothing is clicked or filled directly once a test's page is open.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from market.core.extensions import db
from market.models import Need, Offering
from tests.conftest import make_need, make_offering, make_org, make_park, make_user

Seed = Callable[[Callable[[], Any]], Any]
SignIn = Callable[..., None]
MAX_TAB_STOPS = 150
# Bootstrap's translucent ring on white measures 1.4:1 against the page; a ring below
# 1.3:1 is one nobody sees (Bootstrap's blue ring on the blue navigation bar is 1.05:1).
MIN_RING_CONTRAST = 1.3

# Describes the focused element after a Tab: where it is in the document, whether it
# can be seen, and its focus ring; also whether the element focused before it lost its
# ring once focus moved on (so the ring is a focus style, not a permanent decoration).
# The ring's contrast is measured against what is behind it: the nearest ancestor's
# background colour, or the first colour of its gradient. Chromium's own "auto" outline
# is two-tone and shows on any background.
FOCUS_STEP = """
() => {
  const rgba = (text) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(text || "");
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const luminance = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const contrast = (x, y) => {
    const [hi, lo] = [luminance(x), luminance(y)].sort((p, q) => q - p);
    return (hi + 0.05) / (lo + 0.05);
  };
  const behind = (el) => {
    for (let node = el.parentElement; node; node = node.parentElement) {
      const s = getComputedStyle(node);
      const color = rgba(s.backgroundColor);
      if (color && color.a > 0) return over(color, { r: 255, g: 255, b: 255, a: 1 });
      if (s.backgroundImage.includes("gradient")) return rgba(s.backgroundImage);
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const ring = (el) => {
    const s = getComputedStyle(el);
    const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
    let ratio = null;
    if (outline && s.outlineStyle === "auto") ratio = Infinity;
    else if (outline || s.boxShadow !== "none") {
      const color = rgba(outline ? s.outlineColor : s.boxShadow);
      const back = behind(el);
      ratio = color ? contrast(over(color, back), back) : Infinity;
    }
    return {
      visible: outline || s.boxShadow !== "none",
      ratio,
      key: [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow,
            s.borderColor, s.backgroundColor, s.color, s.textDecorationLine].join("|"),
    };
  };
  const previous = window.__kbPrevious;
  let previousChanged = null;
  if (previous && previous.el !== document.activeElement && previous.el.isConnected) {
    previousChanged = ring(previous.el).key !== previous.key;
  }
  const el = document.activeElement;
  if (!el || el === document.body || el === document.documentElement) {
    window.__kbPrevious = null;
    return { element: null, previous: previous ? previous.label : null, previousChanged };
  }
  const all = document.getElementsByTagName("*");
  const index = Array.prototype.indexOf.call(all, el);
  const r = el.getBoundingClientRect();
  const label = (el.getAttribute("aria-label") || el.innerText || el.value || el.name ||
                 el.id || el.tagName).trim().split("\\n")[0].slice(0, 40);
  const focusRing = ring(el);
  window.__kbPrevious = { el, key: focusRing.key, label };
  return {
    element: {
      index,
      label: `${el.tagName.toLowerCase()} "${label}"`,
      inNav: !!el.closest("nav.navbar"),
      inMain: !!el.closest("main"),
      focusVisible: el.matches(":focus-visible"),
      ring: focusRing.visible,
      ringContrast: focusRing.ratio,
      onScreen: r.width > 0 && r.height > 0 && r.bottom > 0 && r.right > 0 &&
                r.top < window.innerHeight && r.left < window.innerWidth,
    },
    previous: previous ? previous.label : null,
    previousChanged,
  };
}
"""

# Every control a keyboard user should be able to reach: shown, enabled, not inert.
REACHABLE = """
() => {
  const selector = "a[href], button, input:not([type=hidden]), select, textarea, summary, " +
                   "[tabindex]:not([tabindex='-1'])";
  const all = document.getElementsByTagName("*");
  return Array.from(document.querySelectorAll(selector))
    .filter((el) => !el.disabled && !el.closest("[inert]") &&
                    el.checkVisibility({ visibilityProperty: true, opacityProperty: false }))
    .filter((el) => !(el.closest("details:not([open])") && el.tagName !== "SUMMARY"))
    .map((el) => ({
      index: Array.prototype.indexOf.call(all, el),
      label: `${el.tagName.toLowerCase()} "${(el.getAttribute("aria-label") || el.innerText ||
              el.name || el.id || "").trim().split("\\n")[0].slice(0, 40)}"`,
      positive: el.tabIndex > 0,
    }));
}
"""


@dataclass(frozen=True)
class Stop:
    index: int
    label: str
    in_nav: bool
    in_main: bool


def tab_through(page: Page) -> list[Stop]:
    """Press Tab until focus comes round again; the stops in order, from the skip link.

    Asserts for every stop that it is on screen and has a focus ring that stands out
    from the background (MIN_RING_CONTRAST) and goes away when focus moves on. Motion
    is reduced so that Bootstrap's smooth scrolling has brought each focused element
    into view by the time it is looked at.
    """
    page.emulate_media(reduced_motion="reduce")
    page.evaluate("() => { window.__kbPrevious = null; }")
    stops: list[Stop] = []
    seen: set[int] = set()
    problems: list[str] = []
    for _ in range(MAX_TAB_STOPS):
        page.keyboard.press("Tab")
        step = page.evaluate(FOCUS_STEP)
        if step["previousChanged"] is False:
            problems.append(f"{step['previous']}: looks the same focused and unfocused")
        element = step["element"]
        if element is None:
            continue  # focus left the page after the last control; the next Tab wraps
        if element["index"] in seen:
            break
        seen.add(element["index"])
        label = element["label"]
        if not element["onScreen"]:
            problems.append(f"{label}: focused but not on screen")
        if not (element["focusVisible"] and element["ring"]):
            problems.append(f"{label}: no visible focus ring")
        elif element["ringContrast"] < MIN_RING_CONTRAST:
            ratio = element["ringContrast"]
            problems.append(f"{label}: focus ring {ratio:.2f}:1 against its background")
        stops.append(Stop(element["index"], label, element["inNav"], element["inMain"]))
    else:
        pytest.fail(f"focus did not come round within {MAX_TAB_STOPS} Tab presses")
    assert not problems, "\n".join(problems)
    first = min(range(len(stops)), key=lambda i: stops[i].index)
    return stops[first:] + stops[:first]


def assert_sensible_tab_order(page: Page, stops: list[Stop]) -> None:
    """Skip link first, then the navigation, then the content, in document order, and
    every visible control reached."""
    assert stops[0].label.startswith("a ") and "跳到正文" in stops[0].label, stops[0]
    order = [stop.index for stop in stops]
    assert order == sorted(order), "Tab order departs from the document order: " + ", ".join(
        stop.label for stop in stops
    )
    first_main = next(i for i, stop in enumerate(stops) if stop.in_main)
    assert any(stop.in_nav for stop in stops[1:first_main]), "the navigation is not reachable"
    assert not any(stop.in_nav for stop in stops[first_main:]), "navigation after the content"
    controls = page.evaluate(REACHABLE)
    assert not [c["label"] for c in controls if c["positive"]], "positive tabindex"
    reached = {stop.index for stop in stops}
    missed = [c["label"] for c in controls if c["index"] not in reached]
    assert not missed, f"not reachable by Tab: {missed}"


def tab_to(page: Page, selector: str) -> None:
    """Press Tab until the focused element matches ``selector``; fails if it never does."""
    for _ in range(MAX_TAB_STOPS):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => !!document.activeElement?.matches(s)", selector):
            return
    pytest.fail(f"could not reach {selector} with Tab")


def assert_skip_link_moves_focus_to_main(page: Page) -> None:
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")
    assert page.evaluate("() => !!document.activeElement.closest('main')"), (
        "the Tab after the skip link did not land in the content"
    )


@dataclass(frozen=True)
class World:
    vendor: str
    staff: str
    park: str
    pending_offering: str
    pending_need: str


def _world() -> World:
    park = make_park(name="示例高新区")
    staff = make_user(org=make_org(kind="park_operator", park=park), role="park_staff")
    vendor_org = make_org(kind="solution_provider", name="示例智造科技有限公司")
    vendor = make_user(org=vendor_org, role="org_admin", name="李经理")
    make_offering(org=vendor_org, parks=[park])
    make_offering(org=vendor_org, kind="finance", category="finance.loan", title="智改数转专项贷款")
    pending = make_offering(
        org=vendor_org, parks=[park], title="注塑车间能耗监测", status="pending"
    )
    factory = make_org(kind="enterprise", park=park)
    make_need(org=factory, park=park)
    pending_need = make_need(org=factory, park=park, title="冲压线设备联网", status="pending")
    return World(vendor.email, staff.email, str(park.ref), str(pending.ref), str(pending_need.ref))


@pytest.fixture
def world(seed: Seed) -> World:
    return seed(_world)


def test_tab_checks_catch_planted_defects(page: Page, world: World) -> None:
    """The checks themselves: a link without a focus ring and a positive tabindex fail."""
    page.goto("/parks/")
    page.evaluate(
        """() => {
          const link = document.querySelector("main a[href]");
          link.style.outline = "none";
          link.style.boxShadow = "none";
        }"""
    )
    with pytest.raises(AssertionError, match="no visible focus ring"):
        tab_through(page)
    page.goto("/parks/")
    page.evaluate("() => { document.querySelector('footer').setAttribute('tabindex', '1'); }")
    with pytest.raises(AssertionError, match=r"document order|positive tabindex"):
        assert_sensible_tab_order(page, tab_through(page))


@pytest.mark.parametrize("url", ["/", "/offerings/?kind=solution"])
def test_public_pages_tab_in_order_with_visible_focus(page: Page, world: World, url: str) -> None:
    page.goto(url)
    stops = tab_through(page)
    assert_sensible_tab_order(page, stops)
    page.goto(url)
    assert_skip_link_moves_focus_to_main(page)


def test_offerings_can_be_filtered_by_keyboard(page: Page, world: World) -> None:
    page.goto("/offerings/")
    tab_to(page, "#f-q")
    page.keyboard.type("贷款")
    tab_to(page, "#f-kind")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")  # 全部 → 解决方案 → 金融产品
    expect(page.locator("#f-kind")).to_have_value("finance")
    tab_to(page, ".listing-filters button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text("智改数转专项贷款")
    expect(page.locator("main")).not_to_contain_text("冲压件表面缺陷视觉检测")


def test_sign_in_by_keyboard(page: Page, world: World) -> None:
    page.goto("/auth/login")
    # The email field takes focus on arrival: signing in is what this page is for.
    expect(page.locator("main input[name=email]")).to_be_focused()
    stops = tab_through(page)
    assert_sensible_tab_order(page, stops)

    page.goto("/auth/login")
    page.keyboard.type(world.vendor)
    page.keyboard.press("Tab")
    expect(page.locator("main input[name=password]")).to_be_focused()
    page.keyboard.type("wrong-password-1")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_be_visible()
    tab_to(page, "main input[name=password]")
    page.keyboard.type("correct-horse-9")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("form[action$='/auth/logout']")).to_have_count(1)


def test_vendor_lists_an_offering_by_keyboard(
    page: Page, world: World, seed: Seed, sign_in: SignIn
) -> None:
    sign_in(page, world.vendor)
    page.goto("/offerings/new")
    stops = tab_through(page)
    assert_sensible_tab_order(page, stops)

    page.goto("/offerings/new")
    tab_to(page, "select[name=category]")
    page.keyboard.press("ArrowDown")  # the first category
    tab_to(page, "input[name=title]")
    page.keyboard.type("键盘发布的供给")
    tab_to(page, "textarea[name=description]")
    page.keyboard.type("全程只用键盘填写并提交。")
    tab_to(page, "button[name=save_submit], input[name=save_submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".owner-panel")).to_contain_text("待审核")
    status = seed(
        lambda: db.session.scalar(
            db.select(Offering.status).where(Offering.title == "键盘发布的供给")
        )
    )
    assert status == "pending"


def test_staff_moderates_by_keyboard(page: Page, world: World, seed: Seed, sign_in: SignIn) -> None:
    sign_in(page, world.staff)
    page.goto("/moderation/")
    stops = tab_through(page)
    assert_sensible_tab_order(page, stops)

    page.goto("/moderation/")
    tab_to(page, f"#reason-offering-{world.pending_offering}")
    page.keyboard.type("请补充报价包含的内容")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator(".alert-success")).to_contain_text("已驳回")
    tab_to(page, "form[action*='/need/'][action$='/approve'] button")
    with page.expect_navigation():
        page.keyboard.press("Space")
    expect(page.locator(".alert-success")).to_contain_text("已审核通过")

    def statuses() -> tuple[str | None, str | None]:
        offering = db.session.scalar(
            db.select(Offering.status).where(Offering.ref == world.pending_offering)
        )
        need = db.session.scalar(db.select(Need.status).where(Need.ref == world.pending_need))
        return offering, need

    assert seed(statuses) == ("rejected", "open")


def test_phone_menu_opens_and_closes_by_keyboard(page: Page, world: World) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    page.goto("/")
    toggler = page.locator(".navbar-toggler")
    menu = page.locator("#nav-main")
    expect(menu).to_be_hidden()
    stops = tab_through(page)
    assert_sensible_tab_order(page, stops)  # the hidden menu's links are not Tab stops

    page.goto("/")
    tab_to(page, ".navbar-toggler")
    page.keyboard.press("Enter")
    expect(toggler).to_have_attribute("aria-expanded", "true")
    expect(menu).to_have_class(re.compile(r"\bshow\b"))  # the opening animation is over
    page.keyboard.press("Tab")
    expect(menu.get_by_role("link", name="供给")).to_be_focused()
    page.keyboard.press("Shift+Tab")
    expect(toggler).to_be_focused()
    page.keyboard.press("Space")
    expect(toggler).to_have_attribute("aria-expanded", "false")
    expect(menu).to_have_class(re.compile(r"^(?!.*\bcollapsing\b)(?!.*\bshow\b)"))
    expect(menu).to_be_hidden()
    page.keyboard.press("Space")
    expect(menu).to_have_class(re.compile(r"\bshow\b"))
    tab_to(page, "#nav-main a[href$='/needs/']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url.endswith("/needs/")
