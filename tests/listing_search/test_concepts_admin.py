"""The concept-map admin pages and the zero-result list: what admins see and may do."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from market.core.db import _write_intent
from market.core.extensions import db
from market.core.report_period import local_today
from market.listing_search import indexing, zero_results
from market.models import ConceptEntry, ZeroResultQuery, utcnow
from tests.conftest import Auth, make_offering, make_user
from tests.listing_search.concept_fixtures import write_small_map


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    concepts = write_small_map(tmp_path / "concepts")
    return {**app_config, "CONCEPTS_DIR": str(concepts), "CONCEPTS_CHECK_SECONDS": 0}


@pytest.fixture
def admin(auth: Auth) -> Auth:
    auth.login(make_user(role="admin", name="孙明"))
    # The test client shares the test's session with every request, and the sign-in
    # POST leaves it in a write transaction (and this thread marked as writing, see
    # conftest). A production request never carries SQLite's write lock into the next
    # one; here the zero-result count, on a connection of its own, would wait for it.
    _write_intent.set(False)
    db.session.commit()
    return auth


def text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def entry_count() -> int:
    return int(db.session.scalar(select(func.count(ConceptEntry.id))) or 0)


# --- who gets in -------------------------------------------------------------------------------

GETS = ["/admin/concepts", "/admin/concepts/wms", "/admin/concepts/zero-results"]


@pytest.mark.parametrize("role", ["member", "org_admin", "park_staff"])
def test_non_admins_get_403_and_change_nothing(client: FlaskClient, auth: Auth, role: str) -> None:
    db.session.add(ConceptEntry(concept="wms", kind="problem", term="老发错货"))
    db.session.commit()
    zero_results.record_search("offerings", "婚纱摄影", False, 0)
    db.session.commit()
    auth.login(make_user(role=role))
    for url in [*GETS, "/admin/concepts/zero-results.csv"]:
        assert client.get(url).status_code == 403, url
    posts = {
        "/admin/concepts/wms/entries": {"kind": "synonym", "term": "仓库软件"},
        "/admin/concepts/entries/K-000001/remove": {},
        "/admin/concepts/zero-results/handled": {"index": "offerings", "query": "婚纱摄影"},
    }
    for url, data in posts.items():
        assert client.post(url, data=data).status_code == 403, url
    assert entry_count() == 1
    assert db.session.scalar(select(ZeroResultQuery.handled_at)) is None


def test_visitors_are_sent_to_login(client: FlaskClient) -> None:
    for url in GETS:
        response = client.get(url)
        assert response.status_code == 302
        assert urlsplit(response.headers["Location"]).path == "/auth/login"


# --- browsing and adding -------------------------------------------------------------------------


def test_the_admin_sees_the_whole_map_by_area_and_can_filter_it(
    client: FlaskClient, admin: Auth
) -> None:
    html = text(client.get("/admin/concepts"))
    assert "显示 4 个概念，共 4 个" in html
    assert re.findall(r'data-concept="([^"]+)"', html) == ["barcode", "wms", "mes", "leasing"]
    assert ">标识解析 <" in html and ">应用 <" in html and ">金融 <" in html
    for query, expected in [
        ("找不到货", ["wms"]),  # a problem phrase
        ("warehouse", ["wms"]),  # English
        ("制造执行", ["mes"]),  # a synonym
        ("finance.leasing", ["leasing"]),  # a category code
        ("融资租赁", ["leasing"]),  # its name and the category's
        ("发错货", ["barcode", "wms"]),  # a phrase of two concepts
        ("没有这个词", []),
    ]:
        html = text(client.get("/admin/concepts", query_string={"q": query}))
        assert re.findall(r'data-concept="([^"]+)"', html) == expected, query
    html = text(client.get("/admin/concepts", query_string={"area": "finance"}))
    assert re.findall(r'data-concept="([^"]+)"', html) == ["leasing"]


def test_adding_a_problem_phrase_shows_it_and_the_search_map_has_it(
    client: FlaskClient, admin: Auth
) -> None:
    page = text(client.get("/admin/concepts/wms", query_string={"term": "老发错货"}))
    assert 'value="老发错货"' in page  # pre-filled from the zero-result list
    assert "发错货、找不到货" in page and "只读" in page
    response = client.post(
        "/admin/concepts/wms/entries", data={"kind": "problem", "term": "老发错货"}
    )
    assert response.status_code == 302
    page = text(client.get(response.headers["Location"]))
    assert "已将「老发错货」添加为「仓储管理」的问题说法，搜索即刻生效。" in page
    assert re.search(r'<tr data-ref="K-000001">.*?问题说法.*?老发错货.*?孙明', page, re.S)
    assert "老发错货" in indexing.concept_map().concepts["wms"].problems
    listing = text(client.get("/admin/concepts", query_string={"q": "老发错货"}))
    assert '<mark class="added-term" title="管理员添加">老发错货</mark>' in listing


def test_a_refused_addition_says_why_keeps_what_was_typed_and_stores_nothing(
    client: FlaskClient, admin: Auth
) -> None:
    response = client.post("/admin/concepts/wms/entries", data={"kind": "synonym", "term": "MES"})
    assert response.status_code == 400
    html = text(response)
    assert "「MES」已是另一个概念「生产管理」（mes）的同义词" in html
    assert 'value="MES"' in html
    assert entry_count() == 0
    long = client.post("/admin/concepts/wms/entries", data={"kind": "problem", "term": "仓" * 41})
    assert "词语最多 40 个字符（现有 41 个）。" in text(long)
    assert client.post("/admin/concepts/nope/entries", data={"term": "x"}).status_code == 404
    assert entry_count() == 0


def test_removing_an_added_entry(client: FlaskClient, admin: Auth) -> None:
    client.post("/admin/concepts/mes/entries", data={"kind": "synonym", "term": "生产执行系统"})
    response = client.post("/admin/concepts/entries/K-000001/remove")
    assert response.status_code == 302
    assert "已删除「生产执行系统」（K-000001）。" in text(client.get(response.headers["Location"]))
    assert entry_count() == 0
    assert "生产执行系统" not in indexing.concept_map().concepts["mes"].synonyms
    # File entries have no ref: there is nothing to remove.
    assert client.post("/admin/concepts/entries/K-000001/remove").status_code == 404


def test_writes_need_the_csrf_token(app: Flask, client: FlaskClient, admin: Auth) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    response = client.post(
        "/admin/concepts/wms/entries", data={"kind": "problem", "term": "老发错货"}
    )
    assert response.status_code == 400
    assert entry_count() == 0


# --- the zero-result list ------------------------------------------------------------------------


def _search(client: FlaskClient, q: str, **args: str) -> None:
    assert client.get("/search/", query_string={"q": q, **args}).status_code == 200
    # The count was written on a connection of its own: end the test session's snapshot
    # (which the test client shares with the request) so the next read sees it.
    db.session.commit()


def test_searches_that_find_nothing_are_counted_without_who_or_where(
    client: FlaskClient, admin: Auth
) -> None:
    make_offering(title="注塑机设备上云", summary="OEE 分析", tags=["WMS"], description="")
    db.session.commit()
    _search(client, "老是漏发")
    _search(client, "  老是漏发 ")
    _search(client, "WMS")  # found: not counted
    _search(client, "老是漏发", province="江苏省")  # filtered: not counted
    _search(client, "驾校约车平台", index="needs")
    assert client.get("/api/v1/search", query_string={"q": "婚纱 摄影"}).status_code == 200
    db.session.commit()
    _search(client, "长" * 101)  # pasted text, not words
    rows = db.session.execute(
        select(ZeroResultQuery.index, ZeroResultQuery.query, ZeroResultQuery.count)
    ).all()
    assert sorted(rows) == [
        ("needs", "驾校约车平台", 1),
        ("offerings", "婚纱 摄影", 1),
        ("offerings", "老是漏发", 2),
    ]
    columns = set(ZeroResultQuery.__table__.columns.keys())
    assert columns == {
        "id",
        "index",
        "query",
        "day",
        "count",
        "first_seen",
        "last_seen",
        "handled_at",
    }

    html = text(client.get("/admin/concepts/zero-results"))
    assert re.findall(r'<tr data-query="([^"]+)">', html) == [
        "老是漏发",
        "婚纱 摄影",
        "驾校约车平台",
    ]
    assert "/admin/concepts?term=" + quote("老是漏发") in html
    html = text(client.get("/admin/concepts/zero-results", query_string={"index": "needs"}))
    assert re.findall(r'<tr data-query="([^"]+)">', html) == ["驾校约车平台"]


def test_the_list_counts_within_the_chosen_days(client: FlaskClient, admin: Auth) -> None:
    today = local_today()
    long_ago = today - timedelta(days=40)
    db.session.add_all(
        [
            ZeroResultQuery(index="offerings", query="旧词", day=long_ago, count=9),
            ZeroResultQuery(index="offerings", query="新词", day=today, count=2),
            ZeroResultQuery(index="offerings", query="旧词", day=today, count=1),
        ]
    )
    db.session.commit()
    html = text(client.get("/admin/concepts/zero-results"))  # the last 30 days
    assert re.findall(r'<tr data-query="([^"]+)">.*?text-end">(\d+)<', html, re.S) == [
        ("新词", "2"),
        ("旧词", "1"),
    ]
    span = {"start": long_ago.isoformat(), "end": today.isoformat()}
    html = text(client.get("/admin/concepts/zero-results", query_string=span))
    assert re.findall(r'<tr data-query="([^"]+)">.*?text-end">(\d+)<', html, re.S) == [
        ("旧词", "10"),
        ("新词", "2"),
    ]
    bad = text(client.get("/admin/concepts/zero-results", query_string={"start": "2026-13-01"}))
    assert "起始日期“2026-13-01”无效" in bad and "已显示最近 30 天。" in bad

    csv = client.get("/admin/concepts/zero-results.csv", query_string=span)
    assert csv.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in csv.headers["Content-Disposition"]
    lines = csv.get_data().decode("utf-8-sig").splitlines()
    assert lines[0] == "搜索范围,搜索词,次数,首次出现,最近出现"
    assert [line.split(",")[1:3] for line in lines[1:]] == [["旧词", "10"], ["新词", "2"]]


def test_csv_cells_never_run_as_formulas(client: FlaskClient, admin: Auth) -> None:
    zero_results.record_search("offerings", "=HYPERLINK(1)", False, 0)
    db.session.commit()
    body = client.get("/admin/concepts/zero-results.csv").get_data().decode("utf-8-sig")
    assert ",'=hyperlink(1)," in body


def test_marked_handled_hides_a_query_until_it_recurs(client: FlaskClient, admin: Auth) -> None:
    zero_results.record_search("offerings", "老发错货", False, 0)
    db.session.commit()
    response = client.post(
        "/admin/concepts/zero-results/handled", data={"index": "offerings", "query": "老发错货"}
    )
    assert response.status_code == 302
    html = text(client.get(response.headers["Location"]))
    assert "已将「老发错货」标为已处理" in html
    assert 'data-query="老发错货"' not in html
    row = db.session.scalar(select(ZeroResultQuery))
    assert row is not None
    row.handled_at = utcnow() - timedelta(seconds=5)  # the search below comes later
    db.session.commit()
    _search(client, "老发错货")
    assert 'data-query="老发错货"' in text(client.get("/admin/concepts/zero-results"))
    unknown = client.post(
        "/admin/concepts/zero-results/handled", data={"index": "offerings", "query": "没搜过"}
    )
    assert "列表中没有「没搜过」这条搜索词。" in text(client.get(unknown.headers["Location"]))


def test_old_days_are_pruned_by_the_scheduled_job(app: Flask) -> None:
    from market.jobs.scheduled import specs

    today = local_today()
    db.session.add_all(
        [
            ZeroResultQuery(index="offerings", query="很久以前", day=today - timedelta(days=181)),
            ZeroResultQuery(index="offerings", query="最近", day=today - timedelta(days=179)),
        ]
    )
    db.session.commit()
    job = next(spec for spec in specs(app) if spec.name == "zero-results-prune")
    outcome, detail = job.run("2026-12-08")
    assert outcome == "ok" and "pruned 1" in detail
    assert db.session.scalars(select(ZeroResultQuery.query)).all() == ["最近"]


def test_a_zero_result_term_comes_with_the_concepts_it_likely_belongs_to(
    client: FlaskClient, admin: Auth
) -> None:
    html = text(client.get("/admin/concepts", query_string={"term": "货老是送错"}))
    assert "为「货老是送错」选择一个概念" in html
    # 发错货 shares 货 and 错: both concepts holding it are offered, with the term.
    offered = re.findall(r'href="/admin/concepts/(\w+)\?term=[^"]+">([^<]+)</a></li>', html)
    assert offered == [("wms", "仓储管理"), ("barcode", "条码")]
    html = text(client.get("/admin/concepts", query_string={"term": "婚纱摄影"}))
    assert "没有找到字面相近的概念" in html
