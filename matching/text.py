"""Text features for the capability rule: TF-IDF over the search package's tokens.

Each listing becomes a sparse vector of *terms*:

* CJK character bigrams, lone CJK characters and Latin/digit words, exactly as the
  search index tokenises (:func:`search.text.analyze_corpus`), over title, tags and
  text (title and tags count twice: they are what the writer chose to stress);
* whole words of the title (rjieba, two characters or more) and whole tags, so that
  the reasons can name words a person recognises (冲压件, 机器视觉), not bigram
  fragments;
* synonym *concepts*: every member of a synonym group (the concept map's
  ``synonym_groups()``, seed_data/concepts/) is
  replaced by one token for its group before anything else, so 缺陷检测 and 质量检测
  are the same term and MES matches 制造执行系统.

Weights are ``log(1 + field-weighted count) * idf`` with the smoothed idf
``log((N + 1) / (df + 1)) + 1``, rows L2-normalised, so the dot product of two rows is
their cosine (0..1). ``df``/``N`` come from :meth:`TextModel.fit` (``recompute_all``
fits on the whole pool); an unfitted model takes them from the listings being ranked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matching.rowstore import RowStore
from search.text import SEP, Segmenter, analyze_corpus, is_cjk, normalize, normalize_joined

TITLE_WEIGHT = 2.0
TAG_WEIGHT = 2.0
TEXT_WEIGHT = 1.0
WORD_WEIGHT = 1.5  # a whole word of the title or a whole tag
TERMS_SHOWN = 5  # shared terms a reason names at most
_LOW42 = (1 << 42) - 1
_WORD_TAG = 0  # the key space search.text leaves free (bigram/uni/latin use 1..3 << 42)
_CONCEPT_PREFIX = "zzsyn"
_TAG_SEP = "\x1e"  # between the tags of one listing while folding (never in a tag)
# Words too general to name as a reason (they still count in the cosine through idf).
STOP_WORDS = frozenset(
    [
        "企业",
        "公司",
        "我们",
        "需要",
        "希望",
        "系统",
        "平台",
        "方案",
        "解决方案",
        "服务",
        "管理",
        "建设",
        "项目",
        "实施",
        "提供",
        "支持",
        "进行",
        "可以",
        "目前",
        "现在",
        "问题",
        "一个",
        "主要",
        "相关",
        "工厂",
        "车间",
        "生产",
        "数据",
        "智能",
        "数字化",
        "设备",
        "应用",
        "技术",
        "能力",
        "工业",
        "行业",
        "中小企业",
        "园区",
        "基于",
        "通过",
        "实现",
        "包括",
        "以及",
        "考虑",
        "想要",
        "打算",
        "咨询",
    ]
)

F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]


@dataclass(frozen=True)
class Doc:
    """The text of one listing, as the model reads it."""

    title: str
    tags: tuple[str, ...]
    text: str


def _trie_regex(words: Iterable[str]) -> str:
    """One regex alternation of ``words`` factored as a trie (longest match first),
    so scanning costs one character-class test per position, not one per word."""
    trie: dict[str, Any] = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = True

    def emit(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + emit(child) for ch, child in sorted(node.items()) if ch]
        end = "" in node
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return "(?:" + body + ")?" if end else body

    return emit(trie)


@dataclass
class Tokens:
    """A batch of documents tokenised (:meth:`TextModel.tokens`): per token its row
    within the batch, key and weight (in arrays per source), and the labels of its
    Latin words (one dict per corpus: title, tags, text) and whole words."""

    n: int
    rows: list[npt.NDArray[np.int64]] = field(default_factory=list)
    keys: list[npt.NDArray[np.int64]] = field(default_factory=list)
    weights: list[npt.NDArray[np.float32]] = field(default_factory=list)
    latin: list[dict[int, str]] = field(default_factory=list)
    words: dict[int, str] = field(default_factory=dict)


class TextModel:
    """Synonym folding, tokenising and a per-listing feature cache.

    One model serves many calls: rows are cached by ``(side, id)`` and recomputed
    when the listing's text changes, so ranking one listing against thousands of
    candidates costs a sparse product, not a re-analysis.
    """

    def __init__(self, synonyms: Sequence[Sequence[str]] = ()) -> None:
        self.synonyms = tuple(tuple(g) for g in synonyms)
        self.concept_of, self.concept_names = _merge_groups(self.synonyms)
        members = sorted(self.concept_of, key=len, reverse=True)
        self._segmenter = Segmenter(members)
        cjk_start = [m for m in members if is_cjk(m[0]) or not m[0].isalnum()]
        latin_start = [m for m in members if m not in set(cjk_start)]
        parts = []
        if latin_start:
            # A Latin member must sit on word boundaries (mes is not in "times").
            parts.append(r"(?<![a-z0-9])(?:" + _trie_regex(latin_start) + r")(?![a-z0-9])")
        if cjk_start:
            parts.append(_trie_regex(cjk_start))
        self._fold_re = re.compile("|".join(parts)) if parts else None
        self.concept_key = np.array(
            [_latin_key(f"{_CONCEPT_PREFIX}{i}") for i in range(len(self.concept_names))],
            dtype=np.int64,
        )
        self._concept_by_key = {int(k): i for i, k in enumerate(self.concept_key)}
        # Vocabulary: keys -> columns, sorted array plus an overflow for later keys.
        self._keys_sorted = np.zeros(0, dtype=np.int64)
        self._cols_sorted = np.zeros(0, dtype=np.int32)
        self._overflow: dict[int, int] = {}
        self.n_cols = 0
        self.labels: dict[int, str] = {}  # column -> word, Latin word or concept name
        self.df: npt.NDArray[np.float64] | None = None
        self.n_docs = 0
        self._cache: dict[tuple[str, int], tuple[Doc, I32, F32]] = {}
        # Normalised rows under the fitted idf, by side ("need" | "offering"), each valid
        # for the record it was computed for. Cleared by fit(); a column added later
        # changes no existing row's weights.
        self.weighted_rows: dict[str, RowStore] = {}
        self._pending_words: dict[int, str] = {}
        self._pending_latin: dict[int, str] = {}
        self._labelled = np.zeros(0, dtype=np.bool_)
        self._nameable = (np.zeros(0, dtype=np.bool_), np.zeros(0, dtype=np.int64))
        self._names = (np.empty(1, dtype=object), np.zeros(1, dtype=np.bool_))
        self._fitted_idf: npt.NDArray[np.float32] | None = None
        for i, name in enumerate(self.concept_names):
            self._pending_words[int(self.concept_key[i])] = name

    # --- folding and tokens -------------------------------------------------
    def fold(self, text: str) -> str:
        """Normalised ``text`` with every synonym member replaced by its concept token."""
        norm = normalize(text)
        if self._fold_re is None:
            return norm
        return self._fold_re.sub(self._replace, norm)

    def _replace(self, m: re.Match[str]) -> str:
        gid = self.concept_of.get(m.group())
        return m.group() if gid is None else f" {_CONCEPT_PREFIX}{gid} "

    def concepts_in(self, text: str) -> dict[int, str]:
        """Concept id -> the member as found in normalised ``text`` (first occurrence)."""
        out: dict[int, str] = {}
        if self._fold_re is not None:
            for m in self._fold_re.finditer(normalize(text)):
                gid = self.concept_of.get(m.group())
                if gid is not None:
                    out.setdefault(gid, m.group())
        return out

    def _lookup(self, keys: npt.NDArray[np.int64]) -> I32:
        """Columns of ``keys``; -1 where a key is not in the vocabulary."""
        cols = np.full(keys.size, -1, dtype=np.int32)
        if self._keys_sorted.size:
            pos = np.minimum(np.searchsorted(self._keys_sorted, keys), self._keys_sorted.size - 1)
            found = self._keys_sorted[pos] == keys
            cols[found] = self._cols_sorted[pos[found]]
        if self._overflow:
            miss = np.flatnonzero(cols < 0)
            if miss.size:
                uniq, inv = np.unique(keys[miss], return_inverse=True)
                ov = self._overflow
                mapped = np.array([ov.get(k, -1) for k in uniq.tolist()], dtype=np.int32)
                cols[miss] = mapped[inv]
        return cols

    def _columns(self, keys: npt.NDArray[np.int64]) -> I32:
        """Columns of ``keys``, adding unseen keys to the vocabulary."""
        if keys.size == 0:
            return np.zeros(0, dtype=np.int32)
        cols = self._lookup(keys)
        missing = cols < 0
        if not missing.any():
            return cols
        new = np.unique(keys[missing])
        start = self.n_cols
        self.n_cols += new.size
        if new.size > 256:
            # A batch: merge into the sorted array (one sort instead of a dict entry each).
            all_keys = np.concatenate((self._keys_sorted, new))
            all_cols = np.concatenate(
                (self._cols_sorted, np.arange(start, self.n_cols, dtype=np.int32))
            )
            order = np.argsort(all_keys, kind="stable")
            self._keys_sorted, self._cols_sorted = all_keys[order], all_cols[order]
        else:
            for i, k in enumerate(new.tolist()):
                self._overflow[k] = start + i
        return self._lookup(keys)

    def analyze(self, docs: Sequence[Doc]) -> sp.csr_matrix:
        """Raw term weights ``log(1 + weighted count)`` of ``docs`` (rows) by column."""
        return self.assemble([self.tokens(docs)])

    def tokens(self, docs: Sequence[Doc]) -> Tokens:
        """The weighted tokens of ``docs`` and the labels they bring, without touching
        the vocabulary (so batches can be tokenised in parallel, then assembled)."""
        n = len(docs)
        titles = _fold_many(self, [d.title for d in docs])
        folded_tags = _fold_many(self, [_TAG_SEP.join(d.tags) for d in docs])
        tag_lists = [t.split(_TAG_SEP) if t else [] for t in folded_tags]
        tags = [t.replace(_TAG_SEP, " , ") for t in folded_tags]
        texts = _fold_many(self, [d.text for d in docs])
        out = Tokens(n)
        for corpus, weight in ((titles, TITLE_WEIGHT), (tags, TAG_WEIGHT), (texts, TEXT_WEIGHT)):
            tok = analyze_corpus(corpus, self._segmenter, [False] * n)
            out.rows.append(tok.text_index.astype(np.int64))
            out.keys.append(tok.keys.astype(np.int64))
            out.weights.append(np.full(tok.keys.size, weight, dtype=np.float32))
            out.latin.append(dict(tok.latin))
        w_rows, w_keys = self._word_tokens(titles, tag_lists, out.words)
        out.rows.append(w_rows)
        out.keys.append(w_keys)
        out.weights.append(np.full(w_keys.size, WORD_WEIGHT, dtype=np.float32))
        return out

    def assemble(self, batches: Sequence[Tokens]) -> sp.csr_matrix:
        """The raw weights of consecutive batches of tokens (one row per document, in
        order), adding their new terms and labels to the vocabulary."""
        n = sum(b.n for b in batches)
        if n == 0:
            return sp.csr_matrix((0, max(self.n_cols, 1)), dtype=np.float32)
        rows, keys, weights = [], [], []
        offset = 0
        for b in batches:
            rows += [r + offset for r in b.rows]
            keys += b.keys
            weights += b.weights
            offset += b.n
        # Labels in the order one batch of everything would give them (a later
        # occurrence of a key replaces an earlier one): corpus by corpus, then words.
        for corpus in range(3):
            for b in batches:
                self._pending_latin.update(b.latin[corpus])
        for b in batches:
            self._pending_words.update(b.words)
        all_keys = np.concatenate(keys)
        cols = self._columns(all_keys)
        self._label_pending(all_keys, cols)
        mat = sp.coo_matrix(
            (np.concatenate(weights), (np.concatenate(rows), cols)),
            shape=(n, self.n_cols),
        ).tocsr()
        mat.sum_duplicates()
        mat.data = np.log1p(mat.data).astype(np.float32)
        return mat

    def _word_tokens(
        self, titles: Sequence[str], tag_lists: Sequence[Sequence[str]], labels: dict[int, str]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        rows: list[int] = []
        keys: list[int] = []
        for i, (title, tags) in enumerate(zip(titles, tag_lists, strict=True)):
            words = {w for w in self._segmenter.cut(title) if len(w) >= 2 and is_cjk(w[0])}
            for t in tags:
                t = t.strip()
                if len(t) >= 2 and _CONCEPT_PREFIX not in t and any(is_cjk(c) for c in t):
                    words.add(t)
            for w in words:
                k = _word_key(w)
                labels[k] = w
                rows.append(i)
                keys.append(k)
        return np.array(rows, dtype=np.int64), np.array(keys, dtype=np.int64)

    def _label_pending(self, keys: npt.NDArray[np.int64], cols: I32) -> None:
        if not self._pending_words and not self._pending_latin:
            return
        pend = {**self._pending_latin, **self._pending_words}
        want = np.array(list(pend), dtype=np.int64)
        wcols = self._columns(want)
        for k, c in zip(want.tolist(), wcols.tolist(), strict=True):
            self.labels.setdefault(c, pend[k])
        self._labelled = np.zeros(0, dtype=np.bool_)  # rebuilt on next use
        self._nameable = (np.zeros(0, dtype=np.bool_), np.zeros(0, dtype=np.int64))
        self._pending_words.clear()
        self._pending_latin.clear()

    # --- fitted statistics and cached rows -------------------------------------
    def fit(self, matrices: Sequence[sp.csr_matrix]) -> None:
        """Take ``df``/``N`` from these analysed matrices (all the pool's listings)."""
        df = np.zeros(self.n_cols, dtype=np.float64)
        n = 0
        for m in matrices:
            counts = np.bincount(m.indices, minlength=self.n_cols)
            df[: counts.size] += counts[: self.n_cols]
            n += m.shape[0]
        self.df, self.n_docs = df, n
        self._fitted_idf = None
        self.weighted_rows.clear()  # their idf changed

    def row_store(self, side: str) -> RowStore:
        """The normalised rows of ``side`` under the fitted idf."""
        got = self.weighted_rows.get(side)
        if got is None:
            got = self.weighted_rows[side] = RowStore()
        return got

    def idf(self, local: sp.csr_matrix | None = None) -> npt.NDArray[np.float32]:
        """The idf of every column: fitted, or from ``local`` when the model is unfitted.

        A column added after fitting has df 0 (a rare term).
        """
        if self.df is not None:
            cached = self._fitted_idf
            if cached is not None and cached.size == self.n_cols:
                return cached
            df = np.zeros(self.n_cols, dtype=np.float64)
            df[: self.df.size] = self.df[: self.n_cols]
            n = self.n_docs
        elif local is not None:
            df = np.bincount(local.indices, minlength=self.n_cols).astype(np.float64)
            n = local.shape[0]
        else:
            df = np.zeros(self.n_cols, dtype=np.float64)
            n = 0
        idf = (np.log((n + 1.0) / (df + 1.0)) + 1.0).astype(np.float32)
        if self.df is not None:
            self._fitted_idf = idf  # reused until the vocabulary grows or a refit
        return idf

    def rows(self, side: str, items: Sequence[tuple[int, Doc]]) -> sp.csr_matrix:
        """Raw weights of listings ``(id, doc)`` on ``side`` ("need" | "offering"),
        from the cache where the text is unchanged, analysing the rest in one batch."""
        todo = [(i, d) for i, (lid, d) in enumerate(items) if not self._fresh(side, lid, d)]
        if todo:
            mat = self.analyze([d for _, d in todo])
            for r, (i, d) in enumerate(todo):
                lo, hi = mat.indptr[r], mat.indptr[r + 1]
                self._cache[(side, items[i][0])] = (d, mat.indices[lo:hi], mat.data[lo:hi])
        parts = [self._cache[(side, lid)] for lid, _ in items]
        lengths = np.fromiter((p[1].size for p in parts), dtype=np.int64, count=len(parts))
        indptr = np.concatenate(([0], np.cumsum(lengths)))
        indices = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, dtype=np.int32)
        data = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, dtype=np.float32)
        return sp.csr_matrix((data, indices, indptr), shape=(len(items), self.n_cols))

    def _fresh(self, side: str, lid: int, doc: Doc) -> bool:
        hit = self._cache.get((side, lid))
        return hit is not None and hit[0] == doc

    def remember(self, side: str, ids: Sequence[int], docs: Sequence[Doc], mat: sp.csr_matrix):
        """Put a batch analysed by :meth:`analyze` into the cache."""
        ind, dat, ptr = mat.indices, mat.data, mat.indptr
        for r, (lid, d) in enumerate(zip(ids, docs, strict=True)):
            self._cache[(side, lid)] = (d, ind[ptr[r] : ptr[r + 1]], dat[ptr[r] : ptr[r + 1]])

    def labelled(self, indices: I32, data: F32) -> dict[int, float]:
        """Column -> weight of the labelled terms (words, Latin words, concepts) of a row."""
        if self._labelled.size < self.n_cols:
            mask = np.zeros(self.n_cols, dtype=np.bool_)
            mask[np.fromiter(self.labels, dtype=np.int64, count=len(self.labels))] = True
            self._labelled = mask
        keep = self._labelled[indices]
        return dict(zip(indices[keep].tolist(), data[keep].tolist(), strict=True))

    def nameable(self) -> npt.NDArray[np.bool_]:
        """Per column: may a reason name it (a labelled term of two characters or more,
        not a stop word, not digits)? Rebuilt when the vocabulary grows."""
        return self._naming()[0]

    def label_order(self) -> npt.NDArray[np.int64]:
        """Per column: the rank of its label in sorted order (how reasons break ties
        between equally strong terms, the same in every process)."""
        return self._naming()[1]

    def names(self) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.bool_]]:
        """Per column (plus one None at the end, for index -1): its label, and whether
        the label is a Latin word. Rebuilt when the vocabulary grows."""
        self._naming()
        return self._names

    def _naming(self) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.int64]]:
        got = self._nameable
        if got[0].size == self.n_cols:
            return got
        mask = np.zeros(self.n_cols, dtype=np.bool_)
        order = np.zeros(self.n_cols, dtype=np.int64)
        names = np.empty(self.n_cols + 1, dtype=object)
        latin = np.zeros(self.n_cols + 1, dtype=np.bool_)
        for rank, (label, c) in enumerate(sorted((lb, c) for c, lb in self.labels.items())):
            order[c] = rank
            names[c] = label
            latin[c] = label.isascii()
            if len(label) >= 2 and label not in STOP_WORDS and not label.isdigit():
                mask[c] = True
        self._nameable = (mask, order)
        self._names = (names, latin)
        return self._nameable

    def shared_terms(self, need: dict[int, float], off: dict[int, float]) -> list[str]:
        """The terms both rows hold (as :meth:`labelled` gives them), strongest
        contribution to the cosine first (ties by label), without stop words, digits and
        terms inside one already named, at most TERMS_SHOWN."""
        if len(off) < len(need):
            common = [(c, w * need[c]) for c, w in off.items() if c in need]
        else:
            common = [(c, w * off[c]) for c, w in need.items() if c in off]
        common.sort(key=lambda cw: (-cw[1], self.labels[cw[0]]))
        out: list[str] = []
        for c, _ in common:
            label = self.labels[c]
            if len(label) < 2 or label in STOP_WORDS or label.isdigit():
                continue
            if not any(label in o or o in label for o in out):
                out.append(label)
                if len(out) == TERMS_SHOWN:
                    break
        return out


def _fold_many(model: TextModel, texts: Sequence[str]) -> list[str]:
    """Fold many texts with one normalisation (search's fast path for full-width text)
    and one regex pass over their join, instead of a call per text."""
    if not texts:
        return []
    norm, _ = normalize_joined(texts)
    folded = model._fold_re.sub(model._replace, norm) if model._fold_re is not None else norm
    parts = folded.split(SEP)[:-1]  # the join ends with SEP
    if len(parts) != len(texts):  # a text held SEP itself: fold one by one
        return [model.fold(t) for t in texts]
    return parts


def _merge_groups(
    groups: Sequence[Sequence[str]],
) -> tuple[dict[str, int], list[str]]:
    """Member (normalised) -> concept id, merging groups that share a member; and the
    concept's display name (its group's first member as written)."""
    parent = list(range(len(groups)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[str, int] = {}
    for gi, g in enumerate(groups):
        for t in g:
            m = normalize(t).strip()
            if not m:
                continue
            if m in seen:
                parent[find(gi)] = find(seen[m])
            else:
                seen[m] = gi
    roots: dict[int, int] = {}
    names: list[str] = []
    concept_of: dict[str, int] = {}
    for gi in range(len(groups)):
        r = find(gi)
        if r not in roots:
            roots[r] = len(names)
            names.append(str(groups[r][0]).strip())
    for m, gi in seen.items():
        concept_of[m] = roots[find(gi)]
    return concept_of, names


def _word_key(word: str) -> int:
    # Python's str hash: stable within a process (and its forked workers), which is
    # all a vocabulary that lives in memory needs.
    return _WORD_TAG | (hash(("w", word)) & _LOW42)


def _latin_key(word: str) -> int:
    from search.text import latin_key

    return latin_key(word)


@lru_cache(maxsize=8)
def model_for(synonyms: tuple[tuple[str, ...], ...]) -> TextModel:
    """The shared model for a synonym list (one per process), so its cache is reused."""
    return TextModel(synonyms)
