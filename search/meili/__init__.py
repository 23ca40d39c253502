"""The Meilisearch adapter (official ``meilisearch`` client, server v1.12).

Options: ``url`` (required), ``api_key``, ``task_timeout`` (seconds to wait for
a write task, default 10), ``batch_size`` (documents per request, default
1000), ``request_timeout`` (seconds per HTTP request, default 5).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

import meilisearch
from meilisearch.errors import (
    MeilisearchApiError,
    MeilisearchCommunicationError,
    MeilisearchTimeoutError,
)

from search.backend import SearchBackend
from search.errors import IndexNotConfigured, IndexUnavailable
from search.meili import protocol
from search.types import (
    Document,
    Filter,
    IndexSettings,
    Query,
    SearchResults,
    Sort,
    Suggestion,
    WriteOutcome,
    doc_id,
    is_public,
)

T = TypeVar("T")
PRIMARY_KEY = "id"


class MeilisearchBackend(SearchBackend):
    """Indexes on a Meilisearch server (see the module docstring for options)."""

    name: ClassVar[str] = "meilisearch"

    def __init__(self, options: Mapping[str, Any]) -> None:
        super().__init__(options)
        if not options.get("url"):
            raise ValueError("the meilisearch backend needs options['url']")
        self.client = meilisearch.Client(
            str(options["url"]),
            options.get("api_key") or None,
            timeout=int(options.get("request_timeout", 5)),
        )
        self.task_timeout_ms = int(float(options.get("task_timeout", 10)) * 1000)
        self.batch_size = int(options.get("batch_size", 1000))
        self._settings: dict[str, IndexSettings] = {}

    # -- plumbing -------------------------------------------------------------------
    @staticmethod
    def _call(fn: Callable[[], T]) -> T:
        """Run one client call, turning an outage into :class:`IndexUnavailable`.

        A 4xx answer is our mistake (bad payload) and propagates as the client's
        MeilisearchApiError; a 5xx or no answer at all is an outage, which the
        app queues and retries, so a user's save is never lost.
        """
        try:
            return fn()
        except MeilisearchCommunicationError as exc:
            raise IndexUnavailable(str(exc)) from exc
        except MeilisearchApiError as exc:
            if exc.status_code >= 500:
                raise IndexUnavailable(str(exc)) from exc
            raise

    def _wait(self, task_uids: Sequence[int]) -> WriteOutcome:
        """Poll the tasks until they finish; a failed task is returned, not raised.

        Raises:
            IndexUnavailable: the server went away while we were polling.
        """
        uids = tuple(task_uids)
        for uid in uids:
            try:
                task = self._call(
                    lambda u=uid: self.client.wait_for_task(  # type: ignore[misc]
                        u, timeout_in_ms=self.task_timeout_ms, interval_in_ms=50
                    )
                )
            except MeilisearchTimeoutError:
                return WriteOutcome("timed_out", f"task {uid} still pending", uids)
            if task.status != "succeeded":
                error = task.error or {}
                message = error.get("message") or f"task {uid} {task.status}"
                code = error.get("code")
                return WriteOutcome("failed", f"{code}: {message}" if code else message, uids)
        return WriteOutcome("succeeded", None, uids)

    def _uid(self, index: str) -> str:
        return str(self.options.get("index_prefix", "")) + index

    def _index(self, index: str) -> meilisearch.index.Index:
        return self.client.index(self._uid(index))

    # -- writes ---------------------------------------------------------------------
    def configure(self, index: str, settings: IndexSettings) -> WriteOutcome:
        """Create the index with primary key ``id`` (if missing) and apply settings."""
        uid = self._uid(index)
        created = self._call(lambda: self.client.create_index(uid, {"primaryKey": PRIMARY_KEY}))
        # "index_already_exists" makes the creation task fail: that is fine here.
        self._wait([created.task_uid])
        task = self._call(
            lambda: self._index(index).update_settings(protocol.settings_payload(settings))
        )
        outcome = self._wait([task.task_uid])
        if outcome.ok:
            self._settings[index] = settings
        return outcome

    def add_bulk(self, index: str, documents: Iterable[Document]) -> WriteOutcome:
        """Add/replace in batches of ``batch_size``; non-public documents are deleted."""
        uids: list[int] = []
        for batch in _batches(documents, self.batch_size):
            upserts = [{**dict(d), "id": doc_id(d)} for d in batch if is_public(d)]
            removed = [doc_id(d) for d in batch if not is_public(d)]
            if upserts:
                task = self._call(
                    lambda b=upserts: self._index(index).add_documents(b, primary_key=PRIMARY_KEY)  # type: ignore[misc]
                )
                uids.append(task.task_uid)
            if removed:
                uids.append(self._delete_batch(index, removed))
        return self._wait(uids)

    def delete(self, index: str, ids: Iterable[str | int]) -> WriteOutcome:
        uids = [
            self._delete_batch(index, b) for b in _batches([str(i) for i in ids], self.batch_size)
        ]
        return self._wait(uids)

    def _delete_batch(self, index: str, ids: list[str]) -> int:
        """``POST /indexes/{uid}/documents/delete-batch``; returns the task uid."""
        with warnings.catch_warnings():
            # The client deprecates ids in favour of a filter, which would need
            # "id" filterable; the delete-batch route stays documented in v1.x.
            warnings.simplefilter("ignore", DeprecationWarning)
            task = self._call(lambda: self._index(index).delete_documents(ids))
        return int(task.task_uid)

    def reset_index(self, index: str) -> WriteOutcome:
        task = self._call(lambda: self._index(index).delete_all_documents())
        return self._wait([task.task_uid])

    # -- reads ----------------------------------------------------------------------
    def _settings_of(self, index: str) -> IndexSettings:
        settings = self._settings.get(index)
        if settings is None:
            raise IndexNotConfigured(index)
        return settings

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
        settings = self._settings_of(index)
        per_page = min(max(int(per_page), 1), 1000)
        page = min(max(int(page), 1), max(1, 10_000 // per_page))
        q = protocol.clean_query(query)
        payload = protocol.search_payload(
            settings, filters, facets, sort, page, per_page, crop_length, relaxed=bool(q.strip())
        )
        try:
            response = self._call(lambda: self._index(index).search(q, payload))
        except MeilisearchApiError as exc:
            if exc.code == "index_not_found":
                return SearchResults(q, 0, page, per_page, [], {f: {} for f in facets})
            raise
        return protocol.results_from(response, q, settings, page, per_page)

    def frequencies(self, index: str, terms: Sequence[str]) -> list[int]:
        """One multi-search of phrase queries (``limit`` 0: counts only)."""
        if not terms:
            return []
        queries = [
            {"indexUid": self._uid(index), "q": protocol.phrase(t), "limit": 0} for t in terms
        ]
        out: list[int] = []
        for start in range(0, len(queries), 200):
            batch = queries[start : start + 200]
            try:
                response = self._call(lambda b=batch: self.client.multi_search(b))  # type: ignore[misc]
            except MeilisearchApiError as exc:
                if exc.code == "index_not_found":
                    return [0] * len(terms)
                raise
            out += [int(r.get("estimatedTotalHits", 0)) for r in response.get("results", [])]
        return out

    def suggest(
        self, index: str, prefix: str, *, limit: int = 8, filters: Sequence[Filter] = ()
    ) -> list[Suggestion]:
        if not prefix.strip():
            return []
        settings = self._settings_of(index)
        results = self.search(index, prefix, filters=filters, per_page=limit)
        return protocol.suggestions_from(results, settings.searchable[0].name)


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch
