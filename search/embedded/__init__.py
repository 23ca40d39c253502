"""The embedded engine: needs nothing but Python packages; the default backend."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from search.backend import SearchBackend
from search.embedded.index import EmbeddedIndex
from search.embedded.store import Store
from search.types import (
    SUCCEEDED,
    Document,
    Filter,
    IndexSettings,
    Query,
    SearchResults,
    Sort,
    Suggestion,
    WriteOutcome,
)

_INDEX_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class EmbeddedBackend(SearchBackend):
    """Indexes in a directory: ``options["path"]`` (the app passes
    ``<instance>/search``). Safe to use from several processes at once: each write
    is visible at once in the writing process and at the next query in others."""

    name: ClassVar[str] = "embedded"

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        if not options.get("path"):
            raise ValueError("the embedded search backend needs options['path']")
        self.path = Path(options["path"])
        self._indexes: dict[str, EmbeddedIndex] = {}
        self._lock = threading.Lock()

    def _index(self, name: str) -> EmbeddedIndex:
        if not _INDEX_NAME.match(name):
            raise ValueError(f"invalid index name {name!r}")
        with self._lock:
            if name not in self._indexes:
                self._indexes[name] = EmbeddedIndex(Store(self.path / name))
            return self._indexes[name]

    def configure(self, index: str, settings: IndexSettings) -> WriteOutcome:
        self._index(index).configure(settings)
        return SUCCEEDED

    def add_bulk(self, index: str, documents: Iterable[Document]) -> WriteOutcome:
        self._index(index).write(documents)
        return SUCCEEDED

    def delete(self, index: str, ids: Iterable[str | int]) -> WriteOutcome:
        self._index(index).delete(str(i) for i in ids)
        return SUCCEEDED

    def reset_index(self, index: str) -> WriteOutcome:
        self._index(index).reset()
        return SUCCEEDED

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
        return self._index(index).search(query, filters, facets, sort, page, per_page, crop_length)

    def suggest(
        self, index: str, prefix: str, *, limit: int = 8, filters: Sequence[Filter] = ()
    ) -> list[Suggestion]:
        return self._index(index).suggest(prefix, limit, filters)

    def frequencies(self, index: str, terms: Sequence[str]) -> list[int]:
        return self._index(index).frequencies(terms)

    def close(self) -> None:
        with self._lock:
            for idx in self._indexes.values():
                idx.store.close()
            self._indexes.clear()
