"""Park operations (园区运营): dashboards, chain map, 招商 shortlist, invitations, reports.

Park staff see their own park; platform admins every park and the province roll-ups.
The invitation page is opened from a mailed link by the provider's people.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from market.core import downloads, permissions, reference
from market.core.errors import DomainError, PermissionDenied
from market.core.extensions import db
from market.core.pdf import FontMissing
from market.core.report_period import InvalidPeriod, Period
from market.core.tabular import CSV_MIMETYPE, XLSX_MIMETYPE, to_csv, to_xlsx
from market.core.urls import safe_next
from market.models import Need, Organization, Park
from market.parkops import cache as park_cache
from market.parkops import chains as industry_chains
from market.parkops import figures as park_figures
from market.parkops import invitations as park_invitations
from market.parkops import report as campaign_report
from market.parkops import tables
from market.parkops.forms import AnswerForm, InviteForm
from market.parkops.scope import Scope, for_park, for_province
from market.parkops.sql import scan_table

bp = Blueprint("parkops", __name__)

DOWNLOAD_TYPES = {"csv": CSV_MIMETYPE, "xlsx": XLSX_MIMETYPE, "pdf": "application/pdf"}


# --- helpers ---------------------------------------------------------------------------------


def _park_scope(ref: str) -> Scope:
    """The park's scope after checking the user runs it (403), 404 for an unknown park."""
    scope = for_park(ref)
    assert scope.park is not None
    permissions.require(
        permissions.can_run_park(current_user, scope.park.id), _("您只能查看本园区的运营数据。")
    )
    return scope


def _province_scope(province: str) -> Scope:
    permissions.require(
        permissions.can_view_province_rollup(current_user), _("省级汇总仅对平台管理员开放。")
    )
    return for_province(province)


def _period() -> tuple[Period, str | None]:
    """The requested period, or this year so far with the error message for a bad one."""
    try:
        return Period.parse(request.args.get("from"), request.args.get("to")), None
    except InvalidPeriod as exc:
        return Period.parse(None, None), exc.message


def _requested_period() -> Period:
    """The requested period for a download; a bad one is refused (InvalidPeriod: a 400
    page saying why) rather than swapped for another period the file would not name."""
    return Period.parse(request.args.get("from"), request.args.get("to"))


def _download(data: bytes, filename: str, fmt: str) -> Response:
    return downloads.send(data, f"{filename}.{fmt}", DOWNLOAD_TYPES[fmt])


def _as_of(computed: datetime | None) -> str:
    """When the page's figures were computed (they may be up to the cache's lifetime old)."""
    if computed is None:
        return ""
    seconds = int(park_cache.for_app().seconds)
    when = format_datetime(computed, "yyyy-MM-dd HH:mm:ss")
    if seconds <= 0:
        return _("数据截至 %(when)s。", when=when)
    return _("数据截至 %(when)s（统计结果最多缓存 %(n)d 秒）。", when=when, n=seconds)


def _scope_crumbs(scope: Scope, *more: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    crumbs: list[tuple[str, str | None]] = [(_("园区运营"), url_for("parkops.index"))]
    if scope.park is not None:
        crumbs.append((scope.name, url_for("parkops.dashboard", ref=scope.ref)))
    else:
        crumbs.append((scope.name, url_for("parkops.province", province=scope.province)))
    return crumbs + list(more)


def _scope_args(scope: Scope) -> dict[str, str]:
    """URL values naming the scope, for endpoints shared by parks and provinces."""
    return {"ref": scope.ref} if scope.park is not None else {"province": scope.province}


def _dashboard_page(scope: Scope) -> str:
    period, error = _period()
    board = park_figures.dashboard(scope, period)
    return render_template(
        "parkops/dashboard.html",
        board=board,
        as_of=_as_of(board.as_of),
        tables={name: tables.table(name, board) for name in tables.TABLE_NAMES},
        period_error=error,
        typed={"from": request.args.get("from", ""), "to": request.args.get("to", "")},
        scope_args=_scope_args(scope),
        link_args={**_scope_args(scope), **period.as_args()},
        breadcrumbs=[*_scope_crumbs(scope)[:-1], (scope.name, None)],
    )


def _chart_csv(scope: Scope, name: str) -> Response:
    if name not in tables.TABLE_NAMES:
        abort(404)
    period = _requested_period()
    board = park_figures.dashboard(scope, period)
    table = tables.table(name, board)
    filename = f"{scope.name}-{table.title}-{period.start}-{period.end}"
    return _download(to_csv(table.headers, table.rows), filename, "csv")


def _report_page(scope: Scope) -> str:
    period, error = _period()
    board = park_figures.dashboard(scope, period)
    return render_template(
        "parkops/report.html",
        board=board,
        as_of=_as_of(board.as_of),
        report=campaign_report.from_dashboard(board),
        labels=campaign_report.summary_labels(),
        keys=campaign_report.SUMMARY_KEYS,
        money_keys=campaign_report.MONEY_KEYS,
        period_error=error,
        typed={"from": request.args.get("from", ""), "to": request.args.get("to", "")},
        scope_args=_scope_args(scope),
        link_args={**_scope_args(scope), **period.as_args()},
        breadcrumbs=_scope_crumbs(scope, (_("对接成效报告"), None)),
    )


def _report_download(scope: Scope, fmt: str) -> Response:
    if fmt not in ("xlsx", "pdf"):
        abort(404)
    period = _requested_period()
    board = park_figures.dashboard(scope, period)
    report = campaign_report.from_dashboard(board)
    if fmt == "xlsx":
        data = campaign_report.to_xlsx(report, board)
    else:
        try:
            data = campaign_report.to_pdf(report, board)
        except FontMissing:
            # An installation without fonts-noto-cjk: say so instead of an error id.
            abort(503, description=_("服务器缺少中文字体，暂时无法生成 PDF，请下载 Excel。"))
    return _download(data, f"{scope.name}-{_('对接成效报告')}-{period.start}-{period.end}", fmt)


# --- overview --------------------------------------------------------------------------------


@bp.get("/")
@login_required
def index() -> Any:
    """Park staff go to their park's dashboard; admins get every park by province."""
    park_id = permissions.staff_park_id(current_user)
    if park_id is not None and not permissions.is_admin(current_user):
        park = db.session.get(Park, park_id)
        if park is not None:
            return redirect(url_for("parkops.dashboard", ref=park.ref))
    permissions.require(permissions.is_admin(current_user), _("园区运营仅对园区工作人员开放。"))
    parks = list(db.session.scalars(select(Park).order_by(Park.province, Park.name)))
    enterprises = dict(
        db.session.execute(
            select(Organization.park_id, func.count(Organization.id))
            .where(Organization.kind == "enterprise")
            .group_by(Organization.park_id)
        ).all()
    )
    needs = dict(
        db.session.execute(
            select(Need.park_id, func.count(Need.id))
            # Answered from the (park_id, status, deadline) index alone, in park order.
            .where(scan_table(Need.public_clause(), Need.status))
            .group_by(Need.park_id)
        ).all()
    )
    order = list(reference.provinces())
    provinces = sorted(
        {p.province for p in parks}, key=lambda n: order.index(n) if n in order else 99
    )
    return render_template(
        "parkops/index.html",
        parks=parks,
        provinces=provinces,
        enterprises=enterprises,
        needs=needs,
        breadcrumbs=[(_("园区运营"), None)],
    )


# --- one park ----------------------------------------------------------------------------


@bp.get("/parks/<ref>")
@login_required
def dashboard(ref: str) -> str:
    return _dashboard_page(_park_scope(ref))


@bp.get("/parks/<ref>/charts/<name>.csv")
@login_required
def chart_csv(ref: str, name: str) -> Response:
    return _chart_csv(_park_scope(ref), name)


@bp.get("/parks/<ref>/report")
@login_required
def report(ref: str) -> str:
    return _report_page(_park_scope(ref))


@bp.get("/parks/<ref>/report.<fmt>")
@login_required
def report_download(ref: str, fmt: str) -> Response:
    return _report_download(_park_scope(ref), fmt)


@bp.get("/parks/<ref>/chain")
@login_required
def chain(ref: str) -> str:
    scope = _park_scope(ref)
    assert scope.park is not None
    chains, computed = industry_chains.coverage_as_of(scope.park)
    return render_template(
        "parkops/chain.html",
        park=scope.park,
        chains=chains,
        as_of=_as_of(computed),
        unknown=[c for c in scope.park.industries or [] if c not in industry_chains.chains()],
        breadcrumbs=_scope_crumbs(scope, (_("产业链图谱"), None)),
    )


def _shortlist(ref: str, division: str, code: str) -> tuple[Scope, Any, list[Any]]:
    scope = _park_scope(ref)
    assert scope.park is not None
    if division not in (scope.park.industries or []):
        abort(404)
    seg = industry_chains.segment(division, code)
    threshold = park_figures.recommendation_threshold()
    return scope, seg, industry_chains.shortlist(scope.park, seg, threshold)


@bp.get("/parks/<ref>/chain/<division>/<segment>")
@login_required
def shortlist(ref: str, division: str, segment: str) -> str:
    scope, seg, candidates = _shortlist(ref, division, segment)
    return render_template(
        "parkops/shortlist.html",
        park=scope.park,
        division=division,
        segment=seg,
        candidates=candidates,
        form=InviteForm(),
        invitation_label=tables.invitation_label,
        breadcrumbs=_scope_crumbs(
            scope,
            (_("产业链图谱"), url_for("parkops.chain", ref=ref)),
            (_("招商清单"), None),
        ),
    )


@bp.get("/parks/<ref>/chain/<division>/<segment>/shortlist.<fmt>")
@login_required
def shortlist_export(ref: str, division: str, segment: str, fmt: str) -> Response:
    if fmt not in ("csv", "xlsx"):
        abort(404)
    scope, seg, candidates = _shortlist(ref, division, segment)
    headers, rows = tables.shortlist_table(candidates)
    name = f"{scope.name}-{_('招商清单')}-{division}-{seg.code}"
    if fmt == "csv":
        return _download(to_csv(headers, rows), name, fmt)
    return _download(to_xlsx(_("招商清单"), headers, rows), name, fmt)


def _invitations_page(scope: Scope, form: InviteForm, status: int = 200) -> tuple[str, int]:
    assert scope.park is not None
    page = render_template(
        "parkops/invitations.html",
        park=scope.park,
        form=form,
        invitations=park_invitations.for_park(scope.park),
        invitation_label=tables.invitation_label,
        valid_days=park_invitations.VALID_DAYS,
        breadcrumbs=_scope_crumbs(scope, (_("招商邀请"), None)),
    )
    return page, status


@bp.get("/parks/<ref>/invitations")
@login_required
def invitations(ref: str) -> tuple[str, int]:
    return _invitations_page(_park_scope(ref), InviteForm(formdata=None))


@bp.post("/parks/<ref>/invitations")
@login_required
def invite(ref: str) -> Any:
    """Send an invitation: from the invitations page (errors shown on it, with what was
    typed) or from a shortlist (``next``: errors flashed there)."""
    scope = _park_scope(ref)
    assert scope.park is not None
    form = InviteForm()
    back = request.form.get("next")
    target = safe_next(back, url_for("parkops.invitations", ref=ref))
    error: str | None = None
    if form.validate_on_submit():
        try:
            offering = park_invitations.offering_by_ref((form.offering.data or "").strip())
            invitation = park_invitations.send(
                current_user, scope.park, offering, form.message.data or ""
            )
        except PermissionDenied:
            raise
        except DomainError as exc:
            db.session.rollback()
            error = exc.message
        else:
            db.session.commit()
            flash(
                _(
                    "已向 %(org)s 发出邀请（%(to)s）。",
                    org=offering.org.name,
                    to=invitation.sent_to,
                ),
                "success",
            )
            return redirect(target)
    if back:
        for message in [error] if error else [m for ms in form.errors.values() for m in ms]:
            flash(message, "error")
        return redirect(target)
    if error:
        form.offering.errors = [*form.offering.errors, error]
    return _invitations_page(scope, form)


# --- province roll-ups (admins) --------------------------------------------------------------


@bp.get("/provinces/<province>")
@login_required
def province(province: str) -> str:
    return _dashboard_page(_province_scope(province))


@bp.get("/provinces/<province>/charts/<name>.csv")
@login_required
def province_chart_csv(province: str, name: str) -> Response:
    return _chart_csv(_province_scope(province), name)


@bp.get("/provinces/<province>/report")
@login_required
def province_report(province: str) -> str:
    return _report_page(_province_scope(province))


@bp.get("/provinces/<province>/report.<fmt>")
@login_required
def province_report_download(province: str, fmt: str) -> Response:
    return _report_download(_province_scope(province), fmt)


# --- the provider's side: the mailed link ----------------------------------------------------


@bp.get("/invitations/<token>")
def invitation(token: str) -> str:
    """What the park asks, and accept/decline buttons for members of the provider."""
    inv = park_invitations.from_token(token)
    expired = inv.status == "sent" and _link_expired(token)
    return render_template(
        "parkops/invitation.html",
        inv=inv,
        token=token,
        expired=expired or inv.is_expired,
        may_answer=permissions.owns(current_user, inv.offering),
        form=AnswerForm(),
        invitation_label=tables.invitation_label,
        breadcrumbs=[(_("园区邀请"), None)],
    )


def _link_expired(token: str) -> bool:
    try:
        park_invitations.check_fresh(token)
    except park_invitations.InvitationExpired:
        return True
    return False


def _answer(token: str, accept: bool) -> Response:
    inv = park_invitations.from_token(token)
    try:
        if accept:
            park_invitations.accept(inv, current_user, token)
        else:
            park_invitations.decline(inv, current_user, token)
    except PermissionDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("parkops.invitation", token=token))
    db.session.commit()
    if accept:
        flash(
            _(
                "已接受邀请：“%(title)s”现在服务%(park)s。",
                title=inv.offering.title,
                park=inv.park.name,
            ),
            "success",
        )
    else:
        flash(_("已谢绝%(park)s的邀请。", park=inv.park.name), "success")
    return redirect(url_for("parkops.invitation", token=token))


@bp.post("/invitations/<token>/accept")
@login_required
def invitation_accept(token: str) -> Response:
    return _answer(token, accept=True)


@bp.post("/invitations/<token>/decline")
@login_required
def invitation_decline(token: str) -> Response:
    return _answer(token, accept=False)
