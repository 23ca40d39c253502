"""Listing id -> slot, valid for the record (and organization) it was filled from.

The per-listing caches (attribute columns, text rows) are read for every candidate of
a ranking — up to tens of thousands of records a call. :meth:`Slots.find` does it
with C-level ``map`` calls and array comparisons: a record counts as unchanged when
it is the very object the slot was filled from (compared by ``id()``, which cannot
be reused while the slot holds the object), or failing that compares equal to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

I64 = npt.NDArray[np.int64]
_ID = attrgetter("id")


class Slots:
    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.slot: dict[int, int] = {}
        self.owner: list[Any] = []  # by slot: (record, organization) it was filled from
        self._ident = np.zeros(0, dtype=np.int64)  # id() of the record, by slot
        self._org_ident = np.zeros(0, dtype=np.int64)  # id() of the organization

    def __len__(self) -> int:
        return len(self.slot)

    def find(self, records: Sequence[Any], orgs: Sequence[Any] | None = None) -> tuple[I64, I64]:
        """The slot of each record (-1 where it has none) and the positions of the
        records whose slot is missing or stale (the record, or its organization when
        ``orgs`` is given, changed)."""
        n = len(records)
        at = np.fromiter(map(self.slot.get, map(_ID, records), repeat(-1)), np.int64, n)
        ident = np.fromiter(map(id, records), np.int64, n)
        have = at >= 0
        same = have.copy()
        same[have] = self._ident[at[have]] == ident[have]
        if orgs is not None:
            org_ident = np.fromiter(map(id, orgs), np.int64, n)
            same[have] &= self._org_ident[at[have]] == org_ident[have]
        # Not the same objects: equal records (and organizations) are still fresh.
        for k in np.flatnonzero(have & ~same).tolist():
            rec, org = self.owner[at[k]]
            if rec == records[k] and (orgs is None or org == orgs[k]):
                self._own(int(at[k]), records[k], None if orgs is None else orgs[k])
                same[k] = True
        at[~same] = -1
        return at, np.flatnonzero(~same)

    def assign(self, record: Any, org: Any = None) -> int:
        """The slot of ``record`` (a new one for a new id), now filled from it."""
        s = self.slot.get(record.id)
        if s is None:
            s = self.slot[record.id] = len(self.owner)
            self.owner.append((record, org))
            if s >= self._ident.size:
                size = max(1024, 2 * self._ident.size)
                self._ident = np.resize(self._ident, size)
                self._org_ident = np.resize(self._org_ident, size)
        self._own(s, record, org)
        return s

    def load(self, records: Sequence[Any]) -> None:
        """Slots 0..n-1 for ``records``, in order (no organizations)."""
        self.clear()
        self.slot = {r.id: k for k, r in enumerate(records)}
        self.owner = [(r, None) for r in records]
        self._ident = np.fromiter(map(id, records), np.int64, len(records))
        self._org_ident = np.full(len(records), id(None), dtype=np.int64)

    def _own(self, s: int, record: Any, org: Any) -> None:
        self.owner[s] = (record, org)
        self._ident[s] = id(record)
        self._org_ident[s] = id(org)
