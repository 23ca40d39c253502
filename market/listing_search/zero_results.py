"""Searches that found nothing: counted per query and day, for the admins' suggestion list.

Only what says which words the concept map lacks is kept: the normalised query, the
index, a count per day, and when it was first and last seen; never who searched or
from where. A search with filters is not counted (its emptiness is about the
filters), nor is a query longer than ``ZERO_QUERY_MAX`` (pasted text, not words).
Recording must never cost the visitor their results, so it writes in a transaction
of its own and only logs a failure. Days older than ``ZERO_RESULTS_KEEP_DAYS``
(default 180) are pruned by the scheduler's ``zero-results-prune`` job.
"""

from __future__ import annotations

import logging
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from market.core import tabular
from market.core.db import write_intent
from market.core.errors import DomainError
from market.core.extensions import db
from market.core.report_period import InvalidPeriod, Period, local_today
from market.models import ZeroResultQuery, utcnow
from market.models.concept_entry import ZERO_QUERY_MAX
from search.listings import INDEXES

KEEP_DAYS = 180
LIST_LIMIT = 200
log = logging.getLogger("market.search")


def normalise(raw: str | None) -> str | None:
    """The query as it is counted: NFKC, lower case, one space between words.

    None when there is nothing to count: empty, over ``ZERO_QUERY_MAX`` characters,
    or holding control characters.
    """
    text = unicodedata.normalize("NFKC", raw or "")
    if any(unicodedata.category(ch) == "Cc" for ch in text.replace("\t", " ")):
        return None
    text = " ".join(text.casefold().split())
    return text if 0 < len(text) <= ZERO_QUERY_MAX else None


def record_search(index: str, query: str, filtered: bool, total: int) -> bool:
    """Count a search from the search page or the API if it found nothing.

    Returns True when a row was counted. Never raises: a failure is logged.
    """
    if total or filtered or index not in INDEXES:
        return False
    text = normalise(query)
    if text is None:
        return False
    try:
        _upsert(index, text, utcnow())
    except SQLAlchemyError:
        log.warning("could not count a zero-result search", exc_info=True)
        return False
    return True


def _upsert(index: str, text: str, now: datetime) -> None:
    values = {"index": index, "query": text, "day": local_today(), "count": 1}
    values |= {"first_seen": now, "last_seen": now}
    table = ZeroResultQuery.__table__
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    stmt = insert(table).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["index", "query", "day"],
        set_={"count": table.c.count + 1, "last_seen": stmt.excluded.last_seen},
    )
    # A connection of its own: the request's session may hold a read snapshot, and
    # a read upgraded to a write fails on a busy SQLite instead of waiting.
    with write_intent(), db.engine.begin() as conn:
        conn.execute(stmt)


@dataclass(frozen=True)
class Row:
    """One query of the admins' list: its count within the chosen days."""

    index: str
    query: str
    count: int
    first_seen: datetime
    last_seen: datetime


@dataclass(frozen=True)
class Page:
    """What the admins' list shows: the period, a message for a bad one, the rows."""

    period: Period
    error: str | None
    rows: list[Row]
    total: int


def listing(
    period: Period, index: str | None = None, limit: int | None = LIST_LIMIT
) -> tuple[list[Row], int]:
    """Queries that found nothing within ``period`` (local days, both ends included),
    most frequent first, without the ones marked handled and not searched since.

    Returns the rows (at most ``limit``) and how many there are in all.
    """
    t = ZeroResultQuery
    conditions = [t.day >= period.start, t.day <= period.end]
    if index:
        conditions.append(t.index == index)
    total_count = func.sum(t.count)
    last = func.max(t.last_seen)
    handled = func.max(t.handled_at)
    grouped = (
        select(t.index, t.query, total_count, func.min(t.first_seen), last)
        .where(and_(*conditions))
        .group_by(t.index, t.query)
        .having(or_(handled.is_(None), last > handled))
    )
    total = db.session.scalar(select(func.count()).select_from(grouped.subquery())) or 0
    stmt = grouped.order_by(total_count.desc(), last.desc(), t.query)
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = [Row(i, q, int(n), first, latest) for i, q, n, first, latest in db.session.execute(stmt)]
    return rows, int(total)


def mark_handled(index: str, query: str) -> int:
    """Hide ``query`` from the list until it is searched again. The caller commits.

    Raises:
        DomainError: no such query is listed.
    """
    t = ZeroResultQuery
    result = db.session.execute(
        update(t).where(t.index == index, t.query == query).values(handled_at=utcnow())
    )
    changed = int(getattr(result, "rowcount", 0) or 0)
    if not changed:
        raise DomainError(_("列表中没有「%(q)s」这条搜索词。", q=query[:ZERO_QUERY_MAX]))
    return changed


def prune(keep_days: int | None = None) -> int:
    """Delete the counts of days older than ``keep_days`` (``ZERO_RESULTS_KEEP_DAYS``).

    Returns how many rows went. The caller commits.
    """
    days = int(keep_days or current_app.config.get("ZERO_RESULTS_KEEP_DAYS") or KEEP_DAYS)
    cutoff = local_today() - timedelta(days=days)
    result = db.session.execute(delete(ZeroResultQuery).where(ZeroResultQuery.day < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)


def prune_and_commit() -> int:
    """:func:`prune` in a write transaction of its own (the scheduler's job)."""
    with write_intent():
        removed = prune()
        db.session.commit()
    return removed


def csv_bytes(rows: list[Row]) -> bytes:
    """The rows as CSV for a spreadsheet (UTF-8 with a BOM, formulas neutralised)."""
    headers = (_("搜索范围"), _("搜索词"), _("次数"), _("首次出现"), _("最近出现"))
    cells = [
        (
            row.index,
            row.query,
            row.count,
            row.first_seen.isoformat(timespec="seconds"),
            row.last_seen.isoformat(timespec="seconds"),
        )
        for row in rows
    ]
    return tabular.to_csv(headers, cells)


def default_period(days: int = 30) -> Period:
    """The list's default: the last ``days`` local days, today included."""
    today = local_today()
    return Period(today - timedelta(days=days - 1), today)


def parse_period(start: str | None, end: str | None) -> tuple[Period, str | None]:
    """The period two ISO dates name (each may be missing), or the default with the
    message saying what was wrong."""
    if not (start or "").strip() and not (end or "").strip():
        return default_period(), None
    fallback = default_period()
    try:
        return Period.parse(start or fallback.start.isoformat(), end), None
    except InvalidPeriod as exc:
        return fallback, exc.message
