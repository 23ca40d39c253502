"""The Meilisearch adapter's side of the protocol, at the HTTP level.

No Meilisearch server runs here, so ``responses`` plays the documented API
(https://www.meilisearch.com/docs/reference/api): tasks, settings, documents,
search. These run always, whatever MARKET_MEILI_URL says.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from search import Eq, In, IndexUnavailable, Range, Sort, create_backend
from search.listings import listing_settings
from search.meili import MeilisearchBackend
from search.meili.protocol import POST, PRE, SCORE_THRESHOLD, quote

URL = "http://meili.test:7700"
SETTINGS = listing_settings((("等保", "网络安全等级保护"), ("MES", "制造执行系统")))


def task_info(uid: int, kind: str = "documentAdditionOrUpdate") -> dict[str, Any]:
    return {
        "taskUid": uid,
        "indexUid": "offerings",
        "status": "enqueued",
        "type": kind,
        "enqueuedAt": "2026-11-24T07:00:00.000000Z",
    }


def task(
    uid: int, status: str = "succeeded", error: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "uid": uid,
        "indexUid": "offerings",
        "status": status,
        "type": "settingsUpdate",
        "details": {},
        "error": error,
        "duration": "PT0.1S",
        "enqueuedAt": "2026-11-24T07:00:00.000000Z",
        "startedAt": "2026-11-24T07:00:00.000000Z",
        "finishedAt": "2026-11-24T07:00:01.000000Z",
    }


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def backend(**options: Any) -> MeilisearchBackend:
    b = create_backend("meilisearch", {"url": URL, "api_key": "k", **options})
    assert isinstance(b, MeilisearchBackend)
    return b


def configured(api: responses.RequestsMock, **options: Any) -> MeilisearchBackend:
    api.post(f"{URL}/indexes", json=task_info(1, "indexCreation"), status=202)
    api.get(f"{URL}/tasks/1", json=task(1))
    api.patch(f"{URL}/indexes/offerings/settings", json=task_info(2, "settingsUpdate"), status=202)
    api.get(f"{URL}/tasks/2", json=task(2))
    b = backend(**options)
    assert b.configure("offerings", SETTINGS).ok
    return b


def body(call: Any) -> Any:
    return json.loads(call.request.body)


def test_configure_creates_the_index_with_an_explicit_primary_key(
    api: responses.RequestsMock,
) -> None:
    configured(api)
    create = next(c for c in api.calls if c.request.url == f"{URL}/indexes")
    assert body(create) == {"uid": "offerings", "primaryKey": "id"}
    assert create.request.headers["Authorization"] == "Bearer k"


def test_settings_payload_follows_the_documented_api(api: responses.RequestsMock) -> None:
    configured(api)
    payload = body(next(c for c in api.calls if c.request.method == "PATCH"))
    assert payload["searchableAttributes"] == [
        "title",
        "tags",
        "category_name",
        "summary",
        "org_name",
        "description",
    ]
    assert "regions" in payload["filterableAttributes"]
    assert payload["sortableAttributes"] == ["published_at", "price_min"]
    assert payload["synonyms"]["等保"] == ["网络安全等级保护"]
    assert payload["synonyms"]["网络安全等级保护"] == ["等保"]
    assert payload["synonyms"]["制造执行系统"] == ["MES"]
    assert payload["typoTolerance"]["minWordSizeForTypos"]["oneTypo"] == 5
    assert payload["localizedAttributes"] == [{"attributePatterns": ["*"], "locales": ["cmn"]}]


def test_an_existing_index_is_not_an_error(api: responses.RequestsMock) -> None:
    api.post(f"{URL}/indexes", json=task_info(1, "indexCreation"), status=202)
    api.get(
        f"{URL}/tasks/1",
        json=task(
            1, "failed", {"code": "index_already_exists", "message": "Index already exists."}
        ),
    )
    api.patch(f"{URL}/indexes/offerings/settings", json=task_info(2), status=202)
    api.get(f"{URL}/tasks/2", json=task(2))
    assert backend().configure("offerings", SETTINGS).ok


def test_documents_are_written_in_batches_and_hidden_ones_deleted(
    api: responses.RequestsMock,
) -> None:
    b = configured(api, batch_size=2)
    docs = [
        {"id": 1, "title": "甲"},
        {"id": 2, "title": "乙", "status": "draft"},
        {"id": 3, "title": "丙"},
        {"id": 4, "title": "丁"},
        {"id": 5, "title": "戊"},
    ]
    add = api.post(f"{URL}/indexes/offerings/documents", json=task_info(10), status=202)
    delete = api.post(
        f"{URL}/indexes/offerings/documents/delete-batch",
        json=task_info(11, "documentDeletion"),
        status=202,
    )
    api.get(f"{URL}/tasks/10", json=task(10))
    api.get(f"{URL}/tasks/11", json=task(11))
    outcome = b.add_bulk("offerings", docs)
    assert outcome.ok
    batches = [body(c) for c in add.calls]
    assert [[d["id"] for d in batch] for batch in batches] == [["1"], ["3", "4"], ["5"]]
    assert "primaryKey=id" in add.calls[0].request.url
    assert [body(c) for c in delete.calls] == [["2"]]


def test_a_failed_task_is_returned_not_raised(api: responses.RequestsMock) -> None:
    b = configured(api)
    api.post(f"{URL}/indexes/offerings/documents", json=task_info(10), status=202)
    api.get(
        f"{URL}/tasks/10",
        json=task(
            10,
            "failed",
            {"code": "invalid_document_id", "message": "Document identifier `a b` is invalid."},
        ),
    )
    outcome = b.add_bulk("offerings", [{"id": "a b", "title": "x"}])
    assert outcome.status == "failed"
    assert outcome.error is not None and "invalid_document_id" in outcome.error
    assert outcome.task_uids == (10,)


def test_a_task_that_does_not_finish_in_time_is_reported(api: responses.RequestsMock) -> None:
    b = configured(api, task_timeout=0.2)
    api.post(f"{URL}/indexes/offerings/documents", json=task_info(10), status=202)
    api.get(f"{URL}/tasks/10", json=task(10, "processing"))
    outcome = b.add_bulk("offerings", [{"id": "1", "title": "x"}])
    assert outcome.status == "timed_out"
    assert not outcome.ok


@pytest.mark.parametrize("failure", [requests.ConnectionError("refused"), 503])
def test_an_outage_raises_index_unavailable(api: responses.RequestsMock, failure: Any) -> None:
    b = configured(api)
    if isinstance(failure, int):
        api.post(f"{URL}/indexes/offerings/documents", json={"message": "down"}, status=failure)
    else:
        api.post(f"{URL}/indexes/offerings/documents", body=failure)
    with pytest.raises(IndexUnavailable):
        b.add_bulk("offerings", [{"id": "1", "title": "x"}])


def test_deletes_and_reset(api: responses.RequestsMock) -> None:
    b = configured(api)
    delete = api.post(
        f"{URL}/indexes/offerings/documents/delete-batch", json=task_info(12), status=202
    )
    wipe = api.delete(f"{URL}/indexes/offerings/documents", json=task_info(13), status=202)
    api.get(f"{URL}/tasks/12", json=task(12))
    api.get(f"{URL}/tasks/13", json=task(13))
    assert b.delete("offerings", [7, "S-8"]).ok
    assert body(delete.calls[0]) == ["7", "S-8"]
    assert b.reset_index("offerings").ok
    assert wipe.call_count == 1


def test_search_parameters_quote_user_values(api: responses.RequestsMock) -> None:
    b = configured(api)
    search = api.post(
        f"{URL}/indexes/offerings/search",
        json={"hits": [], "totalHits": 0, "page": 2, "hitsPerPage": 10},
    )
    b.search(
        "offerings",
        "设备上云",
        filters=[
            Eq("regions", 'x" OR kind = "y\\'),
            In("kind", ("solution", "training")),
            Range("price_min", gte=1000, lte=5000),
        ],
        facets=["regions", "kind"],
        sort=Sort("published_at", "desc"),
        page=2,
        per_page=10,
    )
    sent = body(search.calls[0])
    assert sent["q"] == "设备上云"
    assert sent["filter"] == [
        'regions = "x\\" OR kind = \\"y\\\\"',
        'kind IN ["solution", "training"]',
        "price_min 1000 TO 5000",
    ]
    assert sent["facets"] == ["regions", "kind"]
    assert sent["sort"] == ["published_at:desc"]
    assert (sent["page"], sent["hitsPerPage"]) == (2, 10)
    assert (sent["highlightPreTag"], sent["highlightPostTag"]) == (PRE, POST)
    assert sent["attributesToCrop"] == ["summary", "description"]
    # Relaxed as the embedded engine: the commonest words go first, and documents
    # holding too little of the query are cut by their ranking score.
    assert sent["showRankingScore"] is True and sent["matchingStrategy"] == "frequency"
    assert sent["rankingScoreThreshold"] == SCORE_THRESHOLD


def test_quote_escapes_and_types() -> None:
    assert quote('a"b\\c') == '"a\\"b\\\\c"'
    assert quote(True) == "true"
    assert quote(12) == "12"
    with pytest.raises(ValueError):
        quote(float("nan"))


def test_unknown_filter_fields_are_rejected(api: responses.RequestsMock) -> None:
    b = configured(api)
    with pytest.raises(ValueError):
        b.search("offerings", "x", filters=[Eq("secret", "1")])


def test_response_is_mapped_to_port_results(api: responses.RequestsMock) -> None:
    b = configured(api)
    api.post(
        f"{URL}/indexes/offerings/search",
        json={
            "hits": [
                {
                    "id": "S-1",
                    "title": "<b>MES</b>系统",
                    "tags": ["MES", "质检"],
                    "status": "published",
                    "_rankingScore": 0.87,
                    "_formatted": {
                        "id": "S-1",
                        "title": f"<b>{PRE}MES{POST}</b>系统",
                        "tags": [f"{PRE}MES{POST}", "质检"],
                    },
                },
                {"id": "S-2", "title": "草稿", "status": "draft", "_rankingScore": 0.5},
            ],
            "totalHits": 2,
            "page": 1,
            "hitsPerPage": 20,
            "totalPages": 1,
            "facetDistribution": {"kind": {"solution": 2}},
        },
    )
    res = b.search("offerings", "mes", facets=["kind"])
    assert res.total == 2 and res.facets == {"kind": {"solution": 2}}
    assert [h.id for h in res.hits] == ["S-1"]
    hit = res.hits[0]
    assert hit.score == pytest.approx(0.87)
    assert hit.highlights["title"] == "&lt;b&gt;<mark>MES</mark>&lt;/b&gt;系统"
    assert hit.highlights["tags"] == "<mark>MES</mark>、质检"
    assert "_formatted" not in hit.document


def test_suggest_uses_the_title(api: responses.RequestsMock) -> None:
    b = configured(api)
    search = api.post(
        f"{URL}/indexes/offerings/search",
        json={
            "hits": [
                {
                    "id": "S-1",
                    "title": "数字化转型",
                    "_rankingScore": 1.0,
                    "_formatted": {"title": f"{PRE}数字化转{POST}型"},
                }
            ],
            "totalHits": 1,
        },
    )
    out = b.suggest("offerings", "数字化转", limit=5)
    assert [(s.id, s.text, s.highlighted) for s in out] == [
        ("S-1", "数字化转型", "<mark>数字化转</mark>型")
    ]
    assert body(search.calls[0])["hitsPerPage"] == 5


def test_a_missing_index_searches_as_empty(api: responses.RequestsMock) -> None:
    b = configured(api)
    api.post(
        f"{URL}/indexes/offerings/search",
        status=404,
        json={
            "message": "Index `offerings` not found.",
            "code": "index_not_found",
            "type": "invalid_request",
            "link": "https://docs.meilisearch.com/errors#index_not_found",
        },
    )
    res = b.search("offerings", "x", facets=["kind"])
    assert res.total == 0 and res.facets == {"kind": {}}


def test_long_queries_are_cut_before_sending(api: responses.RequestsMock) -> None:
    b = configured(api)
    search = api.post(
        f"{URL}/indexes/offerings/search",
        json={"hits": [], "totalHits": 0},
        match=[matchers.json_params_matcher({"q": "a" * 200}, strict_match=False)],
    )
    b.search("offerings", "a" * 10_000)
    assert search.call_count == 1
