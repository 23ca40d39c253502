"""Normalised text rows of one side's listings, by listing id, in flat buffers.

A single-listing ranking reads the rows of thousands of candidates. Kept as one small
array pair per listing, that costs a Python step per candidate to gather them into a
sparse matrix; here every row lives in two flat buffers (column indices, weights)
with its start and length by slot (:class:`~matching.slots.Slots`), so a batch of
candidates becomes a CSR matrix by array indexing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from matching.slots import Slots

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F32 = npt.NDArray[np.float32]
MAX_ROWS = 400_000  # listings kept; beyond that the store starts again (memory)


class RowStore:
    """Rows by listing id; each row is valid for the record it was computed for (a
    changed record — other text, other fields — misses and is recomputed)."""

    def __init__(self) -> None:
        self.clear()

    def clear(self) -> None:
        self.slots = Slots()
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
        n = len(records)
        self.slots.load(records)
        self.start = np.asarray(x.indptr[:-1], dtype=np.int64).copy()
        self.length = np.diff(x.indptr).astype(np.int64)
        self.indices = np.asarray(x.indices, dtype=np.int32).copy()
        self.data = np.asarray(x.data, dtype=np.float32).copy()
        self.used = int(x.indptr[n]) if n else 0

    def lookup(self, records: Sequence[Any]) -> tuple[I64, I64]:
        """The slot of each record's row (-1 where missing or stale) and the positions
        of the records that need a row computed."""
        return self.slots.find(records)

    def put(self, records: Sequence[Any], x: sp.csr_matrix) -> I64:
        """Store ``records``' rows ``x`` (replacing older rows of the same ids); returns
        their slots. The caller checks :meth:`full` first: slots it holds stay valid."""
        lengths = np.diff(x.indptr).astype(np.int64)
        need = self.used + int(lengths.sum())
        if need > self.indices.size:
            size = max(need, 2 * self.indices.size, 1024)
            self.indices = np.resize(self.indices, size)
            self.data = np.resize(self.data, size)
        starts = self.used + np.asarray(x.indptr[:-1], dtype=np.int64)
        self.indices[self.used : need] = x.indices[: need - self.used]
        self.data[self.used : need] = x.data[: need - self.used]
        self.used = need
        out = np.fromiter(map(self.slots.assign, records), np.int64, len(records))
        size = len(self.slots.owner)
        if size > self.start.size:
            self.start = np.resize(self.start, max(size, 2 * self.start.size))
            self.length = np.resize(self.length, self.start.size)
        self.start[out] = starts
        self.length[out] = lengths
        live = int(self.length[:size].sum())
        if self.used > 4 * live + (1 << 20):  # mostly replaced rows: copy the live ones
            self._compact()
        return out

    def full(self, more: int) -> bool:
        """Whether ``more`` rows would take the store past :data:`MAX_ROWS`."""
        return len(self.slots) + more > MAX_ROWS

    def _compact(self) -> None:
        n = len(self.slots.owner)
        lengths = self.length[:n]
        indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        pos = np.repeat(self.start[:n] - indptr[:-1], lengths) + np.arange(int(indptr[-1]))
        self.indices, self.data = self.indices[pos], self.data[pos]
        self.start[:n] = indptr[:-1]
        self.used = int(indptr[-1])

    def matrix(self, slots: I64, width: int) -> sp.csr_matrix:
        """The rows at ``slots`` as one CSR matrix ``width`` columns wide."""
        lengths = self.length[slots]
        indptr = np.zeros(slots.size + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        total = int(indptr[-1])
        pos = np.repeat(self.start[slots] - indptr[:-1], lengths) + np.arange(total)
        return sp.csr_matrix((self.data[pos], self.indices[pos], indptr), shape=(slots.size, width))
