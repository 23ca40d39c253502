"""The catalogue's lifecycle: draft → (scheduled →) published → withdrawn.

Services here change the session and flush; the caller commits (views, the CLI), except
``publish_due``, which the scheduler runs and which commits each edition it publishes.
Permission checks are the caller's (``permissions.can_compile_catalogue``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from market.catalogue import compile as compile_
from market.catalogue import exports as catalogue_exports
from market.catalogue.compile import Scope
from market.core.db import by_ref, write_intent
from market.core.errors import DomainError, InvalidTransition, NotFound
from market.core.extensions import db
from market.models import CatalogueEdition, CatalogueEntry, Docking, Park, utcnow
from market.models.catalogue import EDITABLE_STATUSES

log = logging.getLogger(__name__)

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
TITLE_MAX = 200
FOREWORD_MAX = 5000
REASON_MAX = 500
NUMBER_ATTEMPTS = 5
INSERT_CHUNK = 1000


def local_year(moment: datetime) -> int:
    """The year in China time: an edition published on 1 January 01:00 is of the new year."""
    return moment.astimezone(LOCAL_TZ).year


def default_title(scope: Scope) -> str:
    return _("%(name)s供需目录清单", name=scope.name)


# --- finding editions ---------------------------------------------------------------------


def get_by_ref(ref: str) -> CatalogueEdition:
    """The edition with this ref; raises NotFound when there is none."""
    edition = by_ref(CatalogueEdition, ref)
    if edition is None:
        raise NotFound(_("目录不存在。"))
    return edition


def editions(scope: Scope, include_drafts: bool = False) -> list[CatalogueEdition]:
    """The scope's editions, newest first (published by date, then drafts by creation)."""
    stmt = select(CatalogueEdition).where(CatalogueEdition.scope_key == scope.key)
    if not include_drafts:
        stmt = stmt.where(CatalogueEdition.number.is_not(None))
    stmt = stmt.order_by(
        CatalogueEdition.published_at.desc().nulls_first(), CatalogueEdition.id.desc()
    )
    return list(db.session.scalars(stmt))


def latest_published(scope: Scope) -> CatalogueEdition | None:
    """The scope's newest edition that is published and not withdrawn."""
    return db.session.scalar(
        select(CatalogueEdition)
        .where(CatalogueEdition.scope_key == scope.key, CatalogueEdition.status == "published")
        .order_by(CatalogueEdition.published_at.desc(), CatalogueEdition.id.desc())
        .limit(1)
    )


def previous_published(edition: CatalogueEdition) -> CatalogueEdition | None:
    """The edition this one is compared with: the scope's last published (not withdrawn)
    edition before it; for a draft, the scope's latest published edition."""
    stmt = select(CatalogueEdition).where(
        CatalogueEdition.scope_key == edition.scope_key,
        CatalogueEdition.status == "published",
        CatalogueEdition.id != edition.id,
    )
    if edition.published_at is not None:
        stmt = stmt.where(CatalogueEdition.published_at < edition.published_at)
    return db.session.scalar(
        stmt.order_by(CatalogueEdition.published_at.desc(), CatalogueEdition.id.desc()).limit(1)
    )


def published_editions(limit: int = 50) -> list[CatalogueEdition]:
    """The newest published editions of every scope (the public catalogue index)."""
    return list(
        db.session.scalars(
            select(CatalogueEdition)
            .where(CatalogueEdition.status == "published")
            .order_by(CatalogueEdition.published_at.desc(), CatalogueEdition.id.desc())
            .limit(limit)
        )
    )


def drafts_for(park_id: int | None, admin: bool) -> list[CatalogueEdition]:
    """Unpublished editions a compiler works on: a park's, or every one for admins."""
    stmt = select(CatalogueEdition).where(CatalogueEdition.status.in_(EDITABLE_STATUSES))
    if not admin:
        stmt = stmt.where(CatalogueEdition.park_id == park_id, CatalogueEdition.scope == "park")
    return list(db.session.scalars(stmt.order_by(CatalogueEdition.id.desc())))


# --- compiling ------------------------------------------------------------------------------


def _editable(edition: CatalogueEdition) -> None:
    if not edition.is_editable:
        raise InvalidTransition(_("已发布的目录不能再修改；如有错误请撤回后发布新一期。"))


def new_edition(scope: Scope, user: object | None, title: str | None = None) -> CatalogueEdition:
    """A draft for ``scope``. It starts from the scope's latest edition's choices (section
    order, exclusions, foreword), so what staff left out last time stays out."""
    previous = db.session.scalar(
        select(CatalogueEdition)
        .where(CatalogueEdition.scope_key == scope.key)
        .order_by(CatalogueEdition.id.desc())
        .limit(1)
    )
    edition = CatalogueEdition(
        scope=scope.kind,
        scope_key=scope.key,
        park_id=scope.park.id if scope.park is not None else None,
        province=scope.province,
        title=_clean_title(title) or default_title(scope),
        foreword=previous.foreword if previous else "",
        section_order=compile_.ordered_sections(previous.section_order if previous else []),
        excluded=list(previous.excluded or []) if previous else [],
        status="draft",
        created_by_id=getattr(user, "id", None),
    )
    db.session.add(edition)
    db.session.flush()
    return edition


def _clean_title(title: str | None) -> str:
    text = " ".join((title or "").split())
    if len(text) > TITLE_MAX:
        raise DomainError(_("标题不能超过 %(n)d 个字。", n=TITLE_MAX))
    return text


def update_settings(edition: CatalogueEdition, title: str, foreword: str) -> None:
    """Set the title (required) and the foreword; raises DomainError for bad input."""
    _editable(edition)
    clean = _clean_title(title)
    if not clean:
        raise DomainError(_("请填写目录标题。"))
    text = (foreword or "").replace("\r\n", "\n").strip()
    if len(text) > FOREWORD_MAX:
        raise DomainError(_("前言不能超过 %(n)d 个字。", n=FOREWORD_MAX))
    edition.title = clean
    edition.foreword = text


def set_included(edition: CatalogueEdition, key: str, include: bool) -> None:
    """Include or exclude one proposed listing ("S:<id>" / "D:<id>")."""
    _editable(edition)
    side, _sep, raw_id = key.partition(":")
    if side not in ("S", "D") or not raw_id.isdigit() or len(raw_id) > 12:
        raise DomainError(_("条目编号无效。"))
    excluded = [k for k in (edition.excluded or []) if k != key]
    if not include:
        excluded.append(key)
    edition.excluded = sorted(excluded)


def move_section(edition: CatalogueEdition, code: str, step: int) -> None:
    """Move a category section one place up (step -1) or down (+1)."""
    _editable(edition)
    order = compile_.ordered_sections(edition.section_order or [])
    if code not in order or step not in (-1, 1):
        raise DomainError(_("栏目无效。"))
    i = order.index(code)
    j = i + step
    if 0 <= j < len(order):
        order[i], order[j] = order[j], order[i]
    edition.section_order = order


def schedule(edition: CatalogueEdition, when: datetime, now: datetime | None = None) -> None:
    """Publish ``edition`` automatically at ``when`` (must be in the future)."""
    _editable(edition)
    if when <= (now or utcnow()):
        raise DomainError(_("定时发布的时间必须晚于现在。"))
    edition.status = "scheduled"
    edition.scheduled_for = when


def unschedule(edition: CatalogueEdition) -> None:
    if edition.status != "scheduled":
        raise InvalidTransition(_("这一期没有设置定时发布。"))
    edition.status = "draft"
    edition.scheduled_for = None


# --- publishing -----------------------------------------------------------------------------


def publish(
    edition: CatalogueEdition, user: object | None, now: datetime | None = None
) -> CatalogueEdition:
    """Freeze the edition's entries and give it the next number of its scope and year.

    Claims the edition with a conditional update first, so a double submit (or the
    scheduler racing a click) publishes it once; the second caller gets
    InvalidTransition. The number comes from the unique (scope, year, number)
    constraint: a concurrent publication that took the same number makes the insert
    fail inside a savepoint, and the next number is tried.
    """
    moment = now or utcnow()
    claimed = db.session.execute(
        update(CatalogueEdition)
        .where(CatalogueEdition.id == edition.id, CatalogueEdition.status.in_(EDITABLE_STATUSES))
        .values(status="published", published_at=moment, updated_at=moment)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        db.session.refresh(edition)
        raise InvalidTransition(_("这一期已经发布或已撤回。"))
    db.session.refresh(edition)
    rows = compile_.snapshot(edition)
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = [{"edition_id": edition.id, **row} for row in rows[start : start + INSERT_CHUNK]]
        db.session.execute(insert(CatalogueEntry), chunk)
    edition.supply_count = sum(1 for row in rows if row["side"] == "supply")
    edition.demand_count = len(rows) - edition.supply_count
    edition.published_by_id = getattr(user, "id", None)
    edition.scheduled_for = None
    # Flushed before the savepoint: rolling one back expires what it flushed.
    db.session.flush()
    _number(edition, local_year(moment))
    db.session.expire(edition, ["entries"])
    return edition


def _number(edition: CatalogueEdition, year: int) -> None:
    for _attempt in range(NUMBER_ATTEMPTS):
        highest = db.session.scalar(
            select(func.max(CatalogueEdition.number)).where(
                CatalogueEdition.scope_key == edition.scope_key, CatalogueEdition.year == year
            )
        )
        try:
            with db.session.begin_nested():
                edition.year = year
                edition.number = int(highest or 0) + 1
                db.session.flush()
            return
        except IntegrityError:
            log.info("edition number %s taken concurrently; trying the next", edition.number)
    raise DomainError(_("发布繁忙，请稍后再试。"))


def withdraw(edition: CatalogueEdition, user: object | None, reason: str) -> None:
    """Withdraw a published edition; the reason is kept and shown on its page."""
    text = (reason or "").strip()
    if not text:
        raise DomainError(_("请填写撤回原因。"))
    if len(text) > REASON_MAX:
        raise DomainError(_("撤回原因不能超过 %(n)d 个字。", n=REASON_MAX))
    if edition.status != "published":
        raise InvalidTransition(_("只有已发布的目录可以撤回。"))
    edition.status = "withdrawn"
    edition.withdrawn_at = utcnow()
    edition.withdraw_reason = text
    edition.withdrawn_by_id = getattr(user, "id", None)


def publish_due(now: datetime) -> list[CatalogueEdition]:
    """Publish every scheduled edition whose time has come; returns those published.

    Each edition is committed on its own (one that fails is logged and left scheduled
    for the next run) and its exports are written after the commit.
    """
    published: list[CatalogueEdition] = []
    with write_intent():
        due = list(
            db.session.scalars(
                select(CatalogueEdition.id)
                .where(
                    CatalogueEdition.status == "scheduled",
                    CatalogueEdition.scheduled_for <= now,
                )
                .order_by(CatalogueEdition.scheduled_for, CatalogueEdition.id)
            )
        )
        db.session.rollback()
        for edition_id in due:
            edition = db.session.get(CatalogueEdition, edition_id)
            if edition is None:
                continue
            try:
                publish(edition, None, now)
                db.session.commit()
            except (DomainError, IntegrityError):
                db.session.rollback()
                log.exception("scheduled catalogue %s could not be published", edition_id)
                continue
            published.append(edition)
            catalogue_exports.write_all_quietly(edition)
    return published


def park_by_ref(ref: str) -> Park:
    park = db.session.scalar(select(Park).where(Park.ref == ref))
    if park is None:
        raise NotFound(_("园区不存在。"))
    return park


# --- figures for the park page ----------------------------------------------------------------


@dataclass
class ParkSummary:
    """The park's latest edition, its entries per top-level category and side, and how
    many of its entries led to a docking (a request, interest, registration or
    financing application made after publication)."""

    edition: CatalogueEdition | None
    by_category: dict[str, dict[str, int]]
    docked_entries: int
    editions: int


def park_summary(park: Park) -> ParkSummary:
    scope = compile_.park_scope(park)
    latest = latest_published(scope)
    count = int(
        db.session.scalar(
            select(func.count(CatalogueEdition.id)).where(
                CatalogueEdition.scope_key == scope.key, CatalogueEdition.number.is_not(None)
            )
        )
        or 0
    )
    if latest is None:
        return ParkSummary(None, {}, 0, count)
    by_category: dict[str, dict[str, int]] = {}
    rows = db.session.execute(
        select(CatalogueEntry.section, CatalogueEntry.side, func.count(CatalogueEntry.id))
        .where(CatalogueEntry.edition_id == latest.id)
        .group_by(CatalogueEntry.section, CatalogueEntry.side)
    )
    for section, side, n in rows:
        by_category.setdefault(section, {"supply": 0, "demand": 0})[side] = int(n)
    ordered = {
        code: by_category[code]
        for code in compile_.ordered_sections(latest.section_order or [])
        if code in by_category
    }
    return ParkSummary(latest, ordered, docked_entries(latest), count)


def docked_entries(edition: CatalogueEdition) -> int:
    """Entries of the edition whose listing got a docking after the edition came out."""
    since = edition.published_at
    offered = (
        select(Docking.id)
        .where(Docking.offering_id == CatalogueEntry.listing_id, Docking.created_at >= since)
        .exists()
    )
    needed = (
        select(Docking.id)
        .where(Docking.need_id == CatalogueEntry.listing_id, Docking.created_at >= since)
        .exists()
    )
    stmt = select(func.count(CatalogueEntry.id)).where(
        CatalogueEntry.edition_id == edition.id,
        or_(
            and_(CatalogueEntry.side == "supply", offered),
            and_(CatalogueEntry.side == "demand", needed),
        ),
    )
    return int(db.session.scalar(stmt) or 0)
