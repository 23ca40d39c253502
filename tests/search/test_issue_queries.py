"""The queries of issue 13's table, as a new user types them, over the demo data.

Each ran into zero results when every word was required; each must now find what
a person expects, and a query about something the pool does not hold must still
find nothing. Understanding uses the real concept map and places, as the app does.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from typing import Any

import pytest

from market.listing_search.indexing import file_concepts
from market.listing_search.understanding import engine_filters, fixed_places
from search import SearchBackend, create_backend
from search.listings import listing_settings
from search.understand import PlaceName, Understander, Understanding
from tests.search.conftest import ROOT, demo_documents

PROVINCES = [
    p["name"] for p in json.loads((ROOT / "seed_data/reference/provinces.json").read_text())
]


def documents(name: str) -> list[dict[str, Any]]:
    """The demo documents as the app indexes them: 全国 stands for every province."""
    docs = demo_documents(name)
    for d in docs:
        if "全国" in d["regions"]:
            d["regions"] = list(dict.fromkeys([*d["regions"], *PROVINCES]))
    return docs


DEMO = {d["id"]: d for name in ("offerings", "needs") for d in documents(name)}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> SearchBackend:
    backend = create_backend("embedded", {"path": str(tmp_path_factory.mktemp("issue"))})
    for name in ("offerings", "needs"):
        backend.configure(name, listing_settings(file_concepts().synonym_groups()))
        backend.add_bulk(name, documents(name))
    return backend


@functools.cache
def understander_for_demo() -> Understander:
    """The real concept map and places, with the demo data's parks."""
    parks = json.loads((ROOT / "seed_data" / "demo" / "parks.json").read_text("utf-8"))
    places = [PlaceName(p["name"], "park", p["ref"], p["name"]) for p in parks]
    return Understander(file_concepts(), (*fixed_places(), *places))


@pytest.fixture(scope="module")
def understander() -> Understander:
    return understander_for_demo()


class _Vocabulary:
    def __init__(self, backend: SearchBackend, index: str) -> None:
        self.backend, self.index = backend, index

    def frequencies(self, terms: Sequence[str]) -> list[int]:
        return self.backend.frequencies(self.index, terms)


def search(
    demo: SearchBackend, understander: Understander, q: str, index: str = "offerings"
) -> tuple[Understanding, list[str]]:
    got = understander.understand(q, _Vocabulary(demo, index), index=index)
    hits = demo.search(index, got.query, filters=engine_filters(got), per_page=10).hits
    return got, [DEMO[h.id]["title"] for h in hits]


def test_injection_moulding_machines_online_with_oee(
    demo: SearchBackend, understander: Understander
) -> None:
    _, titles = search(demo, understander, "注塑机联网看OEE")
    assert "注塑机" in titles[0] and "OEE" in titles[0]


def test_a_sentence_about_mes_for_a_stamping_shop(
    demo: SearchBackend, understander: Understander
) -> None:
    _, titles = search(demo, understander, "我们想给冲压车间上一套MES")
    assert any("MES" in t and "冲压" in t for t in titles[:3])


def test_wrong_goods_shipped_finds_the_wms_with_barcodes(
    demo: SearchBackend, understander: Understander
) -> None:
    _, titles = search(demo, understander, "仓库老是发错货")
    assert "WMS" in titles[0] and "条码" in titles[0]


def test_hard_to_hire_finds_robots(demo: SearchBackend, understander: Understander) -> None:
    _, titles = search(demo, understander, "招工难 想用机器人")
    assert titles and all("机器人" in t for t in titles[:3])


@pytest.mark.parametrize("query", ["opc ua", "OPC UA", "opc-ua", "OPC-UA", "opcua"])
def test_opc_ua_however_it_is_written(
    demo: SearchBackend, understander: Understander, query: str
) -> None:
    _, titles = search(demo, understander, query)
    assert titles and "OPC UA" in titles[0]


def test_finance_leasing_in_jiangsu_is_filtered_to_the_province(
    demo: SearchBackend, understander: Understander
) -> None:
    got, titles = search(demo, understander, "融资租赁 江苏")
    assert [p.label for p in got.places] == ["江苏省"]
    assert titles and all("租" in t for t in titles)


def test_mes_in_jiangsu_is_filtered_to_the_province(
    demo: SearchBackend, understander: Understander
) -> None:
    got, titles = search(demo, understander, "MES 江苏")
    assert [p.label for p in got.places] == ["江苏省"]
    ids = [i for i, d in DEMO.items() if d["title"] in titles]
    assert titles and all("江苏省" in DEMO[i]["regions"] for i in ids)
    assert "MES" in titles[0]


def test_needs_of_a_park_by_its_name(demo: SearchBackend, understander: Understander) -> None:
    got, titles = search(demo, understander, "苏州工业园区", index="needs")
    assert [(p.kind, p.value) for p in got.places] == [("park", "P-SIP")]
    in_park = {
        d["title"] for d in DEMO.values() if d["id"].startswith("D-") and "P-SIP" in d["parks"]
    }
    assert titles and set(titles) <= in_park


def test_vision_inspection_in_english(demo: SearchBackend, understander: Understander) -> None:
    _, titles = search(demo, understander, "vision inspection")
    assert titles and all("视觉" in t for t in titles[:3])


def test_a_typo_of_stamped_parts_is_corrected_and_said(
    demo: SearchBackend, understander: Understander
) -> None:
    got, titles = search(demo, understander, "冲压见")
    assert got.corrected == "冲压件"
    assert titles and "冲压件" in titles[0]


@pytest.mark.parametrize(("query", "shown"), [("mes xitong", "mes 系统"), ("zhijian", "质检")])
def test_pinyin_is_read_as_chinese(
    demo: SearchBackend, understander: Understander, query: str, shown: str
) -> None:
    got, titles = search(demo, understander, query)
    assert got.corrected == shown and titles


@pytest.mark.parametrize(
    "query", ["婚纱摄影门店管理系统", "驾校约车平台", "宠物医院管理系统", "奶茶店 点单小程序"]
)
def test_a_query_about_something_absent_returns_nothing(
    demo: SearchBackend, understander: Understander, query: str
) -> None:
    for index in ("offerings", "needs"):
        assert search(demo, understander, query, index)[1] == []
