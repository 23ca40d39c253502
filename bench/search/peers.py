"""The embedded engine and two peers behind one small interface, for bench/search.

Bench code only: the app never imports this. Each engine gets the same
documents (the shape of ``search.listings``), the same searchable fields with
the same weights (``search.listings.SEARCHABLE``), the same filters and facets
and the same top-k, and answers with ids, the number of matches and facet counts.

The peers cannot segment Chinese themselves, so their text is *pre-segmented*
here into the tokens the embedded engine indexes (search/text.py): NFKC + lower
case, CJK character bigrams, a lone CJK character where a run has only one,
Latin/digit words. Both peers then see those tokens separated by spaces.

Query semantics (printed with every result, see :data:`SEMANTICS`):

* embedded: what the app does (the engine under test): the words are understood
  (search/understand.py: fillers out, concepts, places and budget as filters,
  corrections) and the engine matches relaxed, keeping documents that cover
  enough of the query's informative terms.
* peers: OR of the query's tokens ranked by BM25 over the weighted fields, the
  natural relaxed mode of a BM25 engine (AND of bigrams would be the strict
  every-term-required mode the issue replaces, and would let the peers skip
  most of the work a relaxed query costs). No synonyms, no stop words. The last
  Latin word of a query not ending in a space is also a prefix in both peers;
  tantivy also gets one-edit fuzzy matching of Latin words of 5+ letters (FTS5
  has no typo tolerance). The peers get the typed text only: no query
  understanding, so a place or budget in the words is just more tokens.
"""

from __future__ import annotations

import json
import operator
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence, Sized
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt
import tantivy

from search.embedded import EmbeddedBackend
from search.listings import SEARCHABLE
from search.text import SEP, is_word, normalize, normalize_joined
from search.types import Eq, Filter, In, IndexSettings, Query, Range, Sort

INDEX = "offerings"
FIELDS = tuple(f.name for f in SEARCHABLE)
WEIGHTS = tuple(f.weight for f in SEARCHABLE)
FACET_FIELDS = ("kind", "categories", "regions", "industries", "org_kind", "price_band", "parks")
LIST_FIELDS = frozenset(("categories", "regions", "industries", "parks"))
TYPO_MIN = 5  # Latin words this long get one-edit alternatives (as the embedded engine)

SEMANTICS = {
    "embedded": "as the app searches: the words understood first (search/understand.py "
    "with the concept map, provinces, cities and parks; places and budget become filters; "
    "corrections against the index), then relaxed matching with a coverage cut-off; "
    "stored documents + highlights per hit; understanding is inside the timing",
    "tantivy": "OR of pre-segmented tokens, BM25 with field boosts; last Latin word also "
    "a prefix, Latin 5+ letters one-edit fuzzy; facets by tantivy terms aggregations "
    "over the match set; ids per hit",
    "fts5": "OR of pre-segmented tokens, bm25() with column weights; last Latin word also "
    "a prefix, no typo tolerance; filters through a joined table, facets by GROUP BY "
    "over the match set; ids per hit",
}

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
# A CJK run, or a Latin/digit word: ``[^\W_]`` is exactly str.isalnum(), minus CJK.
_TOKEN_RUNS = re.compile(f"([{_CJK}]+)|([^\\W_{_CJK}]+)")


def _tokens_of_norm(norm: str) -> list[str]:
    out: list[str] = []
    for cjk, word in _TOKEN_RUNS.findall(norm):
        if word:
            out.append(word)
        elif len(cjk) == 1:
            out.append(cjk)
        else:
            out.extend(map(operator.add, cjk, cjk[1:]))
    return out


def tokens(text: str) -> list[str]:
    """The embedded engine's tokens of ``text`` as strings (bigrams, lone CJK, words)."""
    return _tokens_of_norm(normalize(text))


def field_text(doc: dict[str, Any], name: str) -> str:
    """A searchable field as one string (lists joined with 、, as the engine joins them)."""
    value = doc.get(name)
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "、".join(str(v) for v in value)
    return str(value)


@lru_cache(maxsize=1)
def _word_table() -> npt.NDArray[np.bool_]:
    return np.fromiter((is_word(chr(i)) for i in range(0x10000)), dtype=np.bool_, count=0x10000)


PRESEGMENT_BATCH = 8192  # documents per numpy pass (bounds the temporary arrays)


def presegment(docs: Sequence[dict[str, Any]]) -> list[list[str]]:
    """For each document, each searchable field as space-separated tokens."""
    out: list[list[str]] = []
    for start in range(0, len(docs), PRESEGMENT_BATCH):
        out += _presegment(docs[start : start + PRESEGMENT_BATCH])
    return out


def _presegment(docs: Sequence[dict[str, Any]]) -> list[list[str]]:
    """:func:`presegment` of one batch.

    The same tokens as :func:`tokens`, made with numpy over a whole batch (the
    engine's own NFKC of search.text.normalize_joined, then every position emits
    its bigram, lone character or word character and the spaces between): a
    per-field Python loop caps a peer's indexing at ~10,000 documents/s, which
    would measure Python, not the peer.
    """
    texts = [field_text(d, f) for d in docs for f in FIELDS]
    _, cp = normalize_joined(texts)
    sep = cp == ord(SEP)
    cjk = ((cp >= 0x4E00) & (cp <= 0x9FFF)) | ((cp >= 0x3400) & (cp <= 0x4DBF))
    rare = cp >= 0xF900
    if rare.any():
        cjk |= ((cp >= 0xF900) & (cp <= 0xFAFF)) | ((cp >= 0x20000) & (cp <= 0x3134F))
    word = np.zeros(cp.size, dtype=np.bool_)
    bmp = ~cjk & (cp < 0x10000)
    word[bmp] = _word_table()[cp[bmp]]
    nxt = np.empty_like(cp)
    nxt[:-1], nxt[-1] = cp[1:], 0
    nxt_cjk = np.append(cjk[1:], False)
    pair = cjk & nxt_cjk  # a bigram starts here
    lone = cjk & ~nxt_cjk & ~np.insert(cjk[:-1], 0, False)  # a CJK run of one character
    word_end = word & ~np.append(word[1:], False)  # a word's last character
    # Up to three code points per position, 0 where nothing is emitted: a bigram
    # is [c, next, space], a lone character or a word's end [c, space, -],
    # another word character [c, -, -], a field separator [SEP, -, -].
    space = np.uint32(ord(" "))
    grid = np.zeros((cp.size, 3), dtype=np.uint32)
    grid[:, 0] = np.where(pair | lone | word | sep, cp, 0)
    grid[:, 1] = np.where(pair, nxt, np.where(lone | word_end, space, 0))
    grid[:, 2] = np.where(pair, space, 0)
    flat = grid.ravel()
    out = flat[flat != 0]
    parts = out.tobytes().decode("utf-32-le").split(SEP)
    n = len(FIELDS)
    return [parts[i * n : (i + 1) * n] for i in range(len(docs))]


@dataclass(frozen=True)
class QueryTerms:
    """A query as the peers search it: distinct tokens, the prefix word, fuzzy words."""

    terms: tuple[str, ...]
    prefix: str | None  # the last Latin word, when the query does not end in a space
    fuzzy: tuple[str, ...]  # Latin words of TYPO_MIN+ letters

    @classmethod
    def of(cls, q: str) -> QueryTerms:
        norm = normalize(q)
        toks = list(dict.fromkeys(_tokens_of_norm(norm)))
        runs = _TOKEN_RUNS.findall(norm)
        last_word = runs[-1][1] if runs else ""
        prefix = last_word if last_word and norm.endswith(last_word) else None
        fuzzy = tuple(t for t in toks if t.isascii() and t.isalpha() and len(t) >= TYPO_MIN)
        return cls(tuple(toks), prefix, fuzzy)


@dataclass(frozen=True)
class Answer:
    ids: list[str]
    total: int
    facets: dict[str, dict[str, int]]


class Engine(Protocol):
    name: str

    def add(self, docs: Sequence[dict[str, Any]]) -> None: ...

    def finish(self) -> None: ...

    def search(
        self,
        q: str,
        filters: Sequence[Filter] = (),
        facets: Sequence[str] = (),
        sort: Sort | None = None,
        k: int = 20,
    ) -> Answer: ...

    def close(self) -> None: ...


# -- the embedded engine ----------------------------------------------------------------
# What the app does with typed words before the engine sees them: an understood
# query and the filters its places and budget ask for (bench/search/compare.py
# builds it from market/services/search_understanding.py).
Understand = Callable[[str, "Embedded"], tuple[Query, list[Filter]]]


class Embedded:
    name = "embedded"

    def __init__(
        self,
        path: Path,
        settings: IndexSettings,
        index: str = INDEX,
        understand: Understand | None = None,
    ) -> None:
        self.backend = EmbeddedBackend({"path": str(path)})
        self.index = index
        self.settings = settings
        self.understand = understand

    def frequencies(self, terms: Sequence[str]) -> list[int]:
        """The index's vocabulary, for corrections (search.understand.Vocabulary)."""
        return self.backend.frequencies(self.index, terms)

    def create(self) -> Embedded:
        self.backend.configure(self.index, self.settings)
        return self

    def add(self, docs: Sequence[dict[str, Any]]) -> None:
        self.backend.add_bulk(self.index, docs)

    def finish(self) -> None:
        pass

    def search(
        self,
        q: str,
        filters: Sequence[Filter] = (),
        facets: Sequence[str] = (),
        sort: Sort | None = None,
        k: int = 20,
    ) -> Answer:
        query: str | Query = q
        if self.understand is not None and q.strip():
            query, asked = self.understand(q, self)
            filters = [*filters, *asked]
        res = self.backend.search(
            self.index, query, filters=filters, facets=facets, sort=sort, per_page=k
        )
        return Answer([h.id for h in res.hits], res.total, res.facets)

    def close(self) -> None:
        self.backend.close()


# -- tantivy ------------------------------------------------------------------------------
def _tantivy_schema() -> tantivy.Schema:
    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    for name in FIELDS:
        # Frequencies without positions: BM25 needs no more for an OR of tokens.
        sb.add_text_field(name, tokenizer_name="whitespace", index_option="freq")
    for name in FACET_FIELDS:
        sb.add_text_field(name, tokenizer_name="raw", fast=True, index_option="basic")
    sb.add_integer_field("price_min", indexed=True, fast=True)
    sb.add_integer_field("published_at", fast=True)
    return sb.build()


class Tantivy:
    name = "tantivy"

    def __init__(self, path: Path | None) -> None:
        self.schema = _tantivy_schema()
        if path is not None:
            path.mkdir(parents=True, exist_ok=True)
        self.ix = tantivy.Index(self.schema, str(path) if path else None)
        self.writer: tantivy.IndexWriter | None = None
        self.searcher: tantivy.Searcher | None = None

    def add(self, docs: Sequence[dict[str, Any]]) -> None:
        if self.writer is None:
            self.writer = self.ix.writer(512_000_000, 2)
        # One JSON string per document: ~2x faster than building tantivy.Document
        # field by field from Python.
        for d, texts in zip(docs, presegment(docs), strict=True):
            row: dict[str, Any] = {"id": str(d["id"])}
            row.update((name, text) for name, text in zip(FIELDS, texts, strict=True) if text)
            row.update((name, d[name]) for name in FACET_FIELDS if d.get(name) is not None)
            row.update(
                (name, int(d[name]))
                for name in ("price_min", "published_at")
                if d.get(name) is not None
            )
            self.writer.add_json(json.dumps(row, ensure_ascii=False))

    def finish(self) -> None:
        if self.writer is not None:
            self.writer.commit()
            self.writer.wait_merging_threads()
            self.writer = None

    def _open(self) -> tantivy.Searcher:
        if self.searcher is None:
            self.ix.reload()
            self.searcher = self.ix.searcher()
        return self.searcher

    def _text_query(self, q: str) -> tantivy.Query | None:
        terms = QueryTerms.of(q)
        if not terms.terms:
            return None
        s = self.schema
        clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
        for name, weight in zip(FIELDS, WEIGHTS, strict=True):
            for t in terms.terms:
                tq = tantivy.Query.term_query(s, name, t)
                if t == terms.prefix:
                    tq = tantivy.Query.fuzzy_term_query(s, name, t, 0, True, True)
                elif t in terms.fuzzy:
                    tq = tantivy.Query.fuzzy_term_query(s, name, t, 1, True, False)
                clauses.append((tantivy.Occur.Should, tantivy.Query.boost_query(tq, weight)))
        return tantivy.Query.boolean_query(clauses)

    def _filter(self, f: Filter) -> tantivy.Query:
        s = self.schema
        if isinstance(f, Eq):
            q = tantivy.Query.term_query(s, f.field, str(f.value))
        elif isinstance(f, In):
            q = tantivy.Query.term_set_query(s, f.field, [str(v) for v in f.values])
        else:
            lo = None if f.gte is None else int(f.gte)
            hi = None if f.lte is None else int(f.lte)
            q = tantivy.Query.range_query(s, f.field, tantivy.FieldType.Integer, lo, hi)
        return tantivy.Query.const_score_query(q, 0.0)  # filters must not change the score

    def search(
        self,
        q: str,
        filters: Sequence[Filter] = (),
        facets: Sequence[str] = (),
        sort: Sort | None = None,
        k: int = 20,
    ) -> Answer:
        searcher = self._open()
        text = self._text_query(q)
        parts = [self._filter(f) for f in filters]
        if text is not None:
            parts.insert(0, text)
        if not parts:
            query = tantivy.Query.all_query()
        elif len(parts) == 1:
            query = parts[0]
        else:
            query = tantivy.Query.boolean_query([(tantivy.Occur.Must, p) for p in parts])
        if sort is not None:
            order = tantivy.Order.Desc if sort.direction == "desc" else tantivy.Order.Asc
            res = searcher.search(query, k, order_by_field=sort.field, order=order)
        else:
            res = searcher.search(query, k)
        ids = [searcher.doc(addr)["id"][0] for _, addr in res.hits]
        counts: dict[str, dict[str, int]] = {}
        if facets:
            agg = searcher.aggregate(
                query, {f: {"terms": {"field": f, "size": 10_000}} for f in facets}
            )
            counts = {f: {b["key"]: b["doc_count"] for b in agg[f]["buckets"]} for f in facets}
        total: int = res.count  # type: ignore[attr-defined]  # tantivy 0.27's stub lacks it
        return Answer(ids, total, counts)

    def close(self) -> None:
        self.searcher = None


# -- SQLite FTS5 --------------------------------------------------------------------------
_DOC_COLUMNS = frozenset(("kind", "org_kind", "price_band", "price_min", "published_at"))


def _column(name: str) -> str:
    """A column of ``docs`` (names are put into SQL text, so only these pass)."""
    if name not in _DOC_COLUMNS:
        raise ValueError(f"fts5 peer: no column {name!r}")
    return name


def _in(values: Sized) -> str:
    """``IN (?, ?, …)`` for ``len(values)`` bound parameters."""
    return f"IN ({', '.join('?' * len(values))})"


def _values(doc: dict[str, Any], name: str) -> list[Any]:
    value = doc.get(name)
    return [v for v in (value if isinstance(value, list) else [value]) if v is not None]


class Fts5:
    """Pre-segmented text in a contentless FTS5 table; filters and facets in plain tables.

    SQL text is built only from fixed names (FIELDS, :func:`_column`) and ``?``
    placeholders; every value is bound (hence the ``noqa: S608``).

    ``docs`` holds the single-valued fields by rowid; ``vals`` holds every
    (field, value, doc) of the facet fields, indexed both ways: by value for
    filters, by document for counting the facets of a match set.
    """

    name = "fts5"

    def __init__(self, path: Path | None) -> None:
        if path is not None:
            path.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path / "fts.sqlite") if path else ":memory:")
        self.db.execute("PRAGMA mmap_size = 8000000000")  # read through the page cache, as mmap
        self.db.execute("PRAGMA cache_size = -262144")
        self.db.execute("PRAGMA temp_store = MEMORY")
        self.codes = {f: i for i, f in enumerate(FACET_FIELDS)}
        self.next_rowid = 1
        weights = ", ".join(str(w) for w in WEIGHTS)
        self.rank = f"bm25(fts, {weights})"

    def create(self) -> Fts5:
        db = self.db
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        cols = ", ".join(FIELDS)
        db.execute(
            f"CREATE VIRTUAL TABLE fts USING fts5({cols}, content='', "
            "tokenize='unicode61 remove_diacritics 0')"
        )
        db.execute(
            "CREATE TABLE docs (id INTEGER PRIMARY KEY, ref TEXT, kind TEXT, org_kind TEXT, "
            "price_band TEXT, price_min INTEGER, published_at INTEGER)"
        )
        db.execute(
            "CREATE TABLE vals (field INTEGER, value TEXT, doc INTEGER, "
            "PRIMARY KEY (field, value, doc)) WITHOUT ROWID"
        )
        return self

    def add(self, docs: Sequence[dict[str, Any]]) -> None:
        start = self.next_rowid
        self.next_rowid += len(docs)
        rowids = range(start, start + len(docs))
        segmented = presegment(docs)
        marks = ", ".join("?" * (len(FIELDS) + 1))
        with self.db:
            self.db.executemany(
                f"INSERT INTO fts (rowid, {', '.join(FIELDS)}) VALUES ({marks})",  # noqa: S608
                ((r, *texts) for r, texts in zip(rowids, segmented, strict=True)),
            )
            self.db.executemany(
                "INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        r,
                        str(d["id"]),
                        d.get("kind"),
                        d.get("org_kind"),
                        d.get("price_band"),
                        d.get("price_min"),
                        d.get("published_at"),
                    )
                    for r, d in zip(rowids, docs, strict=True)
                ),
            )
            self.db.executemany(
                "INSERT OR IGNORE INTO vals VALUES (?, ?, ?)",
                (
                    (code, str(v), r)
                    for r, d in zip(rowids, docs, strict=True)
                    for f, code in self.codes.items()
                    for v in _values(d, f)
                ),
            )

    def finish(self) -> None:
        with self.db:
            self.db.execute("CREATE INDEX vals_by_doc ON vals (doc, field, value)")
            self.db.execute("INSERT INTO fts (fts) VALUES ('optimize')")
        self.db.execute("ANALYZE")

    def _match(self, q: str) -> str | None:
        terms = QueryTerms.of(q)
        if not terms.terms:
            return None
        return " OR ".join(f'"{t}"*' if t == terms.prefix else f'"{t}"' for t in terms.terms)

    def _where(self, filters: Sequence[Filter]) -> tuple[list[str], list[Any]]:
        sql: list[str] = []
        args: list[Any] = []
        for f in filters:
            values = [f.value] if isinstance(f, Eq) else list(f.values) if isinstance(f, In) else []
            if isinstance(f, Range):
                if f.gte is not None:
                    sql.append(f"d.{_column(f.field)} >= ?")
                    args.append(f.gte)
                if f.lte is not None:
                    sql.append(f"d.{_column(f.field)} <= ?")
                    args.append(f.lte)
            elif f.field in LIST_FIELDS:
                inner = f"SELECT doc FROM vals WHERE field = ? AND value {_in(values)}"  # noqa: S608
                sql.append(f"d.id IN ({inner})")
                args += [self.codes[f.field], *map(str, values)]
            else:
                sql.append(f"d.{_column(f.field)} {_in(values)}")
                args += list(map(str, values))
        return sql, args

    def search(
        self,
        q: str,
        filters: Sequence[Filter] = (),
        facets: Sequence[str] = (),
        sort: Sort | None = None,
        k: int = 20,
    ) -> Answer:
        match = self._match(q)
        where, args = self._where(filters)
        # bm25() cannot run beside a join or a window function: the scored match set
        # is computed first (a materialised CTE), then joined with the filters.
        with_ = ""
        if match is not None:
            with_ = (
                f"WITH t AS MATERIALIZED (SELECT rowid AS id, {self.rank} AS score "  # noqa: S608
                "FROM fts WHERE fts MATCH ?) "
            )
            source = "t JOIN docs d ON d.id = t.id WHERE 1"
            args.insert(0, match)
            score = "t.score"
        else:
            source = "docs d WHERE 1"
            score = "d.id"
        source += "".join(f" AND {w}" for w in where)
        order = f"d.{_column(sort.field)} {sort.direction.upper()}" if sort else "score"
        if not facets:
            rows = self.db.execute(
                f"{with_}SELECT d.ref, count(*) OVER (), {score} AS score FROM {source} "  # noqa: S608
                f"ORDER BY {order} LIMIT ?",
                [*args, k],
            ).fetchall()
            return Answer([r[0] for r in rows], rows[0][1] if rows else 0, {})
        # The match set once in a temporary table: top-k, count and every facet from it.
        db = self.db
        db.execute("CREATE TEMP TABLE IF NOT EXISTS m (id INTEGER PRIMARY KEY, score REAL)")
        db.execute("DELETE FROM m")
        db.execute(f"INSERT INTO m {with_}SELECT d.id, {score} FROM {source}", args)  # noqa: S608
        order = order.replace("score", "m.score")
        ids = [
            r[0]
            for r in db.execute(
                f"SELECT d.ref FROM m CROSS JOIN docs d ON d.id = m.id ORDER BY {order} LIMIT ?",  # noqa: S608
                [k],
            )
        ]
        total = db.execute("SELECT count(*) FROM m").fetchone()[0]
        counts: dict[str, dict[str, int]] = {f: {} for f in facets}
        names = {self.codes[f]: f for f in facets}
        for code, value, n in db.execute(
            # CROSS JOIN keeps the match set as the outer loop: without it SQLite scans
            # every row of vals and probes the (unanalysed) temporary table, 2x slower.
            "SELECT v.field, v.value, count(*) FROM m CROSS JOIN vals v INDEXED BY vals_by_doc "  # noqa: S608
            f"ON v.doc = m.id WHERE v.field {_in(names)} GROUP BY v.field, v.value",
            list(names),
        ):
            counts[names[code]][value] = n
        return Answer(ids, total, counts)

    def close(self) -> None:
        self.db.close()


def make(name: str, path: Path | None, settings: IndexSettings) -> Engine:
    """A new, empty engine ``name`` storing its index under ``path`` (None: in memory,
    peers only)."""
    if name == "embedded":
        if path is None:
            raise ValueError("the embedded engine needs a directory")
        return Embedded(path, settings).create()
    if name == "tantivy":
        return Tantivy(path)
    if name == "fts5":
        return Fts5(path).create()
    raise ValueError(f"unknown engine {name!r} (embedded, tantivy, fts5)")


def reopen(
    name: str, path: Path, settings: IndexSettings, understand: Understand | None = None
) -> Engine:
    """An engine over the index a previous process built under ``path``."""
    if name == "embedded":
        return Embedded(path, settings, understand=understand)
    if name == "tantivy":
        return Tantivy(path)
    return Fts5(path)


def build(engine: Engine, batches: Iterable[Sequence[dict[str, Any]]]) -> None:
    for batch in batches:
        engine.add(batch)
    engine.finish()
