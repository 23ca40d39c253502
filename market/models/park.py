"""Industrial parks (园区名录)."""

from __future__ import annotations

from sqlalchemy import JSON, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from market.core.extensions import db
from market.models.base import HasRef, Timestamps

PARK_LEVELS = ("national", "provincial", "municipal")
ZONE_TYPES = ("economic_development", "high_tech", "industrial", "other")


class Park(HasRef, Timestamps, db.Model):  # type: ignore[name-defined]
    __tablename__ = "parks"
    REF_PREFIX = "P"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    province: Mapped[str] = mapped_column(String(32), index=True)
    city: Mapped[str] = mapped_column(String(64), default="")
    level: Mapped[str] = mapped_column(String(16), index=True)
    zone_type: Mapped[str] = mapped_column(String(32), index=True)
    industries: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")

    def __repr__(self) -> str:
        return f"<Park {self.ref} {self.name}>"
