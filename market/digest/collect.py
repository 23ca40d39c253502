"""What goes into one user's digest for an ISO week.

The window of a digest runs from the previous digest's cut-off (``last_digest_at``,
at most four weeks back; a week back for a first digest) to this digest's cut-off
(the moment it is built, at the latest the end of the week). Windows of successive
digests do not overlap, so a recommendation — dated by ``first_seen_at``, which
survives recomputes — is never in two digests. Dockings awaiting an answer are a
to-do list, not news: they appear while they wait.

Sections, each optional by the user's preferences:
- ``rec_needs``: offerings newly recommended for the organization's open needs;
- ``rec_offerings``: open needs newly matched to its published offerings;
- ``dockings``: requests waiting for the organization's answer (it did not start them);
- ``registrations``: new 报名 for its training offerings;
- ``catalogues``: newly published catalogue editions of its park.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import and_, func, or_, select

from market.core.extensions import db
from market.core.report_period import iso_week
from market.core.urls import absolute_url as link
from market.digest import preferences as digest_prefs
from market.models import (
    CatalogueEdition,
    DigestPreference,
    Docking,
    MatchFeedback,
    Need,
    Offering,
    Organization,
    Recommendation,
    User,
    utcnow,
)

SECTION_LIMIT = 10  # items shown per section; the rest is counted ("and 5 more")
FIRST_WINDOW = timedelta(days=7)
LONGEST_WINDOW = timedelta(days=28)
DEFAULT_MIN_SCORE = 60.0
SECTIONS = ("rec_needs", "rec_offerings", "dockings", "registrations", "catalogues")
SECTION_KIND = {
    "rec_needs": "recommendations",
    "rec_offerings": "recommendations",
    "dockings": "dockings",
    "registrations": "registrations",
    "catalogues": "catalogues",
}


class BadWeek(ValueError):
    """A week that is not ``YYYY-Www``."""


def parse_week(text: str) -> str:
    """``2026-W05`` (normalised); raises BadWeek for anything else."""
    raw = (text or "").strip().upper()
    year, sep, week = raw.partition("-W")
    if not sep or not year.isdigit() or not week.isdigit() or len(year) != 4:
        raise BadWeek(f"week must look like 2026-W05, not {text!r}")
    try:
        date.fromisocalendar(int(year), int(week), 1)
    except ValueError as exc:
        raise BadWeek(f"{text!r} is not a week of {year}") from exc
    return f"{int(year):04d}-W{int(week):02d}"


def zone() -> ZoneInfo:
    return ZoneInfo(str(current_app.config.get("SCHEDULER_TIMEZONE", "Asia/Shanghai")))


def week_of(moment: datetime) -> str:
    return iso_week(moment.astimezone(zone()))


def current_week() -> str:
    return week_of(utcnow())


def week_bounds(week: str) -> tuple[datetime, datetime]:
    """Monday 00:00 to the next Monday 00:00 in the scheduler's time zone, as UTC."""
    year, number = (int(part) for part in week.split("-W"))
    monday = date.fromisocalendar(year, number, 1)
    start = datetime(monday.year, monday.month, monday.day, tzinfo=zone())
    return start.astimezone(UTC), (start + timedelta(days=7)).astimezone(UTC)


@dataclass
class Item:
    """One line of a digest: a title, its link and what to say under it."""

    title: str
    url: str | None
    counterpart: str = ""  # the other side's organization
    score: float | None = None
    status: str = ""
    when: datetime | None = None


@dataclass
class Section:
    name: str
    items: list[Item]
    total: int

    @property
    def more(self) -> int:
        return max(self.total - len(self.items), 0)


@dataclass
class DigestContent:
    """Everything the templates need for one user's digest."""

    user_id: int
    user_ref: str
    email: str
    name: str
    org_name: str
    language: str
    week: str
    since: datetime
    cutoff: datetime
    sections: list[Section] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(section.total for section in self.sections)

    @property
    def empty(self) -> bool:
        return self.total == 0


def min_score() -> float:
    value = current_app.config.get("DIGEST_MIN_SCORE")
    return float(value) if value is not None else DEFAULT_MIN_SCORE


def eligible_users(
    user_ids: Sequence[int] | None = None, after_id: int = 0, limit: int | None = None
) -> list[tuple[User, DigestPreference | None]]:
    """Active users of an organization whose digest is not off, by id (``after_id`` on)."""
    stmt = (
        select(User, DigestPreference)
        .outerjoin(DigestPreference, DigestPreference.user_id == User.id)
        .where(
            User.id > after_id,
            User.disabled.is_(False),
            User.org_id.is_not(None),
            or_(DigestPreference.id.is_(None), DigestPreference.frequency == "weekly"),
        )
        .order_by(User.id)
    )
    if user_ids is not None:
        stmt = stmt.where(User.id.in_(list(user_ids)))
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(row[0], row[1]) for row in db.session.execute(stmt)]


def eligible_count() -> int:
    stmt = (
        select(func.count(User.id))
        .outerjoin(DigestPreference, DigestPreference.user_id == User.id)
        .where(
            User.disabled.is_(False),
            User.org_id.is_not(None),
            or_(DigestPreference.id.is_(None), DigestPreference.frequency == "weekly"),
        )
    )
    return int(db.session.scalar(stmt) or 0)


def window(row: DigestPreference | None, cutoff: datetime) -> datetime:
    """Where this digest's items start: after the last digest, within four weeks."""
    last = row.last_digest_at if row is not None else None
    if last is None:
        return cutoff - FIRST_WINDOW
    return max(last, cutoff - LONGEST_WINDOW)


class Collector:
    """Collects digests; organization-level queries are shared by its members."""

    def __init__(self, week: str, now: datetime | None = None) -> None:
        self.week = week
        start, end = week_bounds(week)
        self.now = now or utcnow()
        self.cutoff = min(self.now, end)
        self.week_start = start
        self.min_score = min_score()
        self._cache: dict[tuple[str, int, datetime], Section] = {}

    def collect(self, user: User, row: DigestPreference | None) -> DigestContent:
        settings = digest_prefs.settings_of(user, row)
        since = window(row, self.cutoff)
        org: Organization | None = user.org
        content = DigestContent(
            user_id=user.id,
            user_ref=user.ref or "",
            email=user.email,
            name=user.name,
            org_name=org.name if org else "",
            language=settings.language,
            week=self.week,
            since=since,
            cutoff=self.cutoff,
        )
        if org is None:
            return content
        for name in SECTIONS:
            if SECTION_KIND[name] not in settings.kinds:
                continue
            key = (name, org.id, since)
            if key not in self._cache:
                self._cache[key] = getattr(self, f"_{name}")(org, since)
            section = self._cache[key]
            if section.total:
                content.sections.append(section)
        return content

    # --- sections --------------------------------------------------------------------

    def _new(self, column: Any, since: datetime) -> Any:
        return and_(column > since, column <= self.cutoff)

    def _rec_needs(self, org: Organization, since: datetime) -> Section:
        hidden = select(MatchFeedback.id).where(
            MatchFeedback.need_id == Recommendation.need_id,
            MatchFeedback.offering_id == Recommendation.offering_id,
            MatchFeedback.org_id == org.id,
            MatchFeedback.side == "need",
        )
        stmt = (
            select(Recommendation, Need, Offering, Organization.name)
            .join(Need, Need.id == Recommendation.need_id)
            .join(Offering, Offering.id == Recommendation.offering_id)
            .join(Organization, Organization.id == Offering.org_id)
            .where(
                Need.org_id == org.id,
                Need.public_clause(),
                Offering.public_clause(),
                Recommendation.need_rank.is_not(None),
                Recommendation.score >= self.min_score,
                self._new(Recommendation.first_seen_at, since),
                ~hidden.exists(),
            )
        )
        return self._section(
            "rec_needs",
            stmt,
            lambda rec, need, offering, org_name: Item(
                offering.title,
                link("offerings.detail", ref=offering.ref),
                counterpart=f"{org_name} → {need.title}",
                score=rec.score,
            ),
            Recommendation.score.desc(),
        )

    def _rec_offerings(self, org: Organization, since: datetime) -> Section:
        hidden = select(MatchFeedback.id).where(
            MatchFeedback.need_id == Recommendation.need_id,
            MatchFeedback.offering_id == Recommendation.offering_id,
            MatchFeedback.org_id == org.id,
            MatchFeedback.side == "offering",
        )
        stmt = (
            select(Recommendation, Need, Offering, Organization.name)
            .join(Need, Need.id == Recommendation.need_id)
            .join(Offering, Offering.id == Recommendation.offering_id)
            .join(Organization, Organization.id == Need.org_id)
            .where(
                Offering.org_id == org.id,
                Offering.public_clause(),
                Need.public_clause(),
                Recommendation.offering_rank.is_not(None),
                Recommendation.score >= self.min_score,
                self._new(Recommendation.first_seen_at, since),
                ~hidden.exists(),
            )
        )
        return self._section(
            "rec_offerings",
            stmt,
            lambda rec, need, offering, org_name: Item(
                need.title,
                link("needs.detail", ref=need.ref),
                counterpart=f"{org_name} → {offering.title}",
                score=rec.score,
            ),
            Recommendation.score.desc(),
        )

    def _dockings(self, org: Organization, since: datetime) -> Section:
        stmt = (
            select(Docking, Offering.title)
            .join(Offering, Offering.id == Docking.offering_id)
            .where(
                Docking.status == "requested",
                or_(Docking.provider_org_id == org.id, Docking.enterprise_org_id == org.id),
                Docking.initiator_org_id != org.id,
                Docking.created_at <= self.cutoff,
            )
        )
        return self._section(
            "dockings",
            stmt,
            lambda docking, title: Item(
                title,
                link("docking.detail", ref=docking.ref),
                counterpart=docking.initiator_org.name,
                status=docking.kind,
                when=docking.created_at,
            ),
            Docking.created_at.asc(),
        )

    def _registrations(self, org: Organization, since: datetime) -> Section:
        stmt = (
            select(Docking, Offering.title)
            .join(Offering, Offering.id == Docking.offering_id)
            .where(
                Docking.kind == "registration",
                Docking.provider_org_id == org.id,
                Docking.status.in_(("registered", "waitlisted")),
                self._new(Docking.created_at, since),
            )
        )
        return self._section(
            "registrations",
            stmt,
            lambda docking, title: Item(
                title,
                link("docking.detail", ref=docking.ref),
                counterpart=docking.enterprise_org.name,
                status=docking.status,
                when=docking.created_at,
            ),
            Docking.created_at.asc(),
        )

    def _catalogues(self, org: Organization, since: datetime) -> Section:
        model = CatalogueEdition
        if org.park_id is None:
            return Section("catalogues", [], 0)
        stmt = select(model).where(
            model.status == "published",
            model.scope == "park",
            model.park_id == org.park_id,
            self._new(model.published_at, since),
        )
        return self._section(
            "catalogues",
            stmt,
            lambda edition: Item(
                str(edition.title or edition.ref),
                link("catalogue.detail", ref=edition.ref),
                when=edition.published_at,
            ),
            model.published_at.desc(),
        )

    def _section(self, name: str, stmt: Any, make: Any, order: Any) -> Section:
        total = int(db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0)
        if not total:
            return Section(name, [], 0)
        rows = db.session.execute(stmt.order_by(order).limit(SECTION_LIMIT)).all()
        return Section(name, [make(*row) for row in rows], total)


def collect_one(user: User, week: str, now: datetime | None = None) -> DigestContent:
    """The digest ``user`` would get for ``week`` now (the admin preview; no side effects)."""
    return Collector(week, now).collect(user, digest_prefs.row_for(user))
