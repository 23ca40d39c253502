"""The embedded engine beyond the contract: files, processes, bulk loads, analysis."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest

from search import IndexNotConfigured, create_backend
from search.embedded import EmbeddedBackend
from search.embedded import index as index_module
from search.listings import listing_settings
from search.text import Segmenter, analyze_corpus, keys_of, normalize
from tests.search.conftest import SYNONYMS, make_doc

IDX = "offerings"


def open_backend(path: Path) -> EmbeddedBackend:
    backend = create_backend("embedded", {"path": str(path)})
    assert isinstance(backend, EmbeddedBackend)
    return backend


def _write_in_child(path: str, title: str) -> None:
    backend = open_backend(Path(path))
    backend.add(IDX, make_doc(id="from-child", title=title))
    backend.close()


def test_a_write_in_another_process_is_seen_at_the_next_query(tmp_path: Path) -> None:
    reader = open_backend(tmp_path)
    reader.configure(IDX, listing_settings(SYNONYMS))
    assert reader.search(IDX, "注塑机").total == 0
    ctx = multiprocessing.get_context("spawn")  # as a separate gunicorn worker would be
    child = ctx.Process(target=_write_in_child, args=(str(tmp_path), "注塑机设备上云"))
    child.start()
    child.join(60)
    assert child.exitcode == 0
    assert [h.id for h in reader.search(IDX, "注塑机").hits] == ["from-child"]


def test_the_index_survives_reopening(tmp_path: Path) -> None:
    first = open_backend(tmp_path)
    first.configure(IDX, listing_settings(SYNONYMS))
    first.add(IDX, make_doc(id="kept", title="数字孪生平台"))
    first.close()
    assert [h.id for h in open_backend(tmp_path).search(IDX, "数字孪生").hits] == ["kept"]


def test_new_synonyms_keep_the_documents_written_since_the_last_snapshot(
    tmp_path: Path,
) -> None:
    """An admin's new synonym reconfigures the index: what only the log held stays."""
    backend = open_backend(tmp_path)
    backend.configure(IDX, listing_settings(SYNONYMS))
    backend.add(IDX, make_doc(id="recent", title="仓储管理系统条码拣货"))
    backend.configure(IDX, listing_settings((*SYNONYMS, ("仓储管理", "智能仓库"))))
    assert [h.id for h in backend.search(IDX, "条码").hits] == ["recent"]
    assert [h.id for h in open_backend(tmp_path).search(IDX, "条码").hits] == ["recent"]


def test_bulk_loads_and_compaction_keep_the_latest_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(index_module, "BULK_DIRECT", 50)
    monkeypatch.setattr(index_module, "DELTA_LIMIT", 10)
    backend = open_backend(tmp_path)
    backend.configure(IDX, listing_settings(SYNONYMS))
    backend.add_bulk(IDX, [make_doc(id=f"b{i}", title="设备上云服务") for i in range(120)])
    for i in range(25):  # through the change log, compacted every 10 documents
        backend.add(IDX, make_doc(id=f"b{i}", title="数控机床联网"))
    backend.delete(IDX, ["b100", "b101"])
    assert backend.search(IDX, "设备上云").total == 120 - 25 - 2
    assert backend.search(IDX, "数控机床").total == 25
    reopened = open_backend(tmp_path)
    assert reopened.search(IDX, "").total == 118
    manifest = (tmp_path / IDX / "manifest.json").read_text()
    assert '"segments"' in manifest


def test_changing_the_fields_rebuilds_from_stored_documents(tmp_path: Path) -> None:
    backend = open_backend(tmp_path)
    backend.configure(IDX, listing_settings(SYNONYMS))
    backend.add(IDX, make_doc(id="x", title="光伏储能", org_name="示例能源"))
    settings = listing_settings(SYNONYMS)
    narrower = type(settings)(settings.searchable[:1], settings.filterable, settings.sortable)
    backend.configure(IDX, narrower)
    assert backend.search(IDX, "光伏").total == 1
    assert backend.search(IDX, "示例能源").total == 0


def test_an_unconfigured_index_says_so(tmp_path: Path) -> None:
    backend = open_backend(tmp_path)
    with pytest.raises(IndexNotConfigured):
        backend.search("needs", "x")
    with pytest.raises(IndexNotConfigured):
        backend.add("needs", make_doc())


def test_a_missing_path_option_is_an_error() -> None:
    with pytest.raises(ValueError):
        create_backend("embedded", {})


def test_corpus_analysis_matches_query_analysis() -> None:
    texts = ["智能质检平台 MES系统", "ＭＥＳ（制造执行）与 5G专网", "零部件、化工业务", "a"]
    tokens = analyze_corpus(texts, Segmenter())
    for i, text in enumerate(texts):
        indexed = sorted(
            k
            for k, t in zip(tokens.keys.tolist(), tokens.text_index.tolist(), strict=True)
            if t == i
        )
        assert indexed == sorted(keys_of(normalize(text)))


def test_a_bigram_straddling_two_words_is_flagged() -> None:
    tokens = analyze_corpus(["化工业务"], Segmenter())
    flagged = [k for k, s in zip(tokens.keys.tolist(), tokens.straddle.tolist(), strict=True) if s]
    assert flagged == keys_of("工业")


def test_a_word_of_three_characters_must_be_written_together_when_few_documents_match(
    tmp_path: Path,
) -> None:
    backend = open_backend(tmp_path)
    backend.configure(IDX, listing_settings(SYNONYMS))
    backend.add_bulk(
        IDX,
        [
            # 培训 in the category and 实训班 in the title: both pairs, never the word.
            make_doc(id="APART", title="机器人编程实训班", category_name="人才培训"),
            make_doc(id="TOGETHER", title="PLC编程培训班"),
        ],
    )
    assert [h.id for h in backend.search(IDX, "培训班").hits] == ["TOGETHER"]
    # The pairs alone still match a shorter word they spell.
    assert {h.id for h in backend.search(IDX, "培训").hits} == {"APART", "TOGETHER"}
