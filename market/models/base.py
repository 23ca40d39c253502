"""Shared column helpers and the generated-ref mechanism."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, event, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite stores them naive)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


class Timestamps:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class HasRef:
    """Rows that carry the data set's external reference.

    A row created in the application gets ``<PREFIX>-<id:06d>`` right after its first
    flush, so every record can be exported and named on the command line.
    """

    REF_PREFIX: str = ""
    ref: Mapped[str | None] = mapped_column(unique=True, index=True)


def _assign_refs(session: Session, _flush_context: Any) -> None:
    for obj in list(session.new):
        if isinstance(obj, HasRef) and not obj.ref and obj.REF_PREFIX:
            model = type(obj)
            candidate = f"{obj.REF_PREFIX}-{obj.id:06d}"  # type: ignore[attr-defined]
            with session.no_autoflush:
                taken = session.scalar(select(model.ref).where(model.ref == candidate))
            # An imported data set may already use this exact ref for another row.
            ref = candidate if taken is None else f"{candidate}-{obj.id}"  # type: ignore[attr-defined]
            # Attribute changes made in after_flush are dropped when the flush ends, so
            # write the ref now and record it as the row's committed value.
            table = model.__table__  # type: ignore[attr-defined]
            session.connection().execute(
                update(table).where(table.c.id == obj.id).values(ref=ref)  # type: ignore[attr-defined]
            )
            set_committed_value(obj, "ref", ref)


def install_ref_listener() -> None:
    if not event.contains(Session, "after_flush", _assign_refs):
        event.listen(Session, "after_flush", _assign_refs)
