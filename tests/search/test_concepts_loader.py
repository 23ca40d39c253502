"""The concept-map loader: shape checks, references, term uniqueness, admins' additions."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from search.concepts import Addition, ConceptMapError, load_concepts, term_key


def _write(directory: Path, name: str, concepts: list[dict[str, Any]]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    body = {"version": "2026.12.1", "area": name, "concepts": concepts}
    (directory / f"{name}.json").write_text(json.dumps(body, ensure_ascii=False), "utf-8")


WMS = {
    "id": "wms",
    "name": "仓储管理",
    "synonyms": ["WMS", "仓库管理系统"],
    "english": ["warehouse management"],
    "broader": ["supply_chain"],
    "categories": ["application.supply_chain"],
    "problems": ["发错货"],
}
SUPPLY = {"id": "supply_chain", "name": "供应链协同", "categories": ["application.supply_chain"]}


def test_files_load_as_one_map_with_groups_narrower_and_categories(tmp_path: Path) -> None:
    _write(tmp_path, "application", [WMS])
    _write(tmp_path, "general", [SUPPLY])
    concepts = load_concepts(tmp_path)
    assert len(concepts) == 2 and concepts.version == "2026.12.1"
    assert concepts.synonym_groups() == (("仓储管理", "WMS", "仓库管理系统"),)
    assert concepts.narrower("supply_chain") == ("wms",)
    assert {c.id for c in concepts.by_category("application.supply_chain")} == {
        "wms",
        "supply_chain",
    }
    assert concepts.concepts["wms"].problems == ("发错货",)


@pytest.mark.parametrize(
    ("concepts", "message"),
    [
        ([WMS], "unknown broader 'supply_chain'"),
        ([SUPPLY, {**SUPPLY, "name": "x"}], "defined twice"),
        ([SUPPLY, {**WMS, "synonyms": ["供应链协同"]}], "synonym of both"),
        ([{**SUPPLY, "broader": ["wms"]}, WMS], "broader cycle"),
        ([{**SUPPLY, "colour": "red"}], "unknown keys ['colour']"),
        ([{**SUPPLY, "problems": ["", "x"]}], "'problems' must be a list of non-empty strings"),
        ([{**SUPPLY, "name": " "}], "'name' must be a non-empty string"),
    ],
)
def test_an_invalid_map_is_refused_with_the_place_named(
    tmp_path: Path, concepts: list[dict[str, Any]], message: str
) -> None:
    _write(tmp_path, "application", concepts)
    with pytest.raises(ConceptMapError, match=re.escape(message)):
        load_concepts(tmp_path)


def test_broken_json_and_an_empty_folder_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ConceptMapError, match="no concept files"):
        load_concepts(tmp_path)
    (tmp_path / "x.json").write_text("{", "utf-8")
    with pytest.raises(ConceptMapError, match=r"x\.json: not valid JSON"):
        load_concepts(tmp_path)


def test_additions_extend_a_concept_once_and_skip_unknown_concepts(tmp_path: Path) -> None:
    _write(tmp_path, "application", [SUPPLY, WMS])
    base = load_concepts(tmp_path)
    grown = base.with_additions(
        [
            Addition("wms", "synonym", "立库管理"),
            Addition("wms", "problem", "找不到货"),
            Addition("wms", "problem", "发错货"),  # already there
            Addition("wms", "synonym", "wms"),  # the same term, other case
            Addition("gone", "synonym", "x"),
        ]
    )
    assert grown.concepts["wms"].synonyms == ("WMS", "仓库管理系统", "立库管理")
    assert grown.concepts["wms"].problems == ("发错货", "找不到货")
    assert base.concepts["wms"].synonyms == ("WMS", "仓库管理系统")  # the base is unchanged
    assert grown.narrower("supply_chain") == ("wms",)


def test_term_key_folds_width_case_and_spaces() -> None:
    assert term_key("ＯＰＣ UA") == term_key("opcua") == "opcua"
    assert term_key("opc-ua") == "opc-ua"
