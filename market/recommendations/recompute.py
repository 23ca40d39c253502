"""Storing a full recompute: every need's pairs written in batches through Core
inserts, replacing the table's rows."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import UserDefinedType

from market.models import Recommendation, utcnow
from market.recommendations import records as match_records
from market.recommendations.store import (
    BATCH,
    WRITE_CACHE_KIB,
    Progress,
    parts_json,
    read_session,
    worker_session,
)
from matching import (
    AllMatches,
    Match,
)
from matching.reasons import gc_paused

# --- the full recompute ------------------------------------------------------------------------


def pairs_of(result: AllMatches) -> dict[int, list[tuple[Match, int | None, int | None]]]:
    """The stored pairs of a full recompute, by need id: (match, need_rank, offering_rank)."""
    with gc_paused():
        ranks: dict[tuple[int, int], list[Any]] = {}
        for ms in result.for_need.values():
            for rank, m in enumerate(ms, 1):
                ranks[(m.need_id, m.offering_id)] = [m, rank, None]
        for ms in result.for_offering.values():
            for rank, m in enumerate(ms, 1):
                entry = ranks.setdefault((m.need_id, m.offering_id), [m, None, None])
                entry[2] = rank
        by_need: dict[int, list[tuple[Match, int | None, int | None]]] = defaultdict(list)
        for (need_id, _offering_id), (m, nr, orank) in ranks.items():
            by_need[need_id].append((m, nr, orank))
        return by_need


# The columns write_all fills, in the order of its rows.
_WRITE_COLUMNS = (
    "need_id",
    "offering_id",
    "score",
    "parts",
    "need_rank",
    "offering_rank",
    "first_seen_at",
    "computed_at",
)


class _DriverValue(UserDefinedType[Any]):
    """A bind or result typed this way is not converted: write_all hands the driver
    values already in its format (a NullType bind would take the column's type)."""

    cache_ok = True

    def get_col_spec(self, **_kw: Any) -> str:
        raise NotImplementedError("only for binds and results, never a column")


_RAW = _DriverValue()


def _driver_value(column: Any, value: Any, dialect: Any) -> Any:
    """``value`` as SQLAlchemy would hand it to the driver for ``column``."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process(value) if process is not None else value


def _insert_rows(session: Session, rows: list[tuple[Any, ...]]) -> None:
    """Insert ``rows`` (values of :data:`_WRITE_COLUMNS`, in the driver's format) into
    the table: PostgreSQL's COPY through psycopg, else one executemany of the tuples."""
    table = Recommendation.__table__
    conn = session.connection()
    dialect = conn.dialect
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        from psycopg import sql

        copy_sql = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, _WRITE_COLUMNS))
        )
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for row in rows:
                copy.write_row(row)
        return
    stmt = insert(table).values({c: bindparam(c, type_=_RAW) for c in _WRITE_COLUMNS})
    compiled = stmt.compile(dialect=dialect)
    if compiled.positiontup == list(_WRITE_COLUMNS):  # sqlite3's "?": the tuples as they are
        conn.exec_driver_sql(str(compiled), rows)
    else:
        session.execute(stmt, [dict(zip(_WRITE_COLUMNS, row, strict=True)) for row in rows])


@contextmanager
def _sqlite_cache(session: Session) -> Iterator[None]:
    """SQLite's page cache of this connection raised to :data:`WRITE_CACHE_KIB` for the
    block (the indexes of a 3 M-row table do not fit SQLite's default 2 MB), then set
    back, even after an error (the pool keeps the connection)."""
    if session.get_bind().dialect.name != "sqlite":
        yield
        return
    driver = session.connection().connection.driver_connection
    assert driver is not None
    was = int(driver.execute("PRAGMA cache_size").fetchone()[0])
    driver.execute(f"PRAGMA cache_size = {-int(WRITE_CACHE_KIB)}")
    try:
        yield
    finally:
        driver.execute(f"PRAGMA cache_size = {was}")


def write_all(
    by_need: dict[int, list[tuple[Match, int | None, int | None]]],
    progress: Progress | None = None,
) -> int:
    """Replace the table with ``by_need``, need by need in batches of :data:`BATCH`,
    keeping ``first_seen_at`` of pairs already stored. Returns the rows written.

    The rows bypass the ORM and the column types: ``parts`` is serialised here (the
    text the JSON type would store), the timestamps are read and written in the
    driver's format, and each batch is one COPY (PostgreSQL) or executemany.
    """
    with gc_paused():
        with read_session() as session:
            stored = set(session.scalars(select(Recommendation.need_id).distinct()))
        need_ids = sorted(set(by_need) | stored)
        batches = list(match_records.chunks(need_ids, BATCH))
        written = 0
        for done, batch in enumerate(batches, 1):
            with worker_session() as session, _sqlite_cache(session):
                dialect = session.get_bind().dialect
                first = {
                    (n, o): seen
                    for n, o, seen in session.execute(
                        select(
                            Recommendation.need_id,
                            Recommendation.offering_id,
                            type_coerce(Recommendation.first_seen_at, _RAW),
                        ).where(Recommendation.need_id.in_(batch))
                    )
                }
                session.execute(delete(Recommendation).where(Recommendation.need_id.in_(batch)))
                now = _driver_value(Recommendation.computed_at, utcnow(), dialect)
                rows = [
                    (
                        m.need_id,
                        m.offering_id,
                        float(m.score),
                        json.dumps(parts_json(m.parts)),
                        need_rank,
                        offering_rank,
                        first.get((m.need_id, m.offering_id), now),
                        now,
                    )
                    for need_id in batch
                    for m, need_rank, offering_rank in by_need.get(need_id, ())
                ]
                if rows:
                    _insert_rows(session, rows)
                written += len(rows)
            if progress:
                progress(done, len(batches))
        return written
