"""Admins' synonyms and problem phrases: validation, storage, and the map every worker sees."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from market import create_app
from market.core.extensions import db
from market.listing_search import concept_entries, indexing
from market.listing_search import query as search_query
from market.listing_search.concept_entries import EntryInvalid
from market.models import ConceptEntry
from tests.conftest import make_offering, make_user
from tests.listing_search.concept_fixtures import write_small_map


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    concepts = write_small_map(tmp_path / "concepts")
    return {**app_config, "CONCEPTS_DIR": str(concepts), "CONCEPTS_CHECK_SECONDS": 0}


def add(term: str, concept: str = "wms", kind: str = "problem") -> ConceptEntry:
    admin = make_user(role="admin")
    entry = concept_entries.add(indexing.concept_map(), concept, kind, term, admin)
    db.session.commit()
    return entry


def refused(term: str | None, concept: str = "wms", kind: str = "synonym") -> str:
    with pytest.raises(EntryInvalid) as caught:
        concept_entries.validate(indexing.concept_map(), concept, kind, term)
    return caught.value.message


def test_an_addition_gets_a_ref_and_is_merged_into_the_map(app: Flask) -> None:
    entry = add("  老是  发错货 ")
    assert entry.ref == f"K-{entry.id:06d}"
    assert entry.term == "老是 发错货"  # space trimmed and made one
    assert entry.added_by is not None and entry.added_by.role == "admin"
    wms = indexing.concept_map().concepts["wms"]
    assert wms.problems == ("发错货", "找不到货", "老是 发错货")
    add("仓库系统", kind="synonym")
    groups = indexing.concept_map().synonym_groups()
    assert ("仓储管理", "WMS", "仓库管理系统", "仓库系统") in groups


@pytest.mark.parametrize(
    ("term", "concept", "kind", "message"),
    [
        ("", "wms", "synonym", "请填写要添加的词语。"),
        ("   ", "wms", "problem", "请填写要添加的词语。"),
        ("仓" * 41, "wms", "synonym", "词语最多 40 个字符（现有 41 个）。"),
        ("发错\x00货", "wms", "problem", "词语不能包含控制字符（如换行、制表符）。"),
        ("发错\n货", "wms", "problem", "词语不能包含控制字符（如换行、制表符）。"),
        ("老发错货", "no_such", "problem", "概念图中没有编号为 no_such 的概念。"),
        ("老发错货", "wms", "antonym", "类型只能是同义词或问题说法。"),
        ("wms", "wms", "problem", "「wms」已是概念「仓储管理」的名称或同义词。"),
        ("仓储管理", "wms", "synonym", "「仓储管理」已是概念「仓储管理」的名称或同义词。"),
        ("发错 货", "wms", "problem", "「发错 货」已是概念「仓储管理」的问题说法。"),
        (
            "MES",
            "wms",
            "synonym",
            "「MES」已是另一个概念「生产管理」（mes）的同义词：同一个词不能同时是两个概念的"
            "同义词。可改为添加问题说法。",
        ),
    ],
)
def test_bad_additions_are_refused_with_the_reason(
    app: Flask, term: str, concept: str, kind: str, message: str
) -> None:
    assert refused(term, concept, kind) == message


def test_forty_characters_are_allowed(app: Flask) -> None:
    assert concept_entries.validate(indexing.concept_map(), "wms", "problem", "仓" * 40).term


def test_a_synonym_added_to_one_concept_cannot_be_added_to_another(app: Flask) -> None:
    add("智能仓库", kind="synonym")
    assert "另一个概念「仓储管理」（wms）" in refused("智能仓库", concept="mes")
    # A problem phrase may point to several concepts (发错货 → 仓储管理 and 条码).
    add("老发错货", concept="wms")
    assert concept_entries.validate(indexing.concept_map(), "barcode", "problem", "老发错货")
    assert "问题说法" in refused("老发错货", concept="wms", kind="problem")


def test_removing_an_entry_takes_it_out_of_the_map(app: Flask) -> None:
    entry = add("老发错货")
    concept_entries.remove(str(entry.ref))
    db.session.commit()
    assert "老发错货" not in indexing.concept_map().concepts["wms"].problems
    with pytest.raises(EntryInvalid, match="K-999999"):
        concept_entries.remove("K-999999")


def test_the_table_stamp_changes_on_every_kind_of_write(app: Flask) -> None:
    stamps = [concept_entries.stamp()]
    first = add("甲")
    stamps.append(concept_entries.stamp())
    second = add("乙")
    stamps.append(concept_entries.stamp())
    concept_entries.remove(str(second.ref))  # the highest id goes ...
    db.session.commit()
    stamps.append(concept_entries.stamp())
    add("丙")  # ... and SQLite may hand it out again
    stamps.append(concept_entries.stamp())
    first.term = "丁"  # an import updates in place
    db.session.commit()
    stamps.append(concept_entries.stamp())
    # Each write changes the stamp from the one before it. (Removing 乙 brings back
    # the stamp of the table that held only 甲: the same rows, so the same map.)
    assert all(a != b for a, b in itertools.pairwise(stamps))
    assert stamps[3] == stamps[1]


def test_a_second_worker_sees_an_addition_without_a_restart(
    app: Flask, app_config: dict[str, Any]
) -> None:
    """Two app instances on one database stand for two gunicorn workers."""
    other = create_app({**app_config, "CONCEPTS_CHECK_SECONDS": 0})
    with other.app_context():
        before = indexing.concept_map(other)
        assert "老发错货" not in before.concepts["wms"].problems
        db.session.remove()
    add("老发错货")
    with other.app_context():
        after = indexing.concept_map(other)
        assert "老发错货" in after.concepts["wms"].problems
        assert after.version != before.version  # Meilisearch is told by the version
        db.session.remove()
        db.engine.dispose()


def test_the_stamp_is_read_at_most_every_few_seconds(
    app: Flask, app_config: dict[str, Any]
) -> None:
    other = create_app({**app_config, "CONCEPTS_CHECK_SECONDS": 3600})
    with other.app_context():
        indexing.concept_map(other)
        db.session.remove()
    add("老发错货")
    with other.app_context():
        assert "老发错货" not in indexing.concept_map(other).concepts["wms"].problems
        concept_entries.forget(other)
        assert "老发错货" in indexing.concept_map(other).concepts["wms"].problems
        db.session.remove()
        db.engine.dispose()


def test_an_entry_whose_concept_left_the_files_is_kept_but_not_applied(app: Flask) -> None:
    db.session.add(ConceptEntry(concept="gone", kind="synonym", term="旧词"))
    db.session.commit()
    assert "gone" not in indexing.concept_map().concepts
    assert db.session.scalar(select(ConceptEntry.term)) == "旧词"


def test_a_second_worker_finds_with_an_addition_and_gives_the_engine_its_synonyms(
    app: Flask, app_config: dict[str, Any]
) -> None:
    """The search itself, in a second app instance on the same database and index."""
    make_offering(title="仓储管理系统WMS条码拣货", summary="", description="", tags=[])
    db.session.commit()
    request = search_query.SearchRequest("offerings", "货老是送错")
    other = create_app({**app_config, "CONCEPTS_CHECK_SECONDS": 0})
    with other.app_context():
        assert search_query.run(request, facets=False).total == 0
        db.session.remove()
    add("货老是送错")
    add("智能仓库", kind="synonym")
    with other.app_context():
        found = search_query.run(request, facets=False)
        assert [item.item.title for item in found.items] == ["仓储管理系统WMS条码拣货"]
        settings = indexing.backend(other)._index("offerings").settings()  # type: ignore[attr-defined]
        assert any("智能仓库" in group for group in settings.synonyms)
        db.session.remove()
        db.engine.dispose()
