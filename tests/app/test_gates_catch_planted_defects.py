"""Each quality gate fails when a defect of its kind is planted.

A gate that cannot fail protects nothing: these tests plant one defect per gate in a
throw-away app and check that the gate's own check reports it.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask, Response

from market import create_app
from market.core import security
from market.core.extensions import db
from market.dataset import records
from market.dataset import schema as data_schema
from market.parks import service as parks
from tests.api.test_api_fuzz import fuzz_operation
from tests.app.route_matrix import OK, ROUTES, actor_named, open_site
from tests.app.test_no_server_errors import fuzz_form
from tests.app.test_security_headers import _header_problems
from tests.conftest import make_park


def test_header_gate_reports_a_response_without_csp(
    app_config: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def only_nosniff(response: Response) -> Response:
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response

    monkeypatch.setattr(security, "_headers", only_nosniff)
    planted = create_app(app_config)
    problems = _header_problems(planted.test_client().get("/static/css/market.css"))
    assert "no Content-Security-Policy" in problems
    assert "no Referrer-Policy" in problems


def test_header_gate_reports_inline_scripts_allowed(app: Flask, client: Any) -> None:
    @app.after_request
    def weaken_csp(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = "script-src 'self' 'unsafe-inline'"
        return response

    problems = _header_problems(client.get("/"))
    assert any("inline" in p for p in problems)
    assert "CSP has no frame-ancestors" in problems


def test_fuzz_gate_reports_a_server_error(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    make_park(ref="P-SIP")
    db.session.commit()
    real_search = parks.search

    def search_that_breaks_on_a_filter(filters: Any, page: int, per_page: int) -> Any:
        if filters.q:
            raise RuntimeError("planted defect")
        return real_search(filters, page, per_page)

    monkeypatch.setattr(parks, "search", search_that_breaks_on_a_filter)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = next(
        op.ok() for op in schema.get_all_operations() if op.ok().path == "/api/v1/parks"
    )
    with pytest.raises(BaseException) as found:
        fuzz_operation(operation)
    failures = getattr(found.value, "exceptions", [found.value])
    assert any(type(f).__name__ == "ServerError" for f in failures)


def test_form_fuzzer_reports_a_field_that_overflows_its_column(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The planted defect: the one schema's limit on price_max lifted past every integer
    # column, so the form, the service and the import all let 2**63 through to the database.
    lifted = tuple(
        dataclasses.replace(spec, check=records.Integer(0, 2**80))
        if spec.key == "price_max"
        else spec
        for spec in data_schema.SCHEMAS["offerings"]
    )
    monkeypatch.setitem(data_schema.SCHEMAS, "offerings", lifted)
    with open_site(tmp_path, database_url) as site:
        actor = actor_named("member@solution_provider")
        case = next(c for c in ROUTES["offerings.new"].cases(site.world, actor) if c.expected == OK)
        with pytest.raises(AssertionError) as found:
            fuzz_form(site, "offerings.new", actor, case, examples=5)
    assert "POST offerings.new as member@solution_provider: 500" in str(found.value)
