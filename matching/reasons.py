"""Matches with their parts, many pairs at once.

A full recompute selects millions of pairs; building each one's parts in Python,
rule by rule, costs tens of microseconds a pair. Here every rule's part is built
once per distinct *parameter key* (integer codes of what its params depend on:
the need's category and whether the leaf matches, the two listings' price fields,
the provider's response rate …), from one representative pair through the same
functions :func:`matching.scoring.build_parts` uses, and handed to every pair with
that key as a numpy object array. Only the capability part (shared terms and the
cosine) is per pair; its terms come from one sparse element-wise product of the
pairs' labelled rows. The tuples of parts are then zipped column-wise per pattern of
present rules, so the per-pair Python work is a tuple and a ``Match``.

The single-listing rankings use this too, so a pair gets the same parts whichever
way it was computed.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matching.arrays import industry_bits
from matching.rules import SOFT_RULE_NAMES
from matching.scoring import finance_params, region_params, soft_params
from matching.text import TERMS_SHOWN, TextModel
from matching.types import Enterprise, Match, NeedRecord, OfferingRecord, Part, Provider

I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
Obj = npt.NDArray[np.object_]
B = npt.NDArray[np.bool_]
Column = tuple[Obj, B]  # a rule's part per pair (None where absent), and where present
TERMS_CHUNK = 400_000  # pairs whose shared terms are computed at once (memory)
_CAP = SOFT_RULE_NAMES.index("capability")


class _Codes:
    """Small integers for hashable values (a per-build numbering)."""

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}

    def __call__(self, value: Any) -> int:
        got = self.ids.get(value)
        if got is None:
            got = self.ids[value] = len(self.ids)
        return got


@contextmanager
def gc_paused() -> Iterator[None]:
    """The cyclic garbage collector off while millions of acyclic objects (parts,
    matches, their tuples and dicts) are made: otherwise it walks the growing heap
    again and again, a third of the build's time."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _by_key(key: I64, make: Callable[[int], Part | None]) -> tuple[Obj, B]:
    """One object per distinct ``key`` (built by ``make(representative pair)``),
    spread over the pairs, and where it is not None."""
    out = np.empty(key.size, dtype=object)
    if key.size == 0:
        return out, np.zeros(0, dtype=np.bool_)
    uniq, first, inv = np.unique(key, return_index=True, return_inverse=True)
    made = np.empty(uniq.size, dtype=object)
    there = np.zeros(uniq.size, dtype=np.bool_)
    for g, p in enumerate(first.tolist()):
        made[g] = got = make(p)
        there[g] = got is not None
    inv = inv.reshape(-1)
    return made[inv], there[inv]


def _combine(*cols: tuple[I64, int]) -> I64:
    """One int64 key from columns with known sizes (values in ``0..size-1``)."""
    key = np.zeros(cols[0][0].shape, dtype=np.int64)
    for col, size in cols:
        key = key * max(size, 1) + col
    return key


class ReasonBuilder:
    """Builds the Matches of many pairs of ``needs`` × ``offs`` (index arrays)."""

    def __init__(
        self,
        needs: Sequence[NeedRecord],
        offs: Sequence[OfferingRecord],
        enterprises: Mapping[int, Enterprise],
        providers: Mapping[int, Provider],
        model: TextModel,
        xn: sp.csr_matrix,
        xo: sp.csr_matrix,
        today: date,
    ) -> None:
        self.needs, self.offs = needs, offs
        self.enterprises, self.providers = enterprises, providers
        self.model, self.xn, self.xo, self.today = model, xn, xo, today
        self._spell: dict[tuple[int, str], str] = {}
        # Precomputed term columns of the pairs (term_columns), when the caller has them.
        self.term_cols: I64 | None = None

    # --- per-listing codes (only for the listings the pairs touch) ---------------------
    def _need_codes(
        self, fn: Callable[[NeedRecord], Any], at: I64 | None = None
    ) -> tuple[I64, int]:
        """``fn`` of each pair's need as small integer codes (for the pairs ``at``, else
        all), and how many distinct values there are; ``fn`` runs once per need."""
        codes = _Codes()
        vals = np.fromiter((codes(fn(d)) for d in self._n_recs), np.int64, len(self._n_recs))
        full = vals[self._n_inv]
        return (full if at is None else full[at]), len(codes.ids)

    def _off_codes(
        self, fn: Callable[[OfferingRecord], Any], at: I64 | None = None
    ) -> tuple[I64, int]:
        """As :meth:`_need_codes`, of each pair's offering."""
        codes = _Codes()
        vals = np.fromiter((codes(fn(o)) for o in self._o_recs), np.int64, len(self._o_recs))
        full = vals[self._o_inv]
        return (full if at is None else full[at]), len(codes.ids)

    def _listings(self, ni: I64, oi: I64) -> None:
        """The distinct needs and offerings the pairs touch, and each pair's position
        among them (read by the code helpers above)."""
        un, n_inv = np.unique(ni, return_inverse=True)
        uo, o_inv = np.unique(oi, return_inverse=True)
        self._n_recs = [self.needs[r] for r in un.tolist()]
        self._o_recs = [self.offs[c] for c in uo.tolist()]
        self._n_inv, self._o_inv = n_inv.reshape(-1), o_inv.reshape(-1)

    def _ent(self, need: NeedRecord) -> Enterprise | None:
        return self.enterprises.get(need.org_id)

    def _prov(self, off: OfferingRecord) -> Provider | None:
        return self.providers.get(off.org_id)

    # --- the build ---------------------------------------------------------------------
    def matches(
        self, ni: I64, oi: I64, score: F64, cos: F64, pts: F64, region_scope: I64
    ) -> list[Match]:
        """The Match of every pair ``(needs[ni[p]], offs[oi[p]])``: ``score``, ``cos``
        and ``pts`` (``[pairs, len(SOFT_RULE_NAMES)]``, rounded points) as scored,
        ``region_scope`` 2 when the offering names the need's park, 1 when it serves
        its province, 0 otherwise (nationwide)."""
        n_pairs = int(ni.size)
        if n_pairs == 0:
            return []
        with gc_paused():
            return self._matches(ni, oi, score, cos, pts, region_scope)

    def _matches(
        self, ni: I64, oi: I64, score: F64, cos: F64, pts: F64, region_scope: I64
    ) -> list[Match]:
        n_pairs = int(ni.size)
        ni = np.asarray(ni, dtype=np.int64)
        oi = np.asarray(oi, dtype=np.int64)
        self._listings(ni, oi)
        columns: list[Column] = [self._region(ni, oi, region_scope)]
        columns += self._finance(ni, oi)
        columns.append(self._training(oi))
        p10 = np.rint(np.asarray(pts, dtype=np.float64) * 10).astype(np.int64)
        for k, rule in enumerate(SOFT_RULE_NAMES):
            col = np.asarray(pts[:, k], dtype=np.float64)
            present = p10[:, k] > 0
            if rule == "capability":
                columns.append(self._capability(ni, oi, col, cos, present))
            else:
                columns.append(self._soft(rule, ni, oi, col, p10[:, k], present))
        parts = self._zip(columns, n_pairs)
        need_ids = np.fromiter((d.id for d in self._n_recs), np.int64, len(self._n_recs))
        off_ids = np.fromiter((o.id for o in self._o_recs), np.int64, len(self._o_recs))
        return list(
            map(
                Match,
                need_ids[self._n_inv].tolist(),
                off_ids[self._o_inv].tolist(),
                score.tolist(),
                parts,
            )
        )

    @staticmethod
    def _zip(columns: list[Column], n_pairs: int) -> list[tuple[Part, ...]]:
        """Per pair, the tuple of its present parts in column order."""
        present = np.zeros(n_pairs, dtype=np.int64)
        for k, (_, there) in enumerate(columns):
            present |= there.astype(np.int64) << k
        patterns, inv = np.unique(present, return_inverse=True)
        inv = inv.reshape(-1)
        order = np.argsort(inv, kind="stable")
        bounds = np.searchsorted(inv[order], np.arange(patterns.size + 1)).tolist()
        grouped: list[tuple[Part, ...]] = []
        for g, pattern in enumerate(patterns.tolist()):
            rows = order[bounds[g] : bounds[g + 1]]
            cols = [columns[k][0][rows].tolist() for k in range(len(columns)) if pattern >> k & 1]
            grouped += zip(*cols, strict=True) if cols else [()] * rows.size
        # grouped[q] is the pair order[q]: put them back in pair order.
        back = np.empty(n_pairs, dtype=np.int64)
        back[order] = np.arange(n_pairs)
        if n_pairs == 1:
            return [grouped[0]]
        return list(itemgetter(*back.tolist())(grouped))

    # --- hard rules that leave a 0-point part ------------------------------------------
    def _region(self, ni: I64, oi: I64, scope: I64) -> Column:
        park, n_park = self._need_codes(lambda d: d.park_id)
        prov, n_prov = self._need_codes(lambda d: d.province)
        which = np.where(scope == 2, park, np.where(scope == 1, prov, 0))
        key = _combine((scope, 3), (which, max(n_park, n_prov)))

        def make(p: int) -> Part:
            need, off = self.needs[int(ni[p])], self.offs[int(oi[p])]
            return Part("region", 0.0, region_params(need, off))

        return _by_key(key, make)

    def _finance(self, ni: I64, oi: I64) -> list[Column]:
        uniq, inv = np.unique(oi, return_inverse=True)
        flag = np.fromiter((self.offs[c].kind == "finance" for c in uniq.tolist()), np.bool_)
        fin = flag[inv.reshape(-1)]
        if not fin.any():
            return [(np.empty(ni.size, dtype=object), fin)]

        def need_key(d: NeedRecord) -> tuple[Any, ...]:
            ent = self._ent(d)
            return (ent.size if ent is not None else None, d.amount)

        nk, n_nk = self._need_codes(need_key)
        ok, n_ok = self._off_codes(lambda o: (o.eligible_sizes, o.amount_min, o.amount_max, o.kind))
        key = np.where(fin, _combine((nk, n_nk), (ok, n_ok)), -1)

        def make(p: int) -> Part | None:
            if key[p] < 0:
                return None
            need, off = self.needs[int(ni[p])], self.offs[int(oi[p])]
            ent = self._ent(need)
            size = ent.size if ent is not None else None
            return Part("finance_eligibility", 0.0, finance_params(need, off, size))

        return [_by_key(key, make)]

    def _training(self, oi: I64) -> Column:
        def make(p: int) -> Part | None:
            off = self.offs[int(oi[p])]
            if off.kind != "training" or off.starts_on is None:
                return None
            return Part("training_dates", 0.0, {"starts_on": off.starts_on.isoformat()})

        code, _ = self._off_codes(
            lambda o: o.starts_on if o.kind == "training" and o.starts_on else None
        )
        return _by_key(code, make)

    # --- soft rules --------------------------------------------------------------------
    def _soft(self, rule: str, ni: I64, oi: I64, col: F64, p10: I64, present: B) -> Column:
        out = np.empty(ni.size, dtype=object)
        sel = np.flatnonzero(present)
        if sel.size == 0:
            return out, present
        n_sel, o_sel = ni[sel], oi[sel]
        if rule == "price":  # nearly one key a pair: built per pair, from per-listing pieces
            out[sel] = self._price(n_sel, o_sel, col[sel])
            return out, present
        pts10 = p10[sel]
        top = int(pts10.max()) + 1
        if rule == "category":
            shared = _Codes()  # one numbering for both sides: equal codes, equal categories
            n_c = [shared(d.category) for d in self._n_recs]
            o_c = [shared(o.category) for o in self._o_recs]
            cat = np.array(n_c, dtype=np.int64)[self._n_inv[sel]]
            same = cat == np.array(o_c, dtype=np.int64)[self._o_inv[sel]]
            key = _combine((pts10, top), (cat, len(shared.ids)), (same.astype(np.int64), 2))
        elif rule == "industry":
            key = _combine((pts10, top), (self._shared_industry(sel), 256))
        elif rule == "park":
            park, n_park = self._need_codes(lambda d: d.park_id, sel)
            key = _combine((pts10, top), (park, n_park))
        elif rule == "verified":
            key = pts10
        elif rule == "freshness":
            day, n_day = self._off_codes(
                lambda o: o.published_at.date() if o.published_at else None, sel
            )
            key = _combine((pts10, top), (day, n_day))
        elif rule == "response":
            rate, n_rate = self._off_codes(
                lambda o: p.response_rate if (p := self._prov(o)) is not None else None, sel
            )
            key = _combine((pts10, top), (rate, n_rate))
        else:  # pragma: no cover - every soft rule is listed above
            raise KeyError(rule)
        points = col[sel].tolist()
        nl, ol = n_sel.tolist(), o_sel.tolist()
        needs, offs, ents, provs, today = (
            self.needs,
            self.offs,
            self.enterprises,
            self.providers,
            self.today,
        )

        def make(p: int) -> Part:
            need, off = needs[nl[p]], offs[ol[p]]
            ent, prov = ents.get(need.org_id), provs.get(off.org_id)
            return Part(rule, points[p], soft_params(rule, need, off, ent, prov, 0.0, [], today))

        out[sel] = _by_key(key, make)[0]
        return out, present

    def _price(self, n_sel: I64, o_sel: I64, points: F64) -> Obj:
        """The price parts of pairs that have one: what :func:`soft_params` says for
        ``"price"``, assembled from each listing's fields once."""
        needs, offs = self.needs, self.offs
        un, n_inv = np.unique(n_sel, return_inverse=True)
        uo, o_inv = np.unique(o_sel, return_inverse=True)
        n_list = [needs[r] for r in un.tolist()]
        o_list = [offs[c] for c in uo.tolist()]
        budget = [
            _present(("budget_min", d.budget_min), ("budget_max", d.budget_max)) for d in n_list
        ]
        priced = [_present(("price_min", o.price_min), ("price_max", o.price_max)) for o in o_list]
        amounts = [
            _present(("amount_min", o.amount_min), ("amount_max", o.amount_max)) for o in o_list
        ]
        bmax = np.array([_nan(d.budget_max) for d in n_list])[n_inv.reshape(-1)]
        high = np.array(
            [_nan(o.price_max if o.price_max is not None else o.price_min) for o in o_list]
        )[o_inv.reshape(-1)]
        with np.errstate(invalid="ignore"):
            within = (high <= bmax).tolist()  # nan on either side: not within
        fin_off = np.array([o.kind == "finance" for o in o_list])[o_inv.reshape(-1)]
        amount = [d.amount for d in n_list]
        ni, oi = n_inv.reshape(-1).tolist(), o_inv.reshape(-1).tolist()
        made: list[Part] = []
        add = made.append
        for a, b, pts, fin, inside in zip(
            ni, oi, points.tolist(), fin_off.tolist(), within, strict=True
        ):
            if fin and amount[a] is not None:
                params = {"position": "covered", "amount": amount[a], **amounts[b]}
            else:
                params = {"position": "within" if inside else "overlap", **priced[b], **budget[a]}
            add(Part("price", pts, params))
        return np.fromiter(made, dtype=object, count=len(made))

    def _shared_industry(self, sel: I64) -> I64:
        """What the industry part names, as a number: the lowest division both sides
        share (1..127; GB/T 4754 codes sort as their numbers do), else 128 + the
        lowest shared section, else 255."""

        def bits(records: Sequence[Any], inv: I64, codes: Callable[[Any], tuple[str, ...]]):
            got = np.array([industry_bits(codes(r)) for r in records], dtype=np.uint64)
            got = got.reshape(-1, 3)[inv[sel]]
            return got[:, 0], got[:, 1], got[:, 2]

        n_lo, n_hi, n_sec = bits(self._n_recs, self._n_inv, self._need_industries)
        o_lo, o_hi, o_sec = bits(self._o_recs, self._o_inv, lambda o: tuple(o.industries))
        lo, hi, sec = n_lo & o_lo, n_hi & o_hi, n_sec & o_sec
        return np.where(
            lo != 0,
            _lowest_bit(lo),
            np.where(
                hi != 0, 64 + _lowest_bit(hi), np.where(sec != 0, 128 + _lowest_bit(sec), 255)
            ),
        )

    def _need_industries(self, d: NeedRecord) -> tuple[str, ...]:
        ent = self._ent(d)
        return tuple(d.industries or (ent.industries if ent is not None else ()))

    def _capability(self, ni: I64, oi: I64, col: F64, cos: F64, present: B) -> Column:
        out = np.empty(ni.size, dtype=object)
        sel = np.flatnonzero(present)
        if sel.size == 0:
            return out, present
        if self.term_cols is not None:
            cols = self.term_cols[sel]
        else:
            cols = term_columns(self.model, self.xn, self.xo, ni[sel], oi[sel])
        terms = self._labels(cols, ni[sel])
        sims = np.round(cos[sel], 3).tolist()
        made = [
            Part("capability", pts, {"terms": t, "similarity": c})
            for pts, t, c in zip(col[sel].tolist(), terms, sims, strict=True)
        ]
        out[sel] = np.fromiter(made, dtype=object, count=len(made))
        return out, present

    def _labels(self, cols: I64, need_rows: I64) -> list[list[str]]:
        """The terms named by ``cols`` (rows of :func:`term_columns`), Latin words in
        the need's own spelling."""
        names, latin = self.model.names()  # the last one (index -1) is None: it pads
        lab = names[cols]
        # A Latin (ASCII) term is written as the need wrote it, spelled once per (need,
        # term).
        r, c = np.nonzero(latin[cols])
        if r.size:
            term = cols[r, c]
            key = need_rows[r] * (latin.size + 1) + term
            _, first, inv = np.unique(key, return_index=True, return_inverse=True)
            spelled = np.empty(first.size, dtype=object)
            for g, f in enumerate(first.tolist()):
                spelled[g] = self._spelling(int(need_rows[r[f]]), names[term[f]])
            lab[r, c] = spelled[inv.reshape(-1)]
        out: list[list[str]] = [[]] * cols.shape[0]
        counts = (cols >= 0).sum(axis=1)
        for k in range(1, cols.shape[1] + 1):
            rows = np.flatnonzero(counts == k)
            if rows.size:
                for q, t in zip(rows.tolist(), lab[rows, :k].tolist(), strict=True):
                    out[q] = t
        return out

    def _spelling(self, row: int, word: str) -> str:
        key = (row, word)
        got = self._spell.get(key)
        if got is None:
            got = self._spell[key] = spelling(self.needs[row], word)
        return got


def _lowest_bit(x: npt.NDArray[np.uint64]) -> I64:
    """The index of each value's lowest set bit (0 for a value of 0: mask those)."""
    low = x & (~x + np.uint64(1))
    low[low == 0] = 1
    return np.log2(low.astype(np.float64)).astype(np.int64)  # exact for powers of two


def _present(*pairs: tuple[str, Any]) -> dict[str, Any]:
    """The pairs whose value is given, in order."""
    return {k: v for k, v in pairs if v is not None}


def _nan(value: int | None) -> float:
    return float("nan") if value is None else float(value)


def term_columns(
    model: TextModel,
    xn: sp.csr_matrix,
    xo: sp.csr_matrix,
    ni: I64,
    oi: I64,
    nameable_only: bool = False,
) -> I64:
    """``[pairs, TERMS_SHOWN]``: the vocabulary columns of the terms each pair's
    capability reason names (-1 pads), strongest contribution to the cosine first
    (ties by label), without stop words, digits and terms inside one already named.
    ``nameable_only``: ``xn``/``xo`` already hold only nameable columns (float64),
    as :func:`nameable_rows` gives them."""
    out = np.full((ni.size, TERMS_SHOWN), -1, dtype=np.int64)
    if ni.size == 0:
        return out
    keep = model.nameable()
    rank = model.label_order()
    labels = model.labels
    if nameable_only:
        pass
    elif ni.size >= xn.shape[0]:  # many pairs (a full recompute): filter the rows once
        xn, xo = _only(xn, keep), _only(xo, keep)
    else:  # a few pairs: take their rows first
        xn, xo = _only(xn[ni], keep), _only(xo[oi], keep)
        ni, oi = np.arange(ni.size), np.arange(oi.size)
    cache: dict[tuple[int, ...], tuple[int, ...]] = {}
    for s in range(0, ni.size, TERMS_CHUNK):
        a, b = ni[s : s + TERMS_CHUNK], oi[s : s + TERMS_CHUNK]
        prod = xn[a].multiply(xo[b]).tocsr()
        n = a.size
        rows = np.repeat(np.arange(n), np.diff(prod.indptr))
        order = np.lexsort((rank[prod.indices], -prod.data, rows))
        cols = prod.indices[order].tolist()
        ptr = prod.indptr.tolist()
        picked: list[tuple[int, ...]] = []
        for r in range(n):
            seq = tuple(cols[ptr[r] : ptr[r + 1]])
            got = cache.get(seq)
            if got is None:
                got = cache[seq] = _pick(seq, labels)
            picked.append(got)
        if len(cache) > 200_000:
            cache.clear()
        for k in range(1, TERMS_SHOWN + 1):
            rows_k = [r for r, p in enumerate(picked) if len(p) == k]
            if rows_k:
                out[s + np.array(rows_k)] = np.pad(
                    np.array([picked[r] for r in rows_k], dtype=np.int64).reshape(-1, k),
                    ((0, 0), (0, TERMS_SHOWN - k)),
                    constant_values=-1,
                )
    return out


def nameable_rows(model: TextModel, x: sp.csr_matrix) -> sp.csr_matrix:
    """``x`` (float64) with only the columns a reason may name."""
    return _only(x, model.nameable())


def _only(x: sp.csr_matrix, keep: npt.NDArray[np.bool_]) -> sp.csr_matrix:
    """``x`` (float64) without the columns ``keep`` leaves out."""
    if keep.size < x.shape[1]:
        keep = _pad(keep, x.shape[1])
    mask = keep[x.indices]
    csum = np.concatenate(([0], np.cumsum(mask, dtype=np.int64)))
    indptr = csum[x.indptr]
    return sp.csr_matrix((x.data[mask].astype(np.float64), x.indices[mask], indptr), shape=x.shape)


def _pad(keep: npt.NDArray[np.bool_], width: int) -> npt.NDArray[np.bool_]:
    out = np.zeros(width, dtype=np.bool_)
    out[: keep.size] = keep
    return out


def _pick(seq: tuple[int, ...], labels: dict[int, str]) -> tuple[int, ...]:
    """The columns of ``seq`` (nameable, strongest first) a reason names: skipping a
    term inside one already named or holding one, at most TERMS_SHOWN."""
    out: list[int] = []
    named: list[str] = []
    for c in seq:
        label = labels[c]
        if not any(label in o or o in label for o in named):
            out.append(c)
            named.append(label)
            if len(out) == TERMS_SHOWN:
                break
    return tuple(out)


def spelling(need: NeedRecord, word: str) -> str:
    """A Latin term as the need wrote it (else upper case when short)."""
    for source in (need.title, " ".join(need.tags), need.text):
        m = re.search(re.escape(word), source, re.IGNORECASE)
        if m:
            return m.group()
    return word.upper() if len(word) <= 4 else word


__all__ = ["ReasonBuilder", "spelling"]
