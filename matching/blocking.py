"""Cheap filters the app turns into SQL to fetch candidates (never all pairs)."""

from __future__ import annotations

from dataclasses import dataclass

from matching.arrays import branch_of
from matching.rules import NATIONWIDE
from matching.types import NeedRecord, OfferingRecord


@dataclass(frozen=True, slots=True)
class Blocking:
    """Candidates on the other side are listings with ``kind`` in ``kinds`` whose
    category is ``category_prefix`` or starts with ``category_prefix + "."``, and which
    serve ``province`` — for offerings: ``province`` in their regions, or 全国, or
    ``park_id`` among their parks; for needs: located in ``province``. ``province``
    None means no place filter (an offering serving 全国 fits needs anywhere).
    ``park_id`` is the need's park (offerings naming it serve it even outside
    their provinces); None on the offering side.

    Every hard rule is applied again on the fetched candidates, so a wider filter
    only costs time, never correctness.
    """

    kinds: tuple[str, ...]
    category_prefix: str
    province: str | None
    park_id: int | None
    # Offering side only: every province it serves (None = 全国) and the parks it names.
    provinces: tuple[str, ...] | None = None
    park_ids: frozenset[int] = frozenset()


def blocking_for_need(need: NeedRecord) -> Blocking:
    """Filter for the offerings that may fit ``need``: same kind, same top-level
    category branch, serving its province, its park or 全国."""
    return Blocking((need.kind,), branch_of(need.category), need.province, need.park_id)


def blocking_for_offering(offering: OfferingRecord) -> Blocking:
    """Filter for the needs ``offering`` may fit: same kind and branch, located in one
    of ``provinces`` or in one of ``park_ids`` (its regions and named parks).
    ``provinces`` is None when it serves 全国 (or names no region and no park): no
    place filter. ``province`` is set only when it serves exactly one province."""
    kinds, prefix = (offering.kind,), branch_of(offering.category)
    regions = tuple(r for r in offering.regions if r != NATIONWIDE)
    nationwide = NATIONWIDE in offering.regions or (not offering.regions and not offering.park_ids)
    if nationwide:
        return Blocking(kinds, prefix, None, None, None, frozenset())
    single = regions[0] if len(regions) == 1 else None
    return Blocking(kinds, prefix, single, None, regions, frozenset(offering.park_ids))
