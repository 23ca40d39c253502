"""The park figures cache: figures computed once a minute at most, shown with their time,
and dropped as soon as this process writes (so nobody sees their own change missing)."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert

from market.core.extensions import db
from market.core.report_period import Period
from market.models import Need
from market.parkops import cache as park_cache
from market.parkops import figures as park_figures
from market.parkops.cache import FiguresCache
from market.parkops.scope import for_park
from tests.conftest import Auth, make_need, make_org, make_park, make_user


def _open_needs(ref: str | None) -> int:
    return park_figures.dashboard(for_park(str(ref)), Period.parse(None, None)).pool.open_needs


def test_a_committed_change_shows_at_once(app: Flask) -> None:
    park = make_park()
    org = make_org(kind="enterprise", park=park)
    make_need(org=org, park=park)
    db.session.commit()
    assert _open_needs(park.ref) == 1
    make_need(org=org, park=park)
    db.session.commit()
    assert _open_needs(park.ref) == 2


def test_a_bulk_insert_through_the_session_also_drops_the_figures(app: Flask) -> None:
    park = make_park()
    org = make_org(kind="enterprise", park=park)
    need = make_need(org=org, park=park)
    db.session.commit()
    assert _open_needs(park.ref) == 1
    row = {c: getattr(need, c) for c in ("org_id", "park_id", "kind", "category", "status")}
    db.session.execute(insert(Need), [{**row, "ref": "D-BULK1", "title": "批量导入"}])
    db.session.commit()
    assert _open_needs(park.ref) == 2


def test_figures_are_reused_until_they_expire(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1000.0]
    monkeypatch.setattr(park_cache.time, "monotonic", lambda: clock[0])
    cache = FiguresCache(60)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert cache.get_or_compute("k", compute) == 1
    clock[0] += 59
    assert cache.get_or_compute("k", compute) == 1
    clock[0] += 2
    assert cache.get_or_compute("k", compute) == 2


def test_zero_seconds_turns_the_cache_off() -> None:
    cache = FiguresCache(0)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    assert [cache.get_or_compute("k", compute) for _ in range(3)] == [1, 2, 3]


def test_dashboard_report_and_chain_say_when_the_figures_were_computed(
    client: FlaskClient, auth: Auth
) -> None:
    park = make_park(industries=["C36"])
    staff = make_user(role="park_staff", org=make_org(kind="park_operator", park=park))
    db.session.commit()
    auth.login(staff)
    for url in (
        f"/parkops/parks/{park.ref}",
        f"/parkops/parks/{park.ref}/report",
        f"/parkops/parks/{park.ref}/chain",
    ):
        page = client.get(url).get_data(as_text=True)
        assert "数据截至" in page and "最多缓存 60 秒" in page, url
