"""Full recompute: the top pairs for every open need and every public offering.

Never all pairs: needs are blocked by (kind, category branch, province); a block's
candidates are the offerings of that kind and branch serving the province (by
region, by one of the province's parks, or 全国). A block — split into chunks of at
most ``MAX_CELLS`` pairs — is one unit of work: one sparse TF-IDF product, the hard
rules as boolean masks, the soft rules as arrays, and top-k by ``argpartition`` in
both directions. Units run on ``workers`` forked processes. Each need lies in one
block, so its top-k is final there; an offering's candidates from every block it
appears in are merged by the parent.

The scores, the points of every rule and the capability reasons' term columns are
computed here (on the workers); the ``Match`` objects with their parts are built in
bulk at first read (:mod:`matching.reasons`).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matching.arrays import (
    CODES,
    Codes,
    NeedArrays,
    OfferingArrays,
    branch_of,
    need_arrays,
    offering_arrays,
    today_ordinal,
)
from matching.context import Context
from matching.engine import need_doc, offering_doc, weigh
from matching.reasons import ReasonBuilder, nameable_rows, term_columns
from matching.rules import NATIONWIDE, SOFT_RULE_NAMES
from matching.scoring import hard_ok, score10, soft_points
from matching.text import TERMS_SHOWN, Doc, TextModel, Tokens
from matching.types import Match, NeedRecord, OfferingRecord

MAX_CELLS = 1_500_000  # pairs scored at once in one unit (memory ~ 100 bytes a pair)
I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I16 = npt.NDArray[np.int16]
I8 = npt.NDArray[np.int8]
F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
Progress = Callable[[int, int], None]


@dataclass
class _State:
    """What forked workers read (inherited, never pickled)."""

    needs: Sequence[NeedRecord]
    offs: Sequence[OfferingRecord]
    n: NeedArrays
    o: OfferingArrays
    xn: sp.csr_matrix
    xo: sp.csr_matrix
    units: list[tuple[I64, I64]]
    ctx: Context
    fin: int
    trn: int
    excluded: dict[int, set[int]] = field(default_factory=dict)  # need idx -> offering ids
    limit: int = 20


_STATE: _State | None = None


@dataclass
class _Picks:
    """Pairs a unit selected, compactly (the parent merges millions of them): global
    need/offering indices, score in tenths, cosine (float32, as the product gives it)
    and the region scope (2 the offering names the need's park, 1 its province, 0
    nationwide). The points of each rule are computed once the final pairs are known."""

    need: I32
    off: I32
    s10: I16
    cos: F32
    scope: I8


def _empty_picks() -> _Picks:
    return _Picks(
        np.zeros(0, np.int32),
        np.zeros(0, np.int32),
        np.zeros(0, np.int16),
        np.zeros(0, np.float32),
        np.zeros(0, np.int8),
    )


def _run_unit(u: int) -> tuple[_Picks, _Picks]:
    """Score one block: the column side (offerings) is prepared once, the needs are
    scored in chunks of at most MAX_CELLS pairs."""
    st = _STATE
    assert st is not None
    rows_all, cols = st.units[u]
    offs = st.offs
    xo_t = st.xo[cols].T.tocsr()
    col_list = cols.tolist()
    province = st.needs[int(rows_all[0])].province
    prov_ok = np.fromiter((province in offs[c].regions for c in col_list), np.bool_, cols.size)
    parks, park_inv = np.unique(st.n.park[rows_all], return_inverse=True)
    by_park = np.zeros((parks.size, cols.size), dtype=np.bool_)
    named = [c for c, k in enumerate(col_list) if offs[k].park_ids]
    for p_i, park in enumerate(parks.tolist()):
        for c in named:
            by_park[p_i, c] = park in offs[col_list[c]].park_ids
    serves_col = st.o.nationwide[cols] | prov_ok
    # Ties on score go to the lower id: the key adds the reversed rank of the id.
    m = cols.size
    o_rev = (m - 1 - _id_rank(st.o.ids[cols])).astype(np.int32)
    today = today_ordinal(st.ctx.today)
    off_ids = st.o.ids[cols]
    j = cols[None, :]
    picks_n: list[_Picks] = []
    picks_o: list[_Picks] = []
    step = max(1, MAX_CELLS // max(m, 1))
    for s in range(0, rows_all.size, step):
        rows = rows_all[s : s + step]
        i = rows[:, None]
        cos32 = (st.xn[rows] @ xo_t).toarray()
        cos = cos32.astype(np.float64)
        park_ok = by_park[park_inv.reshape(-1)[s : s + step]]
        ok = hard_ok(st.n, st.o, i, j, serves_col[None, :] | park_ok, st.fin, st.trn, today)
        if st.excluded:
            for r, g in enumerate(rows.tolist()):
                ex = st.excluded.get(g)
                if ex:
                    ok[r] &= ~np.isin(off_ids, list(ex))
        s10 = score10(st.n, st.o, i, j, park_ok, cos, st.ctx.weights, st.fin, today)
        ok &= s10 > 0
        n = rows.size
        n_rev = (n - 1 - _id_rank(st.n.ids[rows])).astype(np.int32)
        # int32 keys while they fit (scores stay below 8,001 tenths: weights <= 100 each)
        kt = np.int32 if 8_001 * max(m, n) < 2**31 else np.int64
        s10k: npt.NDArray[Any] = s10.astype(kt, copy=False)
        key_n = np.where(ok, s10k * m + o_rev[None, :], kt(-1))
        key_o = np.where(ok, s10k * n + n_rev[:, None], kt(-1))
        for (rr, cc), out in (
            (_top(key_n, 1, st.limit), picks_n),
            (_top(key_o, 0, st.limit), picks_o),
        ):
            scope = np.where(park_ok[rr, cc], 2, np.where(prov_ok[cc], 1, 0)).astype(np.int8)
            out.append(
                _Picks(
                    rows[rr].astype(np.int32),
                    cols[cc].astype(np.int32),
                    s10[rr, cc].astype(np.int16),
                    cos32[rr, cc],
                    scope,
                )
            )
    return _cat(picks_n), _cat(picks_o)


def _id_rank(ids: I64) -> I64:
    """The rank of each id among ``ids`` (0 for the smallest)."""
    rank = np.empty(ids.size, dtype=np.int64)
    rank[np.argsort(ids, kind="stable")] = np.arange(ids.size)
    return rank


def _top(key: I64, axis: int, k: int) -> tuple[I64, I64]:
    """Row and column indices of the ``k`` best valid cells along ``axis``
    (1: per row, 0: per column)."""
    size = key.shape[axis]
    if size == 0 or k <= 0:
        z = np.zeros(0, dtype=np.int64)
        return z, z
    kk = min(k, size)
    if kk < size:
        part = np.argpartition(-key, kk - 1, axis=axis)
        idx = part[:, :kk] if axis == 1 else part[:kk, :]
    elif axis == 1:
        idx = np.broadcast_to(np.arange(size)[None, :], (key.shape[0], kk))
    else:
        idx = np.broadcast_to(np.arange(size)[:, None], (kk, key.shape[1]))
    if axis == 1:
        r = np.broadcast_to(np.arange(key.shape[0])[:, None], idx.shape).reshape(-1)
        c = idx.reshape(-1)
    else:
        r = idx.reshape(-1)
        c = np.broadcast_to(np.arange(key.shape[1])[None, :], idx.shape).reshape(-1)
    keep = key[r, c] >= 0
    return r[keep].astype(np.int64), c[keep].astype(np.int64)


@dataclass
class _Table:
    """Every selected pair once, with what a Match needs."""

    need: I64
    off: I64
    score: F64
    cos: F64
    pts: F64
    scope: I64


class _LazyMatches(Mapping[int, list[Match]]):
    """listing id -> its ranked matches, built (and kept) on first access."""

    def __init__(self, owner: AllMatches, order: dict[int, I64]) -> None:
        self._owner = owner
        self._order = order
        self._built: dict[int, list[Match]] = {}

    def __getitem__(self, key: int) -> list[Match]:
        got = self._built.get(key)
        if got is None:
            every = self._owner.every()
            got = [every[p] for p in self._order[key].tolist()]
            self._built[key] = got
        return got

    def __iter__(self) -> Iterator[int]:
        return iter(self._order)

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, key: object) -> bool:
        return key in self._order


class AllMatches:
    """The result of :func:`recompute_all`.

    ``for_need[need_id]`` — the top ``limit`` matches of every open need (an empty
    list when none passes), ``for_offering[offering_id]`` — the top ``limit`` needs
    of every public offering. Both are read-only mappings whose lists are built on
    first access and then kept; a pair in both lists is the same :class:`Match`.
    ``pairs`` is the number of distinct pairs.
    """

    def __init__(
        self,
        needs: Sequence[NeedRecord],
        offs: Sequence[OfferingRecord],
        ctx: Context,
        xn: sp.csr_matrix,
        xo: sp.csr_matrix,
        table: _Table,
        need_order: dict[int, I64],
        off_order: dict[int, I64],
    ) -> None:
        self._needs, self._offs, self._ctx = needs, offs, ctx
        self._xn, self._xo = xn, xo
        self._t = table
        self._all: list[Match] | None = None
        self.term_cols: I64 | None = None  # set by recompute_all (computed in parallel)
        self._need_order, self._off_order = need_order, off_order
        self.for_need: Mapping[int, list[Match]] = _LazyMatches(self, need_order)
        self.for_offering: Mapping[int, list[Match]] = _LazyMatches(self, off_order)
        self.pairs = int(table.need.size)

    def every(self) -> list[Match]:
        """The Match of every pair row, built in bulk (with their parts) on first use."""
        if self._all is None:
            t, ctx = self._t, self._ctx
            builder = ReasonBuilder(
                self._needs,
                self._offs,
                ctx.enterprises,
                ctx.providers,
                ctx.model,
                self._xn,
                self._xo,
                ctx.today,
            )
            builder.term_cols = self.term_cols
            self._all = builder.matches(t.need, t.off, t.score, t.cos, t.pts, t.scope)
        return self._all

    def match(self, p: int) -> Match:
        """The Match of pair row ``p``."""
        return self.every()[p]

    def ranks(self) -> tuple[I64, I64]:
        """Per pair row (the order of :meth:`every`): its rank in its need's list and in
        its offering's list (1 = best; 0 where the pair is not in that list)."""
        out = []
        for orders in (self._need_order, self._off_order):
            rank = np.zeros(self.pairs, dtype=np.int64)
            for rows in orders.values():
                rank[rows] = np.arange(1, rows.size + 1)
            out.append(rank)
        return out[0], out[1]


def _units(
    needs: Sequence[NeedRecord],
    offs: Sequence[OfferingRecord],
    n_arr: NeedArrays,
    o_arr: OfferingArrays,
    codes: Codes,
) -> list[tuple[I64, I64]]:
    """(need rows, offering columns) of every block, the biggest first."""
    park_province = {d.park_id: d.province for d in needs}
    nation: dict[tuple[int, int], list[int]] = {}
    by_prov: dict[tuple[int, int, str], list[int]] = {}
    for k, o in enumerate(offs):
        if not o.public:
            continue
        kb = (int(o_arr.kind[k]), int(o_arr.branch[k]))
        if o_arr.nationwide[k]:
            nation.setdefault(kb, []).append(k)
            continue
        places = {r for r in o.regions if r != NATIONWIDE}
        places |= {park_province[p] for p in o.park_ids if p in park_province}
        for p in places:
            by_prov.setdefault((*kb, p), []).append(k)
    blocks: dict[tuple[int, int, str], list[int]] = {}
    for k, d in enumerate(needs):
        if d.open:
            blocks.setdefault((int(n_arr.kind[k]), int(n_arr.branch[k]), d.province), []).append(k)
    units: list[tuple[I64, I64]] = []
    for (kind, branch, prov), rows in blocks.items():
        cols = np.unique(
            np.array(
                nation.get((kind, branch), []) + by_prov.get((kind, branch, prov), []), np.int64
            )
        )
        if cols.size == 0:
            continue
        units.append((np.array(rows, dtype=np.int64), cols))
    units.sort(key=lambda u: -(u[0].size * u[1].size))
    return units


def recompute_all(
    offerings: Iterable[OfferingRecord],
    needs: Iterable[NeedRecord],
    ctx: Context,
    limit: int = 20,
    workers: int = 2,
    progress: Progress | None = None,
) -> AllMatches:
    """Top ``limit`` offerings for every open need and top ``limit`` needs for every
    public offering, with the same scores :func:`rank_for_need` gives.

    Fits the context's text model (idf) on the whole pool and caches every
    listing's features in it, so later single-listing rankings reuse both.
    ``progress(done, total)`` is called after the features and after each unit of
    work. ``workers`` > 1 forks that many processes (POSIX); 1 runs inline.
    """
    global _STATE
    offs = list({o.id: o for o in offerings}.values())
    nds = list({d.id: d for d in needs}.values())
    model = ctx.model
    raw_n, raw_o = _analyze(
        model, [need_doc(d) for d in nds], [offering_doc(o) for o in offs], workers
    )
    width = model.n_cols
    raw_n = sp.csr_matrix((raw_n.data, raw_n.indices, raw_n.indptr), shape=(len(nds), width))
    raw_o = sp.csr_matrix((raw_o.data, raw_o.indices, raw_o.indptr), shape=(len(offs), width))
    model.fit([raw_n, raw_o])
    model.remember("need", [d.id for d in nds], [need_doc(d) for d in nds], raw_n)
    model.remember("offering", [o.id for o in offs], [offering_doc(o) for o in offs], raw_o)
    idf = model.idf()
    xn, xo = weigh(raw_n, idf, width), weigh(raw_o, idf, width)
    _remember_weighted(model, "need", nds, xn)
    _remember_weighted(model, "offering", offs, xo)
    codes = CODES
    n_arr = need_arrays(nds, ctx.enterprises, codes)
    o_arr = offering_arrays(offs, ctx.providers, codes)
    units = _units(nds, offs, n_arr, o_arr, codes)
    excluded: dict[int, set[int]] = {}
    if ctx.excluded:
        pos = {d.id: k for k, d in enumerate(nds)}
        for nid, oid in ctx.excluded:
            if nid in pos:
                excluded.setdefault(pos[nid], set()).add(oid)
    fin, trn = codes.ids.get("finance", -2), codes.ids.get("training", -2)
    _STATE = _State(nds, offs, n_arr, o_arr, xn, xo, units, ctx, fin, trn, excluded, limit)
    total_units = len(units)
    if progress:
        progress(0, total_units)
    results: list[tuple[_Picks, _Picks]] = []
    try:
        if workers > 1 and total_units > 1 and hasattr(os, "fork"):
            mp = multiprocessing.get_context("fork")
            with mp.Pool(min(workers, total_units)) as pool:
                for res in pool.imap_unordered(_run_unit, range(total_units)):
                    results.append(res)
                    if progress:
                        progress(len(results), total_units)
        else:
            for u in range(total_units):
                results.append(_run_unit(u))
                if progress:
                    progress(len(results), total_units)
    finally:
        _STATE = None
    result = _assemble(nds, offs, ctx, xn, xo, n_arr, o_arr, results, limit, fin)
    result.term_cols = _term_columns(model, xn, xo, result._t, workers)
    return result


_DOCS: tuple[TextModel, list[list[Doc]]] | None = None
TOKENS_PER_TASK = 10_000  # documents a worker tokenises at once
TOKENS_INLINE_BELOW = 20_000  # fewer documents than this: not worth forking


def _tokens_task(task: tuple[int, int, int]) -> Tokens:
    assert _DOCS is not None
    model, sides = _DOCS
    side, lo, hi = task
    return model.tokens(sides[side][lo:hi])


def _analyze(
    model: TextModel, need_docs: list[Doc], off_docs: list[Doc], workers: int
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """The raw weights of both sides, tokenised on ``workers`` forked processes (the
    tokens are assembled here, needs first, exactly as one process would)."""
    global _DOCS
    if (
        workers <= 1
        or len(need_docs) + len(off_docs) < TOKENS_INLINE_BELOW
        or not hasattr(os, "fork")
    ):
        return model.analyze(need_docs), model.analyze(off_docs)
    sides = [need_docs, off_docs]
    tasks = [
        (side, lo, min(lo + TOKENS_PER_TASK, len(docs)))
        for side, docs in enumerate(sides)
        for lo in range(0, len(docs), TOKENS_PER_TASK)
    ]
    _DOCS = (model, sides)
    try:
        mp = multiprocessing.get_context("fork")
        with mp.Pool(min(workers, len(tasks))) as pool:
            got = pool.map(_tokens_task, tasks)
    finally:
        _DOCS = None
    by_side: list[list[Tokens]] = [[], []]
    for (side, _, _), tokens in zip(tasks, got, strict=True):
        by_side[side].append(tokens)
    return model.assemble(by_side[0]), model.assemble(by_side[1])


_TERMS: tuple[TextModel, sp.csr_matrix, sp.csr_matrix, I64, I64] | None = None
TERMS_PER_TASK = 100_000


def _terms_task(lo: int) -> tuple[int, I64]:
    assert _TERMS is not None
    model, xn, xo, ni, oi = _TERMS
    hi = lo + TERMS_PER_TASK
    return lo, term_columns(model, xn, xo, ni[lo:hi], oi[lo:hi], nameable_only=True)


def _term_columns(
    model: TextModel, xn: sp.csr_matrix, xo: sp.csr_matrix, t: _Table, workers: int
) -> I64:
    """The capability reasons' term columns of every pair in ``t`` (see
    :func:`matching.reasons.term_columns`), on ``workers`` forked processes."""
    global _TERMS
    out = np.full((t.need.size, TERMS_SHOWN), -1, dtype=np.int64)
    rows = np.flatnonzero(t.pts[:, SOFT_RULE_NAMES.index("capability")] > 0)
    if rows.size == 0:
        return out
    # Built once here, inherited by the workers.
    _TERMS = (model, nameable_rows(model, xn), nameable_rows(model, xo), t.need[rows], t.off[rows])
    starts = list(range(0, rows.size, TERMS_PER_TASK))
    try:
        if workers > 1 and len(starts) > 1 and hasattr(os, "fork"):
            mp = multiprocessing.get_context("fork")
            with mp.Pool(min(workers, len(starts))) as pool:
                for lo, cols in pool.imap_unordered(_terms_task, starts):
                    out[rows[lo : lo + cols.shape[0]]] = cols
        else:
            for lo in starts:
                _, cols = _terms_task(lo)
                out[rows[lo : lo + cols.shape[0]]] = cols
    finally:
        _TERMS = None
    return out


def _remember_weighted(
    model: TextModel,
    side: str,
    records: Sequence[Any],
    x: sp.csr_matrix,
) -> None:
    """Keep the normalised rows for the single-listing rankings that follow."""
    model.row_store(side).load(records, x)


def _cat(picks: list[_Picks]) -> _Picks:
    if not picks:
        return _empty_picks()
    return _Picks(
        np.concatenate([p.need for p in picks]),
        np.concatenate([p.off for p in picks]),
        np.concatenate([p.s10 for p in picks]),
        np.concatenate([p.cos for p in picks]),
        np.concatenate([p.scope for p in picks]),
    )


def _take(p: _Picks, at: I64) -> _Picks:
    return _Picks(p.need[at], p.off[at], p.s10[at], p.cos[at], p.scope[at])


def _ranked(owner: I32, s10: I16, tie: I64, n_owner: int, n_tie: int) -> I64:
    """Indices that sort pairs by owner, then score (best first), then ``tie`` (the
    partner's id rank): one argsort of a packed int64 key where the widths allow."""
    if owner.size == 0:
        return np.zeros(0, dtype=np.int64)
    top = int(s10.max())
    sb, tb = top.bit_length(), max(n_tie, 1).bit_length()
    if max(n_owner, 1).bit_length() + sb + tb > 62:
        return np.lexsort((tie, -s10.astype(np.int64), owner))
    key = owner.astype(np.int64) << (sb + tb)
    key |= (top - s10.astype(np.int64)) << tb
    key |= tie
    return np.argsort(key)


def _first_per_owner(owner_sorted: I32, limit: int) -> npt.NDArray[np.bool_]:
    """Where a row is among the first ``limit`` of its owner (rows sorted by owner)."""
    n = owner_sorted.size
    if n == 0:
        return np.zeros(0, dtype=np.bool_)
    start = np.r_[0, np.flatnonzero(np.diff(owner_sorted)) + 1]
    rank = np.arange(n) - np.repeat(start, np.diff(np.r_[start, n]))
    return rank < limit


def _assemble(
    nds: Sequence[NeedRecord],
    offs: Sequence[OfferingRecord],
    ctx: Context,
    xn: sp.csr_matrix,
    xo: sp.csr_matrix,
    n_arr: NeedArrays,
    o_arr: OfferingArrays,
    results: list[tuple[_Picks, _Picks]],
    limit: int,
    fin: int,
) -> AllMatches:
    n_rank, o_rank = _id_rank(n_arr.ids), _id_rank(o_arr.ids)
    by_need = _cat([r[0] for r in results])
    by_need = _take(
        by_need, _ranked(by_need.need, by_need.s10, o_rank[by_need.off], len(nds), len(offs))
    )
    # An offering's candidates come from every block it is in: keep its best `limit`.
    by_off = _cat([r[1] for r in results])
    by_off = _take(
        by_off, _ranked(by_off.off, by_off.s10, n_rank[by_off.need], len(offs), len(nds))
    )
    by_off = _take(by_off, np.flatnonzero(_first_per_owner(by_off.off, limit)))
    both = _cat([by_need, by_off])
    pair_key = both.need.astype(np.int64) * max(len(offs), 1) + both.off
    _, first, inv = np.unique(pair_key, return_index=True, return_inverse=True)
    ni, oi = both.need[first].astype(np.int64), both.off[first].astype(np.int64)
    cos = both.cos[first].astype(np.float64)
    scope = both.scope[first].astype(np.int64)
    # Every rule's points for the stored pairs (the function the single-listing
    # rankings use).
    pts = soft_points(
        n_arr, o_arr, ni, oi, scope == 2, cos, ctx.weights, fin, today_ordinal(ctx.today)
    )
    stack = np.zeros((ni.size, len(SOFT_RULE_NAMES)))
    for k, rule in enumerate(SOFT_RULE_NAMES):
        if rule in pts:
            stack[:, k] = pts[rule]
    table = _Table(ni, oi, both.s10[first] / 10.0, cos, stack, scope)
    inv = inv.reshape(-1)
    inv_need, inv_off = inv[: by_need.need.size], inv[by_need.need.size :]
    need_order: dict[int, I64] = {}
    groups = _split(by_need.need, inv_need)
    empty = np.zeros(0, dtype=np.int64)
    for k, d in enumerate(nds):
        if d.open:
            need_order[d.id] = groups.get(k, empty)
    off_order: dict[int, I64] = {}
    groups = _split(by_off.off, inv_off)
    for k, o in enumerate(offs):
        if o.public:
            off_order[o.id] = groups.get(k, empty)
    return AllMatches(nds, offs, ctx, xn, xo, table, need_order, off_order)


def _split(owner: I32, values: I64) -> dict[int, I64]:
    """Group ``values`` by ``owner`` (already sorted by owner)."""
    if owner.size == 0:
        return {}
    cut = np.flatnonzero(np.diff(owner)) + 1
    starts = np.r_[0, cut]
    return {
        int(owner[s]): chunk
        for s, chunk in zip(starts.tolist(), np.split(values, cut), strict=True)
    }


__all__ = ["AllMatches", "branch_of", "recompute_all"]
