"""An independent statement of the hard rules (issue #4), written without the engine's
code, to check that no ranking ever returns a pair that breaks one."""

from __future__ import annotations

from datetime import date

from matching import Enterprise, NeedRecord, OfferingRecord


def violations(
    need: NeedRecord, off: OfferingRecord, enterprise: Enterprise | None, today: date
) -> list[str]:
    """The hard rules ``(need, off)`` breaks (empty when the pair may be recommended)."""
    out = []
    if not off.public or not need.open:
        out.append("listing_open")
    if need.kind != off.kind or need.category.split(".")[0] != off.category.split(".")[0]:
        out.append("kind_category")
    anywhere = "全国" in off.regions or (not off.regions and not off.park_ids)
    if not (anywhere or need.province in off.regions or need.park_id in off.park_ids):
        out.append("region")
    low = off.price_min if off.price_min is not None else off.price_max
    if low is not None and need.budget_max is not None and low > need.budget_max:
        out.append("budget")
    if off.kind == "finance":
        size = enterprise.size if enterprise else None
        if size and off.eligible_sizes and size not in off.eligible_sizes:
            out.append("finance_size")
        if need.amount is not None and (
            (off.amount_min is not None and need.amount < off.amount_min)
            or (off.amount_max is not None and need.amount > off.amount_max)
        ):
            out.append("finance_amount")
    if off.kind == "training" and off.starts_on is not None and off.starts_on < today:
        out.append("training_dates")
    return out
