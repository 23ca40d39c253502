"""Organizations: providers, financial and training bodies, enterprises, park operators."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from market.core.extensions import db
from market.models.base import HasRef, Timestamps

if TYPE_CHECKING:
    from market.models.park import Park
    from market.models.user import User

ORG_KINDS = (
    "solution_provider",
    "financial_institution",
    "training_body",
    "enterprise",
    "park_operator",
)
ORG_SIZES = ("large", "medium", "small", "micro")
# Kinds that must belong to a park.
PARK_BOUND_KINDS = frozenset({"enterprise", "park_operator"})
# Which offering kinds each organization kind may list.
OFFERING_KINDS_BY_ORG = {
    "solution_provider": ("solution",),
    "financial_institution": ("finance",),
    "training_body": ("training",),
    # Park operators organise lectures and skills training for their enterprises (讲座、实训).
    "park_operator": ("training",),
}


class Organization(HasRef, Timestamps, db.Model):  # type: ignore[name-defined]
    __tablename__ = "organizations"
    REF_PREFIX = "O"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    province: Mapped[str] = mapped_column(String(32), default="")
    city: Mapped[str] = mapped_column(String(64), default="")
    park_id: Mapped[int | None] = mapped_column(ForeignKey("parks.id"), index=True)
    size: Mapped[str | None] = mapped_column(String(16))
    industries: Mapped[list[str]] = mapped_column(JSON, default=list)
    description: Mapped[str] = mapped_column(Text, default="")
    verified: Mapped[bool] = mapped_column(default=False)

    park: Mapped[Park | None] = relationship()
    users: Mapped[list[User]] = relationship(back_populates="org")

    @property
    def offering_kinds(self) -> tuple[str, ...]:
        return OFFERING_KINDS_BY_ORG.get(self.kind, ())

    @property
    def posts_needs(self) -> bool:
        return self.kind == "enterprise"

    def __repr__(self) -> str:
        return f"<Organization {self.ref} {self.name}>"
