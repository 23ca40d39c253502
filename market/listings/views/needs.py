"""Needs (需求): the public list and detail, the enterprise's pages, the lifecycle steps."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from market.core import permissions
from market.core.errors import DomainError, PermissionDenied
from market.core.extensions import db
from market.listings import browse
from market.listings import service as listings
from market.listings.forms import choices
from market.listings.forms.needs import NeedForm, need_form_data
from market.listings.views import common as views
from market.models import Need
from market.models.listing import NEED_STATUSES

bp = Blueprint("needs", __name__)
choices.register_filters(bp)

MINE_STATUSES = (*NEED_STATUSES, "expired")


def _crumbs(*extra: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(_("需求"), url_for("needs.index")), *extra]


@bp.get("/")
def index() -> str:
    filters = browse.parse_filters(request.args)
    page = browse.paginate(browse.needs_query(filters), filters, current_app.config["PAGE_SIZE"])
    return render_template(
        "needs/index.html",
        page=page,
        filters=filters,
        parks=browse.park_choices(),
        breadcrumbs=[(_("需求"), None)],
    )


@bp.get("/<ref>")
def detail(ref: str) -> str:
    item = views.load_visible(Need, ref)
    return render_template(
        "needs/detail.html",
        item=item,
        preview=False,
        breadcrumbs=_crumbs((item.title, None)),
        # Moderators may hand a need filed into the wrong park to another one.
        move_parks=choices.park_choices() if permissions.can_moderate(current_user, item) else [],
        **views.owner_context(item),
    )


@bp.get("/<ref>/preview")
@login_required
def preview(ref: str) -> str:
    item = views.load_visible(Need, ref)
    return render_template(
        "needs/preview.html",
        item=item,
        preview=True,
        is_owner=permissions.owns(current_user, item),
        breadcrumbs=_crumbs((item.title, url_for("needs.detail", ref=ref)), (_("预览"), None)),
    )


def _require_poster() -> None:
    permissions.require(permissions.can_post_needs(current_user), _("只有园区企业可以发布需求。"))


@bp.get("/mine")
@login_required
def mine() -> str:
    _require_poster()
    status = request.args.get("status", "")
    status = status if status in MINE_STATUSES else ""
    items = listings.owned_by_status(Need, current_user.org_id, status)
    return render_template(
        "needs/mine.html",
        items=items,
        status=status,
        statuses=MINE_STATUSES,
        breadcrumbs=_crumbs((_("我的需求"), None)),
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> str | Response:
    _require_poster()
    org = current_user.org
    form = NeedForm(park=org.park)
    if request.method == "GET" and org.park is not None:
        form.park.data = org.park.ref
    if form.validate_on_submit():
        try:
            item = listings.create_need(org, current_user, form.data)
        except PermissionDenied:
            raise
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash(_("草稿已保存。"), "success")
            views.submit_after_save(item, bool(form.save_submit.data))
            views.saved_in_editor("need", None)
            db.session.commit()
            return redirect(url_for("needs.detail", ref=item.ref))
    return render_template(
        "needs/form.html", form=form, item=None, breadcrumbs=_crumbs((_("发布需求"), None))
    )


@bp.route("/<ref>/edit", methods=["GET", "POST"])
@login_required
def edit(ref: str) -> str | Response:
    item = views.load_owned(Need, ref)
    initial = None if request.method == "POST" else need_form_data(item)
    form = NeedForm(data=initial, current=item)
    if form.validate_on_submit():
        try:
            went_back = listings.update_need(item, current_user, form.data)
        except PermissionDenied:
            raise
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash(views.saved_message(went_back), "warning" if went_back else "success")
            views.submit_after_save(item, bool(form.save_submit.data))
            views.saved_in_editor("need", item.ref)
            db.session.commit()
            return redirect(url_for("needs.detail", ref=item.ref))
    return render_template(
        "needs/form.html",
        form=form,
        item=item,
        breadcrumbs=_crumbs((item.title, url_for("needs.detail", ref=ref)), (_("编辑"), None)),
    )


@bp.post("/<ref>/submit")
@login_required
def submit(ref: str) -> Response:
    item = views.load_owned(Need, ref)
    return views.run_step(listings.submit, item, _("已提交审核，审核通过后将公开征集。"))


@bp.post("/<ref>/withdraw")
@login_required
def withdraw(ref: str) -> Response:
    item = views.load_owned(Need, ref)
    return views.run_step(listings.withdraw, item, _("已撤回审核，需求回到草稿。"))


@bp.post("/<ref>/close")
@login_required
def close(ref: str) -> Response:
    item = views.load_owned(Need, ref)
    return views.run_step(listings.archive, item, _("需求已关闭，不再公开征集。"))


@bp.post("/<ref>/reopen")
@login_required
def reopen(ref: str) -> Response:
    item = views.load_owned(Need, ref)
    return views.run_step(listings.renew, item, _("需求已重新开放为草稿，提交审核后再次公开征集。"))
