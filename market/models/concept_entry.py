"""Admins' additions to the domain concept map, and the searches that found nothing."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.core.extensions import db
from market.models.base import HasRef, Timestamps, UTCDateTime, utcnow

if TYPE_CHECKING:
    from market.models.user import User

CONCEPT_ENTRY_KINDS = ("synonym", "problem")
TERM_MAX = 40
ZERO_QUERY_MAX = 100


class ConceptEntry(HasRef, Timestamps, db.Model):  # type: ignore[name-defined]
    """A synonym or problem phrase an admin added to a concept of seed_data/concepts.

    ``concept`` is the map's concept id (the map itself lives in files, not here).
    ``added_by`` is empty for entries that came in with a data set.
    """

    __tablename__ = "concept_entries"
    REF_PREFIX = "K"

    id: Mapped[int] = mapped_column(primary_key=True)
    concept: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    term: Mapped[str] = mapped_column(String(TERM_MAX))
    added_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )

    added_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<ConceptEntry {self.ref} {self.concept} {self.kind} {self.term!r}>"


class ZeroResultQuery(db.Model):  # type: ignore[name-defined]
    """How often one normalised query found nothing in one index on one day.

    One row per (index, query, day) so the admins' list can count within a date
    range and old days can be pruned; no user and no address is kept. ``handled_at``
    hides the query from the list until it is searched again after that moment.
    """

    __tablename__ = "zero_result_queries"
    __table_args__ = (UniqueConstraint("index", "query", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    index: Mapped[str] = mapped_column(String(16))
    query: Mapped[str] = mapped_column(String(ZERO_QUERY_MAX))
    day: Mapped[date] = mapped_column(Date, index=True)
    count: Mapped[int] = mapped_column(default=1)
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<ZeroResultQuery {self.index} {self.query!r} {self.day} x{self.count}>"
