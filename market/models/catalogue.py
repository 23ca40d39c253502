"""The supply–demand catalogue (供需目录清单): numbered editions and their frozen entries.

An edition is compiled as a draft (proposals computed live from the resource pool,
minus what staff excluded), then published: it gets the next number of its scope and
year and its entries are copied into ``catalogue_entries``. From then on nothing in
the edition changes except a withdrawal, so a later edit of a listing never shows up
in a published edition.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.core.extensions import db
from market.models.base import HasRef, Timestamps, UTCDateTime

if TYPE_CHECKING:
    from market.models.park import Park
    from market.models.user import User

CATALOGUE_SCOPES = ("park", "province", "platform")
EDITION_STATUSES = ("draft", "scheduled", "published", "withdrawn")
# Editions whose content may still change.
EDITABLE_STATUSES = frozenset({"draft", "scheduled"})
ENTRY_SIDES = ("supply", "demand")


class CatalogueEdition(HasRef, Timestamps, db.Model):  # type: ignore[name-defined]
    """One edition of a park's (or a province's, or the platform's) catalogue.

    ``scope_key`` names the numbering series ("park:12", "province:江苏省", "platform");
    the unique (scope_key, year, number) constraint is what keeps two concurrent
    publications from taking the same number.
    """

    __tablename__ = "catalogue_editions"
    __table_args__ = (
        UniqueConstraint("scope_key", "year", "number", name="uq_catalogue_edition_number"),
        Index("ix_catalogue_editions_scope_status", "scope_key", "status"),
    )
    REF_PREFIX = "C"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16), index=True)
    scope_key: Mapped[str] = mapped_column(String(64))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id"), index=True)
    province: Mapped[str | None] = mapped_column(String(32), index=True)
    year: Mapped[int | None] = mapped_column(Integer)
    number: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    foreword: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    # Compile choices: top-level category codes in the order of the sections, and the
    # listings staff left out ("S:<offering id>" / "D:<need id>").
    section_order: Mapped[list[str]] = mapped_column(JSON, default=list)
    excluded: Mapped[list[str]] = mapped_column(JSON, default=list)
    scheduled_for: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdraw_reason: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    supply_count: Mapped[int] = mapped_column(Integer, default=0)
    demand_count: Mapped[int] = mapped_column(Integer, default=0)

    park: Mapped[Park | None] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])
    withdrawn_by: Mapped[User | None] = relationship(foreign_keys=[withdrawn_by_id])
    entries: Mapped[list[CatalogueEntry]] = relationship(
        back_populates="edition",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="CatalogueEntry.position",
    )

    @property
    def is_editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @property
    def is_published(self) -> bool:
        """Published at some point (withdrawn editions too: they keep their number)."""
        return self.number is not None

    def __repr__(self) -> str:
        return f"<CatalogueEdition {self.ref} {self.scope_key} {self.year}-{self.number}>"


class CatalogueEntry(db.Model):  # type: ignore[name-defined]
    """One listing as it was when its edition was published.

    ``record`` is the listing in the data format (offerings.json / needs.json), ``org``
    its organization and ``parks`` the parks either names, so an edition exports as a
    data set without looking at the live tables. ``listing_id`` is deliberately no
    foreign key: the snapshot outlives the listing.
    """

    __tablename__ = "catalogue_entries"
    __table_args__ = (Index("ix_catalogue_entries_edition_side", "edition_id", "side"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(
        ForeignKey("catalogue_editions.id", ondelete="CASCADE"), index=True
    )
    side: Mapped[str] = mapped_column(String(8))  # supply | demand
    position: Mapped[int] = mapped_column(Integer)
    listing_id: Mapped[int] = mapped_column(Integer)
    listing_ref: Mapped[str] = mapped_column(String(64))
    section: Mapped[str] = mapped_column(String(32))  # top-level category
    category: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    org_name: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(40))
    record: Mapped[dict[str, Any]] = mapped_column(JSON)
    org: Mapped[dict[str, Any]] = mapped_column(JSON)
    parks: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    edition: Mapped[CatalogueEdition] = relationship(back_populates="entries")

    @property
    def key(self) -> str:
        """ "S:<id>" or "D:<id>": how compile choices name the listing."""
        return f"{'S' if self.side == 'supply' else 'D'}:{self.listing_id}"
