"""The port's plain data: settings, filters, sort, results.

Documents are plain mappings with an ``"id"`` (str or int) and fields. A
document whose ``"status"`` is present and not in :data:`PUBLIC_STATUSES` is never
searchable: every backend treats writing it as deleting it, so drafts, pending,
archived and closed records cannot leak into results whatever a caller sends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Document = Mapping[str, Any]
PUBLIC_STATUSES = frozenset({"published", "open"})
MAX_SEARCHABLE_FIELDS = 8


def is_public(doc: Document) -> bool:
    """Whether ``doc`` may appear in results (no status, or a public one)."""
    status = doc.get("status")
    return status is None or status in PUBLIC_STATUSES


def doc_id(doc: Document) -> str:
    """The document's id as a string.

    Raises:
        ValueError: the document has no ``id`` or an empty one.
    """
    value = doc.get("id")
    if value is None or value == "":
        raise ValueError("search document without an 'id'")
    return str(value)


@dataclass(frozen=True)
class SearchableField:
    """A full-text field and its weight (higher ranks a hit there higher)."""

    name: str
    weight: float = 1.0
    crop: bool = False  # long text: snippets are cropped around the match


@dataclass(frozen=True)
class IndexSettings:
    """What an index searches, filters, sorts and treats as synonyms.

    ``searchable`` is in weight order (highest first); the first field is the one
    suggestions show. ``filterable`` fields hold strings, lists of strings or
    numbers; ``sortable`` fields hold numbers (timestamps, prices). ``synonyms`` are
    groups of equivalent terms, applied both ways.
    """

    searchable: tuple[SearchableField, ...]
    filterable: tuple[str, ...] = ()
    sortable: tuple[str, ...] = ()
    synonyms: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        if not self.searchable:
            raise ValueError("an index needs at least one searchable field")
        if len(self.searchable) > MAX_SEARCHABLE_FIELDS:
            raise ValueError(f"at most {MAX_SEARCHABLE_FIELDS} searchable fields")
        weights = [f.weight for f in self.searchable]
        if weights != sorted(weights, reverse=True):
            raise ValueError("searchable fields must be listed in weight order")

    @property
    def searchable_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.searchable)

    def to_json(self) -> dict[str, Any]:
        """A JSON-serialisable form (stored next to an index)."""
        return {
            "searchable": [[f.name, f.weight, f.crop] for f in self.searchable],
            "filterable": list(self.filterable),
            "sortable": list(self.sortable),
            "synonyms": [list(g) for g in self.synonyms],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IndexSettings:
        """The inverse of :meth:`to_json`."""
        return cls(
            searchable=tuple(
                SearchableField(n, float(w), bool(c)) for n, w, c in data["searchable"]
            ),
            filterable=tuple(data.get("filterable", ())),
            sortable=tuple(data.get("sortable", ())),
            synonyms=tuple(tuple(g) for g in data.get("synonyms", ())),
        )


@dataclass(frozen=True)
class QueryTerm:
    """One unit of a query's meaning (see search/understand.py).

    ``alternatives`` are normalised spellings with a boost (1.0 for what was typed;
    synonyms, English terms and narrower concepts lower): a document matching any
    of them covers the term, once. ``weight`` scales the term's informativeness
    (a lone character counts half). ``adjacent``: typed right after the previous
    term (matched side by side, it ranks higher). ``kind``: ``cjk``, ``latin``,
    ``concept``, ``english`` or ``problem``. ``engine_text``: what an engine that
    takes text searches for it (a concept's name for an English word or a problem
    phrasing; empty = ``text``).

    ``related`` are spellings of concepts the term points to only in part (a word of
    a problem phrasing: 病毒 in 中病毒停产), each with its share: a document holding
    one covers that share of the term and ranks by it. ``categories`` are taxonomy
    codes of the concepts the term points to, each with its share: an engine whose
    documents have a ``categories`` field counts a document filed there as covering
    that share of the term, when it does not use the person's words (a problem
    description rarely uses the vendor's).
    """

    text: str
    alternatives: tuple[tuple[str, float], ...]
    weight: float = 1.0
    adjacent: bool = False
    kind: str = "cjk"
    engine_text: str = ""
    related: tuple[tuple[str, float], ...] = ()
    categories: tuple[tuple[str, float], ...] = ()


@dataclass(frozen=True)
class Query:
    """An understood query: ``text`` for engines that take text (fillers, places
    and budgets out, corrections in) and its ``terms``."""

    text: str
    terms: tuple[QueryTerm, ...] = ()

    def __str__(self) -> str:
        return self.text


Scalar = str | int | float | bool


@dataclass(frozen=True)
class Eq:
    """``field`` equals ``value`` (for a list field: any element equals it)."""

    field: str
    value: Scalar


@dataclass(frozen=True)
class In:
    """``field`` equals one of ``values``."""

    field: str
    values: tuple[Scalar, ...]


@dataclass(frozen=True)
class Range:
    """``gte <= field <= lte`` on a number; a missing bound is open; no value never matches."""

    field: str
    gte: float | None = None
    lte: float | None = None


Filter = Eq | In | Range


@dataclass(frozen=True)
class Sort:
    """Sort by a sortable field; documents without a value come last either way."""

    field: str
    direction: Literal["asc", "desc"] = "asc"


@dataclass(frozen=True)
class Hit:
    """One result: ``score`` in 0–1 (1 = best), ``highlights`` per searchable field as
    HTML-escaped text with ``<mark>`` around matches (cropped fields cut to a window
    around the first match, with ``…``), and the stored ``document``."""

    id: str
    score: float
    highlights: dict[str, str]
    document: dict[str, Any]


@dataclass(frozen=True)
class SearchResults:
    """One page of results: ``total`` matches, the page's ``hits`` and, for each
    requested facet field, value → count over all matches (filters applied)."""

    query: str
    total: int
    page: int
    per_page: int
    hits: list[Hit]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class Suggestion:
    """An as-you-type suggestion: the document's id, its title and the title
    HTML-escaped with ``<mark>`` around what was typed."""

    id: str
    text: str
    highlighted: str


@dataclass(frozen=True)
class WriteOutcome:
    """What happened to a write. ``status`` is ``"succeeded"``, ``"failed"`` (the
    backend rejected it: ``error`` says why; retrying will not help) or
    ``"timed_out"`` (still queued on the server: confirm later or retry)."""

    status: Literal["succeeded", "failed", "timed_out"]
    error: str | None = None
    task_uids: tuple[int, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


SUCCEEDED = WriteOutcome("succeeded")


def facet_fields_valid(settings: IndexSettings, names: Sequence[str]) -> None:
    """Check that facets and filters name filterable fields.

    Raises:
        ValueError: a name is not in ``settings.filterable``.
    """
    for name in names:
        if name not in settings.filterable:
            raise ValueError(f"{name!r} is not a filterable field")
