"""`market report` and /api/v1/parks/<ref>/report: the keys of interfaces.md, the same
figures as the dashboard, one-line errors and JSON errors."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner

from market.core.extensions import db
from market.models import Park
from tests.conftest import make_need, make_offering, make_org, make_park
from tests.parkops.factories import at, make_docking, make_edition

INTERFACE_KEYS = {
    "park",
    "from",
    "to",
    "offerings_serving_park",
    "open_needs",
    "enterprises",
    "catalogue_editions",
    "docking_requests",
    "deals",
    "deal_amount",
    "financing_applied",
    "financing_granted",
    "training_registrations",
    "by_category",
}


@pytest.fixture
def park(app: Flask) -> Park:
    park = make_park(ref="P-SIP", province="江苏省")
    ent = make_org(kind="enterprise", park=park, created_at=at(2025, 1, 1))
    make_need(org=ent, park=park, category="platform.equipment_cloud", published_at=at(2026, 2, 1))
    make_offering(
        category="platform.equipment_cloud", regions=["全国"], published_at=at(2026, 2, 1)
    )
    elsewhere = make_offering(regions=["浙江省"])  # serves another province only
    loan = make_offering(
        kind="finance",
        category="finance.loan",
        regions=["浙江省"],
        org=make_org(kind="financial_institution"),
    )
    make_docking(
        park, offering=elsewhere, status="deal", deal_amount=1_250_000, created_at=at(2026, 3, 1)
    )
    make_docking(
        park,
        offering=loan,
        kind="financing",
        status="deal",
        amount_sought=3_000_000,
        deal_amount=2_000_000,
        created_at=at(2026, 3, 1),
    )
    make_edition(park, published_at=at(2026, 4, 1))
    db.session.commit()
    return park


def test_cli_json_has_the_interface_keys_and_figures(runner: FlaskCliRunner, park: Park) -> None:
    result = runner.invoke(
        args=["report", "--park", "P-SIP", "--from", "2026-01-01", "--to", "2026-12-31", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) >= INTERFACE_KEYS
    assert (data["park"], data["from"], data["to"]) == ("P-SIP", "2026-01-01", "2026-12-31")
    assert data["offerings_serving_park"] == 1
    assert data["open_needs"] == 1
    assert data["enterprises"] == 3  # the need's enterprise and one per docking
    assert data["catalogue_editions"] == 1
    assert (data["docking_requests"], data["deals"], data["deal_amount"]) == (1, 1, 1_250_000)
    assert (data["financing_applied"], data["financing_granted"]) == (3_000_000, 2_000_000)
    assert data["by_category"]["platform.equipment_cloud"] == {"offerings": 1, "needs": 1}


def test_cli_text_output_lists_the_figures(runner: FlaskCliRunner, park: Park) -> None:
    result = runner.invoke(
        args=["report", "--park", "P-SIP", "--from", "2026-01-01", "--to", "2026-12-31"]
    )
    assert result.exit_code == 0
    assert "P-SIP" in result.output and "1,250,000" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["report", "--park", "P-NOPE"],
        ["report", "--park", "P-SIP", "--from", "2026-02-30"],
        ["report", "--park", "P-SIP", "--from", "2026-05-01", "--to", "2026-01-01"],
    ],
)
def test_cli_errors_are_one_line(runner: FlaskCliRunner, park: Park, args: list[str]) -> None:
    result = runner.invoke(args=args)
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_api_report_equals_the_cli_report(
    client: FlaskClient, runner: FlaskCliRunner, park: Park
) -> None:
    response = client.get("/api/v1/parks/P-SIP/report?from=2026-01-01&to=2026-12-31")
    assert response.status_code == 200
    cli = runner.invoke(
        args=["report", "--park", "P-SIP", "--from", "2026-01-01", "--to", "2026-12-31", "--json"]
    )
    assert response.get_json() == json.loads(cli.stdout)


def test_api_province_rollup(client: FlaskClient, park: Park) -> None:
    data = client.get("/api/v1/provinces/江苏省/report?from=2026-01-01&to=2026-12-31").get_json()
    assert data["province"] == "江苏省" and data["parks"] == 1
    assert data["deals"] == 1


def test_api_errors_are_json(client: FlaskClient, park: Park) -> None:
    missing = client.get("/api/v1/parks/P-NOPE/report")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    backwards = client.get("/api/v1/parks/P-SIP/report?from=2026-05-01&to=2026-01-01")
    assert backwards.status_code == 400
    assert backwards.get_json()["error"]["code"] == "invalid_period"
    malformed = client.get("/api/v1/parks/P-SIP/report?from=someday")
    assert malformed.status_code == 422
    assert client.get("/api/v1/provinces/火星/report").status_code == 404


def test_api_report_is_documented(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/parks/{ref}/report" in spec["paths"]
    assert "/api/v1/provinces/{province}/report" in spec["paths"]
