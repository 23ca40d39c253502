"""Ranking: one listing against its candidates, complements, and the shared helpers.

Both directions score pairs with the same vectorised rules
(:mod:`matching.scoring`), so a pair has one score whichever side asks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import fields, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matching.arrays import (
    CODES,
    Codes,
    names_park,
    need_arrays,
    offering_arrays,
    serves_province,
    today_ordinal,
)
from matching.context import Context
from matching.reasons import ReasonBuilder
from matching.rowstore import RowStore
from matching.rules import SOFT_RULE_NAMES
from matching.scoring import hard_ok, soft_points, total
from matching.text import Doc, TextModel
from matching.types import Match, NeedRecord, OfferingRecord, Part
from matching.weights import Weights

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


def need_doc(need: NeedRecord) -> Doc:
    return Doc(need.title, tuple(need.tags), need.text)


def offering_doc(off: OfferingRecord) -> Doc:
    return Doc(off.title, tuple(off.tags), off.text)


def weigh(raw: sp.csr_matrix, idf: F32, n_cols: int) -> sp.csr_matrix:
    """``raw * idf`` with rows L2-normalised (float32), ``n_cols`` wide."""
    data = raw.data.astype(np.float32) * idf[raw.indices]
    lengths = np.diff(raw.indptr)
    rows = np.repeat(np.arange(raw.shape[0]), lengths)
    norms = np.sqrt(np.bincount(rows, weights=data.astype(np.float64) ** 2, minlength=raw.shape[0]))
    norms[norms == 0] = 1.0
    data = (data / norms[rows]).astype(np.float32)
    return sp.csr_matrix((data, raw.indices, raw.indptr), shape=(raw.shape[0], n_cols))


def vectors(
    model: TextModel, needs: Sequence[NeedRecord], offs: Sequence[OfferingRecord]
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """Normalised TF-IDF rows of ``needs`` and ``offs`` (cached raw weights, model idf)."""
    if model.df is not None:  # fitted: the normalised rows themselves are cached
        xn, xo = _fitted_rows(model, "need", needs), _fitted_rows(model, "offering", offs)
        width = model.n_cols  # the offerings may have added columns after the needs
        return (
            sp.csr_matrix((xn.data, xn.indices, xn.indptr), shape=(len(needs), width)),
            sp.csr_matrix((xo.data, xo.indices, xo.indptr), shape=(len(offs), width)),
        )
    raw_n = model.rows("need", [(n.id, need_doc(n)) for n in needs])
    raw_o = model.rows("offering", [(o.id, offering_doc(o)) for o in offs])
    width = model.n_cols
    raw_n = sp.csr_matrix((raw_n.data, raw_n.indices, raw_n.indptr), shape=(len(needs), width))
    raw_o = sp.csr_matrix((raw_o.data, raw_o.indices, raw_o.indptr), shape=(len(offs), width))
    idf = model.idf(None if model.df is not None else sp.vstack([raw_n, raw_o], format="csr"))
    return weigh(raw_n, idf, width), weigh(raw_o, idf, width)


def _doc(record: Any) -> Doc:
    return Doc(record.title, tuple(record.tags), record.text)


def _fitted_slots(model: TextModel, side: str, records: Sequence[Any]) -> tuple[RowStore, I64]:
    """The row store of ``side`` and the slots of ``records``' rows under the fitted
    idf, computing the rows of records it lacks (new, or changed since)."""
    store = model.row_store(side)
    at, miss = store.lookup(records)
    if miss.size:
        if store.full(miss.size):
            store.clear()
            at, miss = store.lookup(records)
        todo = [records[k] for k in miss.tolist()]
        raw = model.rows(side, [(r.id, _doc(r)) for r in todo])
        width = model.n_cols
        raw = sp.csr_matrix((raw.data, raw.indices, raw.indptr), shape=(len(todo), width))
        at[miss] = store.put(todo, weigh(raw, model.idf(), width))
    return store, at


def _fitted_rows(model: TextModel, side: str, records: Sequence[Any]) -> sp.csr_matrix:
    """Normalised rows of ``records`` under the fitted idf."""
    store, at = _fitted_slots(model, side, records)
    return store.rows(at, model.n_cols)


class _Against:
    """One listing's normalised row, its cosine with each of many candidates, and the
    candidates' rows on demand (only the picked ones are ever materialised)."""

    def __init__(self, model: TextModel, side: str, one: Any, many: Sequence[Any]) -> None:
        other = "offering" if side == "need" else "need"
        if model.df is None:  # unfitted: the idf comes from these listings
            if side == "need":
                x1, xm = vectors(model, [one], many)
            else:
                xm, x1 = vectors(model, many, [one])
            self.one = x1
            self.cos = np.asarray((xm @ x1.T).toarray()[:, 0], dtype=np.float64)
            self._many: sp.csr_matrix | None = xm
            return
        store, at = _fitted_slots(model, other, many)
        self.one = _fitted_rows(model, side, [one])
        width = model.n_cols  # after both: either side may have added columns
        self.one = sp.csr_matrix(
            (self.one.data, self.one.indices, self.one.indptr), shape=(1, width)
        )
        v = np.zeros(width, dtype=np.float32)
        v[self.one.indices] = self.one.data
        self.cos = store.dots(at, v).astype(np.float64)
        self._many, self._store, self._at, self._width = None, store, at, width

    def rows(self, idx: npt.NDArray[np.intp]) -> sp.csr_matrix:
        """The candidates' rows at positions ``idx``."""
        if self._many is not None:
            return self._many[idx]
        return self._store.rows(self._at[idx], self._width)


def cosines(xn: sp.csr_matrix, xo: sp.csr_matrix) -> npt.NDArray[np.float64]:
    """Dense ``[needs, offerings]`` cosines of normalised rows."""
    return np.asarray((xn @ xo.T).toarray(), dtype=np.float64)


def _unique(records: list[Any], arr: Any) -> tuple[list[Any], Any]:
    """``records`` (and their columns ``arr``) without repeated ids, the first kept."""
    _, first = np.unique(arr.ids, return_index=True)
    if first.size == len(records):
        return records, arr
    keep = np.sort(first)
    cols = {f.name: getattr(arr, f.name)[keep] for f in fields(arr)}
    return [records[k] for k in keep.tolist()], type(arr)(**cols)


def _kind_codes(codes: Codes) -> tuple[int, int]:
    return codes.ids.get("finance", -2), codes.ids.get("training", -2)


def rank_for_need(
    need: NeedRecord, offerings: Iterable[OfferingRecord], ctx: Context, limit: int = 20
) -> list[Match]:
    """The best ``limit`` offerings for ``need`` among ``offerings``.

    Every hard rule is applied (a violating pair is never returned) and pairs in
    ``ctx.excluded`` are left out, as are pairs scoring 0. Sorted by score, best
    first, then by offering id. The threshold is not applied (the app decides).
    """
    offs: list[OfferingRecord] = list(offerings)
    if not offs or limit <= 0:
        return []
    codes = CODES
    o_arr = offering_arrays(offs, ctx.providers, codes)
    offs, o_arr = _unique(offs, o_arr)
    text = _Against(ctx.model, "need", need, offs)
    cos = text.cos
    n_arr = need_arrays([need], ctx.enterprises, codes)
    m = len(offs)
    i = np.zeros(m, dtype=np.intp)
    j = np.arange(m, dtype=np.intp)
    park_ok = names_park(offs, o_arr, need.park_id)
    prov_ok = serves_province(offs, o_arr, need.province)
    fin, trn = _kind_codes(codes)
    today = today_ordinal(ctx.today)
    ok = hard_ok(n_arr, o_arr, i, j, o_arr.nationwide | prov_ok | park_ok, fin, trn, today)
    if ctx.excluded:
        ok &= np.fromiter(((need.id, o.id) not in ctx.excluded for o in offs), np.bool_, count=m)
    pts = soft_points(n_arr, o_arr, i, j, park_ok, cos, ctx.weights, fin, today)
    score = total(pts)
    sel = np.flatnonzero(ok & (score > 0))
    order = sel[np.lexsort((o_arr.ids[sel], -score[sel]))][:limit]
    scope = np.where(park_ok[order], 2, np.where(prov_ok[order], 1, 0)).astype(np.int64)
    picked = [offs[k] for k in order.tolist()]
    return _matches(
        ctx, "need", [need], picked, text.one, text.rows(order), order, score, cos, pts, scope
    )


def _matches(
    ctx: Context,
    side: str,
    needs: Sequence[NeedRecord],
    offs: Sequence[OfferingRecord],
    xn: sp.csr_matrix,
    xo: sp.csr_matrix,
    k: npt.NDArray[np.intp],
    score: npt.NDArray[np.float64],
    cos: npt.NDArray[np.float64],
    pts: dict[str, npt.NDArray[np.float64]],
    scope: npt.NDArray[np.int64],
) -> list[Match]:
    """The Matches of one listing (on ``side``) with the picked candidates:
    ``needs``/``offs`` are that listing and the picked ones (their rows ``xn``/``xo``),
    ``k`` the picked positions in the candidate arrays ``score``/``cos``/``pts``. Built
    as the full recompute builds them."""
    stack = np.zeros((k.size, len(SOFT_RULE_NAMES)))
    for r, rule in enumerate(SOFT_RULE_NAMES):
        if rule in pts:
            stack[:, r] = np.broadcast_to(pts[rule], score.shape)[k]
    pairs = np.arange(k.size, dtype=np.int64)
    one = np.zeros(k.size, dtype=np.int64)
    ni, oi = (one, pairs) if side == "need" else (pairs, one)
    builder = ReasonBuilder(
        needs, offs, ctx.enterprises, ctx.providers, ctx.model, xn, xo, ctx.today
    )
    return builder.matches(ni, oi, score[k], cos[k], stack, scope)


def rank_for_offering(
    offering: OfferingRecord, needs: Iterable[NeedRecord], ctx: Context, limit: int = 20
) -> list[Match]:
    """The best ``limit`` needs for ``offering`` among ``needs`` (same rules and
    exclusions as :func:`rank_for_need`; sorted by score, then need id)."""
    nds: list[NeedRecord] = list(needs)
    if not nds or limit <= 0:
        return []
    codes = CODES
    n_arr = need_arrays(nds, ctx.enterprises, codes)
    nds, n_arr = _unique(nds, n_arr)
    text = _Against(ctx.model, "offering", offering, nds)
    cos = text.cos
    o_arr = offering_arrays([offering], ctx.providers, codes)
    n = len(nds)
    i = np.arange(n, dtype=np.intp)
    j = np.zeros(n, dtype=np.intp)
    park_ok = np.isin(n_arr.park, np.fromiter(offering.park_ids, np.int64))
    prov_ok = np.isin(n_arr.province, np.array([codes(r) for r in offering.regions], np.int64))
    fin, trn = _kind_codes(codes)
    today = today_ordinal(ctx.today)
    serves = o_arr.nationwide[0] | prov_ok | park_ok
    ok = hard_ok(n_arr, o_arr, i, j, serves, fin, trn, today)
    if ctx.excluded:
        ok &= np.fromiter(((d.id, offering.id) not in ctx.excluded for d in nds), np.bool_, n)
    pts = soft_points(n_arr, o_arr, i, j, park_ok, cos, ctx.weights, fin, today)
    score = total(pts)
    sel = np.flatnonzero(ok & (score > 0))
    order = sel[np.lexsort((n_arr.ids[sel], -score[sel]))][:limit]
    scope = np.where(park_ok[order], 2, np.where(prov_ok[order], 1, 0)).astype(np.int64)
    picked = [nds[k] for k in order.tolist()]
    return _matches(
        ctx,
        "offering",
        picked,
        [offering],
        text.rows(order),
        text.one,
        order,
        score,
        cos,
        pts,
        scope,
    )


COMPLEMENT_KINDS = ("finance", "training")
# Category and price say nothing about a loan or a course for a solution need.
_COMPLEMENT_SKIP = ("category", "price")


def complements_for_need(
    need: NeedRecord, offerings: Iterable[OfferingRecord], ctx: Context, limit: int = 3
) -> dict[str, list[Match]]:
    """ "方案 + 资金 + 人才": for a solution need, the finance products and training
    courses among ``offerings`` that fit the same enterprise.

    Finance: public, serving the need's place, the enterprise's size eligible, and —
    where the budget and the product's amounts are both known — the project budget
    (``budget_max``, else ``budget_min``) within ``[amount_min, amount_max]``.
    Training: public, serving the place, not started, and fitting the need's topic
    (shared terms) or industry (same division). Scored by the soft rules other than
    category and price; returns ``{"finance": [...], "training": [...]}``, best first,
    at most ``limit`` each; both empty for a need that is not a solution need.
    """
    result: dict[str, list[Match]] = {k: [] for k in COMPLEMENT_KINDS}
    if need.kind != "solution" or not need.open or limit <= 0:
        return result
    budget = need.budget_max if need.budget_max is not None else need.budget_min
    weights = Weights(
        ctx.weights.threshold,
        {r: ctx.weights.of(r) for r in SOFT_RULE_NAMES if r not in _COMPLEMENT_SKIP},
    )
    pool = list(offerings)
    for kind in COMPLEMENT_KINDS:
        offs = [o for o in pool if o.kind == kind and o.public]
        if not offs:
            continue
        # Score the need as if it asked for this kind: the kind and branch rules then
        # hold, and the finance amount rule checks the project budget.
        proxy = replace(
            need,
            kind=kind,
            category=kind if kind == "finance" else "talent",
            amount=budget if kind == "finance" else None,
            budget_min=None,
            budget_max=None,
        )
        ranked = rank_for_need(proxy, offs, replace(ctx, weights=weights), limit=len(offs))
        picked = []
        for m in ranked:
            if kind == "training" and not _fits_topic(m):
                continue
            parts = tuple(_complement_part(p, budget) for p in m.parts)
            picked.append(Match(need.id, m.offering_id, m.score, parts))
            if len(picked) == limit:
                break
        result[kind] = picked
    return result


def _fits_topic(m: Match) -> bool:
    """A course fits when it shares terms with the need or serves its industry division."""
    return any(
        p.rule == "capability" or (p.rule == "industry" and p.params.get("level") == "division")
        for p in m.parts
    )


def _complement_part(part: Part, budget: int | None) -> Part:
    """The finance part names the project budget, not an amount the need never asked."""
    if part.rule != "finance_eligibility":
        return part
    params = {k: v for k, v in part.params.items() if k != "amount"}
    if budget is not None:
        params["budget"] = budget
    return Part(part.rule, part.points, params)
