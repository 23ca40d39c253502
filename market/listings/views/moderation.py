"""Moderation (审核): the queue of pending listings, approve and reject."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from market.core import permissions
from market.core.errors import DomainError, PermissionDenied
from market.core.extensions import db
from market.core.urls import safe_next
from market.listings import moderation
from market.listings import service as listings
from market.listings.forms.moderation import RejectForm
from market.models import Need

bp = Blueprint("moderation", __name__)


@bp.get("/")
@login_required
def queue() -> str:
    pending = moderation.queue(current_user)
    return render_template("moderation/queue.html", queue=pending, breadcrumbs=[(_("审核"), None)])


def _back() -> Response:
    """Back to the page the decision was taken on (queue or detail page)."""
    return redirect(safe_next(request.form.get("next"), url_for("moderation.queue")))


def _load(item_type: str, ref: str) -> listings.Listing:
    """The pending item, after checking the moderator's scope (403 outside it, 404 if unknown)."""
    item = moderation.find(item_type, ref)
    permissions.require(
        permissions.can_moderate(current_user, item), _("该条目不在您的审核范围内。")
    )
    return item


def _notify(item: listings.Listing, approved: bool) -> None:
    if moderation.notify_owner(item, approved) == 0:
        flash(_("未能通知发布方（没有可用的邮箱或邮件发送失败）。"), "warning")


@bp.post("/<item_type>/<ref>/approve")
@login_required
def approve(item_type: str, ref: str) -> Response:
    item = _load(item_type, ref)
    try:
        listings.approve(item, current_user)
    except PermissionDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back()
    db.session.commit()
    flash(_("“%(title)s”已审核通过并公开。", title=item.title), "success")
    _notify(item, approved=True)
    return _back()


@bp.post("/<item_type>/<ref>/reject")
@login_required
def reject(item_type: str, ref: str) -> Response:
    item = _load(item_type, ref)
    form = RejectForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return _back()
    try:
        listings.reject(item, current_user, form.reason.data or "")
    except PermissionDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back()
    db.session.commit()
    flash(_("已驳回“%(title)s”，发布方会收到驳回原因。", title=item.title), "success")
    _notify(item, approved=False)
    return _back()


@bp.post("/need/<ref>/move")
@login_required
def move_need(ref: str) -> Response:
    """Hand a need filed into the wrong park to the right one (its moderators decide)."""
    item = _load("need", ref)
    assert isinstance(item, Need)
    try:
        park = listings.move_need(item, current_user, request.form.get("park", ""))
    except PermissionDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back()
    db.session.commit()
    flash(_("“%(title)s”已转交%(park)s审核。", title=item.title, park=park.name), "success")
    # The need may have left this moderator's scope: back to the queue, not its page.
    return redirect(url_for("moderation.queue"))
