"""The resource pool: offerings (供给) and needs (需求), and their moderation history."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    Date,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    and_,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.core.extensions import db
from market.models.base import HasRef, Timestamps, UTCDateTime, utcnow

if TYPE_CHECKING:
    from market.models.organization import Organization
    from market.models.park import Park
    from market.models.user import User

OFFERING_KINDS = ("solution", "finance", "training")
# "rejected" is internal: it exports as "draft" (the data format has no rejected state).
OFFERING_STATUSES = ("draft", "pending", "published", "rejected", "archived")
NEED_STATUSES = ("draft", "pending", "open", "rejected", "closed")
TRAINING_MODES = ("online", "offline", "hybrid")

offering_parks = Table(
    "offering_parks",
    db.metadata,
    Column(
        "offering_id", Integer, ForeignKey("offerings.id", ondelete="CASCADE"), primary_key=True
    ),
    Column("park_id", Integer, ForeignKey("parks.id", ondelete="CASCADE"), primary_key=True),
)


class Offering(HasRef, Timestamps, db.Model):  # type: ignore[name-defined]
    __tablename__ = "offerings"
    REF_PREFIX = "S"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    category: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    industries: Mapped[list[str]] = mapped_column(JSON, default=list)
    regions: Mapped[list[str]] = mapped_column(JSON, default=list)
    price_min: Mapped[int | None]
    price_max: Mapped[int | None]
    price_unit: Mapped[str | None] = mapped_column(String(32))
    # finance
    amount_min: Mapped[int | None]
    amount_max: Mapped[int | None]
    rate_min: Mapped[float | None] = mapped_column(Numeric(6, 3, asdecimal=False))
    rate_max: Mapped[float | None] = mapped_column(Numeric(6, 3, asdecimal=False))
    term_months_max: Mapped[int | None]
    eligible_sizes: Mapped[list[str]] = mapped_column(JSON, default=list)
    # training
    mode: Mapped[str | None] = mapped_column(String(16))
    starts_on: Mapped[date | None] = mapped_column(Date)
    capacity: Mapped[int | None]
    certificate: Mapped[str | None] = mapped_column(String(200))
    # lifecycle
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    # parkops: the 招商 shortlist lists the newest offerings of a segment first.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)

    org: Mapped[Organization] = relationship()
    parks: Mapped[list[Park]] = relationship(secondary=offering_parks, order_by="Park.ref")

    @property
    def is_expired(self) -> bool:
        return (
            self.status == "published"
            and self.expires_at is not None
            and self.expires_at < utcnow()
        )

    @property
    def display_status(self) -> str:
        """draft/pending/published/rejected/archived, or expired for a lapsed listing."""
        return "expired" if self.is_expired else self.status

    @property
    def is_public(self) -> bool:
        return self.status == "published" and not self.is_expired

    @classmethod
    def public_clause(cls) -> ColumnElement[bool]:
        """SQL twin of ``is_public``: published and not past its expiry."""
        return and_(
            cls.status == "published", or_(cls.expires_at.is_(None), cls.expires_at > utcnow())
        )

    @classmethod
    def expired_clause(cls) -> ColumnElement[bool]:
        """SQL twin of ``is_expired``: published but past its expiry."""
        return and_(cls.status == "published", cls.expires_at < utcnow())


class Need(HasRef, Timestamps, db.Model):  # type: ignore[name-defined]
    __tablename__ = "needs"
    # parkops: open needs per park (admin overview, dashboards) read from the index alone.
    __table_args__ = (Index("ix_needs_park_status_deadline", "park_id", "status", "deadline"),)
    REF_PREFIX = "D"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"), index=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    category: Mapped[str] = mapped_column(String(64), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    industries: Mapped[list[str]] = mapped_column(JSON, default=list)
    budget_min: Mapped[int | None]
    budget_max: Mapped[int | None]
    deadline: Mapped[date | None] = mapped_column(Date, index=True)
    amount: Mapped[int | None]
    term_months: Mapped[int | None]
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    reject_reason: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    org: Mapped[Organization] = relationship()
    park: Mapped[Park] = relationship()

    @property
    def is_expired(self) -> bool:
        return (
            self.status == "open" and self.deadline is not None and self.deadline < utcnow().date()
        )

    @property
    def display_status(self) -> str:
        return "expired" if self.is_expired else self.status

    @property
    def is_public(self) -> bool:
        return self.status == "open" and not self.is_expired

    @classmethod
    def public_clause(cls) -> ColumnElement[bool]:
        """SQL twin of ``is_public``: open and its deadline not passed."""
        return and_(
            cls.status == "open", or_(cls.deadline.is_(None), cls.deadline >= utcnow().date())
        )

    @classmethod
    def expired_clause(cls) -> ColumnElement[bool]:
        """SQL twin of ``is_expired``: open but its deadline has passed."""
        return and_(cls.status == "open", cls.deadline < utcnow().date())


class ListingEvent(db.Model):  # type: ignore[name-defined]
    """One step of a listing's lifecycle (submitted, approved, rejected …), shown to its owner."""

    __tablename__ = "listing_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_type: Mapped[str] = mapped_column(String(16))  # offering | need
    item_id: Mapped[int] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    actor: Mapped[User | None] = relationship()
