"""The home page answers "what is here for me": search, categories, listings, parks, figures."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from market.core.extensions import db
from market.models import utcnow
from tests.conftest import make_need, make_offering, make_org, make_park


def _figure(html: str, key: str) -> int:
    match = re.search(rf'data-figure="{key}">([\d,]+)<', html)
    assert match, f"figure {key} missing"
    return int(match.group(1).replace(",", ""))


def _tile_count(html: str, code: str) -> int:
    match = re.search(rf'data-category="{code}".*?data-count="(\d+)"', html, re.S)
    assert match, f"tile {code} missing"
    return int(match.group(1))


def _page(client: FlaskClient) -> str:
    db.session.commit()
    response = client.get("/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_headline_figures_equal_database_counts(client: FlaskClient) -> None:
    park = make_park()
    make_park()
    vendor = make_org(kind="solution_provider")
    enterprise = make_org(kind="enterprise", park=park)
    make_offering(org=vendor)
    make_offering(org=vendor)
    make_offering(org=vendor, status="draft")
    make_offering(org=vendor, status="pending")
    make_offering(org=vendor, expires_at=utcnow() - timedelta(days=1))
    make_offering(org=vendor, expires_at=utcnow() + timedelta(days=30))
    make_need(org=enterprise)
    make_need(org=enterprise, status="closed")
    make_need(org=enterprise, status="draft")
    make_need(org=enterprise, deadline=utcnow().date() - timedelta(days=1))
    make_need(org=enterprise, deadline=utcnow().date())

    html = _page(client)

    assert _figure(html, "parks") == 2
    assert _figure(html, "organizations") == 2
    assert _figure(html, "offerings") == 3  # two open-ended, one not yet expired
    assert _figure(html, "needs") == 2  # one without deadline, one due today


def test_category_tiles_count_published_offerings_by_top_level(client: FlaskClient) -> None:
    vendor = make_org(kind="solution_provider")
    make_offering(org=vendor, category="application.quality")
    make_offering(org=vendor, category="application.mes")
    make_offering(org=vendor, category="platform")
    make_offering(org=vendor, category="network.5g_private", status="draft")
    make_offering(
        org=make_org(kind="financial_institution"), kind="finance", category="finance.loan"
    )

    html = _page(client)

    assert _tile_count(html, "application") == 2
    assert _tile_count(html, "platform") == 1
    assert _tile_count(html, "finance") == 1
    assert _tile_count(html, "network") == 0
    for label in ("网络", "标识解析", "平台", "安全", "应用", "金融", "人才培训"):
        assert f">{label}</h3>" in html


def test_category_tiles_link_to_filtered_offerings(app: Flask, client: FlaskClient) -> None:
    html = _page(client)
    with app.test_request_context():
        from flask import url_for

        link = url_for("offerings.index", category="security")
    assert f'data-category="security" href="{link}"' in html


def test_search_box_sends_q_to_the_search_page(app: Flask, client: FlaskClient) -> None:
    html = _page(client)
    with app.test_request_context():
        from flask import url_for

        action = url_for("search.index")
    assert f'method="get" action="{action}"' in html
    assert 'name="q"' in html


def test_latest_lists_show_six_newest_public_items(client: FlaskClient) -> None:
    vendor = make_org(kind="solution_provider", name="慧眼视觉科技有限公司")
    enterprise = make_org(kind="enterprise")
    start = utcnow() - timedelta(days=10)
    for i in range(7):
        make_offering(org=vendor, title=f"供给条目{i}号", published_at=start + timedelta(days=i))
        make_need(org=enterprise, title=f"需求条目{i}号", published_at=start + timedelta(days=i))
    make_offering(org=vendor, title="草稿里的供给", status="draft")
    make_need(org=enterprise, title="已关闭的需求", status="closed")

    html = _page(client)

    for i in range(1, 7):
        assert f"供给条目{i}号" in html
        assert f"需求条目{i}号" in html
    assert "供给条目0号" not in html  # the oldest falls off
    assert "需求条目0号" not in html
    assert "草稿里的供给" not in html
    assert "已关闭的需求" not in html
    assert html.index("供给条目6号") < html.index("供给条目1号")
    assert "慧眼视觉科技有限公司" in html
    assert "20 万元 – 35 万元" in html  # price shown via money_range
    assert "智能质检" in html  # category label


def test_park_teaser_shows_parks_with_counts(client: FlaskClient) -> None:
    park = make_park(name="苏州工业园区")
    for _ in range(2):
        make_org(kind="enterprise", park=park)
    make_need(org=make_org(kind="enterprise", park=park))

    html = _page(client)

    assert "苏州工业园区" in html
    assert "企业 3 家" in html
    assert "征集中需求 1 项" in html


def test_anonymous_visitor_sees_sign_up_calls_to_action(client: FlaskClient) -> None:
    html = _page(client)
    assert "企业免费注册" in html
    assert "服务商入驻" in html


def test_home_queries_do_not_grow_with_listings(app: Flask, client: FlaskClient) -> None:
    def count_queries() -> int:
        db.session.commit()
        statements: list[Any] = []

        def record(*args: Any) -> None:
            statements.append(args)

        event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert client.get("/").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", record)
        return len(statements)

    park = make_park()
    make_offering()
    make_need(org=make_org(kind="enterprise", park=park))
    few = count_queries()
    for _ in range(5):
        make_offering()  # each with its own organization
        make_need(org=make_org(kind="enterprise", park=make_park()))
    assert count_queries() == few
