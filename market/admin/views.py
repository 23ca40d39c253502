"""Platform administration: counts, organization verification, disabling accounts."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from market.accounts import organizations
from market.admin import forms
from market.admin import service as admin
from market.core import permissions
from market.core.errors import DomainError
from market.core.extensions import db, login_manager
from market.core.urls import safe_next

bp = Blueprint("admin", __name__)


@bp.before_request
def _admins_only() -> Response | None:
    """Every page here is for platform admins: sign in first, then 403 for anyone else."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not permissions.is_admin(current_user):
        abort(403)
    return None


MAX_PAGE = 10_000  # a huge ?page= would overflow the database's OFFSET


def _page() -> int:
    """The requested page number, 1 when missing or not a number."""
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


def _back(fallback_endpoint: str) -> Response:
    """Back to the list the admin acted from, filters and page kept."""
    return redirect(safe_next(request.form.get("next"), url_for(fallback_endpoint)))


@bp.get("/")
def index() -> str:
    return render_template(
        "admin/index.html", counts=admin.counts(), breadcrumbs=[(_("平台管理"), None)]
    )


@bp.get("/orgs")
def orgs() -> str:
    form = forms.OrgFilterForm(formdata=request.args)
    form.validate()
    page = organizations.search(
        kind=form.kind_value(),
        verified=form.verified_flag(),
        query=form.query(),
        page=_page(),
        per_page=int(current_app.config["PAGE_SIZE"]),
    )
    return render_template(
        "admin/orgs.html",
        form=form,
        page=page,
        breadcrumbs=[(_("平台管理"), url_for("admin.index")), (_("机构管理"), None)],
    )


@bp.post("/orgs/<ref>/verify")
def verify_org(ref: str) -> Response:
    org = organizations.get_by_ref(ref)
    try:
        organizations.verify(current_user, org)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("已认证 %(name)s，并已邮件通知其管理员。", name=org.name), "success")
    return _back("admin.orgs")


@bp.post("/orgs/<ref>/unverify")
def unverify_org(ref: str) -> Response:
    org = organizations.get_by_ref(ref)
    organizations.unverify(current_user, org)
    db.session.commit()
    flash(_("已取消 %(name)s 的认证。", name=org.name), "success")
    return _back("admin.orgs")


@bp.get("/users")
def users() -> str:
    form = forms.UserFilterForm(formdata=request.args)
    form.validate()
    page = admin.search_users(
        role=form.role_value(),
        disabled=form.disabled_flag(),
        query=form.query(),
        page=_page(),
        per_page=int(current_app.config["PAGE_SIZE"]),
    )
    return render_template(
        "admin/users.html",
        form=form,
        page=page,
        breadcrumbs=[(_("平台管理"), url_for("admin.index")), (_("用户管理"), None)],
    )


@bp.post("/users/<ref>/disable")
def disable_user(ref: str) -> Response:
    return _set_disabled(ref, True)


@bp.post("/users/<ref>/enable")
def enable_user(ref: str) -> Response:
    return _set_disabled(ref, False)


def _set_disabled(ref: str, disabled: bool) -> Response:
    user = admin.get_user(ref)
    try:
        admin.set_user_disabled(current_user, user, disabled)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        if disabled:
            flash(_("已停用 %(email)s，其所有登录已退出。", email=user.email), "success")
        else:
            flash(_("已启用 %(email)s。", email=user.email), "success")
    return _back("admin.users")
