"""对接 (docking): an enterprise and a provider acting on a match, and each dated step.

Four kinds share one table because they share the people, the inbox and the history:
``request`` (enterprise → offering), ``interest`` (provider → need), ``registration``
(报名 for a training course) and ``financing`` (a finance application).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.core.extensions import db
from market.models.base import HasRef, Timestamps, UTCDateTime, utcnow

if TYPE_CHECKING:
    from market.models.listing import Need, Offering
    from market.models.organization import Organization
    from market.models.park import Park
    from market.models.user import User

DOCKING_KINDS = ("request", "interest", "registration", "financing")
# request / interest / financing go through the answer-and-negotiate lifecycle.
NEGOTIATED_STATUSES = (
    "requested",
    "accepted",
    "declined",
    "negotiating",
    "deal",
    "no_deal",
    "withdrawn",
)
REGISTRATION_STATUSES = ("registered", "waitlisted", "cancelled", "completed")
DOCKING_STATUSES = NEGOTIATED_STATUSES + REGISTRATION_STATUSES
# Statuses after which nothing more happens.
CLOSED_STATUSES = frozenset({"declined", "deal", "no_deal", "withdrawn", "cancelled", "completed"})
DOCKING_SOURCES = ("recommendation", "search", "listing")


class Docking(HasRef, Timestamps, db.Model):  # type: ignore[name-defined]
    """One docking between an enterprise (demand side) and a provider (the offering's org).

    ``answered_at`` is the first accept/decline (used for the provider's answer record);
    ``closed_at`` is when the docking reached a closed status.
    """

    __tablename__ = "dockings"
    __table_args__ = (
        Index("ix_dockings_provider_status", "provider_org_id", "status"),
        Index("ix_dockings_enterprise_status", "enterprise_org_id", "status"),
        Index("ix_dockings_offering_status", "offering_id", "status"),
        # parkops: a park's dockings started in a period, with every column the dashboard
        # and report figures add up, so they are read from the index alone.
        Index(
            "ix_dockings_park_created",
            "park_id",
            "created_at",
            "kind",
            "status",
            "source",
            "deal_amount",
            "amount_sought",
            "certified",
            "provider_org_id",
        ),
    )
    REF_PREFIX = "K"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id"), index=True)
    need_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id"), index=True)
    enterprise_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    provider_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    initiator_org_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    initiator_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id"), index=True)
    message: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), index=True)
    amount_sought: Mapped[int | None]
    deal_amount: Mapped[int | None]
    certified: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(16), default="listing")
    score: Mapped[float | None] = mapped_column(Float)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    offering: Mapped[Offering] = relationship()
    need: Mapped[Need | None] = relationship()
    enterprise_org: Mapped[Organization] = relationship(foreign_keys=[enterprise_org_id])
    provider_org: Mapped[Organization] = relationship(foreign_keys=[provider_org_id])
    initiator_org: Mapped[Organization] = relationship(foreign_keys=[initiator_org_id])
    initiator_user: Mapped[User | None] = relationship()
    park: Mapped[Park | None] = relationship()
    events: Mapped[list[DockingEvent]] = relationship(
        back_populates="docking",
        cascade="all, delete-orphan",
        order_by="DockingEvent.id",
        passive_deletes=True,
    )

    @property
    def is_closed(self) -> bool:
        return self.status in CLOSED_STATUSES

    @property
    def initiated_by_enterprise(self) -> bool:
        return self.initiator_org_id == self.enterprise_org_id

    @property
    def receiver_org_id(self) -> int:
        """The org whose answer a requested docking waits for."""
        return self.provider_org_id if self.initiated_by_enterprise else self.enterprise_org_id

    def __repr__(self) -> str:
        return f"<Docking {self.ref} {self.kind} {self.status}>"


class DockingEvent(db.Model):  # type: ignore[name-defined]
    """One dated step of a docking: the status reached, who did it, a note and an amount."""

    __tablename__ = "docking_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    docking_id: Mapped[int] = mapped_column(
        ForeignKey("dockings.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(16))
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_org_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    amount: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    docking: Mapped[Docking] = relationship(back_populates="events")
    actor_user: Mapped[User | None] = relationship()
    actor_org: Mapped[Organization | None] = relationship()

    def __repr__(self) -> str:
        return f"<DockingEvent {self.docking_id} {self.status}>"
