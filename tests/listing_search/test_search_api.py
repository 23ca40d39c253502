"""GET /api/v1/search: the documented shape, filters, paging and JSON errors."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from market.core.extensions import db
from market.listing_search import indexing
from search import IndexUnavailable
from tests.conftest import make_need, make_offering, make_org, make_park


def _world() -> None:
    park = make_park(ref="P-SIP", province="江苏省")
    vendor = make_org(kind="solution_provider", name="慧眼视觉科技有限公司")
    make_offering(org=vendor, ref="S-0001", title="智能质检云平台", regions=["江苏省"])
    make_offering(org=vendor, ref="S-0002", title="视觉质检工作站", regions=["浙江省"])
    make_offering(org=vendor, ref="S-0003", title="草稿质检方案", status="draft")
    make_need(
        ref="D-0001", title="冲压件质检改造", park=park, org=make_org(kind="enterprise", park=park)
    )
    db.session.commit()


def test_search_returns_the_documented_shape(client: FlaskClient) -> None:
    _world()
    body = client.get("/api/v1/search?q=质检").get_json()
    assert {"query", "index", "total", "hits"} <= set(body)
    assert body["query"] == "质检" and body["index"] == "offerings" and body["total"] == 2
    hit = body["hits"][0]
    assert {"ref", "id", "title", "score"} <= set(hit)
    assert hit["url"].endswith(f"/offerings/{hit['ref']}")
    assert {h["ref"] for h in body["hits"]} == {"S-0001", "S-0002"}  # never the draft


def test_search_filters_repeat_and_needs_are_searchable(client: FlaskClient) -> None:
    _world()
    one = client.get("/api/v1/search?q=质检&filter=province=江苏省").get_json()
    assert [h["ref"] for h in one["hits"]] == ["S-0001"]
    both = client.get(
        "/api/v1/search",
        query_string=[("q", "质检"), ("filter", "province=江苏省"), ("filter", "province=浙江省")],
    ).get_json()
    assert both["total"] == 2
    needs = client.get("/api/v1/search?q=质检&index=needs").get_json()
    assert [h["ref"] for h in needs["hits"]] == ["D-0001"]


def test_search_pages_through_results(client: FlaskClient) -> None:
    _world()
    first = client.get("/api/v1/search?q=质检&limit=1").get_json()
    second = client.get("/api/v1/search?q=质检&limit=1&page=2").get_json()
    assert first["total"] == second["total"] == 2
    assert first["hits"][0]["ref"] != second["hits"][0]["ref"]
    assert client.get("/api/v1/search?q=质检&limit=100&page=200").get_json()["hits"] == []


@pytest.mark.parametrize(
    "query",
    ["filter=colour=red", "filter=province", "index=parks", "limit=0", "limit=101", "page=0"],
)
def test_bad_parameters_get_a_422_json_error(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/v1/search?q=x&{query}")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "unprocessable_entity"


def test_search_is_in_the_openapi_document(client: FlaskClient) -> None:
    operation = client.get("/api/v1/openapi.json").get_json()["paths"]["/api/v1/search"]["get"]
    assert {p["name"] for p in operation["parameters"]} == {"q", "index", "filter", "limit", "page"}
    assert {"200", "422", "503"} <= set(operation["responses"])


def test_an_unreachable_index_is_a_503_json_error(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def down(*_args: Any, **_kwargs: Any) -> Any:
        raise IndexUnavailable("connection refused")

    monkeypatch.setattr(indexing, "backend", down)
    response = client.get("/api/v1/search?q=质检")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "search_unavailable"
