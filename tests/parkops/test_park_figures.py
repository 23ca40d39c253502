"""Every figure of the park dashboard and campaign report equals a count taken directly
from the database (rows read back and counted here in Python, independently of the SQL)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from market.core import reference
from market.core.extensions import db
from market.core.report_period import InvalidPeriod, Period
from market.models import Need, Offering, Organization, Park, utcnow
from market.models.catalogue import CatalogueEdition
from market.models.docking import Docking
from market.models.recommendation import Recommendation
from market.parkops import figures as park_figures
from market.parkops import report as campaign_report
from market.parkops.scope import Scope, for_park, for_province
from tests.conftest import make_need, make_offering, make_org, make_park
from tests.parkops.factories import (
    at,
    clear_recommendations,
    make_docking,
    make_edition,
    make_recommendation,
)

PERIOD = Period(date(2026, 1, 1), date(2026, 6, 30))
INSIDE = at(2026, 3, 15)
BEFORE = at(2025, 12, 20)
AFTER = at(2026, 7, 2)


def build(park: Park, other: Park) -> None:
    """A park with a bit of everything, and a neighbour whose records must not count."""
    for _ in range(3):
        make_org(kind="enterprise", park=park, created_at=BEFORE)
    make_org(kind="enterprise", park=park, created_at=AFTER)  # joined after the period
    make_org(kind="enterprise", park=other, created_at=BEFORE)
    # Offerings: named park, province, nationwide, other province, draft, expired.
    make_offering(regions=["浙江省"], parks=[park], published_at=BEFORE)
    make_offering(regions=[park.province], category="platform.iiot", published_at=INSIDE)
    make_offering(regions=[reference.NATIONWIDE], published_at=INSIDE)
    make_offering(regions=["浙江省"], published_at=INSIDE)
    make_offering(regions=[park.province], status="draft")
    make_offering(regions=[park.province], expires_at=utcnow() - timedelta(days=1))
    make_offering(regions=[park.province], published_at=AFTER)
    ent = make_org(kind="enterprise", park=park, created_at=INSIDE)
    needs = [
        make_need(org=ent, park=park, published_at=INSIDE),
        make_need(org=ent, park=park, category="platform.iiot", published_at=BEFORE),
        make_need(org=ent, park=park, published_at=INSIDE),
        make_need(org=ent, park=park, status="closed", published_at=INSIDE),
    ]
    make_need(org=make_org(kind="enterprise", park=other), park=other, published_at=INSIDE)
    offering = make_offering(regions=[reference.NATIONWIDE], published_at=BEFORE)
    another = make_offering()
    db.session.commit()
    clear_recommendations()
    make_recommendation(needs[0], offering, score=85, first_seen_at=INSIDE)
    make_recommendation(needs[1], offering, score=20, first_seen_at=INSIDE)  # below threshold
    make_recommendation(needs[2], another, score=55, first_seen_at=BEFORE)
    # Dockings: every status, inside and outside the period, and in the other park.
    for status in ("requested", "accepted", "declined", "negotiating", "withdrawn", "no_deal"):
        make_docking(park, status=status, created_at=INSIDE)
    make_docking(
        park, status="deal", deal_amount=300_000, created_at=INSIDE, source="recommendation"
    )
    make_docking(
        park, kind="interest", status="deal", deal_amount=200_000, created_at=at(2026, 5, 2)
    )
    make_docking(park, status="deal", deal_amount=999_000, created_at=BEFORE)
    make_docking(other, status="deal", deal_amount=777_000, created_at=INSIDE)
    make_docking(
        park,
        kind="financing",
        status="deal",
        amount_sought=2_000_000,
        deal_amount=1_500_000,
        created_at=INSIDE,
    )
    make_docking(
        park, kind="financing", status="requested", amount_sought=1_000_000, created_at=INSIDE
    )
    make_docking(park, kind="financing", status="declined", amount_sought=500_000, created_at=AFTER)
    for status, certified in (
        ("registered", False),
        ("waitlisted", False),
        ("completed", True),
        ("cancelled", False),
    ):
        make_docking(
            park, kind="registration", status=status, certified=certified, created_at=INSIDE
        )
    make_edition(park, published_at=INSIDE)
    make_edition(park, published_at=BEFORE)
    make_edition(park, status="withdrawn", published_at=at(2026, 2, 1))
    make_edition(park, status="draft")
    make_edition(other, published_at=INSIDE)
    make_edition(scope="province", province=park.province, published_at=INSIDE)
    db.session.commit()


@pytest.fixture
def parks(app: Flask) -> tuple[Park, Park]:
    park = make_park(province="江苏省", industries=["C36", "C39"])
    other = make_park(province="江苏省")
    build(park, other)
    return park, other


# --- the counts, taken directly -----------------------------------------------------------


def rows(model: Any) -> list[Any]:
    return list(db.session.scalars(select(model)))


def inside(moment: Any) -> bool:
    low, high = PERIOD.bounds()
    return moment is not None and low <= moment < high


def serves(o: Offering, park: Park) -> bool:
    return (
        any(p.id == park.id for p in o.parks)
        or park.province in o.regions
        or reference.NATIONWIDE in o.regions
    )


def direct(park: Park) -> dict[str, Any]:
    _low, high = PERIOD.bounds()
    offerings = [
        o
        for o in rows(Offering)
        if o.is_public and serves(o, park) and (o.published_at is None or o.published_at < high)
    ]
    needs = [
        n
        for n in rows(Need)
        if n.is_public
        and n.park_id == park.id
        and (n.published_at is None or n.published_at < high)
    ]
    dockings = [d for d in rows(Docking) if d.park_id == park.id and inside(d.created_at)]
    pair = [d for d in dockings if d.kind in ("request", "interest")]
    fin = [d for d in dockings if d.kind == "financing"]
    reg = [d for d in dockings if d.kind == "registration"]
    recs = rows(Recommendation)
    by_category: dict[str, dict[str, int]] = {}
    for o in offerings:
        by_category.setdefault(o.category, {"offerings": 0, "needs": 0})["offerings"] += 1
    for n in needs:
        by_category.setdefault(n.category, {"offerings": 0, "needs": 0})["needs"] += 1
    return {
        "offerings_serving_park": len(offerings),
        "open_needs": len(needs),
        "enterprises": sum(
            1
            for o in rows(Organization)
            if o.kind == "enterprise" and o.park_id == park.id and o.created_at < high
        ),
        "catalogue_editions": sum(
            1
            for e in rows(CatalogueEdition)
            if e.scope == "park" and e.park_id == park.id and inside(e.published_at)
        ),
        "recommended": sum(
            1
            for r in recs
            if r.score >= 40
            and inside(r.first_seen_at)
            and db.session.get(Need, r.need_id).park_id == park.id
        ),
        "docking_requests": len(pair),
        "accepted": sum(
            1 for d in pair if d.status in ("accepted", "negotiating", "deal", "no_deal")
        ),
        "deals": sum(1 for d in pair if d.status == "deal"),
        "deal_amount": sum(d.deal_amount or 0 for d in pair if d.status == "deal"),
        "financing_applications": len(fin),
        "financing_applied": sum(d.amount_sought or 0 for d in fin),
        "financing_granted": sum(d.deal_amount or 0 for d in fin if d.status == "deal"),
        "training_registrations": sum(1 for d in reg if d.status != "cancelled"),
        "training_certificates": sum(1 for d in reg if d.certified),
        "unserved_needs": sum(
            1 for n in needs if not any(r.need_id == n.id and r.score >= 40 for r in recs)
        ),
        "by_category": dict(sorted(by_category.items())),
    }


# --- the tests ---------------------------------------------------------------------------------


def test_every_report_figure_equals_the_direct_count(parks: tuple[Park, Park]) -> None:
    park, _other = parks
    report = campaign_report.build(for_park(park.ref), PERIOD)
    expected = direct(park)
    assert {key: report[key] for key in expected} == expected
    assert report["park"] == park.ref
    assert (report["from"], report["to"]) == ("2026-01-01", "2026-06-30")


def test_figures_are_not_trivially_zero(parks: tuple[Park, Park]) -> None:
    """The world above exercises each figure (a zero everywhere would prove nothing)."""
    park, _other = parks
    report = campaign_report.build(for_park(park.ref), PERIOD)
    assert report["offerings_serving_park"] == 4
    assert report["docking_requests"] == 8
    assert report["accepted"] == 5
    assert report["deals"] == 2
    assert report["deal_amount"] == 500_000
    assert report["financing_applied"] == 3_000_000
    assert report["financing_granted"] == 1_500_000
    assert report["training_registrations"] == 3
    assert report["training_certificates"] == 1
    assert report["catalogue_editions"] == 2
    assert report["recommended"] == 1
    assert report["unserved_needs"] == 1


def test_funnel_rates_divide_each_step_by_the_one_before(parks: tuple[Park, Park]) -> None:
    park, _other = parks
    funnel = park_figures.funnel(for_park(park.ref), PERIOD, 40)
    assert funnel.from_recommendation == 1
    rates = funnel.rates()
    assert rates["accepted"] == round(100 * 5 / 8, 1)
    assert rates["deals"] == round(100 * 2 / 5, 1)
    assert park_figures.Funnel(0, 0, 0, 0, 0, 0).rates()["accepted"] is None


def test_months_cover_the_period_and_count_dockings_by_start(parks: tuple[Park, Park]) -> None:
    park, _other = parks
    months = park_figures.by_month(for_park(park.ref), PERIOD)
    assert list(months) == [f"2026-{m:02d}" for m in range(1, 7)]
    assert months["2026-03"]["dockings"] == 7
    assert months["2026-05"] == {"offerings": 0, "needs": 0, "dockings": 1, "deals": 1}
    pair = [
        d
        for d in rows(Docking)
        if d.park_id == park.id and inside(d.created_at) and d.kind in ("request", "interest")
    ]
    assert sum(m["dockings"] for m in months.values()) == len(pair)
    assert months["2026-03"]["offerings"] == 2  # province + nationwide, published in March
    assert months["2026-03"]["needs"] == 3  # closed needs were published too


def test_local_midnight_decides_the_month(app: Flask) -> None:
    park = make_park()
    # 2026-01-31 17:00 UTC is 1 February 01:00 in Beijing.
    make_docking(park, created_at=at(2026, 1, 31, hour=17))
    db.session.commit()
    months = park_figures.by_month(for_park(park.ref), PERIOD)
    assert months["2026-01"]["dockings"] == 0
    assert months["2026-02"]["dockings"] == 1


def test_top_providers_rank_by_dockings(parks: tuple[Park, Park]) -> None:
    park, _other = parks
    provider = make_org(kind="solution_provider", name="最忙的服务商")
    offering = make_offering(org=provider)
    for _ in range(3):
        make_docking(park, offering=offering, status="deal", deal_amount=10, created_at=INSIDE)
    db.session.commit()
    top = park_figures.top_providers(for_park(park.ref), PERIOD)
    assert top[0].name == "最忙的服务商"
    assert (top[0].dockings, top[0].deals, top[0].deal_amount) == (3, 3, 30)


def test_province_rollup_adds_up_its_parks(parks: tuple[Park, Park]) -> None:
    park, other = parks
    report = campaign_report.build(for_province("江苏省"), PERIOD)
    one, two = direct(park), direct(other)
    assert report["province"] == "江苏省"
    assert report["parks"] == 2
    for key in ("open_needs", "enterprises", "docking_requests", "deals", "deal_amount"):
        assert report[key] == one[key] + two[key], key
    # Park editions of both parks plus the province's own edition.
    assert report["catalogue_editions"] == 4


def test_unserved_needs_lists_open_needs_without_a_good_recommendation(
    parks: tuple[Park, Park],
) -> None:
    park, _other = parks
    scope = for_park(park.ref)
    listed = park_figures.unserved_needs(scope, 40)
    recommended = {r.need_id for r in rows(Recommendation) if r.score >= 40}
    assert listed and all(n.id not in recommended and n.is_public for n in listed)
    assert len(listed) == park_figures.unserved_count(scope, 40)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-13-01", None, "起始日期"),
        (None, "yesterday", "截止日期"),
        ("2026-05-01", "2026-04-01", "不能早于"),
        ("2001-01-01", "2026-01-01", "不能超过"),
        ("1900-01-01", "2026-01-01", "超出范围"),
    ],
)
def test_bad_periods_are_refused_with_a_clear_message(
    app: Flask, start: str | None, end: str | None, message: str
) -> None:
    with pytest.raises(InvalidPeriod, match=message):
        Period.parse(start, end)


def test_period_defaults_to_the_year_so_far(app: Flask) -> None:
    period = Period.parse(None, "2026-04-30")
    assert period == Period(date(2026, 1, 1), date(2026, 4, 30))
    assert Scope(province="江苏省").kind == "province"


def test_the_fast_serving_test_picks_the_same_offerings_as_the_park_directory(
    app: Flask,
) -> None:
    """Scope.served() is a faster spelling of parks.serves_park: the same rows."""
    from market.parks import service as park_service

    park = make_park(province="江苏省")
    elsewhere = make_park(province="江苏省")
    for regions, parks_named in (
        (["江苏省"], []),
        (["全国"], []),
        (["浙江省"], [park]),
        (["浙江省"], [elsewhere]),
        (["浙江省", "江苏省"], []),
        (["浙江省"], []),
        ([], []),
    ):
        make_offering(regions=regions, parks=parks_named)
    db.session.commit()
    fast = set(db.session.scalars(select(Offering.id).where(for_park(park.ref).served())))
    directory = {o.id for o in db.session.scalars(park_service.serving_offerings(park))}
    assert fast == directory and len(fast) == 4
    province = set(db.session.scalars(select(Offering.id).where(for_province("江苏省").served())))
    assert province == fast | {
        o.id for o in db.session.scalars(park_service.serving_offerings(elsewhere))
    }
