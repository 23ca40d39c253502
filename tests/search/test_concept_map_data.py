"""The concept map's data files (seed_data/concepts) hold together on their own.

Read with plain json, not with the engine's loader, so that a broken file is reported
here as a data mistake (which concept, which term) before any engine test fails on it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
CONCEPTS_DIR = ROOT / "seed_data" / "concepts"
CATEGORIES_FILE = ROOT / "seed_data" / "reference" / "categories.json"
LEGACY_SYNONYMS = ROOT / "seed_data" / "synonyms.json"

AREAS = (
    "network",
    "identifier",
    "platform",
    "security",
    "application",
    "finance",
    "talent",
    "general",
)
KEYS = ("id", "name", "synonyms", "english", "broader", "categories", "problems")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
VERSION_PATTERN = re.compile(r"^20\d\d\.(0[1-9]|1[0-2])\.[1-9]\d*$")
# Words that name a whole field rather than a capability: as a synonym or a problem
# they would tie a concept to half the listings in the pool.
TOO_VAGUE = {
    "平台",
    "系统",
    "管理",
    "服务",
    "数据",
    "软件",
    "网络",
    "安全",
    "应用",
    "方案",
    "解决方案",
    "产品",
    "设备",
    "工厂",
    "生产",
    "智能",
    "技术",
    "企业",
    "项目",
    "工业",
    "信息化",
    "培训",
    "金融",
}


def norm(term: str) -> str:
    """The form two terms are compared in: NFKC, case-folded."""
    return unicodedata.normalize("NFKC", term).casefold().strip()


def collapsed(term: str) -> str:
    """Also ignores the joiners people vary freely (OPC UA / OPC-UA / OPCUA)."""
    return re.sub(r"[\s\-_./·]+", "", norm(term))


def load_files() -> dict[str, dict[str, Any]]:
    return {
        area: json.loads((CONCEPTS_DIR / f"{area}.json").read_text(encoding="utf-8"))
        for area in AREAS
    }


@pytest.fixture(scope="module")
def files() -> dict[str, dict[str, Any]]:
    return load_files()


@pytest.fixture(scope="module")
def concepts(files: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [c for data in files.values() for c in data["concepts"]]


def terms_of(concept: dict[str, Any]) -> list[str]:
    return [concept["name"], *concept["synonyms"]]


def category_codes() -> tuple[set[str], set[str]]:
    """(all codes, leaf codes) of the taxonomy."""
    tree = json.loads(CATEGORIES_FILE.read_text(encoding="utf-8"))
    codes: set[str] = set()
    leaves: set[str] = set()
    for top in tree:
        codes.add(top["code"])
        for child in top.get("children", []):
            codes.add(child["code"])
            leaves.add(child["code"])
    return codes, leaves


def test_the_folder_holds_exactly_the_area_files() -> None:
    found = {p.stem for p in CONCEPTS_DIR.glob("*.json")}
    assert found == set(AREAS)


def test_every_file_has_its_area_and_one_shared_version(files: dict[str, Any]) -> None:
    versions = set()
    for area, data in files.items():
        assert set(data) == {"version", "area", "concepts"}, area
        assert data["area"] == area
        assert VERSION_PATTERN.match(data["version"]), (area, data["version"])
        assert data["concepts"], area
        versions.add(data["version"])
    assert len(versions) == 1, f"bump the version in every file together: {versions}"


def test_every_concept_has_the_fields_in_their_types(concepts: list[dict[str, Any]]) -> None:
    bad: list[tuple[Any, ...]] = []
    for c in concepts:
        if tuple(c) != KEYS:
            bad.append((c.get("id"), "keys", list(c)))
            continue
        if not isinstance(c["name"], str) or c["name"].strip() != c["name"] or not c["name"]:
            bad.append((c["id"], "name"))
        for field in KEYS[2:]:
            values = c[field]
            if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
                bad.append((c["id"], field, "not a list of strings"))
            elif any(not v or v.strip() != v for v in values):
                bad.append((c["id"], field, "empty or padded entry"))
            elif len({norm(v) for v in values}) != len(values):
                bad.append((c["id"], field, "entry given twice"))
        terms = [norm(t) for t in terms_of(c)]
        if len(set(terms)) != len(terms):
            bad.append((c["id"], "a synonym repeats the name or another synonym"))
        if not c["categories"]:
            bad.append((c["id"], "no categories"))
        if not c["problems"]:
            bad.append((c["id"], "no problem phrasings"))
    assert not bad


def test_ids_are_unique_and_well_formed(concepts: list[dict[str, Any]]) -> None:
    ids = [c["id"] for c in concepts]
    assert [i for i in ids if not ID_PATTERN.match(i)] == []
    assert sorted(i for i in set(ids) if ids.count(i) > 1) == []


def test_broader_ids_exist_and_form_no_cycle(concepts: list[dict[str, Any]]) -> None:
    broader = {c["id"]: c["broader"] for c in concepts}
    missing = [(cid, b) for cid, bs in broader.items() for b in bs if b not in broader]
    assert missing == []
    assert [cid for cid, bs in broader.items() if cid in bs] == []

    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(cid: str, path: list[str]) -> None:
        if state.get(cid) == 2:
            return
        if state.get(cid) == 1:
            pytest.fail("broader cycle: " + " -> ".join([*path, cid]))
        state[cid] = 1
        for b in broader[cid]:
            visit(b, [*path, cid])
        state[cid] = 2

    for cid in broader:
        visit(cid, [])


def test_category_codes_exist_and_every_leaf_is_covered(concepts: list[dict[str, Any]]) -> None:
    codes, leaves = category_codes()
    unknown = [(c["id"], code) for c in concepts for code in c["categories"] if code not in codes]
    assert unknown == []
    used = {code for c in concepts for code in c["categories"]}
    assert sorted(leaves - used) == []


def test_no_term_belongs_to_two_concepts(concepts: list[dict[str, Any]]) -> None:
    owners: dict[str, set[str]] = defaultdict(set)
    joined: dict[str, set[str]] = defaultdict(set)
    for c in concepts:
        for term in terms_of(c):
            owners[norm(term)].add(c["id"])
            joined[collapsed(term)].add(c["id"])
    assert {t: sorted(ids) for t, ids in owners.items() if len(ids) > 1} == {}
    assert {t: sorted(ids) for t, ids in joined.items() if len(ids) > 1} == {}


def test_english_terms_are_lower_case_and_name_one_concept(
    concepts: list[dict[str, Any]],
) -> None:
    chinese_terms = {norm(t): c["id"] for c in concepts for t in terms_of(c)}
    owners: dict[str, set[str]] = defaultdict(set)
    bad: list[tuple[Any, ...]] = []
    for c in concepts:
        for phrase in c["english"]:
            if phrase != phrase.lower() or re.search(r"[\u4e00-\u9fff]", phrase):
                bad.append((c["id"], phrase))
            owners[phrase].add(c["id"])
            other = chinese_terms.get(norm(phrase))
            if other is not None and other != c["id"]:
                bad.append((c["id"], phrase, "is a term of", other))
    assert bad == []
    assert {p: sorted(ids) for p, ids in owners.items() if len(ids) > 1} == {}


def test_vague_words_are_neither_terms_nor_problems(concepts: list[dict[str, Any]]) -> None:
    bad = [
        (c["id"], field, v)
        for c in concepts
        for field in ("name", "synonyms", "problems")
        for v in ([c["name"]] if field == "name" else c[field])
        if norm(v) in TOO_VAGUE
    ]
    assert bad == []


def test_problem_phrasings_are_short_phrases(concepts: list[dict[str, Any]]) -> None:
    # The way people type them: a few characters, no sentence punctuation.
    bad = [
        (c["id"], p)
        for c in concepts
        for p in c["problems"]
        if not 2 <= len(p) <= 12 or re.search(r"[，。！？,.!?；;：:]", p)
    ]
    assert bad == []


def test_every_group_of_the_old_synonym_list_is_in_the_map(
    concepts: list[dict[str, Any]],
) -> None:
    if not LEGACY_SYNONYMS.exists():
        pytest.skip("seed_data/synonyms.json has been replaced by the concept map")
    known = {norm(t) for c in concepts for t in terms_of(c)}
    groups = json.loads(LEGACY_SYNONYMS.read_text(encoding="utf-8"))
    missing = [t for group in groups for t in group if norm(t) not in known]
    assert missing == []
