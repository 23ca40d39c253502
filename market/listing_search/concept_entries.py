"""Admins' synonyms and problem phrases: validated, stored, and merged into the concept map.

The concept map itself is files (seed_data/concepts, read by ``search.concepts``);
what admins add lives in the ``concept_entries`` table so it applies without a
restart and travels with the data set. Every worker process keeps the merged map
and, at most once per request and every ``CONCEPTS_CHECK_SECONDS`` (default 3),
asks the database for a cheap stamp of the table (row count, highest id, latest
change). A different stamp means someone added or removed an entry through another
worker: the map is merged again, so the next search anywhere uses it.
"""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import Flask, current_app, g, has_request_context
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from market.core.db import by_ref as _by_ref
from market.core.db import read_intent
from market.core.errors import DomainError
from market.core.extensions import db
from market.models import ConceptEntry, User
from market.models.concept_entry import CONCEPT_ENTRY_KINDS, TERM_MAX
from search.concepts import Addition, ConceptMap, term_key

EXTENSION = "market_concept_entries"
CHECK_SECONDS = 3.0
KIND_LABELS: dict[str, Any] = {"synonym": _l("同义词"), "problem": _l("问题说法")}

Stamp = tuple[int, int, datetime | None]


class EntryInvalid(DomainError):
    """An addition that cannot be made; the message says why in the user's language."""


@dataclass(frozen=True)
class Candidate:
    """A validated addition, ready to store: the term as it will be kept."""

    concept: str
    kind: str
    term: str


def clean_term(raw: str | None) -> str:
    """The term with surrounding space removed and inner runs of space made one."""
    return " ".join((raw or "").split())


def validate(cmap: ConceptMap, concept_id: str, kind: str, raw_term: str | None) -> Candidate:
    """Check one addition against ``cmap`` (the map with every other addition merged in).

    Raises:
        EntryInvalid: empty, longer than ``TERM_MAX``, control characters, an unknown
            concept or kind, already a term or problem phrase of that concept, or (a
            synonym) already a synonym of another concept, which the message names.
    """
    if any(unicodedata.category(ch) == "Cc" for ch in raw_term or ""):
        raise EntryInvalid(_("词语不能包含控制字符（如换行、制表符）。"))
    term = clean_term(raw_term)
    if not term:
        raise EntryInvalid(_("请填写要添加的词语。"))
    if len(term) > TERM_MAX:
        raise EntryInvalid(_("词语最多 %(n)d 个字符（现有 %(m)d 个）。", n=TERM_MAX, m=len(term)))
    if kind not in CONCEPT_ENTRY_KINDS:
        raise EntryInvalid(_("类型只能是同义词或问题说法。"))
    concept = cmap.concepts.get(concept_id)
    if concept is None:
        raise EntryInvalid(_("概念图中没有编号为 %(id)s 的概念。", id=concept_id))
    key = term_key(term)
    if key in {term_key(t) for t in concept.terms}:
        raise EntryInvalid(
            _("「%(term)s」已是概念「%(name)s」的名称或同义词。", term=term, name=concept.name)
        )
    if key in {term_key(t) for t in concept.problems}:
        raise EntryInvalid(
            _("「%(term)s」已是概念「%(name)s」的问题说法。", term=term, name=concept.name)
        )
    if kind == "synonym":
        for other in cmap.concepts.values():
            if other.id != concept.id and key in {term_key(t) for t in other.terms}:
                raise EntryInvalid(
                    _(
                        "「%(term)s」已是另一个概念「%(name)s」（%(id)s）的同义词：同一个词"
                        "不能同时是两个概念的同义词。可改为添加问题说法。",
                        term=term,
                        name=other.name,
                        id=other.id,
                    )
                )
    return Candidate(concept.id, kind, term)


# --- the merged map every worker searches with ------------------------------------------------


@dataclass
class _Merged:
    """What ``app.extensions[EXTENSION]`` holds: the last merge and when it was checked."""

    files: ConceptMap | None = None
    stamp: Stamp | None = None
    merged: ConceptMap | None = None
    checked: float = float("-inf")
    lock: threading.Lock = field(default_factory=threading.Lock)


def stamp() -> Stamp:
    """A cheap fingerprint of the table: any insert, update or delete changes it.

    Read on a connection of its own, like :func:`additions`: the map is asked for
    from inside other work too (the matcher runs in ``after_commit``, when the
    session can no longer run SQL), and what counts is what is committed.

    The count catches a delete, the highest id an insert, the latest ``updated_at``
    an update in place (an import) and an insert that reuses a deleted highest id.
    """
    row = select(
        func.count(ConceptEntry.id), func.max(ConceptEntry.id), func.max(ConceptEntry.updated_at)
    )
    with read_intent(), db.engine.connect() as conn:
        count, top, changed = conn.execute(row).one()
    return int(count), int(top or 0), changed


def additions() -> list[Addition]:
    """Every stored entry as an ``Addition``, oldest first (so merges are stable)."""
    stmt = select(ConceptEntry.concept, ConceptEntry.kind, ConceptEntry.term)
    with read_intent(), db.engine.connect() as conn:
        rows = conn.execute(stmt.order_by(ConceptEntry.id)).all()
    return [Addition(concept, kind, term) for concept, kind, term in rows]  # type: ignore[arg-type]


def merged(files: ConceptMap, app: Flask | None = None) -> ConceptMap:
    """``files`` with the admins' entries merged in, as this process last saw the table.

    The table's stamp is read at most once per request and every
    ``CONCEPTS_CHECK_SECONDS``; the map is merged again only when the stamp (or the
    file map) changed. The result's ``version`` is the files' version plus the stamp,
    so an engine can tell when to push new synonym settings.
    """
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    state: _Merged = app.extensions.setdefault(EXTENSION, _Merged())
    memo = g.get("_concept_map") if has_request_context() else None
    if memo is not None and memo[0] is files:
        return memo[1]
    interval = float(app.config.get("CONCEPTS_CHECK_SECONDS", CHECK_SECONDS))
    with state.lock:
        now = time.monotonic()
        fresh = state.merged is not None and state.files is files
        if not fresh or now - state.checked >= interval:
            current = stamp()
            state.checked = now
            if not fresh or current != state.stamp:
                grown = files.with_additions(additions()) if current[0] else files
                version = f"{files.version}+{current[0]}.{current[1]}.{_stamp_time(current[2])}"
                state.merged = ConceptMap(grown.concepts, version)
                state.files, state.stamp = files, current
        result = state.merged
    assert result is not None
    if has_request_context():
        g._concept_map = (files, result)
    return result


def _stamp_time(value: datetime | None) -> str:
    return value.strftime("%Y%m%d%H%M%S%f") if value else "0"


def forget(app: Flask | None = None) -> None:
    """Make the next ``merged`` call in this process read the table (after a write here)."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    state: _Merged | None = app.extensions.get(EXTENSION)
    if state is not None:
        state.checked = float("-inf")
    if has_request_context():
        g.pop("_concept_map", None)


# --- writing ------------------------------------------------------------------------------------


def add(cmap: ConceptMap, concept_id: str, kind: str, term: str | None, by: User) -> ConceptEntry:
    """Store a validated addition made by ``by`` (an admin; the view checks the role).

    ``cmap`` is the current merged map. The caller commits.

    Raises:
        EntryInvalid: see :func:`validate`.
    """
    candidate = validate(cmap, concept_id, kind, term)
    entry = ConceptEntry(
        concept=candidate.concept, kind=candidate.kind, term=candidate.term, added_by=by
    )
    db.session.add(entry)
    db.session.flush()
    return entry


def remove(ref: str) -> ConceptEntry:
    """Delete the stored entry ``ref``. The caller commits.

    Raises:
        EntryInvalid: no entry has that ref (file entries have none: they are read-only).
    """
    entry = by_ref(ref)
    if entry is None:
        raise EntryInvalid(
            _("没有编号为 %(ref)s 的添加词条（概念图文件中的词条不能在此删除）。", ref=ref)
        )
    db.session.delete(entry)
    db.session.flush()
    return entry


def by_ref(ref: str) -> ConceptEntry | None:
    return _by_ref(ConceptEntry, ref)


def entries(concept_ids: Iterable[str] | None = None) -> list[ConceptEntry]:
    """Stored entries (of the given concepts), oldest first, with who added them."""
    stmt = select(ConceptEntry).options(selectinload(ConceptEntry.added_by))
    if concept_ids is not None:
        stmt = stmt.where(ConceptEntry.concept.in_(list(concept_ids)))
    return list(db.session.scalars(stmt.order_by(ConceptEntry.id)))


def all_sorted() -> Sequence[ConceptEntry]:
    """Every stored entry sorted by ref (in Python: database collations differ)."""
    return sorted(db.session.scalars(select(ConceptEntry)), key=lambda e: str(e.ref))
