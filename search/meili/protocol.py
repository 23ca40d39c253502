"""Meilisearch's side of the port as pure functions: payloads in, results out.

Kept free of I/O so the HTTP-level tests can check each payload against the
documented API (https://www.meilisearch.com/docs/reference/api) directly.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from search.types import (
    Eq,
    Filter,
    Hit,
    In,
    IndexSettings,
    Query,
    Range,
    SearchResults,
    Sort,
    Suggestion,
    is_public,
)

# Meilisearch inserts highlight tags into raw text and does not escape it. We
# ask for control characters as tags, escape the text, then put <mark> in.
PRE, POST = "\x02", "\x03"
CROP_MARKER = "…"
MAX_QUERY_CHARS = 200
# Meilisearch's nearest behaviour to the embedded engine's coverage cut-off: its
# `frequency` strategy drops the commonest words first when too little matches,
# and a ranking-score threshold leaves out documents that hold too little of the
# query (its score is dominated by the share of query words matched).
MATCHING_STRATEGY = "frequency"
SCORE_THRESHOLD = 0.5
_FIELD = re.compile(r"^[A-Za-z0-9_.]+$")


def settings_payload(settings: IndexSettings) -> dict[str, Any]:
    """The body of ``PATCH /indexes/{uid}/settings`` for ``settings``."""
    return {
        # Meilisearch ranks a match by the position of its attribute in this list.
        "searchableAttributes": list(settings.searchable_names),
        "filterableAttributes": list(settings.filterable),
        "sortableAttributes": list(settings.sortable),
        "displayedAttributes": ["*"],
        "synonyms": synonyms_payload(settings.synonyms),
        "typoTolerance": {
            "enabled": True,
            # One typo from five letters on, as the embedded engine; never two.
            "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 255},
        },
        # Without it Meilisearch may detect Japanese for short kanji-only text.
        "localizedAttributes": [{"attributePatterns": ["*"], "locales": ["cmn"]}],
        "pagination": {"maxTotalHits": 10_000},
        "faceting": {"maxValuesPerFacet": 500},
    }


def synonyms_payload(groups: Sequence[Sequence[str]]) -> dict[str, list[str]]:
    """Mutual synonyms: Meilisearch's synonyms are one-way, so each term maps to
    every other term of its group(s)."""
    out: dict[str, list[str]] = {}
    for group in groups:
        terms = [t.strip() for t in group if t.strip()]
        for t in terms:
            others = out.setdefault(t, [])
            others.extend(o for o in terms if o != t and o not in others)
    return out


def quote(value: str | int | float | bool) -> str:
    """A filter operand: numbers bare, booleans ``true``/``false``, strings in
    double quotes with ``\\`` and ``"`` escaped (user text cannot break out)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("filter numbers must be finite")
        return repr(value)
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def filter_payload(filters: Sequence[Filter], settings: IndexSettings) -> list[str]:
    """Filters as Meilisearch filter expressions (the list form is ANDed).

    Raises:
        ValueError: a filter names a field that is not filterable.
    """
    out: list[str] = []
    for f in filters:
        if f.field not in settings.filterable or not _FIELD.match(f.field):
            raise ValueError(f"{f.field!r} is not a filterable field")
        if isinstance(f, Eq):
            out.append(f"{f.field} = {quote(f.value)}")
        elif isinstance(f, In):
            if not f.values:
                out.append(f"{f.field} IN []")
            else:
                out.append(f"{f.field} IN [{', '.join(quote(v) for v in f.values)}]")
        elif isinstance(f, Range):
            if f.gte is not None and f.lte is not None:
                out.append(f"{f.field} {quote(f.gte)} TO {quote(f.lte)}")
            elif f.gte is not None:
                out.append(f"{f.field} >= {quote(f.gte)}")
            elif f.lte is not None:
                out.append(f"{f.field} <= {quote(f.lte)}")
            else:
                out.append(f"{f.field} EXISTS")
    return out


def search_payload(
    settings: IndexSettings,
    filters: Sequence[Filter],
    facets: Sequence[str],
    sort: Sort | None,
    page: int,
    per_page: int,
    crop_length: int,
    relaxed: bool = True,
) -> dict[str, Any]:
    """The body of ``POST /indexes/{uid}/search`` (without ``q``); ``relaxed``
    (words typed): the matching strategy and score threshold above.

    Raises:
        ValueError: a filter, facet or sort field is not declared in ``settings``.
    """
    for name in facets:
        if name not in settings.filterable:
            raise ValueError(f"{name!r} is not a filterable field")
    if sort is not None and sort.field not in settings.sortable:
        raise ValueError(f"{sort.field!r} is not a sortable field")
    payload: dict[str, Any] = {
        "page": page,
        "hitsPerPage": per_page,
        "matchingStrategy": MATCHING_STRATEGY if relaxed else "all",
        "showRankingScore": True,
        "attributesToHighlight": list(settings.searchable_names),
        "highlightPreTag": PRE,
        "highlightPostTag": POST,
        "attributesToCrop": [f.name for f in settings.searchable if f.crop],
        # cropLength counts words; a Chinese word is about two characters.
        "cropLength": max(crop_length // 2, 5),
        "cropMarker": CROP_MARKER,
    }
    if relaxed:
        payload["rankingScoreThreshold"] = SCORE_THRESHOLD
    flt = filter_payload(filters, settings)
    if flt:
        payload["filter"] = flt
    if facets:
        payload["facets"] = list(facets)
    if sort is not None:
        payload["sort"] = [f"{sort.field}:{sort.direction}"]
    return payload


def clean_query(query: str | Query) -> str:
    """The query as sent: an understood query's text (fillers, places and budgets
    out, corrections in, English and problem phrasings as their concepts' names),
    bounded in length (a 10k-character paste is cut)."""
    return str(query)[:MAX_QUERY_CHARS]


def phrase(term: str) -> str:
    """``term`` as a Meilisearch phrase (its words adjacent, in order)."""
    return '"' + term.replace('"', " ") + '"'


def marked(value: Any) -> str:
    """A ``_formatted`` value HTML-escaped, with our tags turned into ``<mark>``."""
    if isinstance(value, list | tuple):
        return "、".join(marked(v) for v in value)
    text = "" if value is None else str(value)
    return html.escape(text).replace(PRE, "<mark>").replace(POST, "</mark>")


def results_from(
    response: Mapping[str, Any], query: str, settings: IndexSettings, page: int, per_page: int
) -> SearchResults:
    """Map a search response to the port's :class:`SearchResults`."""
    hits = []
    for raw in response.get("hits", []):
        formatted = raw.get("_formatted") or {}
        document = {k: v for k, v in raw.items() if not k.startswith("_")}
        if not is_public(document):
            continue  # never shown, even if the index holds a stale copy
        highlights = {
            name: marked(formatted.get(name, raw.get(name)))
            for name in settings.searchable_names
            if raw.get(name) not in (None, "", [])
        }
        hits.append(
            Hit(
                id=str(raw.get("id")),
                score=round(float(raw.get("_rankingScore", 0.0)), 6),
                highlights=highlights,
                document=document,
            )
        )
    total = int(response.get("totalHits", response.get("estimatedTotalHits", len(hits))))
    facets = {
        name: {str(v): int(c) for v, c in counts.items()}
        for name, counts in (response.get("facetDistribution") or {}).items()
    }
    return SearchResults(query, total, page, per_page, hits, facets)


def suggestions_from(results: SearchResults, title: str) -> list[Suggestion]:
    """Suggestions from a results page: id, plain title, highlighted title."""
    return [
        Suggestion(h.id, str(h.document.get(title, "")), h.highlights.get(title, ""))
        for h in results.hits
    ]
