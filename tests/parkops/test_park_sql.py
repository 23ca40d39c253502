"""The fast JSON-array test of the park figures gives exactly json_each's answer, also for
texts built to fool a substring search."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import select

from market.core.extensions import db
from market.models import Offering
from market.parkops.sql import has_any
from tests.conftest import make_offering

TRICKY = [
    ["浙江省"],
    ["全国"],
    ['a"浙江省'],
    ['浙江省"'],
    ['"浙江省"'],
    ["x", '"浙江省'],
    ["浙江", "省"],
    ["浙江省份"],
    ["江苏省", "浙江省"],
    ["a\\", "浙江省"],
    [],
]


@pytest.mark.parametrize("values", [["浙江省"], ["浙江省", "全国"], ['a"b'], [", "]])
def test_has_any_matches_exactly_the_arrays_holding_a_value(app: Flask, values: list[str]) -> None:
    offerings = [make_offering(regions=regions) for regions in TRICKY]
    db.session.commit()
    ids = [o.id for o in offerings]
    found = set(
        db.session.scalars(
            select(Offering.id).where(Offering.id.in_(ids), has_any(Offering.regions, values))
        )
    )
    expected = {o.id for o in offerings if set(o.regions) & set(values)}
    assert found == expected
