"""The JSON API: public records only, the data format's field names, JSON errors."""

from __future__ import annotations

from typing import Any

from market.core.extensions import db
from tests.conftest import make_need, make_offering, make_org, make_park


def _world() -> dict[str, Any]:
    park = make_park(ref="P-SIP", name="苏州工业园区", province="江苏省")
    vendor = make_org(kind="solution_provider", ref="O-101")
    live = make_offering(org=vendor, ref="S-0001", parks=[park], regions=["江苏省"])
    draft = make_offering(org=vendor, ref="S-0002", status="draft", title="草稿方案")
    need = make_need(ref="D-0001", park=park, org=make_org(kind="enterprise", park=park))
    db.session.commit()
    return {"park": park, "live": live, "draft": draft, "need": need}


def test_offering_list_shows_only_published_offerings(client: Any, app: Any) -> None:
    _world()
    body = client.get("/api/v1/offerings").get_json()
    assert body["total"] == 1
    assert [item["ref"] for item in body["items"]] == ["S-0001"]
    item = body["items"][0]
    assert item["org"] == "O-101" and item["parks"] == ["P-SIP"] and item["price_min"] == 200000


def test_draft_offering_is_not_found_through_the_api(client: Any, app: Any) -> None:
    _world()
    response = client.get("/api/v1/offerings/S-0002")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_filters_narrow_lists_and_bad_values_get_422_json(client: Any, app: Any) -> None:
    _world()
    assert client.get("/api/v1/offerings?province=江苏省").get_json()["total"] == 1
    assert client.get("/api/v1/offerings?category=finance.loan").get_json()["total"] == 0
    assert client.get("/api/v1/needs?park=P-SIP").get_json()["total"] == 1
    bad = client.get("/api/v1/offerings?per_page=1000")
    assert bad.status_code == 422
    assert "per_page" in bad.get_json()["error"]["details"]["query"]


def test_park_directory_and_categories(client: Any, app: Any) -> None:
    _world()
    parks = client.get("/api/v1/parks?province=江苏省").get_json()
    assert [p["ref"] for p in parks["items"]] == ["P-SIP"]
    categories = client.get("/api/v1/categories").get_json()
    assert {"code": "application.quality", "name": "智能质检"}.items() <= {
        k: v for c in categories if c["code"] == "application.quality" for k, v in c.items()
    }.items()


def test_openapi_document_describes_every_api_route(client: Any, app: Any) -> None:
    doc = client.get("/api/v1/openapi.json").get_json()
    documented = set(doc["paths"])
    routed = {
        rule.rule.replace("<", "{").replace(">", "}")
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("api.") and not rule.rule.endswith("openapi.json")
    }
    assert routed <= documented
    for path in documented:
        for operation in doc["paths"][path].values():
            if isinstance(operation, dict) and "responses" in operation:
                assert "default" not in operation["responses"]
