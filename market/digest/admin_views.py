"""Admin: job runs and their outcomes, digest mail failures, and any user's digest preview."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from market.core import permissions
from market.core.db import get_or_404
from market.core.errors import DomainError
from market.core.extensions import db, login_manager
from market.digest import render as digest_render
from market.digest import send as digest_send
from market.digest.collect import BadWeek, collect_one, current_week, parse_week
from market.jobs import runs as job_runs
from market.models import DigestLedger, User

bp = Blueprint("digest_admin", __name__)


@bp.before_request
def _admins_only() -> Response | None:
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not permissions.can_preview_digests(current_user):
        abort(403)
    return None


def _crumbs(label: str) -> list[tuple[str, str | None]]:
    return [(_("平台管理"), url_for("admin.index")), (label, None)]


def _user(ref: str) -> User:
    return get_or_404(User, ref)


def _week() -> tuple[str, str | None]:
    """The ?week= asked for (this week when absent) and an error message for a bad one."""
    raw = request.args.get("week", "")
    if not raw:
        return current_week(), None
    try:
        return parse_week(raw), None
    except BadWeek:
        return current_week(), _("周次格式应为 2026-W05，已显示本周。")


@bp.get("/jobs")
def jobs() -> str:
    job = request.args.get("job") or None
    return render_template(
        "digest/admin_jobs.html",
        runs=job_runs.recent(job=job if job and len(job) <= 40 else None),
        lease=job_runs.current_lease(),
        problems=digest_send.problem_rows(),
        is_uncertain=digest_send.is_uncertain,
        breadcrumbs=_crumbs(_("定时任务与邮件")),
    )


@bp.post("/digest/ledger/<row_id>/resolve")
def resolve(row_id: str) -> Response:
    # A plain path segment, read here: every route takes any junk and answers 404.
    row = (
        db.session.get(DigestLedger, int(row_id))
        if row_id.isascii() and row_id.isdigit() and len(row_id) < 12
        else None
    )
    if row is None:
        abort(404)
    try:
        digest_send.resolve(row, request.form.get("action", ""), current_user)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("已处理。"), "success")
    return redirect(url_for("digest_admin.jobs"))


@bp.get("/digest")
def lookup() -> str | Response:
    """Find a user by ref or e-mail and go to their preview."""
    query = (request.args.get("user") or "").strip()[:254]
    error = None
    if query:
        user = db.session.scalar(
            select(User).where((User.ref == query) | (User.email == query.lower()))
        )
        if user is not None and user.ref:
            return redirect(url_for("digest_admin.preview", ref=user.ref))
        error = _("没有找到这个用户，请输入用户编号（如 U-000001）或邮箱。")
    return render_template(
        "digest/admin_lookup.html",
        query=query,
        error=error,
        breadcrumbs=_crumbs(_("周报预览")),
    )


@bp.get("/digest/<ref>")
def preview(ref: str) -> str:
    user = _user(ref)
    week, error = _week()
    if error:
        flash(error, "error")
    content = collect_one(user, week)
    rendered = None if content.empty else digest_render.render(content)
    return render_template(
        "digest/admin_preview.html",
        user=user,
        week=week,
        content=content,
        rendered=rendered,
        breadcrumbs=_crumbs(_("周报预览：%(name)s", name=user.name)),
    )


@bp.get("/digest/<ref>/mail.html")
def preview_mail(ref: str) -> Response:
    """The digest's HTML alone, for the preview page's sandboxed frame.

    Mail needs inline styles, which the site's CSP forbids; this response gets a
    policy of its own that allows them and nothing else (no scripts, no requests).
    """
    user = _user(ref)
    week, _error = _week()
    content = collect_one(user, week)
    html = digest_render.render(content).html if not content.empty else ""
    response = Response(html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        "frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
    )
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
