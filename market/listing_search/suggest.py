"""Beside the results: related terms for the empty state, as-you-type suggestions
and the park facet's names."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from sqlalchemy import select

from market.core.extensions import db
from market.listing_search import indexing
from market.listing_search.documents import load_by_refs
from market.listing_search.query import SUGGEST_LIMIT, clean_query
from market.models import Park
from search.listings import INDEXES


def related_terms(q: str) -> list[str]:
    """Synonyms of the words in ``q`` that are not already in it (for the empty state)."""
    folded = unicodedata.normalize("NFKC", q).casefold()
    found: list[str] = []
    for group in indexing.concept_map().synonym_groups():
        terms = [unicodedata.normalize("NFKC", t).casefold() for t in group]
        if any(t and t in folded for t in terms):
            found += [t for t, f in zip(group, terms, strict=True) if f not in folded]
    return list(dict.fromkeys(found))[:8]


def suggestions(index: str, prefix: str, limit: int = SUGGEST_LIMIT) -> list[dict[str, str]]:
    """As-you-type suggestions: ``{"ref", "text", "html"}`` of the best matching titles.

    ``html`` is escaped by the search port, with ``<mark>`` around what was typed.

    Raises:
        IndexUnavailable: the search engine cannot be reached.
    """
    if index not in INDEXES:
        index = "offerings"
    prefix = clean_query(prefix)
    if not prefix:
        return []
    found = indexing.backend().suggest(index, prefix, limit=limit)
    records = load_by_refs(db.session, index, [s.id for s in found])
    return [
        {"ref": s.id, "text": s.text, "html": s.highlighted}
        for s in found
        if s.id in records and records[s.id].is_public  # the index may lag the database
    ]


def park_names(refs: Iterable[str]) -> dict[str, str]:
    """Park ref → name, for the park facet."""
    wanted = list(dict.fromkeys(refs))
    if not wanted:
        return {}
    rows = db.session.execute(select(Park.ref, Park.name).where(Park.ref.in_(wanted)))
    return {str(ref): name for ref, name in rows}
