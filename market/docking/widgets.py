"""What other pages show of docking: the buttons on offering and need pages, the
navigation's count, labels and the roster table. Registered as template globals and
filters, so those pages' views need not know about docking."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from flask import Blueprint
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from market.core import permissions
from market.core.tabular import Cell
from market.docking import queries as docking_queries
from market.docking import rules as docking_rules
from market.models import Need, Offering
from market.models.docking import Docking

log = logging.getLogger("market.docking")


def start_label(offering: Offering) -> str:
    """申请对接 / 申请融资 / 报名, by the offering's kind."""
    if offering.kind == "finance":
        return _("申请融资")
    if offering.kind == "training":
        return _("报名")
    return _("申请对接")


def offering_actions(item: Offering) -> dict[str, Any] | None:
    """What the offering page's docking box shows the visitor, or None for nothing.

    ``mode`` is "start" (an enterprise, or a visitor who may sign in as one), "open"
    (the visitor's org already has an open docking: ``docking``) or "owner" (the
    provider: a link to the roster for a course).
    """
    if not isinstance(item, Offering):
        return None
    if permissions.owns(current_user, item):
        return {"mode": "owner", "roster": item.kind == "training"}
    if not item.is_public:
        return None
    signed_in = bool(getattr(current_user, "is_authenticated", False))
    if signed_in and not permissions.can_start_docking(current_user):
        return None
    if signed_in:
        existing = docking_queries.open_for_offering(item, current_user.org_id)
        if existing is not None:
            return {"mode": "open", "docking": existing}
    return {"mode": "start", "label": start_label(item), "signed_in": signed_in}


def need_actions(item: Need) -> dict[str, Any] | None:
    """What the need page's docking box shows: 「表达意向」 for providers ("start"), their
    open docking on the need ("open"), or None."""
    if not isinstance(item, Need) or not item.is_public:
        return None
    signed_in = bool(getattr(current_user, "is_authenticated", False))
    if signed_in and not permissions.can_offer_interest(current_user):
        return None
    if signed_in:
        existing = docking_queries.open_for_need(item, current_user.org_id)
        if existing is not None:
            return {"mode": "open", "docking": existing}
    return {"mode": "start", "signed_in": signed_in}


def awaiting() -> int:
    """Dockings waiting for the signed-in user's org to answer (0 for visitors)."""
    org_id = getattr(current_user, "org_id", None)
    if not getattr(current_user, "is_authenticated", False) or org_id is None:
        return 0
    try:
        return docking_queries.awaiting_answer(org_id)
    except SQLAlchemyError:
        # base.html also renders the error pages, some after a database failure: the
        # count is a convenience and must not turn such a page into a second error.
        log.exception("could not count dockings awaiting an answer")
        return 0


def docking_time(value: datetime | None) -> str:
    """2026-11-24 14:05 in the site's time zone."""
    return format_datetime(value, "yyyy-MM-dd HH:mm") if value is not None else ""


def docking_status(docking: Docking | str, kind: str = "") -> str:
    if isinstance(docking, Docking):
        return docking_rules.status_label(docking.status, docking.kind)
    return docking_rules.status_label(docking, kind)


STATUS_COLORS = {
    "requested": "warning",
    "accepted": "info",
    "negotiating": "primary",
    "deal": "success",
    "no_deal": "secondary",
    "declined": "secondary",
    "withdrawn": "light",
    "registered": "success",
    "waitlisted": "warning",
    "cancelled": "light",
    "completed": "dark",
}


def docking_color(status: str) -> str:
    return STATUS_COLORS.get(status, "secondary")


def roster_table(rows: Sequence[Docking]) -> tuple[tuple[str, ...], list[tuple[Cell, ...]]]:
    """Headers and rows of a course's roster export, in roster order."""
    headers = (
        _("序号"),
        _("状态"),
        _("候补顺位"),
        _("企业"),
        _("所在园区"),
        _("报名人"),
        _("邮箱"),
        _("报名时间"),
        _("留言"),
        _("结业证书"),
        _("对接编号"),
    )
    out: list[tuple[Cell, ...]] = []
    waiting = 0
    for number, docking in enumerate(rows, start=1):
        if docking.status == "waitlisted":
            waiting += 1
        user = docking.initiator_user
        org = docking.enterprise_org
        out.append(
            (
                number,
                docking_status(docking),
                waiting if docking.status == "waitlisted" else None,
                org.name,
                org.park.name if org.park else "",
                user.name if user else "",
                user.email if user else "",
                docking_time(docking.created_at),
                docking.message,
                _("是") if docking.certified else "",
                docking.ref,
            )
        )
    return headers, out


def register(bp: Blueprint) -> None:
    """Install the globals and filters the docking partials and base.html use."""
    bp.add_app_template_global(offering_actions, "docking_offering_actions")
    bp.add_app_template_global(need_actions, "docking_need_actions")
    bp.add_app_template_global(awaiting, "docking_awaiting")
    bp.add_app_template_filter(docking_time, "docking_time")
    bp.add_app_template_filter(docking_status, "docking_status")
    bp.add_app_template_filter(docking_rules.kind_label, "docking_kind")
    bp.add_app_template_filter(docking_color, "docking_color")
