"""Normalised text rows of one side's listings, by listing id.

A single-listing ranking reads the rows of thousands of candidates. The rows a full
recompute computed stay in one CSR matrix in slot order (``base``), so a batch of
candidates is one scipy row selection and one sparse matrix–vector product; rows
computed later (a new or changed listing) go to flat buffers (column indices,
weights) with their start and length by slot. Slots are handed out by
:class:`~matching.slots.Slots`, which also tells a stale row (the record changed)
from a fresh one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matching.slots import Slots

I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]
MAX_ROWS = 400_000  # listings kept; beyond that the store starts again (memory)
COMPACT_SLACK = 1 << 20  # buffer entries of replaced rows tolerated before compacting


class RowStore:
    """Rows by listing id; each row is valid for the record it was computed for."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.slots = Slots()
        self.base = sp.csr_matrix((0, 0), dtype=np.float32)  # slots 0..n-1, as loaded
        self.flat = np.zeros(0, dtype=np.bool_)  # by slot: the row is in the buffers
        self.start = np.zeros(0, dtype=np.int64)
        self.length = np.zeros(0, dtype=np.int64)
        self.indices = np.zeros(0, dtype=np.int32)
        self.data = np.zeros(0, dtype=np.float32)
        self.used = 0  # filled part of indices/data

    def __len__(self) -> int:
        return len(self.slots)

    def load(self, records: Sequence[Any], x: sp.csr_matrix) -> None:
        """Replace the store with ``records`` and their rows ``x`` (a full recompute)."""
        self.clear()
        self.slots.load(records)
        self.base = sp.csr_matrix(x, dtype=np.float32)
        self.base.sort_indices()
        n = len(records)
        self.flat = np.zeros(n, dtype=np.bool_)
        self.start = np.zeros(n, dtype=np.int64)
        self.length = np.zeros(n, dtype=np.int64)

    def lookup(self, records: Sequence[Any]) -> tuple[I64, I64]:
        """The slot of each record's row (-1 where missing or stale) and the positions
        of the records that need a row computed."""
        return self.slots.find(records)

    def full(self, more: int) -> bool:
        """Whether ``more`` rows would take the store past :data:`MAX_ROWS` (then the
        caller clears it before :meth:`put`, so slots it holds stay valid)."""
        return len(self.slots) + more > MAX_ROWS

    def put(self, records: Sequence[Any], x: sp.csr_matrix) -> I64:
        """Store ``records``' rows ``x`` (replacing older rows of the same ids); returns
        their slots."""
        x = sp.csr_matrix(x, dtype=np.float32)
        x.sort_indices()
        lengths = np.diff(x.indptr).astype(np.int64)
        end = self.used + int(lengths.sum())
        if end > self.indices.size:
            size = max(end, 2 * self.indices.size, 1024)
            self.indices = np.resize(self.indices, size)
            self.data = np.resize(self.data, size)
        self.indices[self.used : end] = x.indices[: end - self.used]
        self.data[self.used : end] = x.data[: end - self.used]
        starts = self.used + np.asarray(x.indptr[:-1], dtype=np.int64)
        self.used = end
        out = np.fromiter(map(self.slots.assign, records), np.int64, len(records))
        size = len(self.slots.owner)
        if size > self.flat.size:
            grow = max(size, 2 * self.flat.size)
            self.flat = np.concatenate((self.flat, np.zeros(grow - self.flat.size, np.bool_)))
            self.start = np.resize(self.start, grow)
            self.length = np.resize(self.length, grow)
        self.flat[out] = True
        self.start[out] = starts
        self.length[out] = lengths
        live = int(self.length[:size][self.flat[:size]].sum())
        if self.used > 4 * live + COMPACT_SLACK:  # mostly replaced rows: copy the live ones
            self._compact(size)
        return out

    def dots(self, slots: I64, v: F32) -> F32:
        """Each row at ``slots`` times the dense vector ``v`` (float32, as the sparse
        products of the full recompute: the same products summed in the same order)."""
        out = np.empty(slots.size, dtype=np.float32)
        flat = self.flat[slots]
        old = np.flatnonzero(~flat)
        if old.size:
            out[old] = self.base[slots[old]] @ v[: self.base.shape[1]]
        new = np.flatnonzero(flat)
        if new.size:
            out[new] = self._flat_rows(slots[new], v.size) @ v
        return out

    def rows(self, slots: I64, width: int) -> sp.csr_matrix:
        """The rows at ``slots``, in that order, ``width`` columns wide."""
        flat = self.flat[slots]
        if flat.all():
            return self._flat_rows(slots, width)
        old = _widen(self.base[slots[~flat]], width)
        if not flat.any():
            return old
        new = self._flat_rows(slots[flat], width)
        both = sp.vstack([old, new], format="csr")
        order = np.concatenate((np.flatnonzero(~flat), np.flatnonzero(flat)))
        back = np.empty(slots.size, dtype=np.int64)
        back[order] = np.arange(slots.size)
        return both[back]

    def _flat_rows(self, slots: I64, width: int) -> sp.csr_matrix:
        lengths = self.length[slots]
        indptr = np.zeros(slots.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        pos = np.repeat(self.start[slots] - indptr[:-1], lengths) + np.arange(int(indptr[-1]))
        return sp.csr_matrix((self.data[pos], self.indices[pos], indptr), shape=(slots.size, width))

    def _compact(self, size: int) -> None:
        live = np.flatnonzero(self.flat[:size])
        lengths = self.length[live]
        indptr = np.zeros(live.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        pos = np.repeat(self.start[live] - indptr[:-1], lengths) + np.arange(int(indptr[-1]))
        self.indices, self.data = self.indices[pos], self.data[pos]
        self.start[live] = indptr[:-1]
        self.used = int(indptr[-1])


def _widen(x: sp.csr_matrix, width: int) -> sp.csr_matrix:
    """``x`` with ``width`` columns (columns added after it was made are empty in it)."""
    if x.shape[1] == width:
        return x
    return sp.csr_matrix((x.data, x.indices, x.indptr), shape=(x.shape[0], width))
