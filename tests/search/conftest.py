"""Fixtures of the search suite: backends, a document factory, the demo mapper."""

from __future__ import annotations

import itertools
import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from market.listing_search.indexing import file_concepts
from search import SearchBackend, create_backend
from search.listings import listing_settings

ROOT = Path(__file__).resolve().parents[2]
SYNONYMS = file_concepts().synonym_groups()
MEILI_URL = os.environ.get("MARKET_MEILI_URL")
_ids = itertools.count(1)


def make_doc(**overrides: Any) -> dict[str, Any]:
    """A published offering document; keyword arguments replace fields."""
    n = next(_ids)
    doc: dict[str, Any] = {
        "id": f"T-{n:05d}",
        "kind": "solution",
        "title": "通用服务",
        "summary": "",
        "description": "",
        "tags": [],
        "org_name": "示例科技有限公司",
        "category_name": "",
        "categories": ["application"],
        "regions": ["江苏省"],
        "industries": ["C36"],
        "org_kind": "solution_provider",
        "parks": ["P-SIP"],
        "price_min": 100_000,
        "price_band": "5-20万",
        "published_at": 1_760_000_000 + n,
        "status": "published",
    }
    doc.update(overrides)
    return doc


def _embedded(tmp_path: Path) -> SearchBackend:
    return create_backend("embedded", {"path": str(tmp_path / "search")})


def _meilisearch() -> SearchBackend:
    return create_backend(
        "meilisearch",
        {
            "url": MEILI_URL,
            "api_key": os.environ.get("MARKET_MEILI_KEY"),
            "index_prefix": f"test_{uuid.uuid4().hex[:8]}_",
            "task_timeout": 30,
        },
    )


@pytest.fixture(
    params=[
        "embedded",
        pytest.param(
            "meilisearch",
            marks=pytest.mark.skipif(not MEILI_URL, reason="MARKET_MEILI_URL is not set"),
        ),
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchBackend]:
    """Each backend with an ``offerings`` index configured with the listing settings."""
    b = _embedded(tmp_path) if request.param == "embedded" else _meilisearch()
    outcome = b.configure("offerings", listing_settings(SYNONYMS))
    assert outcome.ok, outcome.error
    yield b
    b.close()


# -- the demo data set as search documents ------------------------------------------
def _category_names() -> dict[str, str]:
    tree = json.loads((ROOT / "seed_data" / "reference" / "categories.json").read_text("utf-8"))
    names: dict[str, str] = {}
    for top in tree:
        names[top["code"]] = top["name"]
        for child in top.get("children", []):
            names[child["code"]] = child["name"]
    return names


def price_band(price: int | None) -> str:
    if price is None:
        return "面议"
    if price < 50_000:
        return "<5万"
    if price < 200_000:
        return "5-20万"
    if price < 1_000_000:
        return "20-100万"
    return ">100万"


def listing_document(
    record: dict[str, Any], orgs: dict[str, dict[str, Any]], categories: dict[str, str]
) -> dict[str, Any]:
    """A data-format record (offerings.json or needs.json) as a search document."""
    code = record.get("category", "")
    org = orgs.get(record.get("org", ""), {})
    price = record.get("price_min", record.get("budget_min"))
    return {
        "id": record["ref"],
        "kind": record.get("kind"),
        "title": record.get("title", ""),
        "summary": record.get("summary", ""),
        "description": record.get("description", ""),
        "tags": record.get("tags", []),
        "org_name": org.get("name", ""),
        # The path of names (人才培训 线上学习): 培训 then finds every training listing.
        "category_name": " ".join(
            categories[c] for c in dict.fromkeys([code.split(".")[0], code]) if c in categories
        ),
        "categories": [code.split(".")[0], code] if "." in code else [code],
        "regions": record.get("regions") or ([org["province"]] if org.get("province") else []),
        "industries": record.get("industries", []),
        "org_kind": org.get("kind"),
        "parks": record.get("parks") or ([record["park"]] if record.get("park") else []),
        "price_min": price,
        "price_max": record.get("price_max", record.get("budget_max")),
        "price_band": price_band(price),
        "status": record.get("status", "published" if "price_unit" in record else "open"),
    }


def demo_documents(name: str) -> list[dict[str, Any]]:
    """``offerings`` or ``needs`` of seed_data/demo as search documents."""
    demo = ROOT / "seed_data" / "demo"
    orgs = {o["ref"]: o for o in json.loads((demo / "organizations.json").read_text("utf-8"))}
    records = json.loads((demo / f"{name}.json").read_text("utf-8"))
    categories = _category_names()
    return [listing_document(r, orgs, categories) for r in records]
