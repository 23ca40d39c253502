"""Invitations from park staff to a listed provider to serve the park (精准招商)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.core.extensions import db
from market.models.base import UTCDateTime, utcnow

if TYPE_CHECKING:
    from market.models.listing import Offering
    from market.models.organization import Organization
    from market.models.park import Park
    from market.models.user import User

# "expired" is never stored: a sent invitation past ``expires_at`` shows as expired.
INVITATION_STATUSES = ("sent", "accepted", "declined")


class ParkInvitation(db.Model):  # type: ignore[name-defined]
    """One invitation of one offering to one park, answered at most once."""

    __tablename__ = "park_invitations"
    __table_args__ = (Index("ix_park_invitations_park_created", "park_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    park_id: Mapped[int] = mapped_column(ForeignKey("parks.id", ondelete="CASCADE"))
    offering_id: Mapped[int] = mapped_column(
        ForeignKey("offerings.id", ondelete="CASCADE"), index=True
    )
    provider_org_id: Mapped[int] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    message: Mapped[str] = mapped_column(Text, default="")
    # Who was mailed, comma-separated, so staff can see where the link went.
    sent_to: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="sent", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    park: Mapped[Park] = relationship()
    offering: Mapped[Offering] = relationship()
    provider_org: Mapped[Organization] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])
    answered_by: Mapped[User | None] = relationship(foreign_keys=[answered_by_id])

    @property
    def is_expired(self) -> bool:
        return self.status == "sent" and self.expires_at < utcnow()

    @property
    def display_status(self) -> str:
        """sent / accepted / declined, or expired for an unanswered link past its time."""
        return "expired" if self.is_expired else self.status
