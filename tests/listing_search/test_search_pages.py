"""The search page (/search/) and its suggestions: what a visitor sees for each state."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from market.core.extensions import db
from market.listing_search import indexing
from search import IndexUnavailable
from tests.conftest import make_need, make_offering, make_org, make_park

FACET_LINK = re.compile(
    r'<a class="facet-link( selected)?" rel="nofollow"\s+href="([^"]+)"\s+'
    r'data-facet="([^"]+)" data-value="([^"]*)"[^>]*>.*?<span class="facet-count">(\d+)</span>',
    re.S,
)


def _world() -> dict[str, Any]:
    park = make_park(ref="P-SIP", name="苏州工业园区", province="江苏省")
    vision = make_org(kind="solution_provider", name="慧眼视觉科技有限公司", province="江苏省")
    bank = make_org(kind="financial_institution", name="示例融资租赁有限公司")
    enterprise = make_org(kind="enterprise", name="示例精密冲压有限公司", park=park)
    world = {
        "stamping": make_offering(
            org=vision,
            ref="S-0001",
            title="冲压件表面缺陷视觉检测",
            regions=["江苏省"],
            parks=[park],
        ),
        "cloud": make_offering(
            org=vision,
            ref="S-0002",
            title="智能质检云平台",
            summary="面向中小企业的质检SaaS，按月订阅。",
            regions=["全国"],
            price_min=30_000,
            price_max=60_000,
        ),
        "mes": make_offering(
            org=vision,
            ref="S-0003",
            category="application.mes",
            title="MES系统快速实施",
            summary="生产执行系统，含质检模块。",
            tags=["MES"],
            regions=["浙江省"],
            price_min=1_500_000,
            price_max=2_000_000,
        ),
        "leasing": make_offering(
            org=bank,
            ref="S-0004",
            kind="finance",
            category="finance.leasing",
            title="设备融资租赁",
            summary="检测设备、产线设备融资租赁。",
            tags=["融资租赁"],
            regions=["江苏省"],
            price_min=None,
            price_max=None,
        ),
        "draft": make_offering(org=vision, ref="S-0005", title="草稿里的质检方案", status="draft"),
        "archived": make_offering(
            org=vision, ref="S-0006", title="已下架的质检服务", status="archived"
        ),
        "need": make_need(org=enterprise, park=park, ref="D-0001", title="冲压件质检自动化改造"),
        "security_need": make_need(
            org=enterprise,
            park=park,
            ref="D-0002",
            category="security.classification",
            title="网络安全等级保护测评",
            tags=["网络安全"],
        ),
        "draft_need": make_need(
            org=enterprise, park=park, ref="D-0003", title="草稿质检需求", status="draft"
        ),
    }
    db.session.commit()
    return world


def _html(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def _total(html: str) -> int:
    found = re.search(r'data-total="(\d+)"', html)
    assert found, "no result count on the page"
    return int(found.group(1))


def _refs(html: str) -> list[str]:
    return re.findall(r'class="card listing-card search-hit mb-3" data-ref="([^"]+)"', html)


def test_two_character_word_is_found_inside_longer_words_and_highlighted(
    client: FlaskClient,
) -> None:
    _world()
    html = _html(client, "/search/?q=质检")
    assert "S-0002" in _refs(html)
    # 智能质检 is a narrower concept of 质检 in the concept map: marked whole.
    assert "<mark>智能质检</mark>云平台" in html
    # Who offers it, its price and where, at a glance.
    assert "慧眼视觉科技有限公司" in html
    assert "3 万元 – 6 万元" in html
    assert "全国" in html


def test_drafts_pending_and_archived_listings_never_show(client: FlaskClient) -> None:
    _world()
    html = _html(client, "/search/?q=质检")
    assert "S-0002" in _refs(html)
    assert not {"S-0005", "S-0006"} & set(_refs(html))
    assert "草稿里的质检方案" not in html and "已下架的质检服务" not in html
    needs = _html(client, "/search/?q=质检&index=needs")
    assert _refs(needs) == ["D-0001"] and "草稿质检需求" not in needs
    assert set(_refs(_html(client, "/search/"))) == {"S-0001", "S-0002", "S-0003", "S-0004"}


def test_each_facet_count_equals_the_results_its_link_shows(client: FlaskClient) -> None:
    _world()
    for start in ("/search/", "/search/?q=质检", "/search/?index=needs"):
        html = _html(client, start)
        links = FACET_LINK.findall(html)
        assert "category" in {facet for _sel, _href, facet, _v, _n in links}
        for selected, href, facet, value, count in links:
            assert not selected
            followed = _html(client, href.replace("&amp;", "&"))
            assert _total(followed) == int(count), (start, facet, value)


def test_a_selected_facet_keeps_the_other_facets_counts_consistent(client: FlaskClient) -> None:
    _world()
    html = _html(client, "/search/?province=江苏省")
    # 全国 counts as every province: the nationwide offering is in 江苏省's results.
    assert set(_refs(html)) == {"S-0001", "S-0002", "S-0004"}
    for selected, href, facet, value, count in FACET_LINK.findall(html):
        if not selected and facet != "province":
            assert _total(_html(client, href.replace("&amp;", "&"))) == int(count), (facet, value)


def test_category_tree_drills_down_to_a_subcategory(client: FlaskClient) -> None:
    _world()
    html = _html(client, "/search/?category=application")
    child = next(
        href
        for _s, href, facet, value, _n in FACET_LINK.findall(html)
        if value == "application.quality"
    )
    assert parse_qs(urlsplit(child.replace("&amp;", "&")).query)["category"] == [
        "application.quality"
    ]
    assert set(_refs(_html(client, child.replace("&amp;", "&")))) == {"S-0001", "S-0002"}


def test_every_state_is_in_the_url_and_kept_by_links_and_the_form(client: FlaskClient) -> None:
    _world()
    html = _html(client, "/search/?q=质检&kind=solution&sort=price")
    assert '<input type="hidden" name="kind" value="solution">' in html
    assert '<input type="hidden" name="sort" value="price">' in html
    assert 'value="质检"' in html
    assert '<strong aria-current="true">价格从低到高</strong>' in html
    for _sel, href, _facet, _value, _n in FACET_LINK.findall(html):
        query = parse_qs(urlsplit(href.replace("&amp;", "&")).query)
        assert query["q"] == ["质检"] and query["sort"] == ["price"]
    assert _refs(html)[:2] == ["S-0002", "S-0001"]  # cheapest first


def test_needs_tab_searches_needs_and_links_to_them(client: FlaskClient) -> None:
    _world()
    html = _html(client, "/search/?q=质检&index=needs")
    assert _refs(html) == ["D-0001"]
    assert 'href="/needs/D-0001"' in html
    assert 'class="nav-link active" aria-current="page" data-index="needs"' in html


def test_empty_result_suggests_synonyms_the_other_tab_and_categories(client: FlaskClient) -> None:
    _world()
    html = _html(client, "/search/?q=等保")
    assert _total(html) == 0
    assert "没有找到与“等保”相关的供给" in html
    assert "网络安全等级保护" in html  # a synonym to try
    assert "在需求中有 1 条结果" in html
    assert "按方向浏览" in html and "category=network" in html
    unfiltered = _total(_html(client, "/search/?q=质检"))
    filtered = _html(client, "/search/?q=质检&kind=training")
    assert _total(filtered) == 0
    assert f"去掉筛选条件后有 {unfiltered} 条结果" in filtered


def test_highlights_are_html_escaped(client: FlaskClient) -> None:
    make_offering(title="<script>alert(1)</script> 质检工具", summary="<b>粗体</b> 质检")
    db.session.commit()
    html = _html(client, "/search/?q=质检")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; <mark>质检</mark>工具" in html
    assert "<b>粗体</b>" not in html


@pytest.mark.parametrize(
    "query",
    [
        "q=" + "质" * 10_000,
        "q=%22OR%20NEAR(*)%20AND%20-x:y%5E2%22",
        "q=*&sort=bogus&index=bogus&page=abc",
        "q=mes&page=-3",
        "q=mes&page=99999999999999999999",
        "kind=" + "x" * 500 + "&category=nope&price_band=%3C5万&province=火星",
        "&".join(f"category=c{i}" for i in range(60)),
        "q=%E2%80%AE%F0%9F%98%80%5C%27%3B--",
    ],
)
def test_junk_input_never_causes_a_server_error(client: FlaskClient, query: str) -> None:
    _world()
    assert client.get(f"/search/?{query}").status_code == 200
    assert client.get(f"/search/suggest?{query}").status_code == 200


def test_results_are_paginated_with_the_query_kept(client: FlaskClient, app: Flask) -> None:
    org = make_org(kind="solution_provider")
    for i in range(25):
        make_offering(org=org, title=f"视觉检测方案{i:02d}")
    db.session.commit()
    first = _html(client, "/search/?q=视觉检测")
    assert _total(first) == 25 and len(_refs(first)) == app.config["PAGE_SIZE"]
    assert 'href="/search/?q=%E8%A7%86%E8%A7%89%E6%A3%80%E6%B5%8B&amp;page=2" rel="next"' in first
    second = _html(client, "/search/?q=视觉检测&page=2")
    assert len(_refs(second)) == 5 and not set(_refs(second)) & set(_refs(first))


def test_suggestions_are_json_with_escaped_highlights_and_links(client: FlaskClient) -> None:
    _world()
    body = client.get("/search/suggest?q=质检").get_json()
    assert body["query"] == "质检" and body["index"] == "offerings"
    by_ref = {s["ref"]: s for s in body["suggestions"]}
    assert by_ref["S-0002"]["html"] == "智能<mark>质检</mark>云平台"
    assert by_ref["S-0002"]["url"] == "/offerings/S-0002"
    assert not {"S-0005", "S-0006"} & set(by_ref)
    needs = client.get("/search/suggest?q=冲压&index=needs").get_json()
    assert needs["suggestions"][0]["ref"] == "D-0001"
    assert client.get("/search/suggest?q=%20").get_json()["suggestions"] == []


def test_home_page_and_navbar_lead_to_the_search_page(client: FlaskClient) -> None:
    html = _html(client, "/")
    assert 'method="get" action="/search/" role="search"' in html
    assert 'href="/search/">搜索</a>' in html
    assert 'data-suggest-url="/search/suggest"' in html
    assert "js/search.js" in html


def test_an_unreachable_search_engine_shows_a_notice_not_an_error(
    client: FlaskClient, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise IndexUnavailable("connection refused")

    monkeypatch.setattr(indexing, "backend", down)
    response = client.get("/search/?q=质检")
    assert response.status_code == 503
    assert "搜索服务暂时不可用" in response.get_data(as_text=True)
    assert client.get("/search/suggest?q=质检").get_json()["suggestions"] == []
