"""Every value an export can contain re-imports: the round trip at the edges of every range.

The records are generated from the data format's own schema (``schema.SCHEMAS``), so a
key added there is covered here without a change: integers at both ends of their range,
the longest texts (CJK, emoji, right-to-left marks, line breaks where a text may have
them), every value of every enumeration, dates at both ends, lists full and single,
and records with nothing but their required keys. Listings saved through the web
forms at their limits join them. Then export → import into an empty instance → export
must be byte-identical (issue #18: values the forms accepted used to break re-import).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from market.core import reference
from market.core.credit_code import check_digit
from market.dataset import records, schema
from market.dataset.export import export_dataset
from market.dataset.service import import_dataset
from market.models.organization import PARK_BOUND_KINDS
from tests.conftest import Auth, make_org, make_park, make_user
from tests.dataset.test_dataset_import_export import fresh_instance, read_dir, write_dataset

# Right-to-left and invisible marks, emoji (astral and joined), CJK, a combining accent.
UNICODE = "\u200f\u202b园区\u202c\u200e😀👩\u200d🏭e\u0301"
CROSS_REFS = ("ref", "org", "park", "parks")


def longest(length: int, multiline: bool) -> str:
    """A text of exactly ``length`` characters mixing scripts (and line breaks if allowed)."""
    body = UNICODE + ("\r\n\t" if multiline else " ") + "供需对接"
    return (body * (length // len(body) + 1))[:length]


def candidates(spec: records.Field) -> list[Any]:
    """The values worth trying for one key: its range's ends, or every allowed value."""
    check = spec.check
    if isinstance(check, records.Integer):
        return [check.low, check.high]
    if isinstance(check, records.Rate):
        return [float(check.low), float(check.high), 3.125]
    if isinstance(check, records.IsoDate):
        return [check.low.isoformat(), check.high.isoformat()]
    if isinstance(check, records.Text):
        return [longest(check.max_length, check.multiline), UNICODE]
    special: dict[str, list[Any]] = {
        "category": list(reference.categories()),
        "province": list(reference.provinces()),
        "industries": [list(reference.industries()), ["C36"]],
        "regions": [[reference.NATIONWIDE, *reference.provinces()], ["江苏省"]],
        "eligible_sizes": [["large", "medium", "small", "micro"], ["micro"]],
        "tags": [
            [f"{i:02d}{longest(records.TAG_MAX_LENGTH - 2, False)}" for i in range(20)],
            ["\u200f标签😀"],
        ],
        "verified": [True, False],
    }
    return special.get(spec.key) or _enumeration(spec)


def _enumeration(spec: records.Field) -> list[Any]:
    """Every value a one_of check accepts, found by asking it (the schema holds no list)."""
    from market.models.listing import OFFERING_KINDS, TRAINING_MODES
    from market.models.organization import ORG_KINDS, ORG_SIZES
    from market.models.park import PARK_LEVELS, ZONE_TYPES
    from market.models.user import ROLES

    pools = (
        OFFERING_KINDS,
        TRAINING_MODES,
        ORG_KINDS,
        ORG_SIZES,
        PARK_LEVELS,
        ZONE_TYPES,
        ROLES,
        records.OFFERING_STATUSES,
        records.NEED_STATUSES,
    )
    for pool in pools:
        try:
            if all(spec.check(value) == value for value in pool):
                return list(pool)
        except records.Invalid:
            continue
    raise AssertionError(f"no boundary values for {spec.key}")


Fill = dict[str, Any]


def bare(i: int) -> bool:
    """Every third record holds only its required keys (all optional ones left empty)."""
    return i % 3 == 2


def generated(file: str, count: int, fill: Fill) -> list[dict[str, Any]]:
    """``count`` records of ``file``: record i takes the i-th candidate of every key;
    ``fill`` gives the keys that name other records or must be unique, as ``(i, row) ->
    value`` (None leaves the key out)."""
    rows = []
    own = [s for s in schema.SCHEMAS[file] if s.key not in (*CROSS_REFS, "password", *fill)]
    for i in range(count):
        row: dict[str, Any] = {"ref": f"{file[0].upper()}-{i:03d}-\u00e9"}
        for spec in own:
            if spec.required or not bare(i):
                values = candidates(spec)
                row[spec.key] = values[i % len(values)]
        for key, make in fill.items():
            value = make(i, row)
            if value is not None:
                row[key] = value
        rows.append(row)
    return rows


def _kind_fits(file: str, row: dict[str, Any]) -> dict[str, Any]:
    """The kind its category demands, and no keys that belong to another kind."""
    row["kind"] = reference.category_kind(row["category"]) or "solution"
    for spec in schema.SCHEMAS[file]:
        if spec.kinds and row["kind"] not in spec.kinds:
            row.pop(spec.key, None)
    return row


def boundary_dataset() -> dict[str, list[dict[str, Any]]]:
    provinces = len(reference.provinces())
    parks = generated("parks", provinces, {})
    park_refs = [p["ref"] for p in parks]
    orgs = generated(
        "organizations",
        15,
        {
            # Required of enterprises and park operators, optional (both ways) for others.
            "park": lambda i, row: (
                park_refs[i % len(park_refs)] if row["kind"] in PARK_BOUND_KINDS or i % 2 else None
            ),
            "credit_code": lambda i, row: None if bare(i) else _credit_code(i),
        },
    )
    org_refs = [o["ref"] for o in orgs]
    operators = [o["ref"] for o in orgs if o["kind"] == "park_operator"]
    offerings = [
        _kind_fits("offerings", row)
        for row in generated(
            "offerings",
            len(reference.categories()) + 2,
            {
                "org": lambda i, row: org_refs[i % len(org_refs)],
                "parks": lambda i, row: None if bare(i) else park_refs[: 1 + (i % 4) * 20],
            },
        )
    ]
    needs = [
        _kind_fits("needs", row)
        for row in generated(
            "needs",
            len(reference.categories()),
            {
                "org": lambda i, row: org_refs[i % len(org_refs)],
                "park": lambda i, row: park_refs[-1 - i % len(park_refs)],
            },
        )
    ]
    users = generated(
        "users",
        8,
        {
            "email": lambda i, row: _email(i),
            "org": lambda i, row: operators[0] if row.get("role") == "park_staff" else org_refs[i],
        },
    )
    return {
        "parks": parks,
        "organizations": orgs,
        "offerings": offerings,
        "needs": needs,
        "users": users,
    }


def _credit_code(i: int) -> str:
    first17 = f"91320000{i:09d}"
    return first17 + check_digit(first17)


def _email(i: int) -> str:
    """Unique addresses, the first of them as long as the format allows (254)."""
    domain = f"{i}@example.com"
    return ("a" * (254 - len(domain)) if i == 0 else f"user.{'长' * 5}") + domain


def _post_forms_at_their_limits(client: FlaskClient, auth: Auth) -> None:
    """Listings saved through the web forms with every limit reached."""
    high = records.MAX_INTEGER
    park = make_park(ref="P-FORM", name=longest(200, False))
    for org_kind, form in (
        ("solution_provider", {"kind": "solution", "category": "platform.equipment_cloud"}),
        (
            "financial_institution",
            {
                "kind": "finance",
                "category": "finance.loan",
                "amount_min": "0",
                "amount_max": str(high),
                "rate_min": "0.001",
                "rate_max": "100",
                "term_months_max": "600",
                "eligible_sizes": ["micro", "large"],
            },
        ),
        (
            "training_body",
            {
                "kind": "training",
                "category": "talent.lecture",
                "mode": "hybrid",
                "starts_on": "2099-12-31",
                "capacity": str(high),
                "certificate": longest(200, False),
            },
        ),
    ):
        auth.login(make_user(org=make_org(kind=org_kind, name=longest(200, False))))
        data = {
            **form,
            "title": longest(200, False),
            "summary": longest(500, True),
            "description": longest(20000, True),
            "tags": "、".join(f"{i:02d}{longest(30, False)}" for i in range(20)),
            "industries": ["C29", "C36"],
            "regions": ["全国", "西藏自治区"],
            "parks": ["P-FORM"],
            "price_min": "0",
            "price_max": str(high),
            "price_unit": longest(32, False),
            "save": "保存草稿",
        }
        response = client.post("/offerings/new", data=data)
        assert response.status_code == 302, response.get_data(as_text=True)[:2000]
        auth.logout()
    auth.login(make_user(org=make_org(kind="enterprise", park=park)))
    need = {
        "category": "finance.loan",
        "title": longest(200, False),
        "description": longest(20000, True),
        "budget_min": str(high),
        "budget_max": str(high),
        "deadline": "2099-12-31",
        "amount": str(high),
        "term_months": "1",
        "save": "保存草稿",
    }
    response = client.post("/needs/new", data=need)
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]


def test_every_value_an_export_can_hold_re_imports_byte_identical(
    app: Flask, app_config: dict[str, Any], client: FlaskClient, auth: Auth, tmp_path: Path
) -> None:
    _post_forms_at_their_limits(client, auth)
    import_dataset(write_dataset(tmp_path / "edges", boundary_dataset()))
    export_dataset(tmp_path / "first")
    with fresh_instance(app_config, tmp_path):
        import_dataset(tmp_path / "first")
        export_dataset(tmp_path / "second")
    first = read_dir(tmp_path / "first")
    assert first == read_dir(tmp_path / "second")

    # The export really holds the edges (the test is not passing on an empty pool).
    exported = {name: json.loads(text) for name, text in first.items()}
    offerings, needs = exported["offerings"], exported["needs"]
    assert any(o.get("price_max") == records.MAX_INTEGER and "🏭" in o["title"] for o in offerings)
    assert any(o.get("capacity") == records.MAX_INTEGER for o in offerings)
    assert any(o.get("rate_max") == 100.0 for o in offerings)
    assert any(len(o.get("description", "")) == 20000 for o in offerings)
    assert any(n.get("deadline") == "2099-12-31" for n in needs)
    assert any(n.get("deadline") == "2000-01-01" for n in needs)
    assert {o["status"] for o in offerings} == set(records.OFFERING_STATUSES)
    assert {o["category"] for o in offerings} >= set(reference.categories())
    assert {p["province"] for p in exported["parks"]} == set(reference.provinces())
    assert {u["role"] for u in exported["users"]} == set(
        candidates(schema.field_of("users", "role"))
    )
    assert any(len(u["email"]) == 254 for u in exported["users"])
    assert any(set(o) == {"ref", "org", "kind", "category", "title", "status"} for o in offerings)


def test_the_boundary_records_cover_every_key_of_the_format() -> None:
    data = boundary_dataset()
    for file, rows in data.items():
        seen = set(itertools.chain.from_iterable(rows))
        wanted = {spec.key for spec in schema.SCHEMAS[file]} - {"password"}
        assert wanted <= seen, (file, wanted - seen)
