"""Recommendations (derived data), 不相关 feedback, the match outbox and weight overrides.

Recommendations can always be rebuilt from the listings (``market match --all``);
feedback and weight overrides are what people told the platform and are kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Float, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.core.extensions import db
from market.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from market.models.listing import Need, Offering
    from market.models.organization import Organization
    from market.models.user import User

FEEDBACK_SIDES = ("need", "offering")
# "all" asks the worker for a full recompute (queued from the admin page).
OUTBOX_LISTINGS = ("offering", "need", "all")


class Recommendation(db.Model):  # type: ignore[name-defined]
    """One (need, offering) pair in the top list of either side.

    ``parts`` is the score's breakdown, a list of ``{"rule", "points", "params"}``;
    ``need_rank`` is the offering's place among the need's top 20 (1 = best) and
    ``offering_rank`` the need's place among the offering's top 20; a pair in
    neither list has no row. ``first_seen_at`` survives recomputes.
    """

    __tablename__ = "recommendations"
    __table_args__ = (UniqueConstraint("need_id", "offering_id", name="uq_recommendations_pair"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    offering_id: Mapped[int] = mapped_column(
        ForeignKey("offerings.id", ondelete="CASCADE"), index=True
    )
    score: Mapped[float] = mapped_column(Float)
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    need_rank: Mapped[int | None]
    offering_rank: Mapped[int | None]
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    need: Mapped[Need] = relationship()
    offering: Mapped[Offering] = relationship()

    def __repr__(self) -> str:
        return f"<Recommendation need={self.need_id} offering={self.offering_id} {self.score}>"


class MatchFeedback(db.Model):  # type: ignore[name-defined]
    """A pair marked 不相关 by one side; that side no longer sees the pair."""

    __tablename__ = "match_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    offering_id: Mapped[int] = mapped_column(
        ForeignKey("offerings.id", ondelete="CASCADE"), index=True
    )
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    side: Mapped[str] = mapped_column(String(16))  # need | offering
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    need: Mapped[Need] = relationship()
    offering: Mapped[Offering] = relationship()
    org: Mapped[Organization] = relationship()
    user: Mapped[User | None] = relationship()


class MatchOutbox(db.Model):  # type: ignore[name-defined]
    """A listing whose recommendations must be recomputed, written with its change.

    Deleted once the recompute succeeded; a failure keeps it (``attempts``,
    ``last_error``) for the next run.
    """

    __tablename__ = "match_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    listing: Mapped[str] = mapped_column(String(16))  # offering | need | all
    listing_id: Mapped[int] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<MatchOutbox {self.listing}/{self.listing_id}>"


class MatchSettings(db.Model):  # type: ignore[name-defined]
    """The admin's override of seed_data/matching/weights.json (one row, id 1)."""

    __tablename__ = "match_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    threshold: Mapped[float] = mapped_column(Float)
    weights: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
