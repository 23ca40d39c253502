"""The park directory and park pages, and the shared "offerings serving the park" query."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from market.core.extensions import db
from market.models import Park, utcnow
from market.parks import service as park_service
from tests.conftest import make_need, make_offering, make_org, make_park


@pytest.fixture
def app_config(app_config: dict[str, Any]) -> dict[str, Any]:
    app_config["PAGE_SIZE"] = 3
    return app_config


def _get(client: FlaskClient, url: str, **params: str) -> str:
    db.session.commit()
    response = client.get(url, query_string=params) if params else client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _listed(html: str) -> set[str]:
    return set(re.findall(r'data-park="([^"]+)"', html))


@pytest.fixture
def directory(app: Flask) -> dict[str, Park]:
    return {
        "sip": make_park(
            ref="P-SIP",
            name="苏州工业园区",
            province="江苏省",
            level="national",
            zone_type="economic_development",
        ),
        "wxnd": make_park(
            ref="P-WX",
            name="无锡高新技术产业开发区",
            province="江苏省",
            level="national",
            zone_type="high_tech",
        ),
        "hz": make_park(
            ref="P-HZ",
            name="杭州钱塘智造产业园",
            province="浙江省",
            level="provincial",
            zone_type="industrial",
        ),
        "gz": make_park(
            ref="P-GZ",
            name="广州某某产业园",
            province="广东省",
            level="municipal",
            zone_type="other",
        ),
    }


def test_directory_lists_parks_national_first(
    client: FlaskClient, directory: dict[str, Park]
) -> None:
    html = _get(client, "/parks/")
    assert "共 4 个园区" in html
    assert _listed(html) == {"P-SIP", "P-WX", "P-HZ"}  # page size 3, municipal park on page 2
    assert "国家级" in html and "经开区" in html and "高新区" in html
    assert _listed(_get(client, "/parks/", page="2")) == {"P-GZ"}
    assert _listed(_get(client, "/parks/", page="99")) == {"P-GZ"}  # past the end: last page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"province": "江苏省"}, {"P-SIP", "P-WX"}),
        ({"level": "provincial"}, {"P-HZ"}),
        ({"zone_type": "high_tech"}, {"P-WX"}),
        ({"q": "工业园"}, {"P-SIP"}),
        ({"province": "江苏省", "zone_type": "economic_development"}, {"P-SIP"}),
        ({"q": "%"}, set()),
    ],
)
def test_directory_filters(
    client: FlaskClient, directory: dict[str, Park], params: dict[str, str], expected: set[str]
) -> None:
    assert _listed(_get(client, "/parks/", **params)) == expected


@pytest.mark.parametrize(
    "params",
    [
        {"province": "火星省"},
        {"level": "galactic"},
        {"zone_type": "<script>"},
        {"page": "abc"},
        {"page": "-3"},
        {"page": "99"},
    ],
)
def test_directory_ignores_bad_params(
    client: FlaskClient, directory: dict[str, Park], params: dict[str, str]
) -> None:
    html = _get(client, "/parks/", **params)
    assert "共 4 个园区" in html


def test_province_select_offers_only_provinces_with_parks(
    client: FlaskClient, directory: dict[str, Park]
) -> None:
    html = _get(client, "/parks/")
    assert '<option value="浙江省"' in html
    assert '<option value="四川省"' not in html


def test_filters_keep_their_state_in_page_links(client: FlaskClient) -> None:
    for i in range(4):
        make_park(name=f"江苏园区{i}", province="江苏省", level="national")
    make_park(name="浙江园区", province="浙江省")
    html = _get(client, "/parks/", province="江苏省", level="national")
    assert "selected>江苏省</option>" in html
    assert 'value="national" selected' in html
    next_link = re.search(r'href="([^"]*)" rel="next"', html)
    assert next_link
    link = next_link.group(1).replace("&amp;", "&")
    assert "page=2" in link and "level=national" in link and "province=" in link
    assert len(_listed(_get(client, link))) == 1


def test_directory_counts_enterprises_and_open_needs(client: FlaskClient) -> None:
    park = make_park(ref="P-CNT")
    firm = make_org(kind="enterprise", park=park)
    make_org(kind="enterprise", park=park)
    make_org(kind="park_operator", park=park)  # not an enterprise
    make_need(org=firm)
    make_need(org=firm, status="closed")
    make_need(org=firm, deadline=utcnow().date() - timedelta(days=2))
    html = _get(client, "/parks/")
    row = re.search(r'data-park="P-CNT">(.*?)</tr>', html, re.S)
    assert row
    assert 'data-enterprises="2"' in row.group(1)
    assert 'data-open-needs="1"' in row.group(1)


def test_unknown_park_is_404(client: FlaskClient) -> None:
    response = client.get("/parks/P-NOPE")
    assert response.status_code == 404
    assert "园区不存在" in response.get_data(as_text=True)


@pytest.fixture
def served(app: Flask) -> dict[str, Any]:
    """A park in 江苏省 and offerings that do or do not serve it."""
    park = make_park(
        ref="P-SIP",
        name="苏州工业园区",
        province="江苏省",
        city="苏州市",
        industries=["C36", "C39"],
        description="中国和新加坡两国政府间的合作项目。",
    )
    other = make_park(ref="P-HZ", province="浙江省")
    vendor = make_org(kind="solution_provider")
    offers = {
        "explicit": make_offering(
            org=vendor,
            title="点名服务本园区的方案",
            regions=["浙江省"],
            parks=[park],
            category="platform.equipment_cloud",
        ),
        "province": make_offering(org=vendor, title="服务江苏的方案", regions=["江苏省", "浙江省"]),
        "nationwide": make_offering(
            org=vendor, title="服务全国的方案", regions=["全国"], category="security.protection"
        ),
        "elsewhere": make_offering(
            org=vendor, title="只服务浙江的方案", regions=["浙江省"], parks=[other]
        ),
        "draft": make_offering(
            org=vendor, title="江苏草稿方案", regions=["江苏省"], status="draft"
        ),
        "expired": make_offering(
            org=vendor,
            title="江苏过期方案",
            regions=["江苏省"],
            expires_at=utcnow() - timedelta(days=1),
        ),
    }
    firm = make_org(kind="enterprise", park=park, name="苏州精密冲压有限公司")
    outsider = make_org(kind="enterprise", park=other, name="杭州别家企业有限公司")
    needs = {
        "open": make_need(org=firm, title="冲压线设备联网"),
        "closed": make_need(org=firm, title="已关闭的旧需求", status="closed"),
        "foreign": make_need(org=outsider, title="别的园区的需求"),
    }
    return {"park": park, "offers": offers, "firm": firm, "needs": needs}


def test_serving_query_includes_explicit_province_and_nationwide(served: dict[str, Any]) -> None:
    found = set(db.session.scalars(park_service.serving_offerings(served["park"])))
    offers = served["offers"]
    assert found == {offers["explicit"], offers["province"], offers["nationwide"]}


def test_serving_counts_by_top_level_category(served: dict[str, Any]) -> None:
    counts = park_service.serving_counts_by_category(served["park"])
    assert counts["platform"] == 1
    assert counts["application"] == 1
    assert counts["security"] == 1
    assert counts["finance"] == 0
    assert sum(counts.values()) == 3


def test_park_page_shows_the_park(client: FlaskClient, served: dict[str, Any]) -> None:
    html = _get(client, "/parks/P-SIP")
    assert '<h1 class="h3">苏州工业园区</h1>' in html
    assert "江苏省 · 苏州市" in html
    assert "国家级" in html and "经开区" in html
    assert "C36 汽车制造业" in html
    assert "中国和新加坡两国政府间的合作项目。" in html


def test_park_page_lists_enterprises_and_open_needs(
    app: Flask, client: FlaskClient, served: dict[str, Any]
) -> None:
    html = _get(client, "/parks/P-SIP")
    with app.test_request_context():
        from flask import url_for

        profile = url_for("orgs.profile", ref=served["firm"].ref)
    assert f'href="{profile}">苏州精密冲压有限公司</a>' in html
    assert "杭州别家企业有限公司" not in html
    assert "冲压线设备联网" in html
    assert "已关闭的旧需求" not in html
    assert "别的园区的需求" not in html


def test_park_page_shows_offerings_serving_it(client: FlaskClient, served: dict[str, Any]) -> None:
    html = _get(client, "/parks/P-SIP")
    for title in ("点名服务本园区的方案", "服务江苏的方案", "服务全国的方案"):
        assert title in html
    for title in ("只服务浙江的方案", "江苏草稿方案", "江苏过期方案"):
        assert title not in html
    assert re.search(r'data-category="platform".*?data-count="1"', html, re.S)
    assert re.search(r'data-category="finance".*?data-count="0"', html, re.S)
