"""Matching pages: 不相关 feedback, the admins' weights and feedback list.

The panels on the need and offering detail pages (「为您推荐」「方案 + 资金 + 人才」
「潜在需求」) are template globals registered here, so the shared detail views stay
as they are: each detail template includes one partial.
"""

from __future__ import annotations

from typing import Any, cast

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.wrappers import Response

from market.core import downloads, permissions
from market.core.db import get_or_404 as load
from market.core.errors import DomainError
from market.core.extensions import db, login_manager
from market.core.urls import safe_next
from market.models import Need, Offering
from market.recommendations import admin as match_admin
from market.recommendations import service as matching
from market.recommendations import settings as match_settings
from market.recommendations.forms import (
    RULE_LABELS,
    SIDE_LABELS,
    FeedbackFilterForm,
    FeedbackForm,
    WeightsForm,
)
from matching.weights import SOFT_RULES

bp = Blueprint("matching", __name__)
PANEL_LIMIT = 10
MAX_PAGE = 10_000


# --- panels on the detail pages -------------------------------------------------------------


def need_panel(item: Need) -> dict[str, Any] | None:
    """「为您推荐」 and 「方案 + 资金 + 人才」 for members of the need's organization."""
    if not isinstance(item, Need) or not permissions.can_see_recommendations(current_user, item):
        return None
    return {
        "recommendations": matching.recommendations_for_need(item, PANEL_LIMIT),
        "complements": matching.complements_for_need(item),
        "open": item.is_public,
    }


def offering_panel(item: Offering) -> dict[str, Any] | None:
    """「潜在需求」 for members of the offering's organization."""
    if not isinstance(item, Offering) or not permissions.can_see_recommendations(
        current_user, item
    ):
        return None
    return {
        "recommendations": matching.recommendations_for_offering(item, PANEL_LIMIT),
        "open": item.is_public,
    }


@bp.record_once
def _install(state: BlueprintSetupState) -> None:
    app = cast(Flask, state.app)
    matching.init_app(app)
    app.add_template_global(need_panel, "need_match_panel")
    app.add_template_global(offering_panel, "offering_match_panel")
    app.add_template_global(matching.reason_texts, "match_reasons")


# --- 不相关 feedback -------------------------------------------------------------------------


def _feedback(side: str, item: Need | Offering) -> Response | tuple[str, int]:
    permissions.require(
        permissions.can_see_recommendations(current_user, item), _("只有发布机构的成员可以反馈。")
    )
    form = FeedbackForm()
    partner_model = Offering if side == "need" else Need
    if request.method == "GET":
        form.partner.data = request.args.get("partner", "")
        form.next.data = request.args.get("next", "")
    partner = _partner(partner_model, str(form.partner.data or ""))
    error = None
    if form.validate_on_submit():
        if partner is None:
            error = _("找不到要反馈的条目。")
        else:
            need, offering = (item, partner) if side == "need" else (partner, item)
            try:
                matching.mark_irrelevant(current_user, side, need, offering, form.reason.data)
            except DomainError as exc:
                db.session.rollback()
                error = exc.message
            else:
                db.session.commit()
                flash(_("已标记为不相关，今后不再向您推荐这一条。"), "success")
                endpoint = "needs.detail" if side == "need" else "offerings.detail"
                return redirect(safe_next(form.next.data, url_for(endpoint, ref=item.ref)))
    detail = "needs.detail" if side == "need" else "offerings.detail"
    crumbs = [
        (_("需求") if side == "need" else _("供给"), url_for(detail.split(".")[0] + ".index")),
        (item.title, url_for(detail, ref=item.ref)),
        (_("不相关反馈"), None),
    ]
    status = 400 if request.method == "POST" else 200
    return render_template(
        "matching/feedback.html",
        form=form,
        item=item,
        side=side,
        partner=partner,
        error=error,
        breadcrumbs=crumbs,
    ), status


def _partner(model: type[Need] | type[Offering], ref: str) -> Need | Offering | None:
    ref = ref.strip()
    if not ref or len(ref) > 64:
        return None
    found = cast(Need | Offering | None, db.session.scalar(select(model).where(model.ref == ref)))
    if found is None or not permissions.can_view(current_user, found):
        return None
    return found


@bp.route("/needs/<ref>/feedback", methods=["GET", "POST"])
@login_required
def need_feedback(ref: str) -> Any:
    return _feedback("need", load(Need, ref))


@bp.route("/offerings/<ref>/feedback", methods=["GET", "POST"])
@login_required
def offering_feedback(ref: str) -> Any:
    return _feedback("offering", load(Offering, ref))


# --- admin: weights and feedback ---------------------------------------------------------------


def _admin_only() -> None:
    if not current_user.is_authenticated:
        abort(login_manager.unauthorized())
    if not permissions.can_tune_matching(current_user):
        abort(403)


def _admin_crumbs(label: str) -> list[tuple[str, str | None]]:
    return [(_("平台管理"), url_for("admin.index")), (label, None)]


@bp.route("/admin/weights", methods=["GET", "POST"])
def admin_weights() -> Any:
    _admin_only()
    current = match_settings.current()
    form = WeightsForm()
    if request.method == "GET":
        form.fill(current.threshold, {rule: current.of(rule) for rule in SOFT_RULES})
    error = None
    if form.validate_on_submit():
        try:
            weights = match_settings.validate(float(form.threshold.data), form.weights())
            match_settings.save(current_user, weights)
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
            flash(_("权重已保存，将在下次重新计算推荐时生效；显示阈值立即生效。"), "success")
            return redirect(url_for("matching.admin_weights"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "matching/admin_weights.html",
        form=form,
        error=error,
        rules=SOFT_RULES,
        labels=RULE_LABELS,
        defaults=match_settings.defaults(),
        override=match_settings.override(),
        pending=matching.pending_count(),
        breadcrumbs=_admin_crumbs(_("匹配权重")),
    ), status


@bp.post("/admin/weights/reset")
def admin_weights_reset() -> Response:
    _admin_only()
    match_settings.restore_defaults(current_user)
    db.session.commit()
    flash(_("已恢复默认权重，将在下次重新计算推荐时生效。"), "success")
    return redirect(url_for("matching.admin_weights"))


@bp.post("/admin/recompute")
def admin_recompute() -> Response:
    _admin_only()
    matching.queue_full_recompute(current_user)
    db.session.commit()
    flash(_("已排队重新计算全部推荐。"), "success")
    return redirect(url_for("matching.admin_weights"))


def _page() -> int:
    return min(max(request.args.get("page", 1, type=int) or 1, 1), MAX_PAGE)


@bp.get("/admin/feedback")
def admin_feedback() -> str:
    _admin_only()
    form = FeedbackFilterForm(formdata=request.args)
    form.validate()
    stmt = match_admin.feedback_query(form.side_value(), form.query())
    page = db.paginate(
        stmt, page=_page(), per_page=int(current_app.config["PAGE_SIZE"]), error_out=False
    )
    return render_template(
        "matching/admin_feedback.html",
        form=form,
        page=page,
        rows=match_admin.with_recommendations(list(page.items)),
        side_labels=SIDE_LABELS,
        breadcrumbs=_admin_crumbs(_("不相关反馈")),
    )


@bp.get("/admin/feedback.csv")
def admin_feedback_csv() -> Response:
    _admin_only()
    form = FeedbackFilterForm(formdata=request.args)
    form.validate()
    lines = match_admin.csv_lines(form.side_value(), form.query())
    return downloads.send(stream_with_context(lines), f"{_('不相关反馈')}.csv", "text/csv")
