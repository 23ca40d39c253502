"""The park dashboard, its CSV tables, the campaign report (page, XLSX, PDF), the chain
map and the 招商 shortlist, as park staff and admins see them."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest
from flask import Flask
from flask.testing import FlaskClient
from openpyxl import load_workbook

from market.core.extensions import db
from market.core.report_period import Period
from market.models import Park, User
from market.parkops import report as campaign_report
from market.parkops.scope import for_park
from tests.conftest import Auth, make_need, make_offering, make_org, make_park, make_user
from tests.parkops.factories import (
    at,
    clear_recommendations,
    make_docking,
    make_edition,
    make_recommendation,
)

PERIOD = {"from": "2026-01-01", "to": "2026-06-30"}
INSIDE = at(2026, 3, 15)


def staff_of(park: Park) -> User:
    return make_user(role="park_staff", org=make_org(kind="park_operator", park=park))


@pytest.fixture
def park(app: Flask) -> Park:
    park = make_park(ref="P-SIP", name="苏州工业园区", province="江苏省", industries=["C36"])
    ent = make_org(kind="enterprise", park=park)
    need = make_need(org=ent, park=park, published_at=INSIDE)
    offering = make_offering(regions=["江苏省"], published_at=INSIDE)
    db.session.commit()
    clear_recommendations()
    make_recommendation(need, offering, score=90, first_seen_at=INSIDE)
    make_docking(park, status="deal", deal_amount=1_250_000, created_at=INSIDE)
    make_docking(park, status="requested", created_at=INSIDE)
    make_docking(
        park,
        kind="financing",
        status="deal",
        amount_sought=3_000_000,
        deal_amount=2_000_000,
        created_at=INSIDE,
    )
    make_docking(park, kind="registration", status="completed", certified=True, created_at=INSIDE)
    make_edition(park, published_at=INSIDE)
    db.session.commit()
    return park


def figure(page: str, label: str) -> str:
    """The value shown on a stat card above ``label``."""
    found = re.search(
        r'stat-value d-block">([^<]*)</span><span class="stat-label">' + re.escape(label), page
    )
    assert found, label
    return found.group(1)


def test_staff_dashboard_shows_the_database_figures(
    client: FlaskClient, auth: Auth, park: Park
) -> None:
    auth.login(staff_of(park))
    page = client.get("/parkops/parks/P-SIP", query_string=PERIOD).get_data(as_text=True)
    report = campaign_report.build(for_park("P-SIP"), Period(date(2026, 1, 1), date(2026, 6, 30)))
    assert figure(page, "服务本园区的供给") == str(report["offerings_serving_park"])
    assert figure(page, "征集中需求") == str(report["open_needs"])
    assert figure(page, "发起对接") == str(report["docking_requests"]) == "2"
    assert figure(page, "达成合作") == "1"
    assert figure(page, "合作金额") == "125 万元"
    assert figure(page, "培训报名（人次）") == "1"
    assert 'data-chart="' in page and "chart.umd.min.js" in page and "park-charts.js" in page


def test_staff_get_their_own_dashboard_from_the_overview(
    client: FlaskClient, auth: Auth, park: Park
) -> None:
    auth.login(staff_of(park))
    response = client.get("/parkops/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/parkops/parks/P-SIP")


def test_staff_of_another_park_get_403(client: FlaskClient, auth: Auth, park: Park) -> None:
    auth.login(staff_of(make_park()))
    for url in (
        "/parkops/parks/P-SIP",
        "/parkops/parks/P-SIP/report",
        "/parkops/parks/P-SIP/report.xlsx",
        "/parkops/parks/P-SIP/chain",
        "/parkops/parks/P-SIP/charts/funnel.csv",
        "/parkops/parks/P-SIP/invitations",
        "/parkops/provinces/江苏省",
    ):
        assert client.get(url).status_code == 403, url


def test_enterprise_users_cannot_open_park_operations(
    client: FlaskClient, auth: Auth, park: Park
) -> None:
    auth.login(make_user(org=make_org(kind="enterprise", park=park)))
    assert client.get("/parkops/").status_code == 403
    assert client.get("/parkops/parks/P-SIP").status_code == 403


def test_chart_csv_has_the_table_of_the_chart(client: FlaskClient, auth: Auth, park: Park) -> None:
    auth.login(staff_of(park))
    response = client.get("/parkops/parks/P-SIP/charts/funnel.csv", query_string=PERIOD)
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["环节", "数量", "较上一环节（%）"]
    assert rows[1:] == [
        ["智能推荐", "1", ""],
        ["发起对接", "2", "200.0"],
        ["受理对接", "1", "50.0"],
        ["达成合作", "1", "100.0"],
    ]
    assert client.get("/parkops/parks/P-SIP/charts/nothing.csv").status_code == 404


def test_a_bad_period_is_explained_on_the_page(client: FlaskClient, auth: Auth, park: Park) -> None:
    auth.login(staff_of(park))
    response = client.get("/parkops/parks/P-SIP", query_string={"from": "2026-02-30"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "起始日期“2026-02-30”无效" in page
    assert 'value="2026-02-30"' in page  # what was typed stays in the box


def test_report_xlsx_holds_the_report_figures(client: FlaskClient, auth: Auth, park: Park) -> None:
    auth.login(staff_of(park))
    response = client.get("/parkops/parks/P-SIP/report.xlsx", query_string=PERIOD)
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.get_data()))
    summary = {row[0]: row[1] for row in book["汇总"].iter_rows(min_row=5, values_only=True)}
    assert summary["对接请求（次）"] == 2
    assert summary["合作金额（元）"] == 1_250_000
    assert summary["申请融资金额（元）"] == 3_000_000
    assert summary["获得融资金额（元）"] == 2_000_000
    assert summary["发布供需目录（期）"] == 1
    first_month = next(book["月度"].iter_rows(min_row=2, values_only=True))
    assert first_month[0] == "2026-01"


def test_report_pdf_is_a_pdf(client: FlaskClient, auth: Auth, park: Park) -> None:
    auth.login(staff_of(park))
    response = client.get("/parkops/parks/P-SIP/report.pdf", query_string=PERIOD)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.get_data().startswith(b"%PDF")


def test_report_page_lists_every_summary_figure(
    client: FlaskClient, auth: Auth, park: Park
) -> None:
    auth.login(staff_of(park))
    page = client.get("/parkops/parks/P-SIP/report", query_string=PERIOD).get_data(as_text=True)
    row = re.search(r'data-key="deal_amount">(.*?)</tr>', page)
    assert row and "合作金额（元）" in row.group(1) and 'data-value="1250000"' in row.group(1)
    assert 'data-key="training_certificates"' in page


def test_admins_see_every_park_and_the_province_rollup(
    client: FlaskClient, auth: Auth, park: Park
) -> None:
    auth.login(make_user(role="admin"))
    overview = client.get("/parkops/").get_data(as_text=True)
    assert "苏州工业园区" in overview and "/parkops/provinces/" in overview
    assert client.get("/parkops/parks/P-SIP").status_code == 200
    page = client.get("/parkops/provinces/江苏省", query_string=PERIOD).get_data(as_text=True)
    assert "全省汇总" in page
    assert client.get("/parkops/provinces/火星省").status_code == 404
    xlsx = client.get("/parkops/provinces/江苏省/report.xlsx", query_string=PERIOD)
    assert xlsx.status_code == 200


def test_chain_map_colours_segments_by_coverage(
    client: FlaskClient, auth: Auth, park: Park
) -> None:
    # Quality inspection is covered inside the park; MES only by a provider elsewhere.
    make_offering(category="application.quality", parks=[park], regions=["浙江省"])
    make_offering(category="application.mes", regions=["浙江省"], org=make_org(province="浙江省"))
    db.session.commit()
    auth.login(staff_of(park))
    page = client.get("/parkops/parks/P-SIP/chain").get_data(as_text=True)
    assert re.search(r'data-segment="quality" data-level="park"', page)
    assert re.search(r'data-segment="production" data-level="national"', page)
    assert re.search(r'data-segment="energy" data-level="none"', page)
    assert "/parkops/parks/P-SIP/chain/C36/production" in page


def test_shortlist_puts_recommended_providers_first_and_exports(
    client: FlaskClient, auth: Auth, park: Park
) -> None:
    need = make_need(
        org=make_org(kind="enterprise", park=park), park=park, category="application.mes"
    )
    best = make_offering(category="application.mes", title="=MES 精益生产", regions=["浙江省"])
    other = make_offering(category="application.mes", title="普通 MES", regions=["浙江省"])
    inside = make_offering(category="application.mes", parks=[park], title="园区内 MES")
    db.session.commit()
    clear_recommendations()
    make_recommendation(need, best, score=88)
    db.session.commit()
    auth.login(staff_of(park))
    page = client.get("/parkops/parks/P-SIP/chain/C36/production").get_data(as_text=True)
    assert page.index(best.ref or "") < page.index(other.ref or "")
    assert (inside.ref or "") not in page
    response = client.get("/parkops/parks/P-SIP/chain/C36/production/shortlist.csv")
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[1][0] == best.ref and rows[1][1] == "'=MES 精益生产"  # no formula
    assert rows[1][5] == "1" and rows[1][6] == "88.0"
    xlsx = client.get("/parkops/parks/P-SIP/chain/C36/production/shortlist.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).active
    assert sheet is not None
    assert sheet["A2"].value == best.ref
    assert client.get("/parkops/parks/P-SIP/chain/C99/production").status_code == 404
    assert client.get("/parkops/parks/P-SIP/chain/C36/nothing").status_code == 404
