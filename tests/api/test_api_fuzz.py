"""Schemathesis fuzzes every operation of the OpenAPI document in-process.

Fixed seed (derandomize) so CI is repeatable; every default check runs: no 5xx,
no undocumented status code, responses conform to their schemas and content types.
(schemathesis' lazy pytest fixture relies on a private pytest attribute that pytest
9.2 removed, so each operation's Hypothesis strategy is driven directly.)
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from market.core.extensions import db
from tests.conftest import make_need, make_offering, make_org, make_park

MAX_EXAMPLES = 60


@pytest.fixture
def api_schema(app: Any) -> Any:
    park = make_park(ref="P-SIP")
    org = make_org(kind="solution_provider", ref="O-101", credit_code=None)
    make_offering(org=org, ref="S-0001", parks=[park])
    make_offering(org=org, ref="S-0002", status="draft")
    make_need(ref="D-0001")
    db.session.commit()
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)


def fuzz_operation(operation: Any) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case: Any) -> None:
        case.call_and_validate()

    run()


def test_every_api_operation_conforms_to_its_document(api_schema: Any) -> None:
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 5
    for operation in operations:
        fuzz_operation(operation)
