"""Organization profiles, their editing, and the members an org admin manages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from market.accounts import members, organizations
from market.accounts import service as accounts
from market.accounts.forms import orgs as forms
from market.core import permissions
from market.core.errors import DomainError
from market.core.extensions import db
from market.models import Organization, User

bp = Blueprint("orgs", __name__)


@bp.app_template_filter("org_kind_label")
def org_kind_label(kind: str) -> str:
    return str(organizations.KIND_LABELS.get(kind, kind))


@bp.app_template_filter("org_size_label")
def org_size_label(size: str | None) -> str:
    return str(organizations.SIZE_LABELS.get(size or "", size or ""))


@bp.app_template_filter("role_label")
def role_label(role: str) -> str:
    return str(accounts.ROLE_LABELS.get(role, role))


def _crumbs(org: Organization, *more: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(org.name, url_for("orgs.profile", ref=org.ref)), *more]


def _managed(ref: str) -> Organization:
    """The organization, if the signed-in user is its org_admin; PermissionDenied otherwise."""
    org = organizations.get_by_ref(ref)
    permissions.require(permissions.can_manage_org(current_user, org))
    return org


@bp.get("/<ref>")
def profile(ref: str) -> str:
    org = organizations.get_by_ref(ref)
    return render_template(
        "orgs/profile.html",
        org=org,
        contacts=organizations.contacts_for(current_user, org),
        offerings=organizations.public_offerings(org),
        needs=organizations.open_needs(org),
        can_manage=permissions.can_manage_org(current_user, org),
        breadcrumbs=_crumbs(org),
    )


def _initial(org: Organization) -> dict[str, Any]:
    return {
        "org_name": org.name,
        "credit_code": org.credit_code or "",
        "province": org.province,
        "city": org.city,
        "park": org.park.ref if org.park else "",
        "size": org.size or "",
        "industries": list(org.industries or []),
        "description": org.description,
    }


@bp.route("/<ref>/edit", methods=["GET", "POST"])
@login_required
def edit(ref: str) -> Response | str:
    org = _managed(ref)
    form = forms.OrgEditForm(org=org, data=_initial(org))
    if form.validate_on_submit():
        try:
            lost = organizations.update(current_user, org, form.details(org.kind))
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            db.session.commit()
            if lost:
                flash(
                    _("机构资料已保存。名称或统一社会信用代码已变更，需平台管理员重新认证。"),
                    "warning",
                )
            else:
                flash(_("机构资料已保存。"), "success")
            return redirect(url_for("orgs.profile", ref=org.ref))
    return render_template(
        "orgs/edit.html", org=org, form=form, breadcrumbs=_crumbs(org, (_("编辑资料"), None))
    )


def _render_members(org: Organization, invite_form: forms.InviteForm) -> str:
    return render_template(
        "orgs/members.html",
        org=org,
        people=members.members(org),
        invite_form=invite_form,
        org_roles=members.ORG_ROLES,
        breadcrumbs=_crumbs(org, (_("成员管理"), None)),
    )


# The view function is not called "members": that name is the service module.
@bp.get("/<ref>/members", endpoint="members")
@login_required
def members_view(ref: str) -> str:
    return _render_members(_managed(ref), forms.InviteForm())


@bp.post("/<ref>/members/invite")
@login_required
def invite(ref: str) -> Response | str:
    org = _managed(ref)
    form = forms.InviteForm()
    if not form.validate_on_submit():
        return _render_members(org, form)
    try:
        members.invite(current_user, org, form.email.data or "", form.role.data or "")
    except DomainError as exc:
        form.email.errors = [exc.message]
        return _render_members(org, form)
    flash(_("邀请已发送至 %(email)s，链接 7 天内有效。", email=form.email.data), "success")
    return redirect(url_for("orgs.members", ref=org.ref))


@bp.post("/<ref>/members/<user_ref>/role")
@login_required
def member_role(ref: str, user_ref: str) -> Response:
    org = _managed(ref)
    target: User = members.member(org, user_ref)
    form = forms.RoleForm()
    if not form.validate_on_submit():
        flash(_("请选择有效的角色。"), "error")
        return redirect(url_for("orgs.members", ref=org.ref))
    try:
        members.set_role(current_user, org, target, form.role.data or "")
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(
            _("已将 %(name)s 设为%(role)s。", name=target.name, role=role_label(target.role)),
            "success",
        )
    return redirect(url_for("orgs.members", ref=org.ref))


@bp.post("/<ref>/members/<user_ref>/remove")
@login_required
def member_remove(ref: str, user_ref: str) -> Response:
    org = _managed(ref)
    target: User = members.member(org, user_ref)
    try:
        members.remove(current_user, org, target)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("orgs.members", ref=org.ref))
    db.session.commit()
    flash(_("已将 %(name)s 移出本机构。", name=target.name), "success")
    if target.id == current_user.id:
        return redirect(url_for("orgs.profile", ref=org.ref))
    return redirect(url_for("orgs.members", ref=org.ref))
