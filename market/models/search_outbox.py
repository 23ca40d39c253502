"""The search outbox: index changes waiting to be applied, written with the change itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from market.core.extensions import db
from market.models.base import UTCDateTime, utcnow

OUTBOX_OPS = ("upsert", "delete")


class SearchOutbox(db.Model):  # type: ignore[name-defined]
    """One pending change of a search document.

    Written in the same transaction as the change to the offering or need, so a
    rolled-back transaction leaves no row and a committed one always leaves one.
    A row is deleted only once the index confirmed the write; until then it stays
    (``attempts`` counts the tries, ``last_error`` says what went wrong).
    ``upsert`` means "make the index hold the record's current state" (which may be
    a delete, when the record is no longer public); ``delete`` is for a record that
    left the database or changed its ref.
    """

    __tablename__ = "search_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    index: Mapped[str] = mapped_column(String(32))  # offerings | needs
    doc_id: Mapped[str] = mapped_column(String(64), index=True)  # the listing's ref
    op: Mapped[str] = mapped_column(String(8), default="upsert")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)

    def __repr__(self) -> str:
        return f"<SearchOutbox {self.op} {self.index}/{self.doc_id}>"
