"""The search port: what every backend does, in plain data."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar

from search.types import (
    Document,
    Filter,
    IndexSettings,
    Query,
    QueryTerm,
    SearchResults,
    Sort,
    Suggestion,
    WriteOutcome,
)


class SearchBackend(ABC):
    """A search engine holding named indexes (``offerings``, ``needs`` …).

    Writes return a :class:`WriteOutcome` (a rejected write is *returned*, not
    raised); an outage of an external engine raises
    :class:`search.errors.IndexUnavailable` so that the caller can queue and retry.
    Reads never fail on what a person typed: any query string is valid.
    """

    name: ClassVar[str]

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.options = dict(options)

    @abstractmethod
    def configure(self, index: str, settings: IndexSettings) -> WriteOutcome:
        """Create ``index`` if needed and apply ``settings`` to it."""

    @abstractmethod
    def add_bulk(self, index: str, documents: Iterable[Document]) -> WriteOutcome:
        """Add or replace documents by id. Documents whose ``status`` is not public
        are removed instead (see :data:`search.types.PUBLIC_STATUSES`).

        Raises:
            ValueError: a document has no ``id``.
            IndexNotConfigured: the index was never configured (embedded).
            IndexUnavailable: the engine cannot be reached (external).
        """

    def add(self, index: str, document: Document) -> WriteOutcome:
        """Add or replace one document (see :meth:`add_bulk`)."""
        return self.add_bulk(index, [document])

    @abstractmethod
    def delete(self, index: str, ids: Iterable[str | int]) -> WriteOutcome:
        """Remove documents by id; unknown ids are not an error.

        Raises:
            IndexUnavailable: the engine cannot be reached (external).
        """

    @abstractmethod
    def reset_index(self, index: str) -> WriteOutcome:
        """Remove every document of ``index`` (settings stay).

        Raises:
            IndexUnavailable: the engine cannot be reached (external).
        """

    @abstractmethod
    def search(
        self,
        index: str,
        query: str | Query = "",
        *,
        filters: Sequence[Filter] = (),
        facets: Sequence[str] = (),
        sort: Sort | None = None,
        page: int = 1,
        per_page: int = 20,
        crop_length: int = 60,
    ) -> SearchResults:
        """One page of matches for ``query`` with ``filters`` applied, counts for the
        ``facets`` fields and ``sort`` (default: relevance, ties by id).

        ``query`` is text or an understood :class:`Query`
        (search/understand.py: concepts expanded, fillers, places and budgets out).
        A document matches when it covers enough of the query's informative terms
        (not necessarily all); the last Latin word is a prefix; an empty query
        browses.

        Returns:
            :class:`SearchResults`; ``page`` and ``per_page`` are clamped to valid
            values rather than rejected.

        Raises:
            ValueError: a filter, facet or sort names a field the settings do not
                declare filterable/sortable (a programming error, not user input).
            IndexNotConfigured: the index was never configured.
            IndexUnavailable: the engine cannot be reached (external).
        """

    @abstractmethod
    def suggest(
        self, index: str, prefix: str, *, limit: int = 8, filters: Sequence[Filter] = ()
    ) -> list[Suggestion]:
        """As-you-type suggestions: the best ``limit`` documents for ``prefix``
        (its last word completed), each with its highlighted title.

        Raises:
            IndexUnavailable: the engine cannot be reached (external).
        """

    def frequencies(self, index: str, terms: Sequence[str]) -> list[int]:
        """In how many documents of ``index`` each term occurs (all its words or
        character pairs): the vocabulary query understanding corrects against.

        Raises:
            IndexUnavailable: the engine cannot be reached (external).
        """
        return [
            self.search(index, Query(t, (QueryTerm(t, ((t, 1.0),)),)), per_page=1).total
            for t in terms
        ]

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release files and connections."""
