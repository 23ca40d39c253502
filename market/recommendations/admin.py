"""What the admins tuning weights read: 不相关 feedback with the pairs' scores and parts."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, or_, select
from sqlalchemy.orm import aliased, selectinload

from market.core.extensions import db
from market.core.tabular import safe_text
from market.models import MatchFeedback, Need, Offering, Organization, Recommendation
from market.recommendations.reasons import reason_texts

CSV_COLUMNS = (
    "created_at",
    "side",
    "need",
    "need_title",
    "offering",
    "offering_title",
    "organization",
    "user",
    "reason",
    "score",
    "parts",
)


@dataclass(frozen=True)
class FeedbackRow:
    """One feedback with the pair's stored recommendation (None when neither side lists it)."""

    feedback: MatchFeedback
    recommendation: Recommendation | None

    @property
    def reasons(self) -> list[str]:
        return reason_texts(self.recommendation.parts) if self.recommendation else []


def feedback_query(side: str = "", q: str = "") -> Select[Any]:
    """Feedback newest first, of one side ("need" | "offering") or both, whose need or
    offering ref or title, organization name or reason contains ``q``."""
    need, offering = aliased(Need), aliased(Offering)
    stmt = (
        select(MatchFeedback)
        .join(need, need.id == MatchFeedback.need_id)
        .join(offering, offering.id == MatchFeedback.offering_id)
        .join(Organization, Organization.id == MatchFeedback.org_id)
        .options(
            selectinload(MatchFeedback.need),
            selectinload(MatchFeedback.offering),
            selectinload(MatchFeedback.org),
            selectinload(MatchFeedback.user),
        )
        .order_by(MatchFeedback.created_at.desc(), MatchFeedback.id.desc())
    )
    if side in ("need", "offering"):
        stmt = stmt.where(MatchFeedback.side == side)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(
            or_(
                need.ref.ilike(like),
                need.title.ilike(like),
                offering.ref.ilike(like),
                offering.title.ilike(like),
                Organization.name.ilike(like),
                MatchFeedback.reason.ilike(like),
            )
        )
    return stmt


def with_recommendations(items: list[MatchFeedback]) -> list[FeedbackRow]:
    """Each feedback with its pair's stored recommendation (one query)."""
    pairs = {(f.need_id, f.offering_id) for f in items}
    found: dict[tuple[int, int], Recommendation] = {}
    if pairs:
        clause = or_(
            *(
                and_(Recommendation.need_id == n, Recommendation.offering_id == o)
                for n, o in sorted(pairs)
            )
        )
        for rec in db.session.scalars(select(Recommendation).where(clause)):
            found[(rec.need_id, rec.offering_id)] = rec
    return [FeedbackRow(f, found.get((f.need_id, f.offering_id))) for f in items]


def csv_lines(side: str = "", q: str = "", batch: int = 200) -> Iterator[str]:
    """The filtered feedback as CSV (UTF-8 with BOM, so Excel reads the Chinese)."""
    out = io.StringIO()
    writer = csv.writer(out)
    out.write("\ufeff")
    writer.writerow(CSV_COLUMNS)
    offset = 0
    while True:
        items = list(db.session.scalars(feedback_query(side, q).limit(batch).offset(offset)))
        for row in with_recommendations(items):
            f, rec = row.feedback, row.recommendation
            writer.writerow(
                [
                    f.created_at.isoformat(timespec="seconds"),
                    f.side,
                    f.need.ref,
                    _cell(f.need.title),
                    f.offering.ref,
                    _cell(f.offering.title),
                    _cell(f.org.name),
                    f.user.email if f.user else "",
                    _cell(f.reason),
                    "" if rec is None else rec.score,
                    "" if rec is None else "；".join(row.reasons),
                ]
            )
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if len(items) < batch:
            return
        offset += batch


def _cell(value: str | None) -> str:
    return safe_text(value or "")
