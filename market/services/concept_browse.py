"""The admins' view of the concept map: areas, a filter over every term, related concepts.

The map's files are read-only here; what admins added comes from ``concept_entries``
and is shown beside the file's terms, so the page can tell which is which.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from flask_babel import gettext as _

from market import reference
from market.i18n import category_label, locale_code
from market.models import ConceptEntry
from market.services import concept_entries
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


def _bigrams(text: str) -> set[str]:
    key = term_key(text)
    return {key[i : i + 2] for i in range(len(key) - 1)} or ({key} if key else set())


def related(cmap: ConceptMap, term: str, limit: int = 6) -> list[Concept]:
    """Concepts whose terms share the most character pairs with ``term`` (a query that
    found nothing), to offer as the concept to add it to."""
    wanted = _bigrams(term)
    if not wanted:
        return []
    scored: list[tuple[float, str, Concept]] = []
    for concept in cmap.concepts.values():
        best = 0.0
        for word in (*concept.terms, *concept.english, *concept.problems):
            pairs = _bigrams(word)
            if pairs:
                best = max(best, len(wanted & pairs) / len(pairs))
        if best > 0:
            scored.append((-best, concept.name, concept))
    return [concept for _score, _name, concept in sorted(scored)[:limit]]


def category_names(concept: Concept) -> list[str]:
    return [category_label(code) for code in concept.categories]
