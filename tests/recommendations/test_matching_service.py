"""Recommendations kept by the app: after-commit recompute, ranks, threshold, feedback."""

from __future__ import annotations

import json
from datetime import timedelta
from types import MappingProxyType
from typing import Any, cast

import pytest
from flask import Flask
from flask_babel import force_locale
from sqlalchemy import Text, func, select
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from market.core.errors import DomainError, PermissionDenied
from market.core.extensions import db
from market.models import MatchOutbox, Need, Offering, Recommendation, utcnow
from market.models.docking import Docking
from market.recommendations import recompute as match_recompute
from market.recommendations import records as match_records
from market.recommendations import service as matching
from market.recommendations import settings as match_settings
from market.recommendations import store as match_store
from market.recommendations.reasons import reason_texts
from matching import Match, Part
from matching.weights import Weights
from tests.conftest import make_need, make_offering, make_org, make_user
from tests.recommendations.factories import Market, make_market


def refs_for_need(need: Need, limit: int = 20) -> list[str]:
    return [str(rec.offering.ref) for rec in matching.recommendations_for_need(need, limit)]


def refs_for_offering(offering: Offering, limit: int = 20) -> list[str]:
    return [str(rec.need.ref) for rec in matching.recommendations_for_offering(offering, limit)]


def session() -> Session:
    return cast(Session, db.session)


def outbox_rows() -> int:
    db.session.rollback()  # a fresh snapshot: the worker commits in a session of its own
    return int(db.session.scalar(select(func.count()).select_from(MatchOutbox)) or 0)


@pytest.fixture
def market(app: Flask) -> Market:
    return make_market()


def test_publishing_a_need_creates_its_recommendations_after_commit(market: Market) -> None:
    got = refs_for_need(market.need)
    assert got[0] == "S-BEST"
    assert "S-SECOND" in got
    # Hard rules: wrong province and over budget are never recommended.
    assert "S-ZJ" not in got and "S-PRICY" not in got
    assert outbox_rows() == 0


def test_a_draft_need_has_no_recommendations_until_it_is_open(market: Market) -> None:
    draft = Need(
        org=market.enterprise,
        park=market.park,
        kind="solution",
        category="application.quality",
        title="冲压件缺陷检测（草稿）",
        description="视觉检测",
        tags=["缺陷检测"],
        status="draft",
    )
    db.session.add(draft)
    db.session.commit()
    assert outbox_rows() == 0
    assert (
        db.session.scalar(select(Recommendation).where(Recommendation.need_id == draft.id)) is None
    )
    draft.status = "open"
    draft.published_at = utcnow()
    db.session.commit()
    assert "S-BEST" in refs_for_need(draft)


def test_the_offering_side_lists_the_need_with_its_rank(market: Market) -> None:
    assert refs_for_offering(market.best) == ["D-NEED"]
    row = db.session.scalar(
        select(Recommendation).where(
            Recommendation.need_id == market.need.id,
            Recommendation.offering_id == market.best.id,
        )
    )
    assert row is not None and row.need_rank == 1 and row.offering_rank == 1
    assert {p["rule"] for p in row.parts} >= {"region", "category", "capability"}
    assert row.score == pytest.approx(sum(p["points"] for p in row.parts), abs=0.11)


def test_archiving_an_offering_removes_it_from_needs_lists(market: Market) -> None:
    assert "S-BEST" in refs_for_need(market.need)
    market.best.status = "archived"
    db.session.commit()
    assert "S-BEST" not in refs_for_need(market.need)
    stored = db.session.scalar(
        select(func.count())
        .select_from(Recommendation)
        .where(Recommendation.offering_id == market.best.id)
    )
    assert stored == 0


def test_closing_a_need_drops_it_from_offerings_lists(market: Market) -> None:
    market.need.status = "closed"
    db.session.commit()
    assert refs_for_offering(market.best) == []
    assert matching.recommendations_for_need(market.need) == []


def test_first_seen_is_kept_when_a_listing_is_recomputed(market: Market) -> None:
    def first_seen() -> Any:
        return db.session.scalar(
            select(Recommendation.first_seen_at).where(
                Recommendation.need_id == market.need.id,
                Recommendation.offering_id == market.best.id,
            )
        )

    before = first_seen()
    market.need.title = "冲压件表面划痕与凹坑检测"
    db.session.commit()
    matching.recompute_for_offering(market.best)
    db.session.commit()
    assert first_seen() == before


def test_a_new_offering_enters_an_existing_needs_list(market: Market) -> None:
    make_offering(
        org=market.provider,
        ref="S-NEW",
        title="冲压件表面缺陷机器视觉检测",
        tags=["机器视觉", "缺陷检测", "冲压件"],
    )
    db.session.commit()
    assert "S-NEW" in refs_for_need(market.need)


def test_the_threshold_is_applied_when_reading(market: Market) -> None:
    scores = [rec.score for rec in matching.recommendations_for_need(market.need)]
    assert scores
    admin = make_user(role="admin")
    match_settings.save(admin, Weights(threshold=max(scores) + 0.1))
    db.session.commit()
    assert refs_for_need(market.need) == []


def test_feedback_hides_the_pair_from_the_marking_side_only(market: Market) -> None:
    matching.mark_irrelevant(market.owner, "need", market.need, market.best, "我们不做冲压")
    db.session.commit()
    assert "S-BEST" not in refs_for_need(market.need)
    assert refs_for_offering(market.best) == ["D-NEED"]


def test_feedback_needs_a_reason_and_a_member_of_that_side(market: Market) -> None:
    with pytest.raises(DomainError, match="原因"):
        matching.mark_irrelevant(market.owner, "need", market.need, market.best, "  ")
    with pytest.raises(PermissionDenied):
        matching.mark_irrelevant(market.vendor, "need", market.need, market.best, "不相关")
    with pytest.raises(DomainError):
        matching.mark_irrelevant(market.owner, "need", market.need, market.best, "长" * 501)


def test_a_full_recompute_agrees_with_the_incremental_one(market: Market) -> None:
    incremental = refs_for_need(market.need)
    before = {
        (r.need_id, r.offering_id): r.first_seen_at
        for r in db.session.scalars(select(Recommendation))
    }
    summary = matching.recompute_all(workers=1)
    db.session.expire_all()
    assert summary["needs"] == 1 and summary["offerings"] == 4
    assert summary["recommendations"] == len(before)
    assert refs_for_need(market.need) == incremental
    after = {
        (r.need_id, r.offering_id): r.first_seen_at
        for r in db.session.scalars(select(Recommendation))
    }
    assert after == before


def cache_sizes() -> list[int]:
    """SQLite's page cache size of every pooled connection (empty on PostgreSQL)."""
    if db.engine.dialect.name != "sqlite":
        return []
    db.session.rollback()
    with db.engine.connect() as a, db.engine.connect() as b:
        return [int(c.exec_driver_sql("PRAGMA cache_size").scalar_one()) for c in (a, b)]


def test_write_all_replaces_the_rows_with_the_json_types_text(market: Market) -> None:
    """write_all bypasses the ORM and the column types: the rows hold what they would
    (the JSON type's text, first_seen_at of a kept pair, one computed_at), and stored
    pairs and needs missing from the result are gone."""
    dropped = make_need(org=market.enterprise, park=market.park, ref="D-DROPPED")
    db.session.commit()  # the after-commit recompute stores D-DROPPED's pairs
    need_id, best, elsewhere = market.need.id, market.best.id, market.elsewhere.id

    def stored() -> dict[tuple[int, int], Recommendation]:
        db.session.rollback()
        db.session.expire_all()
        return {(r.need_id, r.offering_id): r for r in db.session.scalars(select(Recommendation))}

    before = stored()
    assert (need_id, best) in before and (need_id, market.second.id) in before
    assert any(n == dropped.id for n, _o in before)
    seen = before[(need_id, best)].first_seen_at
    shared = Part("verified", 5.0, {})  # the matcher shares Parts between matches
    near = Match(
        need_id,
        best,
        81.25,
        (
            Part("region", 0.0, {"scope": "province", "province": "江苏省"}),
            Part("capability", 26.0, {"terms": ["视觉", "缺陷"], "similarity": 0.334}),
            shared,
        ),
    )
    far = Match(
        need_id,
        elsewhere,
        40.0,
        (Part("price", 2.5, MappingProxyType({"position": "over"})), shared),
    )
    cache = cache_sizes()
    progress: list[tuple[int, int]] = []
    written = match_recompute.write_all(
        {need_id: [(near, 1, None), (far, None, 3)]}, lambda d, t: progress.append((d, t))
    )
    assert written == 2
    assert progress[-1][0] == progress[-1][1]
    after = stored()
    assert set(after) == {(need_id, best), (need_id, elsewhere)}
    row, other = after[(need_id, best)], after[(need_id, elsewhere)]
    assert (row.score, row.need_rank, row.offering_rank) == (81.25, 1, None)
    assert (other.score, other.need_rank, other.offering_rank) == (40.0, None, 3)
    assert row.first_seen_at == seen  # a pair already stored keeps it
    assert other.first_seen_at == other.computed_at == row.computed_at > seen
    assert row.parts == match_store.parts_json(near.parts)
    assert other.parts == match_store.parts_json(far.parts)
    texts = dict(
        db.session.execute(
            select(Recommendation.offering_id, sql_cast(Recommendation.parts, Text)).where(
                Recommendation.need_id == need_id
            )
        ).all()
    )
    # The text SQLAlchemy's JSON type writes (json.dumps) on both databases.
    assert texts[best] == json.dumps(match_store.parts_json(near.parts))
    assert texts[elsewhere] == json.dumps(match_store.parts_json(far.parts))
    assert cache_sizes() == cache  # SQLite's bigger page cache for the write is given back


def test_a_full_recompute_reports_progress_up_to_the_end(market: Market) -> None:
    seen: list[tuple[int, int]] = []
    matching.recompute_all(progress=lambda done, total: seen.append((done, total)), workers=1)
    assert seen[-1] == (100, 100)
    assert [d for d, _t in seen] == sorted(d for d, _t in seen)


def test_a_failed_recompute_keeps_the_row_and_the_save(
    market: Market, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_args: Any) -> int:
        raise RuntimeError("matcher down")

    monkeypatch.setattr(match_store, "recompute_listing", boom)
    market.need.title = "冲压件表面划痕检测（已更新）"
    db.session.commit()
    db.session.expire_all()
    saved = db.session.get(Need, market.need.id)
    assert saved is not None and saved.title.endswith("（已更新）")
    row = db.session.scalar(select(MatchOutbox))
    assert row is not None and row.listing == "need" and row.attempts == 1
    assert "matcher down" in (row.last_error or "")
    monkeypatch.undo()
    report = matching.process_match_outbox()
    assert report.applied == 1 and outbox_rows() == 0


def test_many_waiting_rows_make_one_full_recompute(market: Market) -> None:
    db.session.add_all(
        MatchOutbox(listing="need", listing_id=market.need.id + k)
        for k in range(matching.FULL_SWITCH + 1)
    )
    db.session.commit()
    report = matching.process_match_outbox()
    assert report.full and outbox_rows() == 0


def test_an_org_losing_its_verification_is_rescored(market: Market) -> None:
    before = matching.recommendations_for_need(market.need)[0].score
    market.provider.verified = False
    db.session.commit()
    db.session.expire_all()
    after = matching.recommendations_for_need(market.need)[0]
    assert after.score < before
    assert "verified" not in {p["rule"] for p in after.parts}


def test_the_providers_response_record_counts_answers_within_a_week(market: Market) -> None:
    now = utcnow()
    for days_to_answer in (1, 3, None, 10):
        db.session.add(
            Docking(
                kind="request",
                offering_id=market.best.id,
                need_id=market.need.id,
                enterprise_org_id=market.enterprise.id,
                provider_org_id=market.provider.id,
                initiator_org_id=market.enterprise.id,
                status="accepted" if days_to_answer else "requested",
                created_at=now - timedelta(days=20),
                answered_at=None
                if days_to_answer is None
                else now - timedelta(days=20 - days_to_answer),
            )
        )
    db.session.flush()
    assert match_records.response_rates(session(), [market.provider.id]) == {
        market.provider.id: 0.5
    }
    lonely = make_org(kind="solution_provider")
    assert match_records.response_rates(session(), [lonely.id]) == {}


def test_complements_offer_finance_and_training_for_the_same_enterprise(market: Market) -> None:
    bank = make_org(kind="financial_institution", name="苏州银行")
    school = make_org(kind="training_body", name="苏州职业技术学院")
    make_offering(
        org=bank,
        ref="S-LOAN",
        kind="finance",
        category="finance.loan",
        title="智能化改造设备贷",
        tags=["设备贷"],
        industries=[],
        price_min=None,
        price_max=None,
        amount_min=100_000,
        amount_max=5_000_000,
        eligible_sizes=["medium", "small"],
    )
    make_offering(
        org=school,
        ref="S-COURSE",
        kind="training",
        category="talent",
        title="机器视觉缺陷检测工程师培训",
        tags=["机器视觉", "缺陷检测"],
        price_min=3000,
        price_max=3000,
        mode="offline",
        starts_on=utcnow().date() + timedelta(days=30),
    )
    db.session.commit()
    found = matching.complements_for_need(market.need)
    assert [c.offering.ref for c in found["finance"]] == ["S-LOAN"]
    assert [c.offering.ref for c in found["training"]] == ["S-COURSE"]
    assert "S-LOAN" not in refs_for_need(market.need)


def test_reasons_read_as_chinese_sentences(app: Flask) -> None:
    parts = [
        {"rule": "industry", "points": 10, "params": {"industry": "C36", "level": "division"}},
        {"rule": "region", "points": 0, "params": {"scope": "province", "province": "江苏省"}},
        {"rule": "category", "points": 25, "params": {"category": "application.quality"}},
        {
            "rule": "price",
            "points": 10,
            "params": {
                "position": "within",
                "price_min": 200_000,
                "price_max": 350_000,
                "budget_max": 500_000,
            },
        },
    ]
    texts = reason_texts(parts)
    assert texts[0].startswith("同属")
    assert "服务江苏省" in texts
    assert any(t.startswith("预算内（报价 20 万元") and "预算 50 万元" in t for t in texts)
    assert any(t.startswith("行业匹配 C36") for t in texts)


def test_unknown_rules_and_broken_params_render_generically(app: Flask) -> None:
    texts = reason_texts(
        [
            {"rule": "sparkle", "points": 3, "params": {}},
            {"rule": "price", "points": 5, "params": "not a mapping"},
            {"rule": "training_dates", "points": 0, "params": {"starts_on": "soon"}},
            {"points": "x"},
        ]
    )
    assert len(texts) == 4
    assert "其他匹配因素（+3 分）" in texts  # an internal rule name is never shown
    assert "报价在预算内（+5 分）" in texts
    with force_locale("en"):
        english = reason_texts([{"rule": "price", "points": 5, "params": "not a mapping"}])
    assert english and all(t.isascii() for t in english), english
