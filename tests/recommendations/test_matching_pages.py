"""「为您推荐」/「潜在需求」 panels, 不相关 feedback, and the admins' weights and feedback pages."""

from __future__ import annotations

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from market.core.extensions import db
from market.models import MatchFeedback, MatchOutbox, MatchSettings
from tests.conftest import Auth, make_user
from tests.recommendations.factories import Market, make_feedback, make_market

RULES = ("category", "capability", "industry", "park", "verified", "price", "freshness", "response")


@pytest.fixture
def market(app: Flask) -> Market:
    return make_market()


def page(client: FlaskClient, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def feedback_count() -> int:
    return int(db.session.scalar(select(func.count()).select_from(MatchFeedback)) or 0)


def test_the_enterprise_sees_recommendations_with_reasons(
    client: FlaskClient, auth: Auth, market: Market
) -> None:
    auth.login(market.owner)
    html = page(client, "/needs/D-NEED")
    assert "为您推荐" in html
    assert "冲压件表面缺陷视觉检测系统" in html
    assert "服务江苏省" in html and "匹配度" in html
    assert "不相关" in html
    assert "冲压件表面缺陷视觉检测（浙江）" not in html  # serves 浙江省 only


def test_others_do_not_see_the_needs_recommendations(
    client: FlaskClient, auth: Auth, market: Market
) -> None:
    assert "为您推荐" not in page(client, "/needs/D-NEED")
    auth.login(market.vendor)
    assert "为您推荐" not in page(client, "/needs/D-NEED")


def test_the_vendor_sees_potential_needs_on_its_offering(
    client: FlaskClient, auth: Auth, market: Market
) -> None:
    assert "潜在需求" not in page(client, "/offerings/S-BEST")
    auth.login(market.vendor)
    html = page(client, "/offerings/S-BEST")
    assert "潜在需求" in html and "冲压件表面划痕检测" in html


def test_marking_a_recommendation_irrelevant_hides_it(
    client: FlaskClient, auth: Auth, market: Market
) -> None:
    auth.login(market.owner)
    response = client.post(
        "/matching/needs/D-NEED/feedback",
        data={"partner": "S-BEST", "reason": "我们没有冲压工序", "next": "/needs/D-NEED"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/needs/D-NEED")
    html = page(client, "/needs/D-NEED")
    assert "已标记为不相关" in html
    assert "冲压件表面缺陷视觉检测系统" not in html
    row = db.session.scalar(select(MatchFeedback))
    assert row is not None and row.reason == "我们没有冲压工序" and row.side == "need"
    assert row.user_id == market.owner.id and row.org_id == market.enterprise.id


def test_feedback_without_a_reason_keeps_the_form_and_changes_nothing(
    client: FlaskClient, auth: Auth, market: Market
) -> None:
    auth.login(market.owner)
    response = client.post(
        "/matching/needs/D-NEED/feedback", data={"partner": "S-BEST", "reason": "  "}
    )
    assert response.status_code == 400
    assert "请填写不相关的原因。" in response.get_data(as_text=True)
    too_long = "很长的理由" * 101
    response = client.post(
        "/matching/needs/D-NEED/feedback", data={"partner": "S-BEST", "reason": too_long}
    )
    assert response.status_code == 400
    assert too_long in response.get_data(as_text=True)  # what was typed is kept
    response = client.post(
        "/matching/needs/D-NEED/feedback", data={"partner": "S-NOPE", "reason": "无关"}
    )
    assert response.status_code == 400
    assert "找不到要反馈的条目。" in response.get_data(as_text=True)
    assert feedback_count() == 0


def test_only_the_owning_side_may_give_feedback(
    client: FlaskClient, auth: Auth, market: Market
) -> None:
    auth.login(market.vendor)
    response = client.post(
        "/matching/needs/D-NEED/feedback", data={"partner": "S-BEST", "reason": "无关"}
    )
    assert response.status_code == 403
    assert feedback_count() == 0
    response = client.post(
        "/matching/offerings/S-BEST/feedback", data={"partner": "D-NEED", "reason": "不做这个行业"}
    )
    assert response.status_code == 302
    assert "潜在需求" in page(client, "/offerings/S-BEST")
    assert "冲压件表面划痕检测" not in page(client, "/offerings/S-BEST").split("潜在需求")[1]


def test_the_feedback_page_shows_the_pair(client: FlaskClient, auth: Auth, market: Market) -> None:
    auth.login(market.owner)
    html = page(client, "/matching/needs/D-NEED/feedback?partner=S-BEST")
    assert "不相关反馈" in html and "冲压件表面缺陷视觉检测系统" in html


@pytest.fixture
def admin(auth: Auth, market: Market) -> Auth:
    auth.login(make_user(role="admin"))
    return auth


def weights_form(**overrides: str) -> dict[str, str]:
    data = {"threshold": "40", "category": "25", "capability": "35", "industry": "10"}
    data.update({"park": "5", "verified": "5", "price": "10", "freshness": "5", "response": "5"})
    data.update(overrides)
    return data


def test_admins_save_weights_and_the_threshold_applies_at_once(
    client: FlaskClient, admin: Auth, market: Market
) -> None:
    assert "category" in page(client, "/matching/admin/weights")
    response = client.post("/matching/admin/weights", data=weights_form(threshold="99"))
    assert response.status_code == 302
    row = db.session.scalar(select(MatchSettings))
    assert row is not None and row.threshold == 99
    assert "权重已保存" in page(client, "/matching/admin/weights")
    admin.logout()
    admin.login(market.owner)
    assert "暂时没有足够匹配的供给" in page(client, "/needs/D-NEED")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"capability": "abc"}, "请输入 0 到 100 之间的数。"),
        ({"capability": ""}, "请填写数值。"),
        ({"threshold": "-1"}, "请输入 0 到 100 之间的数。"),
        ({"capability": "90"}, "权重之和不能超过 100"),
        ({r: "0" for r in RULES}, "权重之和必须大于 0。"),
    ],
)
def test_bad_weights_are_refused_in_chinese_and_change_nothing(
    client: FlaskClient, admin: Auth, overrides: dict[str, str], message: str
) -> None:
    response = client.post("/matching/admin/weights", data=weights_form(**overrides))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    if overrides.get("capability") == "abc":
        assert 'value="abc"' in html  # what was typed is kept
    assert db.session.scalar(select(MatchSettings)) is None


def test_restoring_defaults_and_queueing_a_full_recompute(
    client: FlaskClient, admin: Auth, market: Market
) -> None:
    client.post("/matching/admin/weights", data=weights_form(threshold="90"))
    assert client.post("/matching/admin/weights/reset").status_code == 302
    row = db.session.scalar(select(MatchSettings))
    db.session.refresh(row)
    assert row is not None and row.threshold == 40
    response = client.post("/matching/admin/recompute")
    assert response.status_code == 302
    assert "已排队重新计算全部推荐" in page(client, "/matching/admin/weights")
    # The queued recompute ran after the commit (the pool is small).
    assert db.session.scalar(select(func.count()).select_from(MatchOutbox)) == 0


def test_admins_read_filter_and_export_feedback(
    client: FlaskClient, admin: Auth, market: Market
) -> None:
    make_feedback(need=market.need, offering=market.best, reason="价格太高")
    make_feedback(need=market.need, offering=market.second, side="offering", reason="不做汽车")
    db.session.commit()
    html = page(client, "/matching/admin/feedback")
    assert "价格太高" in html and "不做汽车" in html and "D-NEED" in html
    assert "服务江苏省" in html  # the pair's score parts as reasons
    filtered = page(client, "/matching/admin/feedback?side=offering")
    assert "不做汽车" in filtered and "价格太高" not in filtered
    assert "价格太高" in page(client, "/matching/admin/feedback?q=价格")
    response = client.get("/matching/admin/feedback.csv?side=need")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeffcreated_at,side,need")
    assert "价格太高" in text and "不做汽车" not in text


def test_admin_matching_pages_are_for_admins_only(
    client: FlaskClient, auth: Auth, market: Market
) -> None:
    assert client.get("/matching/admin/weights").status_code == 302
    auth.login(market.owner)
    for url in ("/matching/admin/weights", "/matching/admin/feedback"):
        assert client.get(url).status_code == 403
    assert client.post("/matching/admin/weights", data=weights_form()).status_code == 403
    assert db.session.scalar(select(MatchSettings)) is None


def test_the_admin_home_links_to_the_matching_pages(client: FlaskClient, admin: Auth) -> None:
    assert "/matching/admin/weights" in page(client, "/admin/")
