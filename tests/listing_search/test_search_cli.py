"""`market search`, `market reindex [--reconcile]` and the indexing done by `market import`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from flask.testing import FlaskCliRunner

from market.core.extensions import db
from market.listing_search import indexing
from market.models import SearchOutbox
from tests.conftest import make_need, make_offering, make_org, make_park

ROOT = Path(__file__).resolve().parents[2]


def _world() -> None:
    park = make_park(ref="P-SIP", province="江苏省")
    vendor = make_org(kind="solution_provider", name="慧眼视觉科技有限公司")
    make_offering(org=vendor, ref="S-0001", title="智能质检云平台", regions=["江苏省"])
    make_offering(org=vendor, ref="S-0002", title="视觉质检工作站", regions=["浙江省"])
    make_offering(org=vendor, ref="S-0003", title="草稿质检方案", status="draft")
    make_offering(
        org=vendor,
        ref="S-0004",
        category="application.mes",
        title="MES系统快速实施",
        summary="生产执行系统",
        description="工单、报工、追溯。",
        tags=["MES"],
        regions=["江苏省"],
    )
    make_need(
        ref="D-0001", title="冲压件质检改造", park=park, org=make_org(kind="enterprise", park=park)
    )
    db.session.commit()


def _search(runner: FlaskCliRunner, *args: str) -> Any:
    result = runner.invoke(args=["search", *args])
    assert result.exit_code == 0, result.output
    return result


def test_search_prints_a_readable_table_of_public_results(runner: FlaskCliRunner) -> None:
    _world()
    out = _search(runner, "质检").stdout
    assert out.splitlines()[0] == "2 results for '质检' in offerings"
    assert "REF" in out and "S-0001" in out and "S-0002" in out and "慧眼视觉科技有限公司" in out
    assert "S-0003" not in out and "草稿" not in out


def test_search_json_has_exactly_the_documented_shape(runner: FlaskCliRunner) -> None:
    _world()
    body = json.loads(_search(runner, "质检", "--json").stdout)
    assert set(body) == {"query", "index", "total", "hits"}
    assert body["query"] == "质检" and body["index"] == "offerings" and body["total"] == 2
    assert {hit["ref"] for hit in body["hits"]} == {"S-0001", "S-0002"}
    for hit in body["hits"]:
        assert set(hit) == {"ref", "id", "title", "score"}
        assert isinstance(hit["id"], int) and 0 <= hit["score"] <= 1
    assert body["hits"][0]["score"] >= body["hits"][1]["score"]


def test_search_filters_index_and_limit(runner: FlaskCliRunner) -> None:
    _world()
    jiangsu = json.loads(_search(runner, "质检", "--filter", "province=江苏省", "--json").stdout)
    assert [hit["ref"] for hit in jiangsu["hits"]] == ["S-0001"]
    either = json.loads(
        _search(
            runner, "质检", "--filter", "province=江苏省", "--filter", "province=浙江省", "--json"
        ).stdout
    )
    assert either["total"] == 2
    limited = json.loads(_search(runner, "质检", "--limit", "1", "--json").stdout)
    assert limited["total"] == 2 and len(limited["hits"]) == 1
    needs = json.loads(_search(runner, "质检", "--index", "needs", "--json").stdout)
    assert needs["index"] == "needs" and [hit["ref"] for hit in needs["hits"]] == ["D-0001"]


def test_bad_filters_fail_with_one_line(runner: FlaskCliRunner) -> None:
    _world()
    for bad in ("colour=red", "province", "kind="):
        result = runner.invoke(args=["search", "质检", "--filter", bad])
        assert result.exit_code == 1
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:"), result.stderr
    assert (
        "unknown filter key 'colour'"
        in runner.invoke(args=["search", "x", "--filter", "colour=red"]).stderr
    )


def test_reindex_rebuilds_a_lost_index_with_a_progress_bar(runner: FlaskCliRunner) -> None:
    _world()
    backend = indexing.backend()
    for name in ("offerings", "needs"):
        backend.reset_index(name)
    assert backend.search("offerings", "质检").total == 0
    result = runner.invoke(args=["reindex"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "3 offerings, 1 needs indexed"
    assert "indexing" in result.stderr
    assert {h.id for h in backend.search("offerings", "质检").hits} == {"S-0001", "S-0002"}
    assert backend.search("needs", "质检").total == 1


def test_reconcile_repairs_ghosts_missing_and_stale_documents(runner: FlaskCliRunner) -> None:
    _world()
    backend = indexing.backend()
    ghost = {"id": "S-9999", "title": "幽灵质检", "status": "published", "kind": "solution"}
    backend.add("offerings", ghost)
    backend.delete("offerings", ["S-0002"])
    backend.add(
        "offerings", {**backend.search("offerings", "MES").hits[0].document, "title": "旧标题"}
    )
    result = runner.invoke(args=["reindex", "--reconcile"])
    assert result.exit_code == 0, result.output
    assert "offerings: 1 missing, 1 ghosts, 1 stale" in result.stdout
    assert "needs: 0 missing, 0 ghosts, 0 stale" in result.stdout
    assert {h.id for h in backend.search("offerings", "质检").hits} == {"S-0001", "S-0002"}
    assert backend.search("offerings", "旧标题").total == 0
    again = runner.invoke(args=["reindex", "--reconcile"])
    assert "offerings: 0 missing, 0 ghosts, 0 stale" in again.stdout


def test_import_indexes_what_it_imported(runner: FlaskCliRunner) -> None:
    result = runner.invoke(args=["import", str(ROOT / "seed_data" / "demo")])
    assert result.exit_code == 0, result.output
    assert "indexing" in result.stderr, result.stderr
    assert db.session.scalar(db.select(db.func.count()).select_from(SearchOutbox)) == 0
    found = json.loads(_search(runner, "MES", "--json").stdout)
    assert found["total"] >= 5
    everything = indexing.backend().search("offerings", "", per_page=1).total
    public = db.session.scalar(db.text("SELECT count(*) FROM offerings WHERE status = 'published'"))
    assert everything == public
