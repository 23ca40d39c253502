"""The period a park's figures cover, and calendar months in SQL on either database.

Dates are the park's local calendar days (the app's ``BABEL_DEFAULT_TIMEZONE``,
Asia/Shanghai by default); timestamps are stored in UTC, so the bounds are converted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import String
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from market.core.errors import DomainError

# A period longer than this is almost certainly a typo (20206-01-01).
MAX_YEARS = 20
# The days a period may cover. The platform's records start long after the first and the
# last is far ahead; outside them a date is a typo (and 0001-01-01 or 9999-12-31 cannot
# even be turned into a UTC instant and back), so it is refused, not clamped.
EARLIEST = date(2000, 1, 1)
LATEST = date(2099, 12, 31)


class InvalidPeriod(DomainError):
    code = "invalid_period"


def local_zone() -> ZoneInfo:
    return ZoneInfo(str(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "Asia/Shanghai"))


def local_today() -> date:
    return datetime.now(local_zone()).date()


def _parse_day(text: str, which: str) -> date:
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidPeriod(
            _("%(which)s日期“%(text)s”无效，请写成 2026-01-31 这样的格式。", which=which, text=text)
        ) from None
    if not EARLIEST <= day <= LATEST:
        raise InvalidPeriod(
            _(
                "日期 %(day)s 超出范围：统计日期须在 %(low)s 至 %(high)s 之间。",
                day=day.isoformat(),
                low=EARLIEST.isoformat(),
                high=LATEST.isoformat(),
            )
        )
    return day


@dataclass(frozen=True)
class Period:
    """From the first to the last day, both included."""

    start: date
    end: date

    @classmethod
    def parse(cls, start: str | None, end: str | None, today: date | None = None) -> Period:
        """The period named by two ISO dates; a missing start is 1 January of the end's year,
        a missing end is today.

        Raises InvalidPeriod for a date that does not parse or lies outside EARLIEST …
        LATEST, an end before the start or a period longer than twenty years.
        """
        today = today or local_today()
        last = _parse_day(end, _("截止")) if end and end.strip() else today
        first = _parse_day(start, _("起始")) if start and start.strip() else date(last.year, 1, 1)
        if last < first:
            raise InvalidPeriod(_("截止日期不能早于起始日期。"))
        if (last - first).days > MAX_YEARS * 366:
            raise InvalidPeriod(_("统计区间不能超过 %(n)d 年。", n=MAX_YEARS))
        return cls(first, last)

    def bounds(self) -> tuple[datetime, datetime]:
        """UTC [start, end) instants: local midnight of the first day to that after the last."""
        zone = local_zone()
        low = datetime.combine(self.start, time.min, zone).astimezone(UTC)
        high = datetime.combine(self.end + timedelta(days=1), time.min, zone).astimezone(UTC)
        return low, high

    def as_args(self) -> dict[str, str]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat()}

    def months(self) -> list[str]:
        """Every ``YYYY-MM`` the period touches, in order."""
        out: list[str] = []
        year, month = self.start.year, self.start.month
        while (year, month) <= (self.end.year, self.end.month):
            out.append(f"{year:04d}-{month:02d}")
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        return out


def utc_offset_minutes() -> int:
    """The local zone's offset now (Asia/Shanghai has no daylight saving time)."""
    offset = datetime.now(local_zone()).utcoffset()
    return int(offset.total_seconds() // 60) if offset else 0


class local_month(FunctionElement[str]):
    """``local_month(timestamp_column, offset_minutes)``: the local ``YYYY-MM`` of a UTC time."""

    type = String()
    name = "local_month"
    inherit_cache = True


def _operands(element: local_month, compiler: SQLCompiler, **kw: Any) -> tuple[str, int]:
    column, offset = list(element.clauses)
    return compiler.process(column, **kw), int(offset.value)


@compiles(local_month, "sqlite")
def _month_sqlite(element: local_month, compiler: SQLCompiler, **kw: Any) -> str:
    column, offset = _operands(element, compiler, **kw)
    # offset is an int from the zone database, never user text.
    return f"strftime('%Y-%m', {column}, '{offset:+d} minutes')"


@compiles(local_month, "postgresql")
def _month_postgresql(element: local_month, compiler: SQLCompiler, **kw: Any) -> str:
    column, offset = _operands(element, compiler, **kw)
    return f"to_char({column} + interval '{offset:d} minutes', 'YYYY-MM')"


def iso_week(day: date | datetime) -> str:
    """The ISO week ``day`` falls in, as ``2026-W05``: the digest's week and the
    scheduler's weekly period key (a digest's week is its job run's period)."""
    year, week, _day = day.isocalendar()
    return f"{year}-W{week:02d}"
