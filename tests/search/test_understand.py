"""Query understanding: fillers, words, concepts, places, budgets, corrections."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from search import create_backend
from search.concepts import Concept, ConceptMap
from search.listings import listing_settings
from search.understand import (
    Budget,
    PlaceName,
    Understander,
    confusable,
    find_budget,
    split_pinyin,
)
from tests.search.conftest import make_doc

CONCEPTS = ConceptMap(
    {
        c.id: c
        for c in (
            Concept("mes", "制造执行系统", ("MES",), ("manufacturing execution system",)),
            Concept("wms", "仓储管理", ("WMS", "仓库管理系统"), (), (), (), ("发错货",)),
            Concept("barcode", "条码", ("条形码",), ("barcode",), (), (), ("发错货",)),
            Concept("vision", "视觉检测", ("机器视觉检测",), ("vision inspection",)),
            Concept("opcua", "OPC UA", ("OPC-UA",)),
            Concept("wifi6", "Wi-Fi 6", ("WiFi6",)),
            Concept("quality", "质量管理", ("质检",)),
            Concept("spc", "统计过程控制", ("SPC",), (), ("quality",)),
        )
    }
)
PLACES = (
    PlaceName("江苏", "province", "江苏省", "江苏省"),
    PlaceName("江苏省", "province", "江苏省", "江苏省"),
    PlaceName("苏州", "province", "江苏省", "江苏省"),
    PlaceName("苏州工业园区", "park", "P-SIP", "苏州工业园区"),
)
U = Understander(CONCEPTS, PLACES)


def texts(query: str) -> list[str]:
    return [t.text for t in U.understand(query).query.terms]


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("我们想给冲压车间上一套MES", ["冲压", "车间", "mes"]),
        ("能不能推荐一个质检系统吗", ["质检", "系统"]),
        ("仓库老是发错货怎么办", ["仓库", "发错货"]),
        ("驾校约车平台", ["驾校", "平台"]),  # 约 an adverb here, 车 a stray
    ],
)
def test_filler_words_carry_no_weight_and_runs_are_cut_into_words(
    query: str, terms: list[str]
) -> None:
    assert texts(query) == terms


@pytest.mark.parametrize("query", ["OPC UA", "opc ua", "opc-ua", "OPCUA", "ＯＰＣ ＵＡ"])
def test_latin_terms_written_apart_joined_or_hyphenated_are_one_term(query: str) -> None:
    (term,) = U.understand(query).query.terms
    assert term.kind == "concept"
    spellings = {a for a, _ in term.alternatives}
    assert {"opc ua", "opcua"} <= spellings


def test_wifi_6_is_one_term_with_its_digit() -> None:
    (term,) = U.understand("车间 wi-fi 6 覆盖").query.terms[1:2]
    assert {"wi fi 6", "wifi6"} <= {a for a, _ in term.alternatives}


def test_english_words_of_the_field_map_to_their_chinese_concept() -> None:
    (term,) = U.understand("vision inspection").query.terms
    assert ("视觉检测", 0.9) in term.alternatives
    assert term.engine_text == "视觉检测"


def test_a_problem_phrasing_points_to_every_concept_that_answers_it() -> None:
    terms = U.understand("仓库老是发错货").query.terms
    problem = terms[-1]
    assert problem.kind == "problem"
    assert {"仓储管理", "wms", "条码", "条形码"} <= {a for a, _ in problem.alternatives}


def test_a_concept_counts_once_and_brings_its_narrower_concepts_lower() -> None:
    terms = U.understand("质量管理 质检").query.terms
    assert len(terms) == 1
    assert ("spc", 0.6) in terms[0].alternatives


@pytest.mark.parametrize(
    ("query", "label", "kind", "rest"),
    [
        ("注塑机 江苏", "江苏省", "province", ["注塑机"]),
        ("MES 江苏省", "江苏省", "province", ["mes"]),
        ("苏州 注塑", "江苏省", "province", ["注塑"]),
        ("苏州工业园区", "苏州工业园区", "park", []),
    ],
)
def test_place_names_become_filters_and_leave_the_words(
    query: str, label: str, kind: str, rest: list[str]
) -> None:
    got = U.understand(query)
    assert [(p.label, p.kind) for p in got.places] == [(label, kind)]
    assert [t.text for t in got.query.terms] == rest
    assert U.understand(query, places=False).places == ()


@pytest.mark.parametrize(
    ("text", "budget"),
    [
        ("20万以内", Budget("20万以内", lte=200_000)),
        ("预算50万", Budget("预算50万", lte=500_000)),
        ("100万左右", Budget("100万左右", lte=1_200_000, gte=800_000)),
        ("50万以上", Budget("50万以上", gte=500_000)),
        ("5-20万", Budget("5-20万", lte=200_000, gte=50_000)),
        ("每台3000以内", Budget("3000以内", lte=3_000)),
    ],
)
def test_budgets_are_read(text: str, budget: Budget) -> None:
    found = find_budget(text)
    assert found is not None and found[0] == budget


@pytest.mark.parametrize(
    "text", ["5G专网", "等保2.0", "10台设备", "OPC UA 1.04", "50以内的并发", "iso 14064"]
)
def test_numbers_that_are_not_money_are_no_budget(text: str) -> None:
    assert find_budget(text.lower()) is None


def test_the_chip_removal_query_drops_only_that_phrase() -> None:
    got = U.understand("MES 江苏 20万以内")
    assert got.budget is not None and got.budget.lte == 200_000
    assert got.without("江苏") == "MES 20万以内"
    assert got.without("20万以内") == "MES 江苏"


def test_pinyin_is_split_into_syllables() -> None:
    assert split_pinyin("xitong") == ["xi", "tong"]
    assert split_pinyin("zhijian") == ["zhi", "jian"]
    assert split_pinyin("mes") is None


def test_sound_alikes_come_first_then_shapes() -> None:
    close = dict(confusable("见"))
    assert close["件"] == 0  # jiàn, same tone
    assert dict(confusable("捡"))["检"] in (0, 1)


class _Index:
    """A real embedded index as the vocabulary."""

    def __init__(self, tmp_path: Path, titles: Sequence[str]) -> None:
        self.backend = create_backend("embedded", {"path": str(tmp_path)})
        self.backend.configure("offerings", listing_settings(CONCEPTS.synonym_groups()))
        self.backend.add_bulk("offerings", [make_doc(title=t) for t in titles])

    def frequencies(self, terms: Sequence[str]) -> list[int]:
        return self.backend.frequencies("offerings", terms)


@pytest.fixture
def index(tmp_path: Path) -> _Index:
    return _Index(tmp_path, ["冲压件表面缺陷检测", "MES系统实施", "智能质检平台", "冲压线设备联网"])


@pytest.mark.parametrize(
    ("typed", "shown"),
    [("冲压见", "冲压件"), ("质捡", "质检"), ("zhijian", "质检"), ("mes xitong", "mes 系统")],
)
def test_typos_and_pinyin_are_corrected_to_what_the_index_holds(
    index: _Index, typed: str, shown: str
) -> None:
    got = U.understand(typed, index)
    assert got.corrections
    assert got.corrected.lower() == shown
    assert U.understand(typed, index, correct=False).corrections == ()


@pytest.mark.parametrize("query", ["婚纱摄影", "驾校约车平台", "冲压件", "xyzzy"])
def test_nothing_is_corrected_into_a_word_the_index_does_not_hold(
    index: _Index, query: str
) -> None:
    assert U.understand(query, index).corrections == ()


def test_any_input_is_understood_without_error() -> None:
    for query in ["", "   ", "的的的", "!!!", "a" * 5000, "预算", "万", "\x00\u200b", "🙂 MES"]:
        U.understand(query)


# -- how much each word counts ---------------------------------------------------------
def test_words_for_the_index_itself_carry_no_weight_there() -> None:
    assert [t.text for t in U.understand("找有MES需求的企业", index="needs").query.terms] == ["mes"]
    # Only on the index they describe; and a query of nothing else keeps them.
    assert "需求" in [t.text for t in U.understand("MES需求", index="offerings").query.terms]
    assert [t.text for t in U.understand("企业需求", index="needs").query.terms] == ["需求"]


def test_words_common_in_chinese_at_large_weigh_less_than_rare_ones() -> None:
    terms = {t.text: t.weight for t in U.understand("老板 结果 少儿 按揭").query.terms}
    assert terms["少儿"] == terms["按揭"] == 1.0
    assert terms["结果"] < terms["老板"] < 1.0


GROUPED = ConceptMap(
    {
        c.id: c
        for c in (
            Concept("av", "防病毒", ("杀毒软件",), (), (), ("security.protection",), ("中病毒",)),
            Concept("ics", "工控安全", (), (), (), ("security", "security.ics"), ("中病毒停产",)),
            Concept(
                "wms", "仓储管理", ("WMS",), (), (), ("application.supply_chain",), ("发错货",)
            ),
        )
    }
)


def test_a_word_of_a_problem_phrasing_points_to_its_concepts_in_part() -> None:
    (term,) = Understander(GROUPED).understand("电脑 病毒").query.terms[1:]
    assert term.text == "病毒" and term.alternatives == (("病毒", 1.0),)
    assert {"防病毒", "杀毒软件", "工控安全"} <= {t for t, _ in term.related}
    assert all(share < 1.0 for _, share in term.related)
    # Leaf categories only: a top-level code spans a whole area.
    assert dict(term.categories).keys() == {"security.protection", "security.ics"}


def test_a_concept_term_carries_its_leaf_categories() -> None:
    (term,) = Understander(GROUPED).understand("发错货").query.terms
    assert [code for code, _ in term.categories] == ["application.supply_chain"]
    assert all(share < 0.5 for _, share in term.categories)


def test_listings_filed_under_a_concepts_category_count_in_part(tmp_path: Path) -> None:
    backend = create_backend("embedded", {"path": str(tmp_path)})
    backend.configure("offerings", listing_settings(GROUPED.synonym_groups()))
    cat = ["application", "application.supply_chain"]
    backend.add_bulk(
        "offerings",
        [
            make_doc(id="WMS", title="WMS 扫码拣货", categories=cat),
            make_doc(id="PICK", title="仓库 亮灯拣货", categories=cat),
            make_doc(id="OTHER", title="仓库 屋顶光伏", categories=["application.energy"]),
        ],
    )
    u = Understander(GROUPED)

    def found(q: str) -> list[str]:
        return [h.id for h in backend.search("offerings", u.understand(q).query).hits]

    # 仓库 alone is too little of 「仓库发错货」; 仓库 and the category of 发错货 is enough.
    assert found("仓库发错货") == ["WMS", "PICK"]
    # A category alone never carries a query: nothing here says 发错货 or WMS.
    assert found("发错货") == ["WMS"]


PHRASED = ConceptMap(
    {
        c.id: c
        for c in (
            Concept("pdm", "预测性维护", (), (), (), (), ("设备突然坏", "停机没预兆")),
            Concept("factoring", "保理", (), (), (), (), ("主机厂付款要九十天",)),
            Concept("mes", "制造执行系统", ("MES",)),
        )
    }
)


def _phrasing_share(query: str, spelling: str) -> float:
    """The largest share of a term of ``query`` that ``spelling`` covers (a word of a
    phrasing alone points to it at 0.5; a phrasing found loosely by how well)."""
    terms = Understander(PHRASED).understand(query).query.terms
    return max((s for term in terms for t, s in term.related if t == spelling), default=0.0)


def test_a_problem_phrasing_is_found_with_words_around_and_inside_it() -> None:
    assert _phrasing_share("设备老是突然坏掉", "预测性维护") == 1.0
    # Digits read as the phrasing's numerals; the number alone weighs little.
    assert _phrasing_share("主机厂付款要90天", "保理") == 1.0
    terms = Understander(PHRASED).understand("主机厂付款要90天").query.terms
    assert [t.weight for t in terms if t.text == "90"] == [0.5]


@pytest.mark.parametrize(
    "query",
    [
        "设备坏了",  # too little of the phrasing: 突然 is missing
        "突然 设备 坏",  # its characters out of order
        "设备今天上午在车间里突然坏",  # too far apart to be one phrase
        "设备突，然后坏",  # across punctuation
    ],
)
def test_a_problem_phrasing_is_not_found_loosely_without_its_order_or_closeness(
    query: str,
) -> None:
    # At most the half share of a word of the phrasing (设备, 突然) typed on its own.
    assert _phrasing_share(query, "预测性维护") <= 0.5


def test_a_loosely_found_phrasing_finds_listings_that_name_its_concept(tmp_path: Path) -> None:
    backend = create_backend("embedded", {"path": str(tmp_path)})
    backend.configure("offerings", listing_settings(PHRASED.synonym_groups()))
    backend.add_bulk(
        "offerings",
        [
            make_doc(id="PDM", title="预测性维护 振动监测"),
            make_doc(id="MES", title="MES 生产管理"),
        ],
    )
    u = Understander(PHRASED)
    hits = backend.search("offerings", u.understand("我们设备老是突然坏掉").query).hits
    assert [h.id for h in hits] == ["PDM"]


TYPO_CONCEPTS = ConceptMap(
    {
        c.id: c
        for c in (
            Concept("firewall", "防火墙", ("工控防火墙",)),
            Concept("energy", "能耗监测", ("能耗在线监测",)),
        )
    }
)


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        # The character before the typo was dropped as a filler (能), yet belongs to it.
        ("能好监测", "能耗监测"),
        # One syllable of pinyin typed right after Chinese continues its word.
        ("工控防火qiang", "工控防火墙"),
        # Pinyin reads as a word (测评), not as a pair the index holds across two
        # words (测平 of 检测平台), though that pair is commoner.
        ("ceping", "测评"),
    ],
)
def test_typos_next_to_fillers_pinyin_after_chinese_and_words_before_pairs(
    tmp_path: Path, typed: str, shown: str
) -> None:
    backend = create_backend("embedded", {"path": str(tmp_path)})
    backend.configure("offerings", listing_settings(TYPO_CONCEPTS.synonym_groups()))
    titles = ["能耗监测 平台", "工控防火墙", "等保测评", "检测平台", "视觉检测平台", "无损检测平台"]
    backend.add_bulk("offerings", [make_doc(title=t) for t in titles])

    class Vocabulary:
        def frequencies(self, terms: Sequence[str]) -> list[int]:
            return backend.frequencies("offerings", terms)

    got = Understander(TYPO_CONCEPTS).understand(typed, Vocabulary())
    assert got.corrected == shown
