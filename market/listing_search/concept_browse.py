"""The admins' view of the concept map: areas, a filter over every term, related concepts.

The map's files are read-only here; what admins added comes from ``concept_entries``
and is shown beside the file's terms, so the page can tell which is which.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _

from market.core import reference
from market.core.i18n import category_label, locale_code
from market.listing_search import concept_entries
from market.models import ConceptEntry
from search.concepts import Concept, ConceptMap, term_key

GENERAL = "general"  # concepts filed under no category


@dataclass
class ConceptView:
    """One concept as the files define it, with the entries admins added to it."""

    concept: Concept
    added: list[ConceptEntry] = field(default_factory=list)

    @property
    def added_synonyms(self) -> list[ConceptEntry]:
        return [e for e in self.added if e.kind == "synonym"]

    @property
    def added_problems(self) -> list[ConceptEntry]:
        return [e for e in self.added if e.kind == "problem"]


@dataclass
class Area:
    code: str
    label: str
    concepts: list[ConceptView]


def area_of(concept: Concept) -> str:
    """The top level of the concept's first category (its area), or ``general``."""
    for code in concept.categories:
        top = code.split(".", 1)[0]
        if top in reference.categories():
            return top
    return GENERAL


def area_choices() -> list[tuple[str, str]]:
    """(code, label) of every area in the taxonomy's order, ``general`` last."""
    tops = [(e.code, e.label(locale_code())) for e in reference.top_categories()]
    return [*tops, (GENERAL, _("通用"))]


def _haystack(concept: Concept, added: Iterable[ConceptEntry]) -> list[str]:
    words = [concept.id, concept.name, *concept.synonyms, *concept.english, *concept.problems]
    for code in concept.categories:
        entry = reference.categories().get(code)
        words += [code, *((entry.name, entry.en) if entry else ())]
    words += [e.term for e in added]
    return [term_key(w) for w in words]


def browse(files: ConceptMap, query: str = "", area: str = "") -> list[Area]:
    """The concepts of ``files`` grouped by area, each with its added entries.

    ``query`` keeps the concepts where it occurs in the id, name, a synonym, an
    English term, a problem phrase, a category (code or name) or an added entry;
    ``area`` keeps one area.
    """
    added: dict[str, list[ConceptEntry]] = {}
    for entry in concept_entries.entries():
        added.setdefault(entry.concept, []).append(entry)
    needle = term_key(query)
    labels = dict(area_choices())
    groups: dict[str, list[ConceptView]] = {code: [] for code in labels}
    for concept in files.concepts.values():
        code = area_of(concept)
        if area and code != area:
            continue
        mine = added.get(concept.id, [])
        if needle and not any(needle in word for word in _haystack(concept, mine)):
            continue
        groups[code].append(ConceptView(concept, mine))
    return [Area(code, labels[code], views) for code, views in groups.items() if views]


def view(files: ConceptMap, concept_id: str) -> ConceptView | None:
    """One concept of the files with its added entries, None when the files lack it."""
    concept = files.concepts.get(concept_id)
    if concept is None:
        return None
    return ConceptView(concept, concept_entries.entries([concept_id]))


def names(files: ConceptMap, ids: Iterable[str]) -> list[tuple[str, str]]:
    """(id, name) of the given concepts that exist, for links."""
    return [(i, files.concepts[i].name) for i in ids if i in files.concepts]


def related(cmap: ConceptMap, term: str, limit: int = 6) -> list[Concept]:
    """Concepts with a name, synonym, English term or problem phrase that shares the most
    of its rarer characters with ``term`` (a query that found nothing), to offer as the
    concept to add it to: 「货老是送错」 shares 货 and 错 with 发错货 (仓储管理), while the
    老 and 是 that many phrases hold count for little.
    """
    wanted = set(term_key(term))
    words = [
        (concept, set(term_key(word)))
        for concept in cmap.concepts.values()
        for word in (*concept.terms, *concept.english, *concept.problems)
    ]
    spread = Counter(ch for _concept, chars in words for ch in chars)

    def weight(ch: str) -> float:
        return math.log(1 + len(words) / spread[ch])

    best: dict[str, tuple[float, Concept]] = {}
    for concept, chars in words:
        shared = wanted & chars
        if len(shared) < 2:
            continue  # one character in common is chance
        score = sum(map(weight, shared)) / sum(map(weight, chars))
        if score > best.get(concept.id, (0.0, concept))[0]:
            best[concept.id] = (score, concept)
    ranked = sorted(best.values(), key=lambda sc: (-sc[0], sc[1].name))
    return [concept for _score, concept in ranked[:limit]]


def category_names(concept: Concept) -> list[str]:
    return [category_label(code) for code in concept.categories]
