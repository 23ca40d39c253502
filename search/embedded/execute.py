"""Running a plan over segments: filters, relaxed matching, BM25F scoring, facets, top-k.

Each segment is scored with dense per-document arrays (at most 65,536 long),
so AND/OR of postings is fancy indexing and facets are ``np.bincount``. Ties are
broken by document id everywhere, so equal scores come back in a stable order.

Relaxed matching: a term's *informativeness* is its idf (one per concept,
whichever spelling matched) times its weight. A document matches when the terms
it holds add up to at least :data:`COVERAGE` of the informativeness of the
query's :data:`MEASURED_TERMS` most informative terms, so a listing missing one
word of a sentence is still found, while one sharing only 管理系统 or 平台 with a
query about something the pool does not hold is not. A document holds a term
wholly (a spelling of it) or in part: a concept a word of a problem phrasing
points to (``Alternative.cover``), or filing under a taxonomy code of the term's
concepts (``Term.categories``, always below half a term). Matches rank by BM25F
over the terms they hold, scaled by the share they cover.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from search.embedded.plan import Alternative, Group, Plan, osa_distance_at_most_one
from search.embedded.segment import K1, Segment, field_text, keyword
from search.text import is_cjk, normalize
from search.types import Eq, Filter, Range, Sort

Mask = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float32]
_SCORE_SCALE = 100_000  # scores closer than 1e-5 are ties (then ordered by id)
COVERAGE = 0.5  # share of the query's informativeness a match must hold
MEASURED_TERMS = 4  # the cut-off is measured over this many of the most informative terms
CATEGORY_FIELD = "categories"  # the keyword field holding documents' taxonomy codes
CATEGORY_IMPACT = 0.8  # a category match ranks as a word found once in a middle field
# A CJK word of three or more characters matches by its character pairs, which a
# document may hold apart (培训 in its category, 实训班 in its title for 培训班).
# When few documents are left, those a word held only so are read back and
# checked for the word as written; a long list keeps them (reading costs 25–50 µs
# a document, and a false pair there ranks below the listings that hold the word).
PHRASE_CHECK_MAX = 32
# A rare key's documents are looked up by binary search in the other keys' postings
# while they are this many times fewer than all of them (else counted; see _all_keys).
SEARCH_RATIO = 16


@dataclass
class View:
    """A segment and which of its documents are alive (``None``: all)."""

    segment: Segment
    alive: Mask | None = None

    def alive_mask(self) -> Mask:
        if self.alive is None:
            return np.ones(self.segment.n, dtype=np.bool_)
        return self.alive.copy()

    @property
    def live_count(self) -> int:
        return self.segment.n if self.alive is None else int(self.alive.sum())


class SegmentLexicon:
    """Latin words of a set of segments (for prefix completion and typos)."""

    def __init__(self, views: Sequence[View]) -> None:
        self._views = views

    @cached_property
    def _words(self) -> list[str]:
        words: set[str] = set()
        for v in self._views:
            words.update(v.segment.latin_words.tolist())
        return sorted(words)

    @cached_property
    def _deletes(self) -> dict[str, list[str]]:
        # Symmetric-delete index: words sharing a one-deletion variant are
        # candidates for distance one; verified with osa_distance_at_most_one.
        index: dict[str, list[str]] = {}
        for w in self._words:
            if len(w) >= 4 and w.isalpha():
                for v in {w, *(w[:i] + w[i + 1 :] for i in range(len(w)))}:
                    index.setdefault(v, []).append(w)
        return index

    def latin_prefix(self, prefix: str, limit: int) -> list[str]:
        words = self._words
        i = bisect.bisect_left(words, prefix)
        out: list[str] = []
        while i < len(words) and words[i].startswith(prefix) and len(out) < limit:
            out.append(words[i])
            i += 1
        return out

    def latin_near(self, word: str) -> list[str]:
        seen: set[str] = set()
        for v in {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}:
            seen.update(self._deletes.get(v, ()))
        return sorted(w for w in seen if osa_distance_at_most_one(word, w))


@dataclass
class Candidate:
    """A matching document chosen for the page, with its global order key."""

    view: int
    local: int
    score: float
    order: tuple[Any, ...]


@dataclass
class Outcome:
    total: int
    candidates: list[Candidate]
    facets: dict[str, dict[str, int]]


def execute(
    views: Sequence[View],
    plan: Plan,
    filters: Sequence[Filter],
    facets: Sequence[str],
    sort: Sort | None,
    limit: int,
) -> Outcome:
    """Match ``plan`` in every view; the best ``limit`` candidates in order, the
    total count and facet counts (over all matches, filters applied)."""
    idf = _idf(views, plan)
    bound = _score_bound(plan, idf)
    total = 0
    counts: dict[str, dict[str, int]] = {f: {} for f in facets}
    candidates: list[Candidate] = []
    for vi, view in enumerate(views):
        seg = view.segment
        if seg.n == 0:
            continue
        mask = view.alive_mask()
        _apply_filters(seg, mask, filters)
        scores = np.zeros(seg.n, dtype=np.float32)
        if plan.terms and mask.any():
            _score(seg, plan, idf, mask, scores)
        matched = np.flatnonzero(mask)
        if matched.size == 0:
            continue
        total += int(matched.size)
        unmatched = np.flatnonzero(~mask) if matched.size * 2 > seg.n and facets else None
        for name in facets:
            _count_facet(seg, name, mask, matched, unmatched, counts[name])
        candidates.extend(_top(vi, seg, matched, scores, sort, limit, bound, bool(plan.terms)))
    candidates.sort(key=lambda c: c.order)
    return Outcome(total, candidates[:limit], counts)


def _idf(views: Sequence[View], plan: Plan) -> list[float]:
    """BM25 idf of each term of the plan, over all segments.

    A term is one concept whatever alternative matched (MES or 制造执行系统), so
    its document frequency is that of the concept: the sum over alternatives of
    the rarest group's frequency (an alternative needs all its groups). Per-key
    idf would let a rare synonym outrank the word the person typed.
    """
    n_docs = max(sum(v.segment.n for v in views), 1)
    keys = sorted(plan.keys())
    ranges = sorted(
        {r for t in plan.terms for a in t.alternatives for g in a.groups for r in g.ranges}
    )
    df: dict[Any, int] = dict.fromkeys([*keys, *ranges], 0)
    wanted = np.asarray(keys, dtype=np.uint64)
    for v in views:
        seg = v.segment
        if seg.vocab.size == 0:
            continue
        if keys:
            pos = np.minimum(np.searchsorted(seg.vocab, wanted), seg.vocab.size - 1)
            found = seg.vocab[pos] == wanted
            lengths = seg.offsets[pos + 1] - seg.offsets[pos]
            for k, f, ln in zip(keys, found.tolist(), lengths.tolist(), strict=True):
                if f:
                    df[k] += ln
        for r in ranges:
            lo, hi = np.searchsorted(seg.vocab, np.asarray(r, dtype=np.uint64))
            df[r] += int(seg.offsets[hi] - seg.offsets[lo])
    out = []
    for term in plan.terms:
        term_df = 0
        # Spellings that cover the term only in part (a concept a word of a problem
        # phrasing points to) are evidence for it, not the term: they leave its idf.
        for alt in (a for a in term.alternatives if a.cover >= 1.0):
            group_df = [
                sum(df[k] for k in g.keys) + sum(df[r] for r in g.ranges) for g in alt.groups
            ]
            term_df += min(group_df, default=0)
        # A word no listing holds says no more than one a single listing holds: in a
        # sentence (「办公室电脑中了病毒」) such words are the person's situation, and at
        # the full idf of nothing two of them outweigh the words a listing answers.
        d = min(max(term_df, 1), n_docs)
        out.append(math.log(1 + (n_docs - d + 0.5) / (d + 0.5)))
    return out


def _alt_weight(alt: Alternative) -> float:
    # An alternative's score is the mean over its groups, so a long synonym
    # (7 bigrams) does not outweigh a short one (1 bigram) by its length.
    return alt.boost / max(len(alt.groups), 1)


def _score_bound(plan: Plan, idf: list[float]) -> float:
    """The highest raw score any document could reach (to normalise to 0–1)."""
    best = [
        max((a.boost for a in t.alternatives), default=0.0) * t.weight * (not t.bonus)
        for t in plan.terms
    ]
    return sum(b * i for b, i in zip(best, idf, strict=True)) * (K1 + 1)


def _informativeness(plan: Plan, idf: list[float]) -> list[float]:
    """What each term is worth towards coverage (0 for bonus terms)."""
    return [0.0 if t.bonus else t.weight * i for t, i in zip(plan.terms, idf, strict=True)]


def _measured(worth: list[float]) -> float:
    """The informativeness the cut-off is measured against: that of the
    :data:`MEASURED_TERMS` most informative terms. A sentence of eight words is
    not about eight things; a listing answering its main words is found."""
    return sum(sorted(worth, reverse=True)[:MEASURED_TERMS])


def _score(seg: Segment, plan: Plan, idf: list[float], mask: Mask, total: Floats) -> None:
    """Keep in ``mask`` the documents covering :data:`COVERAGE` of the query's
    informativeness and put their scores in ``total``.

    Terms go most informative first, so documents that can no longer reach the
    cut-off are dropped early (and a query about something absent stops there).
    """
    n = seg.n
    worth = _informativeness(plan, idf)
    need = COVERAGE * _measured(worth) - 1e-6
    order = sorted(range(len(plan.terms)), key=lambda i: -worth[i])
    covered = np.zeros(n, dtype=np.float32)
    left = sum(worth)
    # Per term: documents covering it only through words of 3+ CJK characters
    # matched by their pairs, with those words and the score they gave.
    unchecked: list[tuple[int, Mask, tuple[str, ...], Floats, Floats | None]] = []
    scratch = _Scratch(seg, plan)
    for ti in order:
        term, term_idf = plan.terms[ti], idf[ti]
        t_mask = np.zeros(n, dtype=np.bool_)  # documents covering the whole term
        t_part: Floats | None = None  # the share covered by the others, when any
        t_score = np.zeros(n, dtype=np.float32)
        p_mask: Mask | None = None  # documents holding a phrase alternative's pairs
        phrases: list[str] = []
        for alt in term.alternatives:
            if not alt.groups:
                continue
            docs, a_score = _alternative(seg, alt, scratch)
            # Documents that missed a group score nothing for this alternative.
            a_score *= np.float32(_alt_weight(alt) * term_idf * term.weight)
            t_score[docs] = np.maximum(t_score[docs], a_score)
            phrase = _phrase(alt)
            if alt.cover >= 1.0 and phrase:
                p_mask = np.zeros(n, dtype=np.bool_) if p_mask is None else p_mask
                p_mask[docs] = True
                phrases.append(phrase)
            elif alt.cover >= 1.0:
                t_mask[docs] = True
            else:
                t_part = np.zeros(n, dtype=np.float32) if t_part is None else t_part
                t_part[docs] = np.maximum(t_part[docs], np.float32(alt.cover))
        for code, share in term.categories:
            # Filed under the category of a concept the term names: part of the term,
            # ranked as a modest match would be.
            docs = _category_docs(seg, code)
            if docs.size:
                t_part = np.zeros(n, dtype=np.float32) if t_part is None else t_part
                t_part[docs] = np.maximum(t_part[docs], np.float32(share))
                impact = np.float32(share * CATEGORY_IMPACT * term_idf * term.weight)
                t_score[docs] = np.maximum(t_score[docs], impact)
        total += t_score
        if term.bonus:
            continue
        if p_mask is not None:
            only = p_mask & ~t_mask
            t_mask |= p_mask
            if only.any():
                unchecked.append((ti, only, tuple(phrases), t_score, t_part))
        if t_part is None:
            covered += np.float32(worth[ti]) * t_mask
        else:
            covered += np.float32(worth[ti]) * np.maximum(t_part, t_mask)
        left -= worth[ti]
        mask &= covered + np.float32(left) >= need  # can still reach the cut-off
        if not mask.any():
            return
    if unchecked:
        _check_phrases(seg, unchecked, worth, mask, covered, total)
        mask &= covered >= need
    whole = sum(worth)
    if whole > 0:
        # Rank by BM25F over the terms held, scaled by the share of the query they cover.
        total *= np.minimum(covered / np.float32(whole), 1.0)


def _phrase(alt: Alternative) -> str:
    """The CJK word of three or more characters an alternative spells, if it is
    matched by its character pairs alone (else empty)."""
    if len(alt.groups) < 2 or len(alt.marks) != 1 or any(g.ranges for g in alt.groups):
        return ""
    text = alt.marks[0].text
    return text if len(text) >= 3 and all(is_cjk(c) for c in text) else ""


def _check_phrases(
    seg: Segment,
    unchecked: list[tuple[int, Mask, tuple[str, ...], Floats, Floats | None]],
    worth: list[float],
    mask: Mask,
    covered: Floats,
    total: Floats,
) -> None:
    """Take back the coverage and score of terms a document held only as pairs
    apart (see :data:`PHRASE_CHECK_MAX`), when few documents are left to check."""
    todo = [
        (ti, np.flatnonzero(only & mask), phrases, sc, part)
        for ti, only, phrases, sc, part in unchecked
    ]
    if any(found.size > PHRASE_CHECK_MAX for _, found, _, _, _ in todo):
        return  # too many whatever the others hold (and no sort of a broad match)
    docs = np.unique(np.concatenate([found for _, found, _, _, _ in todo]))
    if not docs.size or docs.size > PHRASE_CHECK_MAX:
        return
    texts = {d: _document_text(seg, d) for d in docs.tolist()}
    for ti, found, phrases, t_score, t_part in todo:
        for d in found.tolist():
            if any(p in texts[d] for p in phrases):
                continue
            share = float(t_part[d]) if t_part is not None else 0.0
            covered[d] -= np.float32(worth[ti] * (1.0 - share))
            total[d] -= t_score[d] * np.float32(1.0 - share)


def _document_text(seg: Segment, local: int) -> str:
    """A stored document's text, field by field (a word never spans two fields)."""
    doc = seg.document(local)
    return "\n".join(normalize(field_text(v)) for v in doc.values() if isinstance(v, str | list))


_CATEGORY_DOCS: dict[tuple[int, str], tuple[Any, npt.NDArray[np.intp]]] = {}


def _category_docs(seg: Segment, code: str) -> npt.NDArray[np.intp]:
    """Documents of ``seg`` filed under taxonomy ``code``, cached per segment column
    (segments never change, and a handful of codes recur across queries)."""
    kw = seg.keywords.get(CATEGORY_FIELD)
    if kw is None or not kw.values.size:
        return np.zeros(0, dtype=np.intp)
    key = (id(kw.table), code)
    cached = _CATEGORY_DOCS.get(key)
    if cached is None or cached[0] is not kw.table:
        docs = np.flatnonzero(_match_values(seg, CATEGORY_FIELD, (code,)))
        if len(_CATEGORY_DOCS) > 4096:
            _CATEGORY_DOCS.clear()
        cached = (kw.table, docs)  # the column is held, so its id is not reused
        _CATEGORY_DOCS[key] = cached
    return cached[1]


class _Scratch:
    """What one segment's query reuses across its alternatives: where each key of
    the plan lies in the postings (one ``searchsorted`` for them all) and zeroed
    per-document arrays, so the work is in proportion to the postings read, not
    to the segment's size."""

    def __init__(self, seg: Segment, plan: Plan) -> None:
        self.best = np.zeros(seg.n, dtype=np.float32)  # a group's best impact per document
        self.seen = np.zeros(seg.n, dtype=np.uint16)  # in how many groups a document was found
        self.spans: dict[int, tuple[int, int]] = {}  # key -> its postings' slice
        keys = sorted(plan.keys())
        if keys and seg.vocab.size:
            wanted = np.asarray(keys, dtype=np.uint64)
            pos = np.minimum(np.searchsorted(seg.vocab, wanted), seg.vocab.size - 1)
            found = (seg.vocab[pos] == wanted).tolist()
            lo, hi = seg.offsets[pos].tolist(), seg.offsets[pos + 1].tolist()
            for k, f, a, b in zip(keys, found, lo, hi, strict=True):
                if f:
                    self.spans[k] = (a, b)


def _alternative(
    seg: Segment, alt: Alternative, scratch: _Scratch
) -> tuple[npt.NDArray[np.intp], Floats]:
    """Documents holding every group of ``alt`` and the sum of their groups' impacts
    (added group by group in float32, as dense arrays would)."""
    if len(alt.groups) > 1 and all(len(g.keys) == 1 and not g.ranges for g in alt.groups):
        return _all_keys(seg, [scratch.spans.get(g.keys[0]) for g in alt.groups], scratch)
    groups = [_group(seg, g, scratch) for g in alt.groups]
    if len(groups) == 1:
        return groups[0]
    docs = min(groups, key=lambda g: g[0].size)[0]
    if docs.size:
        seen = scratch.seen
        for g_docs, _ in groups:
            seen[g_docs] += 1
        docs = docs[seen[docs] == len(groups)]
        for g_docs, _ in groups:
            seen[g_docs] = 0
    total = np.zeros(docs.size, dtype=np.float32)
    if docs.size:
        best = scratch.best
        for g_docs, g_score in groups:
            best[g_docs] = g_score
            total += best[docs]
            best[g_docs] = 0
    return docs, total


def _all_keys(
    seg: Segment, spans: list[tuple[int, int] | None], scratch: _Scratch
) -> tuple[npt.NDArray[np.intp], Floats]:
    """Documents holding every key (given by its postings' slice; ``None``: absent
    from the segment) and the sum of their impacts in the keys' order.

    A key's postings list its documents in increasing order (segment.py sorts
    them so), so a rare key's documents are looked up in the others' by binary
    search; when all are common, counting in the scratch arrays is cheaper.
    """
    if any(s is None for s in spans):
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float32)
    present = [s for s in spans if s is not None]
    lo, hi = min(present, key=lambda s: s[1] - s[0])
    if (hi - lo) * SEARCH_RATIO > sum(b - a for a, b in present):
        return _all_keys_counted(seg, present, (lo, hi), scratch)
    docs = seg.post_doc[lo:hi]
    for a, b in present:
        if docs.size == 0:
            break
        if (a, b) == (lo, hi):
            continue
        held = seg.post_doc[a:b]
        pos = np.minimum(np.searchsorted(held, docs), held.size - 1)
        docs = docs[held[pos] == docs]
    total = np.zeros(docs.size, dtype=np.float32)
    if docs.size:
        for a, b in present:
            total += seg.post_imp[a + np.searchsorted(seg.post_doc[a:b], docs)]
    return docs.astype(np.intp), total


def _all_keys_counted(
    seg: Segment, present: list[tuple[int, int]], rarest: tuple[int, int], scratch: _Scratch
) -> tuple[npt.NDArray[np.intp], Floats]:
    """:func:`_all_keys` by counting in how many keys each document is found."""
    seen, best = scratch.seen, scratch.best
    for a, b in present:
        seen[seg.post_doc[a:b]] += 1
    docs = seg.post_doc[rarest[0] : rarest[1]].astype(np.intp)
    docs = docs[seen[docs] == len(present)]
    for a, b in present:
        seen[seg.post_doc[a:b]] = 0
    total = np.zeros(docs.size, dtype=np.float32)
    if docs.size:
        for a, b in present:
            held = seg.post_doc[a:b]
            best[held] = seg.post_imp[a:b]
            total += best[docs]
            best[held] = 0
    return docs, total


def _group(seg: Segment, group: Group, scratch: _Scratch) -> tuple[npt.NDArray[np.intp], Floats]:
    """Documents holding any key of ``group`` (each once) and their best impact."""
    vocab = seg.vocab
    found: list[tuple[npt.NDArray[np.intp], npt.NDArray[Any]]] = []
    for key in group.keys:
        span = scratch.spans.get(key)
        if span is not None:
            lo, hi = span
            found.append((seg.post_doc[lo:hi].astype(np.intp), seg.post_imp[lo:hi]))
    ranged: list[tuple[npt.NDArray[np.intp], npt.NDArray[Any]]] = []
    for r in group.ranges:
        a, b = np.searchsorted(vocab, np.asarray(r, dtype=np.uint64))
        lo, hi = int(seg.offsets[a]), int(seg.offsets[b])
        if hi > lo:
            ranged.append((seg.post_doc[lo:hi].astype(np.intp), seg.post_imp[lo:hi]))
    if not ranged and len(found) == 1:
        # One key: every document appears once in its postings.
        return found[0][0], found[0][1].astype(np.float32)
    if not ranged and not found:
        return np.zeros(0, dtype=np.intp), np.zeros(0, dtype=np.float32)
    best = scratch.best
    for docs, imp in found:
        best[docs] = np.maximum(best[docs], imp)
    for docs, imp in ranged:
        # A range spans many keys, so a document may appear more than once.
        np.maximum.at(best, docs, imp.astype(np.float32))
    # Each document once, without sorting: a document is new until marked seen.
    seen = scratch.seen
    parts = []
    for docs, _ in [*found, *ranged]:
        new = np.unique(docs[seen[docs] == 0]) if ranged else docs[seen[docs] == 0]
        seen[new] = 1
        parts.append(new)
    union = np.concatenate(parts)
    seen[union] = 0
    score = best[union]
    best[union] = 0
    return union, score


def _apply_filters(seg: Segment, mask: Mask, filters: Sequence[Filter]) -> None:
    for f in filters:
        if not mask.any():
            return
        if isinstance(f, Range):
            num = seg.numbers.get(f.field)
            if num is None:
                mask[:] = False
                continue
            ok = ~np.isnan(num)
            if f.gte is not None:
                ok &= num >= f.gte
            if f.lte is not None:
                ok &= num <= f.lte
            mask &= ok
        else:
            values = (f.value,) if isinstance(f, Eq) else f.values
            mask &= _match_values(seg, f.field, values)


def _match_values(seg: Segment, name: str, values: Sequence[Any]) -> Mask:
    out = np.zeros(seg.n, dtype=np.bool_)
    numbers = [float(v) for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    num = seg.numbers.get(name)
    if numbers and num is not None:
        out |= np.isin(num, np.asarray(numbers))
    kw = seg.keywords.get(name)
    if kw is not None and kw.values.size:
        wanted = np.asarray([keyword(v) for v in values], dtype=kw.values.dtype)
        pos = np.minimum(np.searchsorted(kw.values, wanted), kw.values.size - 1)
        codes = pos[kw.values[pos] == wanted]
        if codes.size == 1:
            out |= (kw.table == codes[0]).any(axis=1)
        elif codes.size:
            out |= np.isin(kw.table, codes).any(axis=1)
    return out


def _count_facet(
    seg: Segment,
    name: str,
    mask: Mask,
    matched: npt.NDArray[np.intp],
    unmatched: npt.NDArray[np.intp] | None,
    counts: dict[str, int],
) -> None:
    kw = seg.keywords.get(name)
    if kw is not None and kw.values.size:
        size = kw.values.size + 1
        if unmatched is not None:
            # Broad matches: count what did not match and subtract from the
            # segment's totals (browsing everything then costs nothing).
            totals = _totals(kw, size)
            hits = totals - np.bincount(kw.table[unmatched].ravel() + 1, minlength=size)
        else:
            hits = np.bincount(kw.table[matched].ravel() + 1, minlength=size)
        hits = hits[1:]
        nz = np.flatnonzero(hits)
        for value, c in zip(kw.values[nz].tolist(), hits[nz].tolist(), strict=True):
            counts[value] = counts.get(value, 0) + c
    num = seg.numbers.get(name)
    if num is not None:
        vals, n = np.unique(num[mask & ~np.isnan(num)], return_counts=True)
        for v, c in zip(vals.tolist(), n.tolist(), strict=True):
            label = str(int(v)) if float(v).is_integer() else str(v)
            counts[label] = counts.get(label, 0) + int(c)


_TOTALS: dict[int, npt.NDArray[np.int64]] = {}


def _totals(kw: Any, size: int) -> npt.NDArray[np.int64]:
    """Value counts over a whole keyword column, cached per column object."""
    key = id(kw.table)
    cached = _TOTALS.get(key)
    if cached is None or cached.size != size:
        cached = np.bincount(kw.table.ravel() + 1, minlength=size)
        if len(_TOTALS) > 4096:
            _TOTALS.clear()
        _TOTALS[key] = cached
    return cached


def _top(
    vi: int,
    seg: Segment,
    matched: npt.NDArray[np.intp],
    scores: Floats,
    sort: Sort | None,
    limit: int,
    bound: float,
    has_terms: bool,
) -> list[Candidate]:
    """This segment's best ``limit`` matches, each with its global order key."""
    q = np.round(scores[matched].astype(np.float64) * _SCORE_SCALE).astype(np.int64)
    if sort is not None and sort.field in seg.ranks:
        asc, desc = seg.ranks[sort.field]
        local_key = (asc if sort.direction == "asc" else desc)[matched].astype(np.int64)
    else:
        local_key = ((1 << 40) - q) << 20 | seg.id_rank[matched].astype(np.int64)
    if matched.size > limit:
        pick = np.argpartition(local_key, limit - 1)[:limit]
    else:
        pick = np.arange(matched.size)
    out: list[Candidate] = []
    num = seg.numbers.get(sort.field) if sort is not None else None
    for p in pick.tolist():
        local = int(matched[p])
        raw = float(scores[local])
        score = min(1.0, raw / bound) if has_terms and bound > 0 else 1.0
        ident = str(seg.ids[local])
        if sort is not None:
            value = float(num[local]) if num is not None else math.nan
            missing = math.isnan(value)
            signed = 0.0 if missing else (value if sort.direction == "asc" else -value)
            order: tuple[Any, ...] = (missing, signed, ident)
        else:
            order = (-int(q[p]), ident)
        out.append(Candidate(vi, local, score, order))
    return out
