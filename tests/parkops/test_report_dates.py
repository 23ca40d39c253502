"""Report periods at the edges of the calendar: refused with a clear message, never a 500.

The probe's reproductions: ``?to=9999-12-31`` and ``?from=0001-01-01&to=0001-01-02``
overflowed while turning local days into UTC instants, on the API, the dashboard, the
report downloads and ``market report``. A period must lie within
``report_period.EARLIEST`` … ``LATEST``; everything outside is refused before any
figure is computed.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest
import schemathesis
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from market.core.extensions import db
from market.core.report_period import EARLIEST, LATEST, InvalidPeriod, Period
from market.models import Park, User
from tests.conftest import Auth, make_org, make_park, make_user

EXTREMES = [
    {"to": "9999-12-31"},
    {"from": "0001-01-01", "to": "0001-01-02"},
    {"from": "9999-12-30", "to": "9999-12-31"},
    {"from": "1999-12-31"},
    {"to": "2100-01-01"},
]
RANGE_ZH = "2000-01-01 至 2099-12-31"


@pytest.fixture
def park(app: Flask) -> Park:
    park = make_park(ref="P-SIP", province="江苏省")
    db.session.commit()
    return park


@pytest.fixture
def admin(app: Flask) -> User:
    user = make_user(org=make_org(kind="park_operator"), role="admin")
    db.session.commit()
    return user


def _query(args: dict[str, str]) -> str:
    return "&".join(f"{key}={value}" for key, value in args.items())


@pytest.mark.parametrize("args", EXTREMES, ids=_query)
@pytest.mark.parametrize("path", ["/api/v1/parks/P-SIP/report", "/api/v1/provinces/江苏省/report"])
def test_api_refuses_a_period_outside_the_range_with_json_400(
    client: FlaskClient, park: Park, path: str, args: dict[str, str]
) -> None:
    response = client.get(f"{path}?{_query(args)}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_period"
    assert RANGE_ZH in error["message"]


def test_api_accepts_the_first_and_last_day_of_the_range(client: FlaskClient, park: Park) -> None:
    first = client.get("/api/v1/parks/P-SIP/report?from=2000-01-01&to=2019-12-31")
    assert first.status_code == 200 and first.get_json()["from"] == "2000-01-01"
    last = client.get("/api/v1/parks/P-SIP/report?from=2080-01-01&to=2099-12-31")
    assert last.status_code == 200 and last.get_json()["to"] == "2099-12-31"


@pytest.mark.parametrize("args", EXTREMES[:2], ids=_query)
@pytest.mark.parametrize("page", ["/parkops/parks/P-SIP", "/parkops/parks/P-SIP/report"])
def test_dashboard_and_report_pages_say_what_is_wrong(
    client: FlaskClient, auth: Auth, park: Park, admin: User, page: str, args: dict[str, str]
) -> None:
    auth.login(admin)
    response = client.get(f"{page}?{_query(args)}")
    assert response.status_code == 200
    assert RANGE_ZH in response.get_data(as_text=True)


def test_the_message_is_english_for_english_readers(
    client: FlaskClient, auth: Auth, park: Park, admin: User
) -> None:
    auth.login(admin)
    client.set_cookie("lang", "en")
    page = client.get("/parkops/parks/P-SIP?to=9999-12-31").get_data(as_text=True)
    assert "between 2000-01-01 and 2099-12-31" in page


@pytest.mark.parametrize("args", EXTREMES[:2], ids=_query)
@pytest.mark.parametrize(
    "path",
    [
        "/parkops/parks/P-SIP/report.xlsx",
        "/parkops/parks/P-SIP/charts/month.csv",
        "/parkops/provinces/江苏省/report.xlsx",
        "/parkops/provinces/江苏省/charts/category.csv",
    ],
)
def test_downloads_refuse_a_period_outside_the_range(
    client: FlaskClient, auth: Auth, park: Park, admin: User, path: str, args: dict[str, str]
) -> None:
    auth.login(admin)
    response = client.get(f"{path}?{_query(args)}")
    assert response.status_code == 400
    assert "Content-Disposition" not in response.headers
    assert RANGE_ZH in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "args",
    [["--to", "9999-12-31"], ["--from", "0001-01-01", "--to", "0001-01-02"]],
    ids=" ".join,
)
def test_cli_refuses_with_one_line(runner: FlaskCliRunner, park: Park, args: list[str]) -> None:
    result = runner.invoke(args=["report", "--park", "P-SIP", *args])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1
    assert RANGE_ZH in result.stderr


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(start=st.none() | st.dates(), end=st.none() | st.dates())
def test_any_two_dates_give_a_period_within_the_range_or_invalid_period(
    app: Flask, start: date | None, end: date | None
) -> None:
    """Year 1 to 9999, either bound missing: a period whose bounds convert, or a refusal."""
    with app.test_request_context():
        try:
            period = Period.parse(
                start.isoformat() if start else None,
                end.isoformat() if end else None,
                today=date(2026, 6, 30),
            )
        except InvalidPeriod as exc:
            assert exc.message
            return
        assert EARLIEST <= period.start <= period.end <= LATEST
        low, high = period.bounds()
        assert low < high


def test_the_api_document_states_the_bounds(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/parks/{ref}/report", "/api/v1/provinces/{province}/report"):
        params = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        for name in ("from", "to"):
            schema = params[name]["schema"]
            assert schema["format"] == "date"
            assert schema["x-minimum"] == "2000-01-01" and schema["x-maximum"] == "2099-12-31"
            assert "2000-01-01" in params[name]["description"]
        responses = spec["paths"][path]["get"]["responses"]
        assert "400" in responses


def test_schemathesis_explores_dates_outside_the_bounds_and_gets_documented_answers(
    app: Flask, park: Park
) -> None:
    """The report operations fuzzed from their document: dates on both sides of the bounds
    come up, and every answer is a documented status that conforms to its schema."""
    schema: Any = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    seen: list[date] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if not operation.path.endswith("/report"):
            continue

        @given(case=operation.as_strategy())
        @settings(
            max_examples=80,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case: Any) -> None:
            for key in ("from", "to"):
                value = (case.query or {}).get(key)
                if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
                    seen.append(date.fromisoformat(value))
            case.call_and_validate()

        run()
    assert any(day < EARLIEST or day > LATEST for day in seen), "no date outside the bounds"
    assert any(EARLIEST <= day <= LATEST for day in seen), "no date inside the bounds"
