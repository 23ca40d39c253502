"""The search index converges to the database: outbox rows commit and roll back with the
change, the worker deletes a row only once the index confirmed it, and a process killed
between commit and index update leaves what the next run (or reconcile) needs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select, update

from market.core.extensions import db
from market.listing_search import indexing
from market.listing_search import sync as search_sync
from market.models import Offering, SearchOutbox, utcnow
from search import IndexUnavailable, WriteOutcome
from tests.conftest import make_need, make_offering, make_org, make_park

ROOT = Path(__file__).resolve().parents[2]


def _outbox() -> list[tuple[str, str, str]]:
    db.session.rollback()  # a fresh snapshot: the worker commits in a session of its own
    rows = db.session.scalars(select(SearchOutbox).order_by(SearchOutbox.id))
    return [(row.index, row.doc_id, row.op) for row in rows]


def _found(query: str, index: str = "offerings") -> set[str]:
    return {hit.id for hit in indexing.backend().search(index, query, per_page=100).hits}


def _public_refs(model: Any = Offering) -> set[str]:
    db.session.rollback()
    return {str(r) for r in db.session.scalars(select(model.ref).where(model.public_clause()))}


def _index_refs(index: str = "offerings") -> set[str]:
    return {hit.id for hit in indexing.backend().search(index, "", per_page=1000).hits}


def _no_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The after-commit run dies before touching the index."""

    def crash(**_kwargs: Any) -> Any:
        raise RuntimeError("worker killed")

    monkeypatch.setattr(search_sync, "process_outbox", crash)


def test_a_committed_change_is_in_the_index_and_leaves_no_outbox_row(app: Flask) -> None:
    make_offering(ref="S-0001", title="智能质检云平台")
    db.session.commit()
    assert _found("质检") == {"S-0001"}
    assert _outbox() == []


def test_the_outbox_row_is_written_in_the_same_transaction(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_worker(monkeypatch)
    offering = make_offering(ref="S-0001", title="智能质检云平台")
    # Flushed, not committed: the row is already there, inside the same transaction.
    assert db.session.scalar(select(SearchOutbox.doc_id)) == "S-0001"
    db.session.commit()  # the dying worker must not turn the save into an error
    assert _outbox() == [("offerings", "S-0001", "upsert")]
    assert _found("质检") == set()
    monkeypatch.undo()
    assert search_sync.process_outbox().applied == 1
    assert _found("质检") == {"S-0001"} and _outbox() == []
    assert db.session.get(Offering, offering.id) is not None


def test_a_rolled_back_transaction_leaves_no_row_and_no_document(app: Flask) -> None:
    make_offering(ref="S-0001", title="智能质检云平台")
    db.session.rollback()
    assert _outbox() == []
    search_sync.process_outbox()
    assert _found("质检") == set()


def test_a_rolled_back_savepoint_does_not_swallow_a_later_change(app: Flask) -> None:
    offering = make_offering(ref="S-0001", title="智能质检云平台")
    db.session.commit()
    with db.session.begin_nested() as savepoint:
        offering.title = "临时标题"
        db.session.flush()
        savepoint.rollback()
    offering.title = "视觉质检工作站"
    db.session.commit()
    assert _found("工作站") == {"S-0001"} and _outbox() == []


def test_unpublishing_deletes_the_document(app: Flask) -> None:
    offering = make_offering(ref="S-0001", title="智能质检云平台")
    need = make_need(ref="D-0001", title="冲压件质检改造")
    db.session.commit()
    offering.status = "archived"
    need.status = "closed"
    db.session.commit()
    assert _found("质检") == set() and _found("质检", "needs") == set()


def test_an_index_outage_keeps_the_row_for_a_retry(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = indexing.backend()

    def down(*_args: Any, **_kwargs: Any) -> WriteOutcome:
        raise IndexUnavailable("connection refused")

    monkeypatch.setattr(backend, "add_bulk", down)
    make_offering(ref="S-0001", title="智能质检云平台")
    db.session.commit()  # the user's save stands
    row = db.session.scalars(select(SearchOutbox)).one()
    assert (row.doc_id, row.attempts) == ("S-0001", 1)
    assert "connection refused" in (row.last_error or "")
    monkeypatch.undo()
    report = search_sync.process_outbox()
    assert (report.applied, report.failed) == (1, 0)
    assert _found("质检") == {"S-0001"} and _outbox() == []


def test_a_refused_write_keeps_the_row_with_the_reason(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = indexing.backend()
    monkeypatch.setattr(
        backend, "add_bulk", lambda *_a, **_k: WriteOutcome("failed", "invalid_document_id")
    )
    make_offering(ref="S-0001")
    db.session.commit()
    db.session.rollback()
    row = db.session.scalars(select(SearchOutbox)).one()
    assert row.attempts == 1 and "invalid_document_id" in (row.last_error or "")


def test_renaming_an_organization_reindexes_its_listings(app: Flask) -> None:
    org = make_org(kind="solution_provider", name="旧名称科技有限公司")
    make_offering(org=org, ref="S-0001")
    db.session.commit()
    org.name = "新视界智能科技有限公司"
    db.session.commit()
    assert _found("新视界") == {"S-0001"} and _found("旧名称") == set()


def test_moving_a_park_to_another_province_moves_its_needs(app: Flask) -> None:
    park = make_park(province="江苏省")
    make_need(ref="D-0001", park=park, org=make_org(kind="enterprise", park=park))
    db.session.commit()
    park.province = "浙江省"
    db.session.commit()
    hits = indexing.backend().search("needs", "", facets=["regions"]).facets["regions"]
    assert hits == {"浙江省": 1}


def test_reconcile_drops_offerings_that_expired_since_they_were_indexed(
    app: Flask, runner: FlaskCliRunner
) -> None:
    make_offering(ref="S-0001", title="智能质检云平台")
    make_offering(ref="S-0002", title="视觉质检工作站")
    db.session.commit()
    # Time passes: no write happens, so no outbox row either.
    db.session.execute(
        update(Offering)
        .where(Offering.ref == "S-0001")
        .values(expires_at=utcnow() - timedelta(days=1))
    )
    db.session.commit()
    assert _found("质检") == {"S-0001", "S-0002"}
    # The page never shows what the database no longer publishes, even before the repair.
    client = app.test_client()
    assert "S-0001" not in client.get("/search/?q=质检").get_data(as_text=True)
    result = runner.invoke(args=["reindex", "--reconcile"])
    assert result.exit_code == 0, result.output
    assert _index_refs() == _public_refs() == {"S-0002"}


CRASHING_WRITER = """
import json, os, signal, sys
from market import create_app
from market.core.extensions import db
from market.models import Offering, Organization
from market.listing_search import sync as search_sync

def killed(**_kwargs):
    # The process dies between the commit and the index update.
    os.kill(os.getpid(), signal.SIGKILL)

search_sync.process_outbox = killed
app = create_app(json.loads(sys.argv[1]))
with app.app_context():
    org = db.session.scalars(db.select(Organization)).first()
    db.session.add(Offering(
        org=org, ref="S-0003", kind="solution", category="application.quality",
        title="新发布的视觉质检方案", description="AI 质检", status="published",
        published_at=db.func.now(),
    ))
    old = db.session.scalars(db.select(Offering).where(Offering.ref == "S-0001")).one()
    old.status = "archived"
    db.session.commit()
print("the index was updated: the crash did not happen", flush=True)
"""


def test_killing_the_process_between_commit_and_index_update_converges(
    app: Flask, app_config: dict[str, Any], runner: FlaskCliRunner
) -> None:
    org = make_org(kind="solution_provider")
    make_offering(org=org, ref="S-0001", title="智能质检云平台")
    make_offering(org=org, ref="S-0002", title="视觉质检工作站")
    db.session.commit()
    assert _found("质检") == {"S-0001", "S-0002"}

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [sys.executable, "-c", CRASHING_WRITER, json.dumps(app_config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stdout + proc.stderr

    # Committed, but the index never heard of it: the outbox holds both changes.
    assert _public_refs() == {"S-0002", "S-0003"}
    assert _found("质检") == {"S-0001", "S-0002"}
    assert sorted(_outbox()) == [
        ("offerings", "S-0001", "upsert"),
        ("offerings", "S-0003", "upsert"),
    ]

    # The next run (here the repair command a scheduler runs) converges.
    result = runner.invoke(args=["reindex", "--reconcile"])
    assert result.exit_code == 0, result.output
    assert _index_refs() == _public_refs() == {"S-0002", "S-0003"}
    assert _found("质检") == {"S-0002", "S-0003"}
    assert _outbox() == []


def test_the_worker_alone_also_converges_after_a_crash(
    app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_worker(monkeypatch)
    make_offering(ref="S-0001", title="智能质检云平台")
    db.session.commit()
    monkeypatch.undo()
    # Any later commit's worker run picks up the leftover row too.
    make_offering(ref="S-0002", title="视觉质检工作站")
    db.session.commit()
    assert _found("质检") == {"S-0001", "S-0002"} and _outbox() == []


def test_writing_a_draft_that_was_never_public_needs_no_index_work(app: Flask) -> None:
    draft = make_offering(ref="S-0001", title="草稿质检方案", status="draft")
    assert _outbox_in_transaction() == []
    db.session.commit()
    draft.title = "草稿质检方案（修改）"
    db.session.flush()
    assert _outbox_in_transaction() == []
    draft.status = "published"
    draft.published_at = utcnow()
    db.session.commit()
    assert _found("质检") == {"S-0001"}
    draft.status = "archived"
    db.session.commit()
    assert _found("质检") == set() and _outbox() == []


def _outbox_in_transaction() -> list[str]:
    return list(db.session.scalars(select(SearchOutbox.doc_id)))
