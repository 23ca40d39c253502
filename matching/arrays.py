"""Listings as columns of numbers, so every rule can run over many pairs at once.

:func:`need_arrays` / :func:`offering_arrays` turn records into parallel numpy
arrays; the rules in :mod:`matching.scoring` take index arrays into them, so the
same code scores one pair, one listing against its candidates, or a whole block.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.rules import NATIONWIDE, SIZES
from matching.slots import Slots
from matching.types import Enterprise, NeedRecord, OfferingRecord, Provider

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
U64 = npt.NDArray[np.uint64]
NAN = float("nan")
SIZE_BIT = {s: 1 << i for i, s in enumerate(SIZES)}
ALL_SIZES = (1 << len(SIZES)) - 1
_SECTIONS = "ABCDEFGHIJKLMNOPQRST"


class Codes:
    """Stable small integers for strings (categories, provinces), shared by both sides."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.names: list[str] = []

    def __call__(self, value: str | None) -> int:
        if value is None:
            return -1
        got = self.ids.get(value)
        if got is None:
            got = self.ids[value] = len(self.names)
            self.names.append(value)
        return got


def branch_of(category: str) -> str:
    """The top-level code of a category (``application.quality`` -> ``application``)."""
    return category.split(".", 1)[0]


@lru_cache(maxsize=65536)
def industry_bits(codes: tuple[str, ...]) -> tuple[int, int, int]:
    """Bitmasks of GB/T 4754 codes: divisions (two 64-bit words, by number 1..97) and
    sections (letters; a division also sets its section). Unknown codes are ignored."""
    lo = hi = sec = 0
    for code in codes:
        c = code.strip().upper()
        if not c or c[0] not in _SECTIONS:
            continue
        sec |= 1 << _SECTIONS.index(c[0])
        if len(c) == 3 and c[1:].isdigit():
            n = int(c[1:])
            if n < 64:
                lo |= 1 << n
            else:
                hi |= 1 << (n - 64)
    return lo, hi, sec


def _days(when: date | datetime | None) -> float:
    if when is None:
        return NAN
    d = when.date() if isinstance(when, datetime) else when
    return float(d.toordinal())


def _f(value: int | None) -> float:
    return NAN if value is None else float(value)


@dataclass
class NeedArrays:
    ids: I64
    kind: I64
    branch: I64
    leaf: I64  # category code id; -1 when the need gave only a top-level code
    province: I64
    park: I64
    budget_min: F64
    budget_max: F64
    amount: F64
    open: B
    size_bit: I64  # 0 when the size is unknown
    div_lo: U64
    div_hi: U64
    sections: U64


@dataclass
class OfferingArrays:
    ids: I64
    kind: I64
    branch: I64
    leaf: I64
    price_low: F64  # price_min, or price_max when only that is given
    price_min: F64
    price_max: F64
    amount_min: F64
    amount_max: F64
    sizes: I64  # bitmask of eligible sizes; all bits when the product names none
    starts_on: F64  # date ordinal; nan when not given
    public: B
    nationwide: B
    verified: B
    response: F64  # nan when no record
    published: F64  # date ordinal; nan when unknown
    div_lo: U64
    div_hi: U64
    sections: U64
    region_bits: I64  # bit REGIONS(p) for each province served; -1: look at the record
    has_parks: B  # names parks (park_ids not empty)


CODES = Codes()  # one numbering per process, so cached rows stay valid between calls
REGIONS = Codes()  # provinces as bit numbers of OfferingArrays.region_bits
_REGION_BITS = 62
_ROW_CACHE_MAX = 400_000
_ORG_ID = attrgetter("org_id")


def _need_row(d: NeedRecord, ent: Enterprise | None, codes: Codes) -> tuple[object, ...]:
    inds = d.industries or (ent.industries if ent is not None else ())
    lo, hi, sec = industry_bits(tuple(inds))
    return (
        d.id,
        codes(d.kind),
        codes(branch_of(d.category)),
        codes(d.category) if "." in d.category else -1,
        codes(d.province),
        d.park_id,
        _f(d.budget_min),
        _f(d.budget_max),
        _f(d.amount),
        d.open,
        SIZE_BIT.get(ent.size or "", 0) if ent is not None else 0,
        lo,
        hi,
        sec,
    )


def _offering_row(o: OfferingRecord, prov: Provider | None, codes: Codes) -> tuple[object, ...]:
    mask = 0
    for s in o.eligible_sizes:
        mask |= SIZE_BIT.get(s, 0)
    rate = prov.response_rate if prov is not None else None
    lo, hi, sec = industry_bits(tuple(o.industries))
    bits = 0
    for region in o.regions:
        b = REGIONS(region)
        if b >= _REGION_BITS:
            bits = -1
            break
        bits |= 1 << b
    return (
        o.id,
        codes(o.kind),
        codes(branch_of(o.category)),
        codes(o.category) if "." in o.category else -1,
        _f(o.price_min if o.price_min is not None else o.price_max),
        _f(o.price_min),
        _f(o.price_max),
        _f(o.amount_min),
        _f(o.amount_max),
        mask or ALL_SIZES,
        _days(o.starts_on),
        o.public,
        NATIONWIDE in o.regions or (not o.regions and not o.park_ids),
        bool(prov is not None and prov.verified),
        NAN if rate is None else min(max(float(rate), 0.0), 1.0),
        _days(o.published_at),
        lo,
        hi,
        sec,
        bits,
        bool(o.park_ids),
    )


_NEED_TYPES = (
    np.int64, np.int64, np.int64, np.int64, np.int64, np.int64, np.float64, np.float64,
    np.float64, np.bool_, np.int64, np.uint64, np.uint64, np.uint64,
)  # fmt: skip
_OFF_TYPES = (
    np.int64, np.int64, np.int64, np.int64, np.float64, np.float64, np.float64, np.float64,
    np.float64, np.int64, np.float64, np.bool_, np.bool_, np.bool_, np.float64, np.float64,
    np.uint64, np.uint64, np.uint64, np.int64, np.bool_,
)  # fmt: skip


def _columns(rows: list[tuple[object, ...]], types: tuple[type, ...]) -> list[npt.NDArray[Any]]:
    if not rows:
        return [np.zeros(0, dtype=t) for t in types]
    return [np.array(col, dtype=t) for col, t in zip(zip(*rows, strict=True), types, strict=True)]


class _Store:
    """Cached attribute rows as columns, by slot (:class:`~matching.slots.Slots`: listing
    id -> slot, valid for the record and its organization); a batch of listings is
    one fancy index per column, not a row-to-column transpose."""

    def __init__(self, types: tuple[type, ...]) -> None:
        self.types = types
        self.clear()

    def clear(self) -> None:
        self.cols: list[npt.NDArray[Any]] = [np.zeros(1024, dtype=t) for t in self.types]
        self.slots = Slots()

    def gather(
        self,
        records: Sequence[Any],
        orgs: Mapping[int, Any],
        make: Callable[[Any, Any], tuple[object, ...]],
    ) -> list[npt.NDArray[Any]]:
        if len(self.slots) > _ROW_CACHE_MAX:
            self.clear()
        org_of = list(map(orgs.get, map(_ORG_ID, records)))
        at, stale = self.slots.find(records, org_of)
        for k in stale.tolist():
            r, org = records[k], org_of[k]
            slot = at[k] = self.slots.assign(r, org)
            if slot >= self.cols[0].size:
                self.cols = [np.resize(c, c.size * 2) for c in self.cols]
            for col, value in zip(self.cols, make(r, org), strict=True):
                col[slot] = value
        return [c[at] for c in self.cols]


_NEED_STORE = _Store(_NEED_TYPES)
_OFF_STORE = _Store(_OFF_TYPES)


def need_arrays(
    needs: Sequence[NeedRecord], enterprises: Mapping[int, Enterprise], codes: Codes = CODES
) -> NeedArrays:
    """Columns of ``needs``; industries fall back to the enterprise's when the need has
    none. Rows are cached per need (checked against the record and its enterprise)."""
    if codes is CODES:
        return NeedArrays(
            *_NEED_STORE.gather(needs, enterprises, lambda d, e: _need_row(d, e, codes))
        )
    rows = [_need_row(d, enterprises.get(d.org_id), codes) for d in needs]
    return NeedArrays(*_columns(rows, _NEED_TYPES))


def offering_arrays(
    offerings: Sequence[OfferingRecord], providers: Mapping[int, Provider], codes: Codes = CODES
) -> OfferingArrays:
    """Columns of ``offerings``; a provider missing from ``providers`` is unverified.
    Rows are cached per offering (checked against the record and its provider)."""
    if codes is CODES:
        return OfferingArrays(
            *_OFF_STORE.gather(offerings, providers, lambda o, p: _offering_row(o, p, codes))
        )
    rows = [_offering_row(o, providers.get(o.org_id), codes) for o in offerings]
    return OfferingArrays(*_columns(rows, _OFF_TYPES))


def serves_matrix(
    offerings: Sequence[OfferingRecord],
    nationwide: B,
    provinces: Sequence[str],
    parks: Sequence[int],
) -> B:
    """``[len(provinces or parks), len(offerings)]``: does offering j serve listing i's
    province ``provinces[i]`` (or its park ``parks[i]``, or nationwide)?"""
    m = len(offerings)
    out = np.zeros((len(provinces), m), dtype=np.bool_)
    out |= nationwide[None, :]
    by_prov: dict[str, list[int]] = {}
    by_park: dict[int, list[int]] = {}
    for i, (p, k) in enumerate(zip(provinces, parks, strict=True)):
        by_prov.setdefault(p, []).append(i)
        by_park.setdefault(k, []).append(i)
    for j, o in enumerate(offerings):
        for region in o.regions:
            rows = by_prov.get(region)
            if rows:
                out[rows, j] = True
        for park in o.park_ids:
            rows = by_park.get(park)
            if rows:
                out[rows, j] = True
    return out


def serves_province(offs: Sequence[OfferingRecord], o: OfferingArrays, province: str) -> B:
    """Per offering: does it name ``province`` among its regions?"""
    bit = REGIONS.ids.get(province)
    if bit is None:  # no offering has named it yet
        got = np.zeros(len(offs), dtype=np.bool_)
    elif bit < _REGION_BITS:
        got = (o.region_bits & (1 << bit)) != 0
    else:
        got = np.fromiter((province in x.regions for x in offs), np.bool_, len(offs))
        return got
    for k in np.flatnonzero(o.region_bits == -1).tolist():
        got[k] = province in offs[k].regions
    return got


def names_park(offs: Sequence[OfferingRecord], o: OfferingArrays, park_id: int) -> B:
    """Per offering: does it name the park ``park_id``?"""
    got = np.zeros(len(offs), dtype=np.bool_)
    for k in np.flatnonzero(o.has_parks).tolist():
        got[k] = park_id in offs[k].park_ids
    return got


def today_ordinal(today: date) -> float:
    return float(today.toordinal())
