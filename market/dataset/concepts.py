"""``concepts.json``: the admins' additions to the concept map, carried by the data set.

An optional file of the data set (see README, "Data sets"): a JSON array of
``{"ref", "concept", "kind", "term"}`` objects, sorted by ref, keys in that order.
Export writes it only when there are additions, so a data set without them stays
byte-identical to what earlier versions wrote (and a stale file from an earlier
export into the same folder is removed). Import checks every entry as the admin
page does (``concept_entries.validate``) against the concept map of this
installation: an entry for a concept the map does not know is an error naming its
ref. Re-importing updates entries in place by ref, like every other file.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from market.core.extensions import db
from market.dataset.records import RecordError
from market.listing_search import concept_entries, indexing
from market.listing_search.concept_entries import EntryInvalid
from market.models import ConceptEntry
from search.concepts import Addition

FILE = "concepts.json"
KEYS = ("ref", "concept", "kind", "term")
REF_MAX = 64

Row = dict[str, str]


Reader = Callable[[Path], tuple[list[Any] | None, RecordError | None]]
Writer = Callable[[Path, list[dict[str, Any]]], None]


def load(directory: Path, read: Reader, errors: list[RecordError]) -> list[Row]:
    """The validated entries of ``directory/concepts.json`` (none when it is absent).

    ``read`` is the data set's JSON reader (one dialect for every file). Problems are
    appended to ``errors`` (file, ref, key, message), never raised.
    """
    path = directory / FILE
    if not path.exists():
        return []
    data, problem = read(path)
    if problem is not None:
        errors.append(problem)
        return []
    shaped = _shaped(data or [], errors)
    return _checked(shaped, errors)


def _shaped(data: list[Any], errors: list[RecordError]) -> list[Row]:
    """Records with exactly the four string keys and a unique ref, in file order."""
    rows: list[Row] = []
    seen: dict[str, int] = {}
    for position, record in enumerate(data, start=1):
        if not isinstance(record, dict):
            errors.append(RecordError(FILE, None, None, _("第 %(n)d 条不是对象", n=position)))
            continue
        ref = record.get("ref")
        label = ref if isinstance(ref, str) and ref.strip() else f"#{position}"
        ok = True
        for key in record:
            if key not in KEYS:
                errors.append(RecordError(FILE, label, str(key), _("未知字段")))
                ok = False
        for key in KEYS:
            value = record.get(key)
            if not isinstance(value, str) or not value.strip():
                errors.append(RecordError(FILE, label, key, _("必填，应为非空字符串")))
                ok = False
        if not ok:
            continue
        if len(record["ref"]) > REF_MAX:
            errors.append(RecordError(FILE, label, "ref", _("编号过长")))
            continue
        if record["ref"] in seen:
            first = seen[record["ref"]]
            errors.append(
                RecordError(FILE, label, "ref", _("编号重复（第 %(first)d 条已使用）", first=first))
            )
            continue
        seen[record["ref"]] = position
        rows.append({key: str(record[key]) for key in KEYS})
    return rows


def _checked(rows: list[Row], errors: list[RecordError]) -> list[Row]:
    """Each entry validated against the map as it will be once the import is done: the
    files, the stored entries this import does not replace, and the entries before it."""
    incoming = {row["ref"] for row in rows}
    kept = [
        Addition(e.concept, e.kind, e.term)  # type: ignore[arg-type]
        for e in concept_entries.entries()
        if e.ref not in incoming
    ]
    cmap = indexing.concept_files().with_additions(kept)
    good: list[Row] = []
    for row in sorted(rows, key=lambda r: r["ref"]):
        try:
            candidate = concept_entries.validate(cmap, row["concept"], row["kind"], row["term"])
        except EntryInvalid as exc:
            key = "concept" if row["concept"] not in cmap.concepts else _key_of(row)
            errors.append(RecordError(FILE, row["ref"], key, exc.message))
            continue
        addition = Addition(candidate.concept, candidate.kind, candidate.term)  # type: ignore[arg-type]
        cmap = cmap.with_additions([addition])
        good.append({**row, "term": candidate.term})
    return good


def _key_of(row: Row) -> str:
    return "kind" if row["kind"] not in concept_entries.KIND_LABELS else "term"


def write(rows: Iterable[Row]) -> int:
    """Upsert validated entries by ref (inside the import's transaction). Returns how many."""
    rows = list(rows)
    if not rows:
        return 0
    refs = [row["ref"] for row in rows]
    found = {
        e.ref: e for e in db.session.scalars(select(ConceptEntry).where(ConceptEntry.ref.in_(refs)))
    }
    for row in rows:
        entry = found.get(row["ref"])
        if entry is None:
            entry = ConceptEntry(ref=row["ref"])
            db.session.add(entry)
        entry.concept, entry.kind, entry.term = row["concept"], row["kind"], row["term"]
    db.session.flush()
    return len(rows)


def export(directory: Path, write_json: Writer) -> int:
    """Write ``concepts.json`` into ``directory`` with ``write_json`` (the data set's
    writer) when there are entries; otherwise remove one an earlier export left there.
    Returns how many entries were written."""
    path = directory / FILE
    rows: list[dict[str, Any]] = [
        {key: str(getattr(e, key)) for key in KEYS} for e in concept_entries.all_sorted()
    ]
    if not rows:
        path.unlink(missing_ok=True)
        return 0
    write_json(path, rows)
    return len(rows)
