"""GET /api/v1/needs/<ref>/matches and /offerings/<ref>/matches."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient

from market.core.extensions import db
from tests.recommendations.factories import Market, make_feedback, make_market


@pytest.fixture
def market(app: Flask) -> Market:
    return make_market()


def test_need_matches_have_the_cli_shape(client: FlaskClient, market: Market) -> None:
    response = client.get("/api/v1/needs/D-NEED/matches")
    assert response.status_code == 200
    data = response.get_json()
    assert set(data) == {"need", "matches"}
    assert data["need"] == "D-NEED"
    assert data["matches"][0]["offering"] == "S-BEST"
    assert set(data["matches"][0]) == {"offering", "score", "reasons"}
    assert "服务江苏省" in data["matches"][0]["reasons"]
    scores = [m["score"] for m in data["matches"]]
    assert scores == sorted(scores, reverse=True)


def test_offering_matches_swap_the_roles(client: FlaskClient, market: Market) -> None:
    data = client.get("/api/v1/offerings/S-BEST/matches?limit=1").get_json()
    assert data == {"offering": "S-BEST", "matches": [data["matches"][0]]}
    assert data["matches"][0]["need"] == "D-NEED"


def test_matches_leave_out_pairs_the_need_marked_irrelevant(
    client: FlaskClient, market: Market
) -> None:
    make_feedback(need=market.need, offering=market.best)
    db.session.commit()
    refs = [m["offering"] for m in client.get("/api/v1/needs/D-NEED/matches").get_json()["matches"]]
    assert "S-BEST" not in refs


@pytest.mark.parametrize(
    "url", ["/api/v1/needs/D-NOPE/matches", "/api/v1/offerings/S-NOPE/matches"]
)
def test_unknown_listings_are_404_json(client: FlaskClient, market: Market, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"]


def test_a_closed_need_is_not_found(client: FlaskClient, market: Market) -> None:
    market.need.status = "closed"
    db.session.commit()
    assert client.get("/api/v1/needs/D-NEED/matches").status_code == 404


@pytest.mark.parametrize("limit", ["0", "21", "x"])
def test_a_bad_limit_is_a_json_422(client: FlaskClient, market: Market, limit: str) -> None:
    response = client.get(f"/api/v1/needs/D-NEED/matches?limit={limit}")
    assert response.status_code == 422
    assert "error" in response.get_json()


def test_the_openapi_document_describes_both_operations(client: FlaskClient) -> None:
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert "/api/v1/needs/{ref}/matches" in paths
    assert "/api/v1/offerings/{ref}/matches" in paths
