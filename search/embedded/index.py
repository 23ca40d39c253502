"""One embedded index: a snapshot of segments plus the delta of later changes.

Small writes go to the change log and are applied at once (this process) or at
the next query (other processes). When the delta passes :data:`DELTA_LIMIT`
documents, the writer folds it into a new segment (compaction). Bulk loads of
:data:`BULK_DIRECT` documents or more skip the log and write segments directly.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from search.embedded.execute import SegmentLexicon, View, execute
from search.embedded.highlight import highlight, mark_pattern
from search.embedded.plan import Planner
from search.embedded.segment import MAX_DOCS, Segment, build_segment, field_text
from search.embedded.store import Manifest, Store, decode, encode
from search.errors import IndexNotConfigured, SearchError
from search.text import Segmenter, keys_of, normalize
from search.types import (
    Document,
    Filter,
    Hit,
    IndexSettings,
    Query,
    SearchResults,
    Sort,
    Suggestion,
    doc_id,
    facet_fields_valid,
    is_public,
)

DELTA_LIMIT = 1000  # documents in the delta before it is folded into a segment
BULK_DIRECT = 5000  # a bulk write this large builds segments directly
SMALL_SEGMENTS = 8  # more small segments than this are merged into one
BUILD_THREADS = 2
MAX_WINDOW = 10_000  # page * per_page is capped here, as Meilisearch's maxTotalHits
Mask = npt.NDArray[np.bool_]


@lru_cache(maxsize=8)
def _segmenter(words: tuple[str, ...]) -> Segmenter:
    return Segmenter(words)


def _words(settings: IndexSettings) -> tuple[str, ...]:
    return tuple(sorted({t for g in settings.synonyms for t in g}))


@dataclass
class _State:
    manifest: Manifest
    settings: IndexSettings | None
    base: list[tuple[str, Segment, Mask | None]]
    seq: int
    delta: dict[str, dict[str, Any] | None] = field(default_factory=dict)
    views: list[View] = field(default_factory=list)
    lexicon: SegmentLexicon = field(default_factory=lambda: SegmentLexicon([]))


class EmbeddedIndex:
    """A named index in a directory (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._lock = threading.RLock()
        self._state: _State | None = None
        self._stamp: tuple[int, int] | None = None
        self._segments: dict[str, Segment] = {}

    # -- reading the shared state ----------------------------------------------
    def sync(self) -> _State:
        """Bring this process's view up to date with the files; returns it.

        Raises:
            SearchError: the snapshot kept changing under us (five attempts).
        """
        with self._lock:
            for _ in range(5):
                stamp = self.store.manifest_stamp()
                state = self._state
                if state is None or stamp != self._stamp:
                    try:
                        state = self._load(self.store.read_manifest())
                    except FileNotFoundError:
                        continue  # a newer snapshot removed what we were loading
                rows = self.store.changes_after(state.seq)
                if self.store.manifest_stamp() != stamp:
                    continue  # a snapshot was committed while we read the log
                if rows:
                    delta = dict(state.delta)
                    for _, ident, body in rows:
                        delta[ident] = decode(body) if body is not None else None
                    state = _State(state.manifest, state.settings, state.base, rows[-1][0], delta)
                    self._derive(state)
                elif state is not self._state:
                    self._derive(state)
                self._state, self._stamp = state, stamp
                return state
            raise SearchError("the index snapshot kept changing; try again")

    def _load(self, manifest: Manifest) -> _State:
        base: list[tuple[str, Segment, Mask | None]] = []
        cache: dict[str, Segment] = {}
        for entry in manifest.segments:
            name = entry["name"]
            seg = self._segments.get(name) or Segment.load(self.store.path / name)
            cache[name] = seg
            alive = self.store.load_alive(entry["alive"]) if entry.get("alive") else None
            base.append((name, seg, alive))
        self._segments = cache
        return _State(manifest, manifest.index_settings, base, manifest.seq)

    def _derive(self, state: _State) -> None:
        """Views: base segments minus what the delta replaced, plus the delta."""
        changed = list(state.delta)
        views = [View(seg, _kill(seg, alive, changed)) for _, seg, alive in state.base]
        live = [d for d in state.delta.values() if d is not None]
        if live and state.settings is not None:
            views.append(View(build_segment(live, state.settings, self._segmenter(state))))
        state.views = [v for v in views if v.segment.n and v.live_count]
        state.lexicon = SegmentLexicon(state.views)

    @staticmethod
    def _segmenter(state: _State) -> Segmenter:
        return _segmenter(_words(state.settings)) if state.settings else _segmenter(())

    def settings(self) -> IndexSettings | None:
        """The index's settings, or ``None`` before :meth:`configure`."""
        return self.sync().settings

    # -- writing ----------------------------------------------------------------
    def configure(self, settings: IndexSettings) -> None:
        """Store ``settings``; rebuilds the segments when the fields changed."""
        with self._lock, self.store.snapshot_lock():
            state = self.sync()
            old = state.settings
            same_fields = old is not None and (
                old.searchable,
                old.filterable,
                old.sortable,
            ) == (settings.searchable, settings.filterable, settings.sortable)
            if same_fields:
                # Synonyms apply at query time; the words that tell straddling
                # bigrams apart come from them too, but a segment built with
                # yesterday's words only ranks a few straddles differently, so new
                # synonyms never cost a rebuild (new segments use the new words).
                if old == settings:
                    return
                # The log is kept (folded only up to where the manifest already was):
                # the documents written since the last snapshot live only there.
                base = [(n, s, a) for n, s, a in state.base]
                self._commit(state, settings, base, [], seq=state.manifest.seq)
                return
            docs = list(self._live_documents(state))
            self._commit(state, settings, [], self._build_all(docs, settings, state.manifest))

    def write(self, documents: Iterable[Document]) -> None:
        """Add or replace documents (non-public ones are deleted).

        Raises:
            ValueError: a document has no id.
            IndexNotConfigured: :meth:`configure` was never called.
        """
        it = iter(documents)
        head = list(itertools.islice(it, BULK_DIRECT))
        if len(head) >= BULK_DIRECT:
            self._bulk(itertools.chain(head, it))
            return
        self._log([(doc_id(d), encode(dict(d)) if is_public(d) else None) for d in head])

    def delete(self, ids: Iterable[str]) -> None:
        """Remove documents by id (unknown ids are ignored)."""
        self._log([(str(i), None) for i in ids])

    def reset(self) -> None:
        """Remove every document, keep the settings."""
        with self._lock, self.store.snapshot_lock():
            state = self.sync()
            self._commit(state, state.settings, [], [], seq=self.store.last_seq())

    def _log(self, rows: list[tuple[str, str | None]]) -> None:
        if not rows:
            return
        with self._lock:
            if self.sync().settings is None:
                raise IndexNotConfigured(self.store.path.name)
            self.store.append(rows)
            state = self.sync()
            if len(state.delta) >= DELTA_LIMIT:
                self._compact()

    def _compact(self) -> None:
        """Fold the delta into a segment; merge small segments (if the lock is free)."""
        with self.store.snapshot_lock(blocking=False) as acquired:
            if not acquired:
                return  # another process is replacing the snapshot: it will fold ours later
            state = self.sync()
            if state.settings is None:
                return
            changed = list(state.delta)
            base = [(n, s, _kill(s, a, changed)) for n, s, a in state.base]
            live = [d for d in state.delta.values() if d is not None]
            small = {n for n, s, _ in base if s.n < MAX_DOCS // 4}
            if len(small) > SMALL_SEGMENTS:
                merged = [(s, a) for n, s, a in base if n in small]
                base = [b for b in base if b[0] not in small]
                live = [d for s, a in merged for d in s.all_documents(_alive(s, a))] + live
            new = self._build_all(live, state.settings, state.manifest)
            self._commit(state, state.settings, base, new)

    def _bulk(self, documents: Iterable[Document]) -> None:
        with self._lock, self.store.snapshot_lock():
            state = self.sync()
            settings = state.settings
            if settings is None:
                raise IndexNotConfigured(self.store.path.name)
            pending = dict(state.delta)  # log changes not yet in a segment
            base = list(state.base)
            new: list[tuple[str, Segment, Mask | None]] = []
            chunk_ids: list[list[str]] = []
            building: deque[tuple[int, Future[tuple[str, Segment, Mask | None]]]] = deque()
            segmenter = self._segmenter(state)

            def finish() -> None:
                k, future = building.popleft()
                name, seg, alive = future.result()
                later = [i for ids in chunk_ids[k + 1 :] for i in ids]  # later versions win
                new.append((name, seg, _kill(seg, alive, later)))

            # Two segments build at once: numpy sorts and file writes release the
            # GIL, which gives ~40% more documents/s on two cores.
            with ThreadPoolExecutor(max_workers=BUILD_THREADS) as pool:
                for k, chunk in enumerate(_chunks(documents, MAX_DOCS)):
                    latest = {doc_id(d): d for d in chunk}  # the last version of an id wins
                    ids = list(latest)
                    chunk_ids.append(ids)
                    base = [(n, s, _kill(s, a, ids)) for n, s, a in base]
                    new = [(n, s, _kill(s, a, ids)) for n, s, a in new]
                    for i in ids:
                        pending.pop(i, None)
                    docs = [d for d in latest.values() if is_public(d)]
                    if docs:
                        building.append(
                            (k, pool.submit(self._build_save, docs, settings, segmenter, state, k))
                        )
                    while len(building) >= BUILD_THREADS:
                        finish()
                while building:
                    finish()
            live = [d for d in pending.values() if d is not None]
            base = [(n, s, _kill(s, a, list(pending))) for n, s, a in base]
            new += self._build_all(live, settings, state.manifest, start=len(chunk_ids))
            self._commit(state, settings, base, new)

    def _build_save(
        self,
        docs: Sequence[Document],
        settings: IndexSettings,
        segmenter: Segmenter,
        state: _State,
        i: int,
    ) -> tuple[str, Segment, Mask | None]:
        return self._save(build_segment(docs, settings, segmenter), state.manifest, i)

    # -- snapshot helpers ---------------------------------------------------------
    def _build_all(
        self,
        docs: Sequence[dict[str, Any]],
        settings: IndexSettings,
        manifest: Manifest,
        start: int = 0,
    ) -> list[tuple[str, Segment, Mask | None]]:
        segmenter = _segmenter(_words(settings))
        return [
            self._save(
                build_segment(docs[i : i + MAX_DOCS], settings, segmenter), manifest, start + k
            )
            for k, i in enumerate(range(0, len(docs), MAX_DOCS))
        ]

    def _save(self, seg: Segment, manifest: Manifest, i: int) -> tuple[str, Segment, Mask | None]:
        name = self.store.new_segment_name(manifest.generation + 1, i)
        seg.save(self.store.path / name)
        loaded = Segment.load(self.store.path / name)
        self._segments[name] = loaded
        return name, loaded, None

    def _commit(
        self,
        state: _State,
        settings: IndexSettings | None,
        base: list[tuple[str, Segment, Mask | None]],
        new: list[tuple[str, Segment, Mask | None]],
        seq: int | None = None,
    ) -> None:
        """Write the manifest of a new generation folding the log up to ``seq``."""
        generation = state.manifest.generation + 1
        entries = []
        for name, _seg, alive in [*base, *new]:
            if alive is not None and not alive.any():
                continue
            fname = None
            if alive is not None and not alive.all():
                fname = self.store.save_alive(name, generation, alive)
            entries.append({"name": name, "alive": fname})
        folded = state.seq if seq is None else seq
        manifest = Manifest(generation, folded, settings.to_json() if settings else None, entries)
        self.store.write_manifest(manifest)
        self.store.forget_until(folded)
        self._state = None
        self.sync()

    def _live_documents(self, state: _State) -> Iterator[dict[str, Any]]:
        changed = list(state.delta)
        for _, seg, alive in state.base:
            yield from seg.all_documents(_alive(seg, _kill(seg, alive, changed)))
        yield from (d for d in state.delta.values() if d is not None)

    # -- reading ------------------------------------------------------------------
    def search(
        self,
        query: str | Query,
        filters: Sequence[Filter],
        facets: Sequence[str],
        sort: Sort | None,
        page: int,
        per_page: int,
        crop_length: int,
        prefix: bool = True,
    ) -> SearchResults:
        """See :meth:`search.backend.SearchBackend.search`."""
        state = self.sync()
        settings = state.settings
        if settings is None:
            raise IndexNotConfigured(self.store.path.name)
        facet_fields_valid(settings, [*facets, *(f.field for f in filters)])
        if sort is not None and sort.field not in settings.sortable:
            raise ValueError(f"{sort.field!r} is not a sortable field")
        per_page = min(max(int(per_page), 1), 1000)
        page = min(max(int(page), 1), max(1, MAX_WINDOW // per_page))
        plan = _planner(settings.synonyms).plan(query, state.lexicon, prefix=prefix)
        out = execute(state.views, plan, filters, facets, sort, page * per_page)
        hits = []
        pattern = mark_pattern(plan.marks)
        for c in out.candidates[(page - 1) * per_page :]:
            doc = state.views[c.view].segment.document(c.local)
            shown = {
                f.name: highlight(
                    _display(doc.get(f.name)), pattern, crop_length if f.crop else None
                )
                for f in settings.searchable
                if doc.get(f.name) not in (None, "", [])
            }
            hits.append(Hit(str(doc["id"]), round(c.score, 6), shown, doc))
        return SearchResults(str(query), out.total, page, per_page, hits, out.facets)

    def frequencies(self, terms: Sequence[str]) -> list[int]:
        """In how many live documents each term's tokens all occur (see
        :class:`search.understand.Vocabulary`)."""
        state = self.sync()
        out = []
        for term in terms:
            keys = sorted(set(keys_of(normalize(term))))
            out.append(sum(_holding(v, keys) for v in state.views) if keys else 0)
        return out

    def suggest(self, prefix: str, limit: int, filters: Sequence[Filter]) -> list[Suggestion]:
        """See :meth:`search.backend.SearchBackend.suggest`."""
        if not prefix.strip():
            return []
        state = self.sync()
        if state.settings is None:
            raise IndexNotConfigured(self.store.path.name)
        title = state.settings.searchable[0].name
        res = self.search(prefix, filters, (), None, 1, limit, 60)
        out = []
        for h in res.hits:
            text = _display(h.document.get(title))
            out.append(Suggestion(h.id, text, h.highlights.get(title, "")))
        return out


@lru_cache(maxsize=8)
def _planner(synonyms: tuple[tuple[str, ...], ...]) -> Planner:
    return Planner.for_synonyms(synonyms)


def _holding(view: View, keys: Sequence[int]) -> int:
    """Live documents of ``view`` holding every key."""
    seg = view.segment
    if seg.vocab.size == 0:
        return 0
    docs: npt.NDArray[np.intp] | None = None
    for key in keys:
        i = int(np.searchsorted(seg.vocab, np.uint64(key)))
        if i >= seg.vocab.size or int(seg.vocab[i]) != key:
            return 0
        got = seg.post_doc[int(seg.offsets[i]) : int(seg.offsets[i + 1])].astype(np.intp)
        docs = got if docs is None else np.intersect1d(docs, got, assume_unique=True)
        if docs.size == 0:
            return 0
    if docs is None:
        return 0
    return int(docs.size if view.alive is None else view.alive[docs].sum())


def _display(value: Any) -> str:
    """A field value as shown in a snippet (lists joined with 、)."""
    if isinstance(value, list | tuple):
        return "、".join(field_text(v) for v in value)
    return field_text(value)


def _alive(seg: Segment, alive: Mask | None) -> Mask:
    return np.ones(seg.n, dtype=np.bool_) if alive is None else alive


def _kill(seg: Segment, alive: Mask | None, ids: Sequence[str]) -> Mask | None:
    """``alive`` with the documents of ``ids`` cleared (a copy; ``None`` = all alive)."""
    local = seg.locate(ids)
    if local.size == 0:
        return alive
    out = _alive(seg, alive).copy()
    out[local] = False
    return out


def _chunks(items: Iterable[Document], size: int) -> Iterator[list[Document]]:
    it = iter(items)
    while chunk := list(itertools.islice(it, size)):
        yield chunk
