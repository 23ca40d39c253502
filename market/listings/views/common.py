"""View helpers shared by the offerings and needs blueprints.

Both kinds of listing have the same life (draft → pending → live → ended), the same
owner panel and the same "who may see this" rule; the helpers keep the two route
modules to the HTTP side of it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from market.core import permissions
from market.core.db import get_or_404
from market.core.errors import DomainError, PermissionDenied
from market.core.extensions import db
from market.core.urls import safe_next
from market.listings import service as listings
from market.models import ListingEvent, Need, Offering

Listing = Offering | Need
Step = Callable[[Any, Any], None]
# Session key naming the editor whose browser-side copy can go once the save is confirmed.
AUTOSAVE_CLEAR = "autosave_clear"


def detail_endpoint(item: Listing) -> str:
    return "offerings.detail" if isinstance(item, Offering) else "needs.detail"


def load(model: type[Offering] | type[Need], ref: str) -> Any:
    """The listing with ``ref``, or a 404 page."""
    return get_or_404(model, ref)


def load_visible(model: type[Offering] | type[Need], ref: str) -> Any:
    """The listing if the visitor may see it; otherwise 404, so drafts do not leak existing."""
    item = load(model, ref)
    if not permissions.can_view(current_user, item):
        abort(404)
    return item


def load_owned(model: type[Offering] | type[Need], ref: str) -> Any:
    """The listing if the visitor's organization owns it; else raises PermissionDenied (403)."""
    item = load(model, ref)
    allowed = permissions.owns(current_user, item)
    permissions.require(allowed, _("只有发布机构的成员可以修改此条目。"))
    return item


def back(item: Listing) -> Response:
    """Back to where the action was taken (a same-site ``next``), else the detail page."""
    fallback = url_for(detail_endpoint(item), ref=item.ref)
    return redirect(safe_next(request.form.get("next"), fallback))


def run_step(step: Step, item: Listing, done: str) -> Response:
    """Apply a lifecycle step as the current user, commit, flash ``done`` and go back.

    A broken rule (DomainError) is flashed and nothing changes; a PermissionDenied is
    left to the application's handler so the visitor gets a 403 page.
    """
    try:
        step(item, current_user)
    except PermissionDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return back(item)
    db.session.commit()
    flash(done, "success")
    return back(item)


def owner_context(item: Listing) -> dict[str, Any]:
    """What the detail page needs for its owner and moderator panels."""
    owner = permissions.owns(current_user, item)
    history: list[ListingEvent] = listings.history(item) if owner else []
    return {
        "is_owner": owner,
        "history": history,
        "can_moderate": item.status == "pending" and permissions.can_moderate(current_user, item),
        "autosave_clear": session.pop(AUTOSAVE_CLEAR, None) if owner else None,
    }


def autosave_key(item_type: str, ref: str | None) -> str:
    """The editor's key for its browser-side copy (see static/js/listing-form.js)."""
    return f"{current_user.ref}:{item_type}:{ref or 'new'}"


def saved_in_editor(item_type: str, ref: str | None) -> None:
    """The server has the data now: the next page tells the browser to drop its copy."""
    session[AUTOSAVE_CLEAR] = autosave_key(item_type, ref)


def saved_message(went_back_to_draft: bool) -> str:
    if went_back_to_draft:
        return _("已保存。修改后条目已转为草稿，需要重新提交审核才会公开。")
    return _("草稿已保存。")


def submit_after_save(item: Listing, wanted: bool) -> None:
    """Submit a freshly saved listing for review when the writer pressed that button.

    The save itself stands even if the listing cannot be submitted yet (say, the
    description is missing): the message says what is left to do.
    """
    if not wanted:
        return
    try:
        listings.submit(item, current_user)
    except PermissionDenied:
        raise
    except DomainError as exc:
        flash(_("已保存为草稿，但尚未提交审核：%(reason)s", reason=exc.message), "warning")
        return
    flash(_("已提交审核，审核通过后将公开展示。"), "success")
