"""对接 (docking): start one from an offering or a need, the inbox, the history, the steps,
the park overview and a course's registration roster."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from werkzeug.wrappers import Response

from market.core import downloads, permissions
from market.core import tabular as tables
from market.core.db import by_ref
from market.core.errors import DomainError, PermissionDenied
from market.core.extensions import db
from market.core.tabular import CSV_MIMETYPE, XLSX_MIMETYPE
from market.docking import mail as docking_mail
from market.docking import queries as docking_queries
from market.docking import rules as docking_rules
from market.docking import widgets
from market.docking import workflow as service
from market.docking.forms import DockingForm, InterestForm, form_for
from market.docking.queries import DockingFilters
from market.models import Need, Offering, Park
from market.models.docking import Docking

bp = Blueprint("docking", __name__)
widgets.register(bp)

EXPORT_TYPES = {"csv": CSV_MIMETYPE, "xlsx": XLSX_MIMETYPE}


def _crumbs(*extra: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(_("对接"), url_for("docking.inbox")), *extra]


def _load(ref: str) -> Docking:
    """The docking the visitor may see: 404 for an unknown ref, 403 for a stranger."""
    docking = docking_queries.find(ref)
    if docking is None:
        abort(404)
    permissions.require(
        permissions.can_view_docking(current_user, docking), _("您无权查看此对接。")
    )
    return docking


def _public(model: type[Offering] | type[Need], ref: str | None) -> Any:
    """The public offering or need named in the query string; 404 otherwise."""
    found = db.session.scalar(select(model).where(model.ref == ref[:64])) if ref else None
    item = found if isinstance(found, Offering | Need) else None
    if item is None or not item.is_public:
        abort(404)
    return item


# --- starting a docking ------------------------------------------------------------------------


def _started_message(docking: Docking) -> str:
    if docking.status == "waitlisted":
        return _(
            "名额已满，您已进入候补名单（第 %(n)d 位）；有人取消时将按顺序递补并邮件通知您。",
            n=docking_queries.waitlist_position(docking),
        )
    if docking.kind == "financing":
        return _("融资申请已提交，金融机构答复后会邮件通知您。")
    if docking.kind == "interest":
        return _("合作意向已发送，需求方答复后会邮件通知您。")
    if docking.status == "registered":
        return _("报名成功，开班前请留意培训机构的通知。")
    return _("对接申请已发送，对方答复后会邮件通知您。")


def _after_start(outcome: service.Outcome) -> Response:
    db.session.commit()
    flash(_started_message(outcome.docking), "success")
    docking_mail.notify(outcome.events)
    return redirect(url_for("docking.detail", ref=outcome.docking.ref))


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> str | Response:
    permissions.require(
        permissions.can_start_docking(current_user),
        _("只有园区企业可以申请对接、报名或申请融资。"),
    )
    offering = _public(Offering, request.args.get("offering"))
    needs = docking_queries.open_needs_of(current_user.org_id)
    form = DockingForm()
    form.need.choices = [("", _("不关联需求"))] + [(n.ref or "", n.title) for n in needs]
    if request.method == "GET":
        wanted = request.args.get("need", "")
        form.need.data = wanted if any(n.ref == wanted for n in needs) else ""
        form.source.data = request.args.get("source", "listing")[:16]
    if form.validate_on_submit():
        need = next((n for n in needs if n.ref == form.need.data), None)
        try:
            outcome = service.start(
                offering,
                current_user,
                need=need,
                message=form.message.data,
                amount_sought=form.amount_sought.data,
                source=form.source.data,
            )
        except PermissionDenied:
            raise
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            return _after_start(outcome)
    existing = docking_queries.open_for_offering(offering, current_user.org_id)
    return render_template(
        "docking/new.html",
        form=form,
        offering=offering,
        existing=existing,
        seats=service.seats_taken(offering) if offering.kind == "training" else None,
        breadcrumbs=_crumbs(
            (offering.title, url_for("offerings.detail", ref=offering.ref)),
            (widgets.start_label(offering), None),
        ),
    )


@bp.route("/interest", methods=["GET", "POST"])
@login_required
def interest() -> str | Response:
    permissions.require(
        permissions.can_offer_interest(current_user), _("只有发布供给的机构可以表达合作意向。")
    )
    need = _public(Need, request.args.get("need"))
    offerings = docking_queries.public_offerings_of(current_user.org_id)
    form = InterestForm()
    form.offering.choices = [(o.ref or "", o.title) for o in offerings]
    if request.method == "GET":
        wanted = request.args.get("offering", "")
        if any(o.ref == wanted for o in offerings):
            form.offering.data = wanted
        form.source.data = request.args.get("source", "listing")[:16]
    if form.validate_on_submit():
        offering = next(o for o in offerings if o.ref == form.offering.data)
        try:
            outcome = service.express_interest(
                need, offering, current_user, message=form.message.data, source=form.source.data
            )
        except PermissionDenied:
            raise
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            return _after_start(outcome)
    return render_template(
        "docking/interest.html",
        form=form,
        need=need,
        has_offerings=bool(offerings),
        existing=docking_queries.open_for_need(need, current_user.org_id),
        breadcrumbs=_crumbs(
            (need.title, url_for("needs.detail", ref=need.ref)), (_("表达意向"), None)
        ),
    )


# --- lists -------------------------------------------------------------------------------------


@bp.get("/")
@login_required
def inbox() -> str:
    org_id = current_user.org_id
    permissions.require(org_id is not None, _("加入机构后才能收发对接。"))
    filters = docking_queries.parse_filters(request.args)
    return render_template(
        "docking/inbox.html",
        filters=filters,
        page=docking_queries.inbox(org_id, filters, current_app.config["PAGE_SIZE"]),
        counts=docking_queries.inbox_counts(org_id, filters),
        awaiting=docking_queries.awaiting_answer(org_id),
        statuses=_statuses(filters),
        breadcrumbs=[(_("对接"), None)],
    )


def _statuses(filters: DockingFilters) -> tuple[str, ...]:
    """The statuses the status filter offers for the chosen kind."""
    from market.models.docking import NEGOTIATED_STATUSES, REGISTRATION_STATUSES

    if filters.kind == "registration":
        return REGISTRATION_STATUSES
    if filters.kind:
        return NEGOTIATED_STATUSES
    return NEGOTIATED_STATUSES + REGISTRATION_STATUSES


@bp.get("/park")
@login_required
def park() -> str:
    permissions.require(
        permissions.can_watch_dockings(current_user),
        _("对接总览仅对园区工作人员和平台管理员开放。"),
    )
    filters = docking_queries.parse_filters(request.args)
    if permissions.is_admin(current_user):
        chosen = docking_queries.park_named(filters.park)
        park_id = chosen.id if chosen is not None else None
        parks = docking_queries.all_parks()
    else:
        park_id = permissions.staff_park_id(current_user)
        chosen, parks = db.session.get(Park, park_id), []
    return render_template(
        "docking/park.html",
        filters=filters,
        park=chosen,
        parks=parks,
        page=docking_queries.park_overview(park_id, filters, current_app.config["PAGE_SIZE"]),
        counts=docking_queries.park_counts(park_id, filters),
        statuses=_statuses(filters),
        breadcrumbs=_crumbs((_("园区对接总览"), None)),
    )


# --- one docking -------------------------------------------------------------------------------


def _detail_page(docking: Docking, failed: tuple[str, FlaskForm] | None = None) -> str:
    org_id = current_user.org_id
    actions = docking_rules.allowed_actions(docking, org_id)
    forms: dict[str, FlaskForm] = {}
    for action in actions:
        if failed is not None and failed[0] == action:
            forms[action] = failed[1]
        else:
            forms[action] = form_for(action)(formdata=None)
    return render_template(
        "docking/detail.html",
        docking=docking,
        events=docking_queries.timeline(docking),
        side=docking_rules.side_of(docking, org_id),
        actions=actions,
        forms=forms,
        action_labels=docking_rules.ACTION_LABELS,
        waitlist_position=(
            docking_queries.waitlist_position(docking) if docking.status == "waitlisted" else None
        ),
        breadcrumbs=_crumbs((docking.ref or "", None)),
    )


@bp.get("/<ref>")
@login_required
def detail(ref: str) -> str:
    return _detail_page(_load(ref))


def _done_message(action: str) -> str:
    messages = {
        "accept": _("已接受，请尽快与对方联系。"),
        "decline": _("已婉拒。"),
        "withdraw": _("已撤回。"),
        "negotiate": _("已进入洽谈阶段。"),
        "deal": _("已记录成交。"),
        "grant": _("已记录获批金额。"),
        "no_deal": _("已记录未达成合作及原因。"),
        "cancel": _("报名已取消。"),
        "complete": _("已标记结业。"),
    }
    return messages[action]


def _take(ref: str, action: str) -> str | Response:
    """Validate the step's form, take the step, commit, mail the other side, go back."""
    docking = _load(ref)
    permissions.require(
        permissions.docking_party(current_user, docking), _("只有对接双方可以操作此对接。")
    )
    try:
        step = docking_rules.check_side(docking, action, current_user.org_id)
    except PermissionDenied:
        raise
    except DomainError as exc:
        flash(exc.message, "error")
        return redirect(url_for("docking.detail", ref=ref))
    form = form_for(step.action)()
    if not form.validate_on_submit():
        return _detail_page(docking, failed=(step.action, form))
    data = form.data
    try:
        outcome = service.act(
            docking,
            current_user,
            action,
            note=data.get("note"),
            amount=data.get("amount"),
            certified=bool(data.get("certified")),
        )
    except PermissionDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("docking.detail", ref=ref))
    db.session.commit()
    flash(_done_message(step.action), "success")
    if outcome.promoted is not None:
        flash(_("候补名单第一位已自动递补为正式报名。"), "info")
    docking_mail.notify(outcome.events)
    return redirect(url_for("docking.detail", ref=ref))


@bp.post("/<ref>/accept")
@login_required
def accept(ref: str) -> str | Response:
    return _take(ref, "accept")


@bp.post("/<ref>/decline")
@login_required
def decline(ref: str) -> str | Response:
    return _take(ref, "decline")


@bp.post("/<ref>/withdraw")
@login_required
def withdraw(ref: str) -> str | Response:
    return _take(ref, "withdraw")


@bp.post("/<ref>/negotiate")
@login_required
def negotiate(ref: str) -> str | Response:
    return _take(ref, "negotiate")


@bp.post("/<ref>/deal")
@login_required
def deal(ref: str) -> str | Response:
    return _take(ref, "deal")


@bp.post("/<ref>/no-deal")
@login_required
def no_deal(ref: str) -> str | Response:
    return _take(ref, "no_deal")


@bp.post("/<ref>/cancel")
@login_required
def cancel(ref: str) -> str | Response:
    return _take(ref, "cancel")


@bp.post("/<ref>/complete")
@login_required
def complete(ref: str) -> str | Response:
    return _take(ref, "complete")


# --- a course's roster -------------------------------------------------------------------------


def _course(ref: str) -> Offering:
    offering = by_ref(Offering, ref)
    if offering is None or offering.kind != "training":
        abort(404)
    permissions.require(
        permissions.can_see_roster(current_user, offering), _("报名名单仅对培训机构开放。")
    )
    return offering


@bp.get("/roster/<ref>")
@login_required
def roster(ref: str) -> str:
    offering = _course(ref)
    return render_template(
        "docking/roster.html",
        offering=offering,
        rows=docking_queries.roster(offering),
        seats=service.seats_taken(offering),
        breadcrumbs=_crumbs(
            (offering.title, url_for("offerings.detail", ref=offering.ref)), (_("报名名单"), None)
        ),
    )


@bp.get("/roster/<ref>/export.<fmt>")
@login_required
def roster_export(ref: str, fmt: str) -> Response:
    if fmt not in EXPORT_TYPES:
        abort(404)
    offering = _course(ref)
    headers, rows = widgets.roster_table(docking_queries.roster(offering))
    if fmt == "csv":
        data = tables.to_csv(headers, rows)
    else:
        data = tables.to_xlsx(_("报名名单"), headers, rows)
    name = f"{offering.title}-{_('报名名单')}-{offering.ref}.{fmt}"
    return downloads.send(data, name, EXPORT_TYPES[fmt])
