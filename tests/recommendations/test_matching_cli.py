"""`market match` as interfaces.md promises: JSON shapes, one-line errors, --all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, cast

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from market.core.extensions import db
from market.models import Need, Offering, Recommendation
from market.recommendations import records as match_records
from market.recommendations import settings as match_settings
from market.recommendations import store as match_store
from matching import rank_for_need
from tests.recommendations.factories import Market, make_feedback, make_market

DEMO = Path(__file__).resolve().parents[2] / "seed_data" / "demo"


def run_json(runner: FlaskCliRunner, *args: str) -> dict[str, Any]:
    result = runner.invoke(args=["match", *args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.fixture
def market(app: Flask) -> Market:
    return make_market()


def test_match_need_json_has_the_documented_shape(runner: FlaskCliRunner, market: Market) -> None:
    data = run_json(runner, "--need", "D-NEED")
    assert set(data) == {"need", "matches"}
    assert data["need"] == "D-NEED"
    first = data["matches"][0]
    assert set(first) == {"offering", "score", "reasons"}
    assert first["offering"] == "S-BEST"
    assert 0 <= first["score"] <= 100
    assert "服务江苏省" in first["reasons"]
    scores = [m["score"] for m in data["matches"]]
    assert scores == sorted(scores, reverse=True)
    assert {"S-ZJ", "S-PRICY"}.isdisjoint(m["offering"] for m in data["matches"])


def test_match_offering_json_swaps_the_roles(runner: FlaskCliRunner, market: Market) -> None:
    data = run_json(runner, "--offering", "S-BEST")
    assert set(data) == {"offering", "matches"}
    assert data["matches"][0]["need"] == "D-NEED"
    assert set(data["matches"][0]) == {"need", "score", "reasons"}


def test_match_respects_limit_and_the_needs_feedback(
    runner: FlaskCliRunner, market: Market
) -> None:
    assert len(run_json(runner, "--need", "D-NEED", "--limit", "1")["matches"]) == 1
    make_feedback(need=market.need, offering=market.best)
    db.session.commit()
    refs = [m["offering"] for m in run_json(runner, "--need", "D-NEED")["matches"]]
    assert "S-BEST" not in refs


def test_match_without_json_prints_a_table_with_reasons(
    runner: FlaskCliRunner, market: Market
) -> None:
    result = runner.invoke(args=["match", "--need", "D-NEED"])
    assert result.exit_code == 0
    assert "S-BEST" in result.output and "服务江苏省" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--need", "D-NOPE"], "error: no need with ref 'D-NOPE'"),
        (["--offering", "S-NOPE"], "error: no offering with ref 'S-NOPE'"),
        ([], "error: give exactly one of --need REF, --offering REF or --all"),
        (["--need", "D-NEED", "--all"], "error: give exactly one of"),
    ],
)
def test_match_errors_are_one_line(
    runner: FlaskCliRunner, market: Market, args: list[str], message: str
) -> None:
    result = runner.invoke(args=["match", *args, "--json"])
    assert result.exit_code == 1
    assert result.stderr.startswith(message)
    assert result.stderr.count("\n") == 1
    assert result.stdout == ""


def test_match_all_recomputes_with_a_progress_bar(runner: FlaskCliRunner, market: Market) -> None:
    db.session.execute(Recommendation.__table__.delete())
    db.session.commit()
    result = runner.invoke(args=["match", "--all"])
    assert result.exit_code == 0, result.output
    assert "matching" in result.stderr  # the click progress bar's label
    assert result.stdout.startswith("recomputed 1 needs and 4 offerings: ")
    assert " recommendations in " in result.stdout
    assert db.session.scalar(select(func.count()).select_from(Recommendation))


def test_import_then_match_gives_results_without_another_step(
    app: Flask, runner: FlaskCliRunner
) -> None:
    result = runner.invoke(args=["import", str(DEMO)])
    assert result.exit_code == 0, result.output
    data = run_json(runner, "--need", "D-0001")
    assert data["need"] == "D-0001" and data["matches"]
    assert all(m["offering"].startswith("S-") and m["reasons"] for m in data["matches"])


def test_match_need_agrees_with_the_engine_on_the_demo_data(
    app: Flask, runner: FlaskCliRunner
) -> None:
    assert runner.invoke(args=["import", str(DEMO)]).exit_code == 0
    session = cast(Session, db.session)
    offerings = match_records.offerings(session)
    threshold = match_settings.current().threshold
    open_needs = db.session.scalars(
        select(Need).where(Need.public_clause()).order_by(Need.ref).limit(12)
    ).all()
    assert open_needs
    refs = {o.id: o.ref for o in offerings}
    for need in open_needs:
        record = match_records.need_by_id(session, need.id)
        assert record is not None
        ctx = match_store.context(session, offerings, [record])
        engine = [
            (refs[m.offering_id], m.score)
            for m in rank_for_need(record, offerings, ctx, limit=10)
            if m.score >= threshold
        ]
        cli = [
            (m["offering"], m["score"])
            for m in run_json(runner, "--need", str(need.ref))["matches"]
        ]
        assert cli == engine, need.ref
    assert db.session.scalar(select(func.count()).select_from(Offering))
