"""An immutable segment: the inverted index of up to 65,536 documents as numpy arrays.

Postings are grouped by token key (sorted, so a key range is a contiguous slice)
and hold a local document number (uint16) and a precomputed BM25F *impact*
(float16) that already includes field weights, saturation and length
normalisation; the query multiplies it by the token's global idf. Filter columns
are CSR-like (value code, owner document) so list fields and facets are one
``np.bincount``. A segment is saved as ``.npy`` files and memory-mapped on load,
so gunicorn workers share its pages through the OS page cache.
"""

from __future__ import annotations

import json
import marshal
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from search.text import Segmenter, analyze_corpus
from search.types import Document, IndexSettings, doc_id

MAX_DOCS = 1 << 16  # local document numbers are uint16
K1 = 1.2
B = 0.5
STRADDLE_FACTOR = 0.25  # a bigram across two real words counts a quarter
LIST_SEP = "\x1e"  # joins list elements: never part of a token, so no bigram spans two tags

Array = npt.NDArray[Any]


@dataclass
class KeywordColumn:
    """A string-valued (possibly multi-valued) filter column."""

    values: Array  # sorted unique strings ("U")
    codes: Array  # int32 code per (document, value) entry
    owners: Array  # uint16 document of each entry
    table: Array  # int32 (documents x widest list) codes, -1 padded: rows select fast


@dataclass
class Segment:
    """The arrays of one segment (see the module docstring)."""

    n: int
    ids: Array  # "U" id per document
    id_rank: Array  # int32 rank of each id in sorted order (tie-breaks)
    vocab: Array  # uint64 sorted token keys
    offsets: Array  # int64, len(vocab) + 1
    post_doc: Array  # uint16
    post_imp: Array  # float16
    latin_words: Array  # "U" sorted Latin words
    latin_keys: Array  # uint64 key of each Latin word
    stored: Array  # uint8 JSON lines
    stored_off: Array  # int64, n + 1
    keywords: dict[str, KeywordColumn] = field(default_factory=dict)
    numbers: dict[str, Array] = field(default_factory=dict)  # float64, NaN = none
    ranks: dict[str, tuple[Array, Array]] = field(default_factory=dict)  # asc, desc
    id_order: Array = field(default_factory=lambda: np.zeros(0, np.int32))  # locals by id
    _sorted_ids: Array | None = None

    def document(self, local: int) -> dict[str, Any]:
        """The stored document of local number ``local``."""
        raw = bytes(self.stored[int(self.stored_off[local]) : int(self.stored_off[local + 1])])
        # Our own file, written by _store into the instance folder (whoever can write it can
        # already write the database): marshal is safe here and 3x faster than json.
        # Reviewed bandit exception B302.
        doc: dict[str, Any] = marshal.loads(raw)  # noqa: S302  # nosec B302
        return doc

    def locate(self, ids: Sequence[str]) -> npt.NDArray[np.int64]:
        """Local numbers of those ``ids`` present in this segment."""
        if self.n == 0 or not ids:
            return np.zeros(0, dtype=np.int64)
        if self._sorted_ids is None:
            self._sorted_ids = self.ids[self.id_order]
        wanted = np.asarray(list(ids), dtype=str)
        pos = np.minimum(np.searchsorted(self._sorted_ids, wanted), self.n - 1)
        hit = self._sorted_ids[pos] == wanted
        return np.asarray(self.id_order[pos[hit]], dtype=np.int64)

    def save(self, path: Path) -> None:
        """Write the segment to the directory ``path`` (created)."""
        path.mkdir(parents=True)
        arrays: dict[str, Array] = {
            "ids": self.ids,
            "id_rank": self.id_rank,
            "id_order": self.id_order,
            "vocab": self.vocab,
            "offsets": self.offsets,
            "post_doc": self.post_doc,
            "post_imp": self.post_imp,
            "latin_words": self.latin_words,
            "latin_keys": self.latin_keys,
            "stored": self.stored,
            "stored_off": self.stored_off,
        }
        for i, kw in enumerate(self.keywords.values()):
            arrays[f"kw{i}_values"], arrays[f"kw{i}_codes"] = kw.values, kw.codes
            arrays[f"kw{i}_owners"], arrays[f"kw{i}_table"] = kw.owners, kw.table
        for i, num in enumerate(self.numbers.values()):
            arrays[f"num{i}"] = num
        for i, (asc, desc) in enumerate(self.ranks.values()):
            arrays[f"rank{i}_asc"], arrays[f"rank{i}_desc"] = asc, desc
        for name, arr in arrays.items():
            np.save(path / f"{name}.npy", arr, allow_pickle=False)
        meta = {
            "n": self.n,
            "keywords": list(self.keywords),
            "numbers": list(self.numbers),
            "ranks": list(self.ranks),
        }
        (path / "meta.json").write_text(json.dumps(meta), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Segment:
        """Memory-map a saved segment.

        Raises:
            FileNotFoundError: the segment was removed (a newer snapshot replaced it).
        """
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))

        def arr(name: str) -> Array:
            mapped = np.load(path / f"{name}.npy", mmap_mode="r", allow_pickle=False)
            # A plain ndarray over the same mapping: np.memmap's Python-level
            # __getitem__ costs more than the slicing itself on hot paths.
            return mapped.view(np.ndarray)

        return cls(
            n=int(meta["n"]),
            ids=arr("ids"),
            id_rank=arr("id_rank"),
            id_order=arr("id_order"),
            vocab=arr("vocab"),
            offsets=arr("offsets"),
            post_doc=arr("post_doc"),
            post_imp=arr("post_imp"),
            latin_words=arr("latin_words"),
            latin_keys=arr("latin_keys"),
            stored=arr("stored"),
            stored_off=arr("stored_off"),
            keywords={
                name: KeywordColumn(
                    arr(f"kw{i}_values"),
                    arr(f"kw{i}_codes"),
                    arr(f"kw{i}_owners"),
                    arr(f"kw{i}_table"),
                )
                for i, name in enumerate(meta["keywords"])
            },
            numbers={name: arr(f"num{i}") for i, name in enumerate(meta["numbers"])},
            ranks={
                name: (arr(f"rank{i}_asc"), arr(f"rank{i}_desc"))
                for i, name in enumerate(meta["ranks"])
            },
        )

    def all_documents(self, alive: npt.NDArray[np.bool_]) -> list[dict[str, Any]]:
        """The stored documents whose ``alive`` flag is set (for merges and rebuilds)."""
        return [self.document(i) for i in np.flatnonzero(alive).tolist()]


def field_text(value: Any) -> str:
    """The searchable text of a field value (lists joined, ``None`` empty)."""
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return LIST_SEP.join(field_text(v) for v in value)
    return str(value)


SUB_CHUNK = 8192  # analyse this many documents at a time: small arrays stay in cache/heap


@dataclass
class _Postings:
    keys: Array  # uint64 key of each (key, document) pair, sorted by key
    docs: Array  # int64 local document
    impact: Array  # float32
    latin: dict[int, str]


def build_segment(
    docs: Sequence[Document], settings: IndexSettings, segmenter: Segmenter
) -> Segment:
    """Index ``docs`` (public, unique ids, at most :data:`MAX_DOCS`) into a segment.

    Raises:
        ValueError: too many documents, or a document without an id.
    """
    n = len(docs)
    if n > MAX_DOCS:
        raise ValueError(f"a segment holds at most {MAX_DOCS} documents")
    ids = np.asarray([doc_id(d) for d in docs], dtype=str) if n else np.zeros(0, "U1")
    # Analysing in sub-chunks keeps every temporary array small: on this VM a
    # fresh 100 MB array costs more in page faults than the work done in it.
    parts = [
        _postings(docs[i : i + SUB_CHUNK], i, settings, segmenter)
        for i in range(0, max(n, 1), SUB_CHUNK)
    ]
    post = parts[0] if len(parts) == 1 else _merge(parts)
    key_first = np.flatnonzero(np.concatenate(([True], post.keys[1:] != post.keys[:-1])))
    key_first = key_first[: post.keys.size]
    latin_items = sorted({w: k for p in parts for k, w in p.latin.items()}.items())
    id_order = np.argsort(ids, kind="stable").astype(np.int32)
    seg = Segment(
        n=n,
        ids=ids,
        id_rank=_rank(id_order),
        id_order=id_order,
        vocab=post.keys[key_first].astype(np.uint64),
        offsets=np.append(key_first, post.keys.size).astype(np.int64),
        post_doc=post.docs.astype(np.uint16),
        post_imp=post.impact.astype(np.float16),
        latin_words=np.asarray([w for w, _ in latin_items] or [""], dtype=str)[: len(latin_items)],
        latin_keys=np.asarray([k for _, k in latin_items], dtype=np.uint64),
        stored=np.zeros(0, np.uint8),
        stored_off=np.zeros(1, np.int64),
    )
    seg.stored, seg.stored_off = _store(docs)
    _build_columns(seg, docs, settings)
    return seg


def _postings(
    docs: Sequence[Document], base: int, settings: IndexSettings, segmenter: Segmenter
) -> _Postings:
    """(key, document, impact) pairs of ``docs``, numbered from ``base``."""
    n = len(docs)
    names = settings.searchable_names
    nf = len(names)
    texts = [v if type(v := d.get(f)) is str else field_text(v) for d in docs for f in names]
    segment_field = [not f.crop for f in settings.searchable] * n
    tokens = analyze_corpus(texts, segmenter, segment_field)
    local = tokens.text_index // nf
    wclass = (tokens.text_index % nf) * 2 + tokens.straddle
    weights = np.zeros(16, dtype=np.float64)
    for i, f in enumerate(settings.searchable):
        weights[2 * i], weights[2 * i + 1] = f.weight, f.weight * STRADDLE_FACTOR
    # One packed uint64 per token (key | doc | class) so a plain np.sort groups
    # postings by key then document: argsort would be ~7x slower.
    packed = (
        (tokens.keys << np.uint64(20))
        | (local.astype(np.uint64) << np.uint64(4))
        | wclass.astype(np.uint64)
    )
    packed.sort()
    kd = packed >> np.uint64(4)
    first = np.flatnonzero(np.concatenate(([True], kd[1:] != kd[:-1])))[: kd.size]
    wtf = np.add.reduceat(weights[(packed & np.uint64(15)).astype(np.int64)], first)
    pair = kd[first]
    pair_doc = (pair & np.uint64(0xFFFF)).astype(np.int64)
    dl = np.bincount(local, minlength=n).astype(np.float64)
    avgdl = max(float(dl.mean()), 1.0) if n else 1.0
    norm = K1 * (1 - B + B * dl / avgdl)
    impact = wtf * (K1 + 1) / (wtf + norm[pair_doc])
    return _Postings(
        pair >> np.uint64(16), pair_doc + base, impact.astype(np.float32), tokens.latin
    )


def _merge(parts: list[_Postings]) -> _Postings:
    """Concatenate sub-chunk postings and regroup them by key (one uint64 sort)."""
    keys = np.concatenate([p.keys for p in parts])
    vocab = np.unique(keys)
    vid = np.searchsorted(vocab, keys).astype(np.uint64)
    packed = (vid << np.uint64(36)) | np.arange(keys.size, dtype=np.uint64)
    packed.sort()
    order = (packed & np.uint64((1 << 36) - 1)).astype(np.int64)
    return _Postings(
        keys=vocab[(packed >> np.uint64(36)).astype(np.int64)],
        docs=np.concatenate([p.docs for p in parts])[order],
        impact=np.concatenate([p.impact for p in parts])[order],
        latin={},
    )


def _store(docs: Sequence[Document]) -> tuple[Array, Array]:
    """Documents serialised back to back (marshal: 3x faster than json for Chinese text)."""
    blobs = [_dump(d) for d in docs]
    lengths = np.fromiter(map(len, blobs), dtype=np.int64, count=len(blobs))
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    return np.frombuffer(b"".join(blobs), dtype=np.uint8), offsets


def _dump(doc: Document) -> bytes:
    """``doc`` marshalled; values marshal cannot hold (dates…) are stored as JSON would."""
    try:
        return marshal.dumps(doc if type(doc) is dict else dict(doc))
    except ValueError:
        return marshal.dumps(json.loads(json.dumps(dict(doc), default=str)))


def _rank(order: Array) -> npt.NDArray[np.int32]:
    rank = np.empty(order.size, dtype=np.int32)
    rank[order] = np.arange(order.size, dtype=np.int32)
    return rank


def _build_columns(seg: Segment, docs: Sequence[Document], settings: IndexSettings) -> None:
    """Filter columns: strings/bools go to keyword columns, numbers to numeric ones."""
    n = len(docs)
    for name in dict.fromkeys((*settings.filterable, *settings.sortable)):
        values = [d.get(name) for d in docs]
        flat, owners = _flatten(values)
        isnum = np.fromiter(
            (type(x) is int or type(x) is float for x in flat), dtype=np.bool_, count=len(flat)
        )
        if isnum.any():
            nums = np.asarray(
                [x for x, k in zip(flat, isnum.tolist(), strict=True) if k], np.float64
            )
            num = np.full(n, np.nan)
            num[owners[isnum][::-1]] = nums[::-1]  # the first number of a list wins
            num[~np.isfinite(num)] = np.nan
            seg.numbers[name] = num
        words = (
            flat
            if not isnum.any() and all(type(x) is str for x in flat)
            else [keyword(x) for x, k in zip(flat, isnum.tolist(), strict=True) if not k]
        )
        if words:
            uniq, inverse = np.unique(np.asarray(words, dtype=str), return_inverse=True)
            pairs = np.unique(inverse.astype(np.int64) * n + owners[~isnum])
            codes, holders = (pairs // n).astype(np.int32), (pairs % n).astype(np.int64)
            seg.keywords[name] = KeywordColumn(
                uniq, codes, holders.astype(np.uint16), _table(codes, holders, n)
            )
    for name in settings.sortable:
        num = seg.numbers.get(name, np.full(n, np.nan))
        missing = np.isnan(num)
        # Rank by (missing last, value, id) ascending and (missing last, -value, id).
        asc = np.lexsort((seg.id_rank, np.where(missing, 0.0, num), missing))
        desc = np.lexsort((seg.id_rank, np.where(missing, 0.0, -num), missing))
        seg.ranks[name] = (_rank(asc), _rank(desc))


def _table(codes: Array, docs: Array, n: int) -> Array:
    """Codes laid out one row per document (-1 padded), for fast facet counts."""
    per_doc = np.bincount(docs, minlength=n)
    width = int(per_doc.max(initial=0))
    table = np.full((n, max(width, 1)), -1, dtype=np.int32)
    order = np.argsort(docs, kind="stable")
    d = docs[order]
    starts = np.concatenate(([0], np.cumsum(per_doc)[:-1]))
    table[d, np.arange(d.size) - starts[d]] = codes[order]
    return table


def _flatten(values: list[Any]) -> tuple[list[Any], npt.NDArray[np.int64]]:
    """Non-null values of a column, lists flattened, with the document of each."""
    if all(type(v) is list for v in values):
        lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
        flat = [x for v in values for x in v]
        owners = np.repeat(np.arange(len(values)), lengths)
    else:
        flat, own = [], []
        for i, v in enumerate(values):
            if isinstance(v, list | tuple):
                flat.extend(v)
                own.extend([i] * len(v))
            elif v is not None:
                flat.append(v)
                own.append(i)
        owners = np.asarray(own, dtype=np.int64)
    if any(x is None for x in flat):
        keep = [x is not None for x in flat]
        flat = [x for x in flat if x is not None]
        owners = owners[np.asarray(keep, dtype=np.bool_)]
    return flat, owners


def keyword(value: Any) -> str:
    """The keyword form of a filter value (booleans as ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
