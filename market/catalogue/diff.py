"""What changed between two editions: 新增 (added), 下架 (removed) and 更新 (updated).

Entries are matched by listing (side and ref); an entry is updated when its snapshot's
fingerprint differs, and the changed fields are named.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l

from market.models import CatalogueEntry

FIELD_LABELS: dict[str, Any] = {
    "title": _l("名称"),
    "category": _l("类别"),
    "summary": _l("简介"),
    "description": _l("描述"),
    "tags": _l("标签"),
    "industries": _l("行业"),
    "regions": _l("服务地区"),
    "parks": _l("服务园区"),
    "price_min": _l("价格"),
    "price_max": _l("价格"),
    "price_unit": _l("价格"),
    "amount_min": _l("额度"),
    "amount_max": _l("额度"),
    "rate_min": _l("利率"),
    "rate_max": _l("利率"),
    "term_months_max": _l("期限"),
    "eligible_sizes": _l("适用企业"),
    "mode": _l("形式"),
    "starts_on": _l("开课日期"),
    "capacity": _l("名额"),
    "certificate": _l("证书"),
    "budget_min": _l("预算"),
    "budget_max": _l("预算"),
    "deadline": _l("截止日期"),
    "amount": _l("融资额"),
    "term_months": _l("期限"),
    "park": _l("所在园区"),
    "org": _l("机构"),
}


@dataclass
class Update:
    old: CatalogueEntry
    new: CatalogueEntry
    fields: list[str]


@dataclass
class Changes:
    added: list[CatalogueEntry] = field(default_factory=list)
    removed: list[CatalogueEntry] = field(default_factory=list)
    updated: list[Update] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.added) + len(self.removed) + len(self.updated)


def changed_fields(old: CatalogueEntry, new: CatalogueEntry) -> list[str]:
    """Labels of the fields that differ, each once, in the format's key order."""
    keys = list(dict.fromkeys([*(new.record or {}), *(old.record or {})]))
    labels: list[str] = []
    for key in keys:
        if key in ("ref", "status"):
            continue
        if (old.record or {}).get(key) != (new.record or {}).get(key):
            labels.append(str(FIELD_LABELS.get(key, key)))
    if old.org_name != new.org_name:
        labels.append(str(FIELD_LABELS["org"]))
    return list(dict.fromkeys(labels))


def compare(
    previous: Sequence[CatalogueEntry] | None, current: Sequence[CatalogueEntry]
) -> Changes:
    """The changes from ``previous`` to ``current``; with no previous edition, everything
    is new."""
    if previous is None:
        return Changes(added=list(current))
    old = {(e.side, e.listing_ref): e for e in previous}
    new = {(e.side, e.listing_ref): e for e in current}
    changes = Changes()
    for key, entry in new.items():
        before = old.get(key)
        if before is None:
            changes.added.append(entry)
        elif before.fingerprint != entry.fingerprint:
            changes.updated.append(Update(before, entry, changed_fields(before, entry)))
    changes.removed = [entry for key, entry in old.items() if key not in new]
    return changes
