"""The domain concept map: one loader for the embedded engine, Meilisearch and the matcher.

The map lives in ``seed_data/concepts/*.json`` (one file per area, see the README
there). A concept has a canonical Chinese name, synonyms that mean the same thing
(abbreviations, full forms, Latin acronyms), English terms of the field, broader
concepts, the taxonomy categories it belongs to, and the everyday problem
phrasings that point to it (发错货 → 仓储管理). Admins add synonyms and problem
phrases at run time; those arrive as :class:`Addition` values and are merged with
:meth:`ConceptMap.with_additions`, so nothing here reads a database.

Everything here is plain data: no Flask, no engine.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

AdditionKind = Literal["synonym", "problem"]
ADDITION_KINDS: tuple[AdditionKind, ...] = ("synonym", "problem")

_LIST_FIELDS = ("synonyms", "english", "broader", "categories", "problems")
_KEYS = frozenset(("id", "name", *_LIST_FIELDS))


class ConceptMapError(ValueError):
    """The concept files are not a valid map (the message names the file and concept)."""


def term_key(term: str) -> str:
    """How two spellings of a term are compared: NFKC, lower case, no spaces.

    So ``OPC UA``, ``opc ua`` and ``ＯＰＣＵＡ`` are one term; hyphens stay, since
    ``opc-ua`` is listed as a spelling of its own where people write it.
    """
    return "".join(unicodedata.normalize("NFKC", term).lower().split())


@dataclass(frozen=True)
class Concept:
    """One capability, product or idea of the field."""

    id: str
    name: str
    synonyms: tuple[str, ...] = ()
    english: tuple[str, ...] = ()
    broader: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def terms(self) -> tuple[str, ...]:
        """The name and its synonyms: the spellings that mean exactly this concept."""
        return (self.name, *self.synonyms)


@dataclass(frozen=True)
class Addition:
    """A synonym or problem phrase an admin added to a concept (stored by the app)."""

    concept: str
    kind: AdditionKind
    term: str


@dataclass(frozen=True)
class ConceptMap:
    """Concepts by id, with the version of the files they came from."""

    concepts: Mapping[str, Concept]
    version: str = ""
    _narrower: Mapping[str, tuple[str, ...]] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        narrower: dict[str, list[str]] = {}
        for concept in self.concepts.values():
            for parent in concept.broader:
                narrower.setdefault(parent, []).append(concept.id)
        object.__setattr__(self, "_narrower", {k: tuple(v) for k, v in narrower.items()})

    def __len__(self) -> int:
        return len(self.concepts)

    def narrower(self, concept_id: str) -> tuple[str, ...]:
        """Ids of the concepts whose ``broader`` names ``concept_id`` (one level)."""
        return self._narrower.get(concept_id, ())

    def synonym_groups(self) -> tuple[tuple[str, ...], ...]:
        """Each concept's name and synonyms as one group of equivalent terms.

        This is what both search adapters and the matcher's text model treat as
        synonyms (found both ways, one weight per concept). English terms and
        problem phrasings are not in it: they point to a concept from a query, one
        way, and are read through :meth:`concepts` by query understanding.
        """
        return tuple(c.terms for c in self.concepts.values() if len(c.terms) >= 2)

    @classmethod
    def from_groups(cls, groups: Iterable[Iterable[str]], version: str = "") -> ConceptMap:
        """A map of plain synonym groups (the first term names each concept): what an
        engine given only :attr:`search.types.IndexSettings.synonyms` knows."""
        concepts: dict[str, Concept] = {}
        for i, group in enumerate(groups):
            terms = [t.strip() for t in group if t.strip()]
            if terms:
                concepts[f"g{i}"] = Concept(f"g{i}", terms[0], tuple(terms[1:]))
        return cls(concepts, version)

    def by_category(self, code: str) -> tuple[Concept, ...]:
        """The concepts filed under a taxonomy code."""
        return tuple(c for c in self.concepts.values() if code in c.categories)

    def with_additions(self, additions: Iterable[Addition]) -> ConceptMap:
        """This map with admins' additions merged in (an unknown concept is skipped:
        its file entry was removed after the addition was made)."""
        grown = dict(self.concepts)
        for addition in additions:
            concept = grown.get(addition.concept)
            if concept is None:
                continue
            have = {term_key(t) for t in (*concept.terms, *concept.problems)}
            if term_key(addition.term) in have:
                continue
            if addition.kind == "synonym":
                grown[concept.id] = replace(concept, synonyms=(*concept.synonyms, addition.term))
            else:
                grown[concept.id] = replace(concept, problems=(*concept.problems, addition.term))
        return ConceptMap(grown, self.version)


def load_concepts(directory: Path) -> ConceptMap:
    """Every ``*.json`` file of ``directory`` as one validated map.

    Raises:
        OSError: a file cannot be read.
        ConceptMapError: a file is not valid JSON of the documented shape, an id
            repeats, a ``broader`` id is unknown or forms a cycle, or one term is a
            synonym of two concepts.
    """
    files = sorted(directory.glob("*.json"))
    if not files:
        raise ConceptMapError(f"{directory}: no concept files")
    concepts: dict[str, Concept] = {}
    versions: set[str] = set()
    for path in files:
        data = _read(path)
        versions.add(str(data.get("version", "")))
        for raw in data["concepts"]:
            concept = _concept(path, raw)
            if concept.id in concepts:
                raise ConceptMapError(f"{path.name}: concept {concept.id!r} is defined twice")
            concepts[concept.id] = concept
    _check_references(concepts)
    _check_unique_terms(concepts)
    return ConceptMap(concepts, ",".join(sorted(versions)))


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConceptMapError(f"{path.name}: not valid JSON ({exc})") from exc
    if not isinstance(data, dict) or not isinstance(data.get("concepts"), list):
        raise ConceptMapError(f"{path.name}: expected an object with a 'concepts' list")
    return data


def _concept(path: Path, raw: Any) -> Concept:
    if not isinstance(raw, dict):
        raise ConceptMapError(f"{path.name}: every concept is an object")
    where = f"{path.name}: concept {raw.get('id')!r}"
    unknown = set(raw) - _KEYS
    if unknown:
        raise ConceptMapError(f"{where}: unknown keys {sorted(unknown)}")
    if not isinstance(raw.get("id"), str) or not raw["id"]:
        raise ConceptMapError(f"{where}: 'id' must be a non-empty string")
    if not isinstance(raw.get("name"), str) or not raw["name"].strip():
        raise ConceptMapError(f"{where}: 'name' must be a non-empty string")
    lists: dict[str, tuple[str, ...]] = {}
    for key in _LIST_FIELDS:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise ConceptMapError(f"{where}: {key!r} must be a list of non-empty strings")
        lists[key] = tuple(v.strip() for v in value)
    return Concept(id=raw["id"], name=raw["name"].strip(), **lists)


def _check_references(concepts: Mapping[str, Concept]) -> None:
    for concept in concepts.values():
        for parent in concept.broader:
            if parent not in concepts:
                raise ConceptMapError(f"concept {concept.id!r}: unknown broader {parent!r}")
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(concept_id: str) -> None:
        state[concept_id] = 1
        for parent in concepts[concept_id].broader:
            if state.get(parent) == 1:
                raise ConceptMapError(f"concept {concept_id!r}: broader cycle through {parent!r}")
            if parent not in state:
                visit(parent)
        state[concept_id] = 2

    for concept_id in concepts:
        if concept_id not in state:
            visit(concept_id)


def _check_unique_terms(concepts: Mapping[str, Concept]) -> None:
    # A term in two groups would merge two concepts in every engine: refuse it.
    owner: dict[str, str] = {}
    for concept in concepts.values():
        for term in dict.fromkeys(term_key(t) for t in concept.terms):
            if term in owner and owner[term] != concept.id:
                raise ConceptMapError(
                    f"term {term!r} is a synonym of both {owner[term]!r} and {concept.id!r}"
                )
            owner[term] = concept.id
