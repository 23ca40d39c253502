"""The admins' concept additions travel with the data set as the optional concepts.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import delete, func, select

from market.core.extensions import db
from market.dataset.export import export_dataset
from market.dataset.service import DatasetError, import_dataset
from market.listing_search import concept_entries, indexing
from market.models import ConceptEntry, Park
from tests.conftest import make_user
from tests.dataset.test_dataset_import_export import minimal_dataset, write_dataset
from tests.listing_search.concept_fixtures import write_small_map


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    concepts = write_small_map(tmp_path / "concepts")
    return {**app_config, "CONCEPTS_DIR": str(concepts), "CONCEPTS_CHECK_SECONDS": 0}


def add(concept: str, kind: str, term: str) -> None:
    admin = make_user(role="admin")
    concept_entries.add(indexing.concept_map(), concept, kind, term, admin)
    db.session.commit()


def stored() -> list[tuple[str | None, str, str, str]]:
    rows = db.session.execute(
        select(ConceptEntry.ref, ConceptEntry.concept, ConceptEntry.kind, ConceptEntry.term)
    )
    return sorted((ref, concept, kind, term) for ref, concept, kind, term in rows)


def test_export_writes_the_additions_sorted_by_ref_and_import_reads_them_back(
    app: Flask, tmp_path: Path
) -> None:
    add("wms", "problem", "老发错货")
    add("mes", "synonym", "生产执行系统")
    add("leasing", "problem", "设备钱不够")
    before = stored()
    first = tmp_path / "first"
    summary = export_dataset(first)
    assert summary.counts["concepts"] == 3 and str(summary).endswith(", 3 concepts")
    text = (first / "concepts.json").read_text("utf-8")
    assert json.loads(text) == [
        {"ref": "K-000001", "concept": "wms", "kind": "problem", "term": "老发错货"},
        {"ref": "K-000002", "concept": "mes", "kind": "synonym", "term": "生产执行系统"},
        {"ref": "K-000003", "concept": "leasing", "kind": "problem", "term": "设备钱不够"},
    ]
    assert '"ref": "K-000001",\n    "concept": "wms"' in text  # keys in order, UTF-8 as is

    db.session.execute(delete(ConceptEntry))
    db.session.commit()
    assert "老发错货" not in indexing.concept_map().concepts["wms"].problems
    imported = import_dataset(first)
    assert imported.counts["concepts"] == 3
    assert stored() == before
    assert "老发错货" in indexing.concept_map().concepts["wms"].problems
    second = tmp_path / "second"
    export_dataset(second)
    for path in first.iterdir():
        assert (second / path.name).read_bytes() == path.read_bytes(), path.name
    # Importing again updates by ref: nothing doubles.
    import_dataset(second)
    assert stored() == before


def test_without_additions_no_file_is_written_and_a_stale_one_goes(
    app: Flask, tmp_path: Path
) -> None:
    target = tmp_path / "set"
    target.mkdir()
    (target / "concepts.json").write_text("[]", "utf-8")
    summary = export_dataset(target)
    assert "concepts" not in summary.counts and "concepts" not in str(summary)
    names = sorted(p.name for p in target.iterdir())
    assert names == [
        "needs.json",
        "offerings.json",
        "organizations.json",
        "parks.json",
        "users.json",
    ]


def _dataset_with(tmp_path: Path, entries: Any) -> Path:
    directory = write_dataset(tmp_path / "in", minimal_dataset())
    (directory / "concepts.json").write_text(json.dumps(entries, ensure_ascii=False), "utf-8")
    return directory


def _errors(directory: Path) -> list[str]:
    with pytest.raises(DatasetError) as caught:
        import_dataset(directory)
    return [str(error) for error in caught.value.errors]


GOOD = {"ref": "K-1", "concept": "wms", "kind": "problem", "term": "老发错货"}


@pytest.mark.parametrize(
    ("entries", "expected"),
    [
        (
            [{**GOOD, "concept": "drones"}],
            "concepts.json K-1 concept: 概念图中没有编号为 drones 的概念。",
        ),
        ([{**GOOD, "note": "x"}], "concepts.json K-1 note: 未知字段"),
        ([{"ref": "K-1", "concept": "wms", "kind": "problem"}], "concepts.json K-1 term: 必填"),
        ([{**GOOD, "kind": "tag"}], "concepts.json K-1 kind: 类型只能是同义词或问题说法。"),
        (
            [{**GOOD, "kind": "synonym", "term": "MES"}],
            "concepts.json K-1 term: 「MES」已是另一个概念「生产管理」（mes）的同义词",
        ),
        ([GOOD, {**GOOD, "term": "别的"}], "concepts.json K-1 ref: 编号重复（第 1 条已使用）"),
        (
            [GOOD, {**GOOD, "ref": "K-2"}],
            "concepts.json K-2 term: 「老发错货」已是概念「仓储管理」的问题说法。",
        ),
        ({"ref": "K-1"}, "concepts.json: 文件内容应为一个 JSON 数组（[…]）"),
    ],
)
def test_a_bad_entry_is_an_error_naming_it_and_nothing_is_imported(
    app: Flask, tmp_path: Path, entries: Any, expected: str
) -> None:
    errors = _errors(_dataset_with(tmp_path, entries))
    assert any(error.startswith(expected) for error in errors), errors
    assert db.session.scalar(select(func.count(Park.id))) == 0
    assert stored() == []


def test_the_cli_reports_the_additions(app: Flask, runner: FlaskCliRunner, tmp_path: Path) -> None:
    directory = _dataset_with(tmp_path, [GOOD])
    result = runner.invoke(args=["import", str(directory)])
    assert result.exit_code == 0, result.output
    assert ", 1 concepts" in result.output
    assert stored() == [("K-1", "wms", "problem", "老发错货")]
    out = tmp_path / "out"
    result = runner.invoke(args=["export", str(out)])
    assert result.exit_code == 0 and ", 1 concepts to" in result.output
    bad = _dataset_with(tmp_path / "bad", [{**GOOD, "concept": "drones"}])
    result = runner.invoke(args=["import", str(bad)])
    assert result.exit_code != 0
    assert "concepts.json K-1 concept: 概念图中没有编号为 drones 的概念。" in result.output
