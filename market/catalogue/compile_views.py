"""Compiling a catalogue edition: the park staff's pages from a new edition to
publishing it (routes of the catalogue blueprint, registered on views.bp)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import (
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from market.catalogue import compile as compile_
from market.catalogue import exports as catalogue_exports
from market.catalogue import present, service
from market.catalogue.forms import (
    NewEditionForm,
    ScheduleForm,
    SettingsForm,
    WithdrawForm,
)
from market.catalogue.views import (
    COMPILE_PAGE,
    _body,
    _compilable,
    _edition_name,
    _scope_crumbs,
    bp,
)
from market.core import permissions, reference
from market.core.errors import DomainError, NotFound
from market.core.extensions import db
from market.core.urls import safe_next
from market.models import CatalogueEdition, Park

# --- compiling ---------------------------------------------------------------------------------


def _new_form() -> NewEditionForm:
    form = NewEditionForm()
    form.province.choices = [("", _("请选择省份"))] + [(p, p) for p in reference.provinces()]
    if not permissions.is_admin(current_user):
        form.scope.choices = [("park", _("园区"))]
    return form


@bp.get("/manage")
@login_required
def manage() -> str:
    permissions.require(
        permissions.can_manage_catalogues(current_user), _("目录编制仅对园区工作人员开放。")
    )
    return _manage_page(_new_form())


def _manage_page(form: NewEditionForm, status: int = 200) -> Any:
    admin = permissions.is_admin(current_user)
    park_id = permissions.staff_park_id(current_user)
    own_park = db.session.get(Park, park_id) if park_id is not None else None
    published = service.editions(compile_.park_scope(own_park)) if own_park else []
    page = render_template(
        "catalogue/manage.html",
        form=form,
        drafts=service.drafts_for(park_id, admin),
        published=published if not admin else service.published_editions(),
        own_park=own_park,
        admin=admin,
        breadcrumbs=[(_("供需目录"), url_for("catalogue.index")), (_("目录编制"), None)],
    )
    return page, status


def _scope_from(form: NewEditionForm) -> compile_.Scope:
    kind = form.scope.data or "park"
    if kind == "park":
        ref = (form.park.data or "").strip()
        if not ref:
            park_id = permissions.staff_park_id(current_user)
            park = db.session.get(Park, park_id) if park_id is not None else None
            if park is None:
                raise DomainError(_("请填写园区编号。"))
            return compile_.park_scope(park)
        try:
            return compile_.park_scope(service.park_by_ref(ref))
        except NotFound as exc:
            raise DomainError(_("没有编号为 %(ref)s 的园区。", ref=ref)) from exc
    if kind == "province":
        if form.province.data not in reference.provinces():
            raise DomainError(_("请选择省份。"))
        return compile_.province_scope(str(form.province.data))
    return compile_.platform_scope()


@bp.post("/new")
@login_required
def new() -> Any:
    permissions.require(
        permissions.can_manage_catalogues(current_user), _("目录编制仅对园区工作人员开放。")
    )
    form = _new_form()
    if not form.validate_on_submit():
        return _manage_page(form, 400)
    try:
        scope = _scope_from(form)
        permissions.require(
            permissions.can_compile_catalogue(
                current_user, scope.kind, scope.park.id if scope.park else None
            ),
            _("您只能编制本园区的供需目录。"),
        )
        edition = service.new_edition(scope, current_user, form.title.data)
    except DomainError as exc:
        if exc.status == 403:
            raise
        form.scope.errors = [exc.message]
        return _manage_page(form, 400)
    db.session.commit()
    flash(_("已新建草稿，请挑选条目并预览。"), "success")
    return redirect(url_for("catalogue.compile", ref=edition.ref))


def _filters() -> dict[str, str]:
    args = request.args
    side = args.get("side", "")
    section = args.get("section", "")
    state = args.get("state", "")
    return {
        "side": side if side in ("supply", "demand") else "",
        "section": section if section in compile_.default_sections() else "",
        "state": state if state in ("included", "excluded") else "",
        "q": " ".join(args.get("q", "").split())[:100],
    }


def _compile_page(
    edition: CatalogueEdition,
    settings: SettingsForm | None = None,
    schedule: ScheduleForm | None = None,
    status: int = 200,
) -> Any:
    order = present.section_order(edition)
    rows = compile_.proposals(compile_.scope_of(edition), order)
    excluded = set(edition.excluded or [])
    filters = _filters()
    counts: dict[str, dict[str, int]] = {code: {"total": 0, "included": 0} for code in order}
    shown = []
    for row in rows:
        key = compile_.entry_key(row["side"], row["listing_id"])
        row["key"] = key
        row["included"] = key not in excluded
        bucket = counts.setdefault(row["section"], {"total": 0, "included": 0})
        bucket["total"] += 1
        bucket["included"] += int(row["included"])
        if filters["side"] and row["side"] != filters["side"]:
            continue
        if filters["section"] and row["section"] != filters["section"]:
            continue
        if filters["state"] == "included" and not row["included"]:
            continue
        if filters["state"] == "excluded" and row["included"]:
            continue
        if (
            filters["q"]
            and filters["q"] not in row["title"]
            and filters["q"] not in row["org_name"]
        ):
            continue
        shown.append(row)
    page = max(1, min(request.args.get("page", 1, type=int) or 1, 10_000))
    pages = max(1, -(-len(shown) // COMPILE_PAGE))
    page = min(page, pages)
    html = render_template(
        "catalogue/compile.html",
        edition=edition,
        rows=shown[(page - 1) * COMPILE_PAGE : page * COMPILE_PAGE],
        shown_total=len(shown),
        total=len(rows),
        included=sum(1 for row in rows if row["included"]),
        counts=counts,
        order=order,
        filters=filters,
        page=page,
        pages=pages,
        settings=settings or SettingsForm(formdata=None, obj=edition),
        schedule_form=schedule or ScheduleForm(formdata=None),
        breadcrumbs=_scope_crumbs(edition, (_("编制：%(title)s", title=edition.title), None)),
    )
    return html, status


def _back(edition: CatalogueEdition) -> str:
    return safe_next(request.form.get("next"), url_for("catalogue.compile", ref=edition.ref))


@bp.get("/<ref>/compile")
@login_required
def compile(ref: str) -> Any:
    edition = _compilable(ref)
    if not edition.is_editable:
        flash(_("这一期已经发布，不能再修改。"), "warning")
        return redirect(url_for("catalogue.detail", ref=edition.ref))
    return _compile_page(edition)


@bp.post("/<ref>/settings")
@login_required
def settings(ref: str) -> Any:
    edition = _compilable(ref)
    form = SettingsForm()
    if not form.validate_on_submit():
        return _compile_page(edition, settings=form, status=400)
    try:
        service.update_settings(edition, form.title.data or "", form.foreword.data or "")
    except DomainError as exc:
        if exc.status != 400:
            raise
        form.title.errors = [exc.message]
        return _compile_page(edition, settings=form, status=400)
    db.session.commit()
    flash(_("已保存标题和前言。"), "success")
    return redirect(url_for("catalogue.compile", ref=edition.ref))


@bp.post("/<ref>/entries")
@login_required
def toggle(ref: str) -> Any:
    edition = _compilable(ref)
    include = request.form.get("include") == "1"
    service.set_included(edition, request.form.get("key", ""), include)
    db.session.commit()
    flash(_("已恢复该条目。") if include else _("已排除该条目，本期不会发布它。"), "success")
    return redirect(_back(edition))


@bp.post("/<ref>/sections")
@login_required
def move(ref: str) -> Any:
    edition = _compilable(ref)
    step = -1 if request.form.get("step") == "up" else 1
    service.move_section(edition, request.form.get("code", ""), step)
    db.session.commit()
    return redirect(url_for("catalogue.compile", ref=edition.ref) + "#sections")


@bp.get("/<ref>/preview")
@login_required
def preview(ref: str) -> Any:
    edition = _compilable(ref)
    if edition.is_published:
        return redirect(url_for("catalogue.detail", ref=edition.ref))
    entries = compile_.transient_entries(edition, compile_.snapshot(edition))
    return render_template(
        "catalogue/preview.html",
        **_body(edition, entries, None),
        schedule_form=ScheduleForm(formdata=None),
        breadcrumbs=_scope_crumbs(
            edition,
            (_("编制：%(title)s", title=edition.title), url_for("catalogue.compile", ref=ref)),
            (_("预览"), None),
        ),
    )


@bp.post("/<ref>/publish")
@login_required
def publish(ref: str) -> Any:
    edition = _compilable(ref)
    service.publish(edition, current_user)
    db.session.commit()
    catalogue_exports.write_all_quietly(edition)
    flash(_("已发布：%(name)s。", name=_edition_name(edition)), "success")
    return redirect(url_for("catalogue.detail", ref=edition.ref))


@bp.post("/<ref>/schedule")
@login_required
def schedule(ref: str) -> Any:
    edition = _compilable(ref)
    form = ScheduleForm()
    if not form.validate_on_submit():
        return _compile_page(edition, schedule=form, status=400)
    assert form.when.data is not None  # DataRequired
    when: datetime = form.when.data.replace(tzinfo=service.LOCAL_TZ)
    try:
        service.schedule(edition, when)
    except DomainError as exc:
        if exc.status != 400:
            raise
        form.when.errors = [exc.message]
        return _compile_page(edition, schedule=form, status=400)
    db.session.commit()
    flash(_("已设置定时发布：%(when)s（北京时间）。", when=form.when.data), "success")
    return redirect(url_for("catalogue.compile", ref=edition.ref))


@bp.post("/<ref>/unschedule")
@login_required
def unschedule(ref: str) -> Any:
    edition = _compilable(ref)
    service.unschedule(edition)
    db.session.commit()
    flash(_("已取消定时发布，本期回到草稿。"), "success")
    return redirect(url_for("catalogue.compile", ref=edition.ref))


@bp.post("/<ref>/withdraw")
@login_required
def withdraw(ref: str) -> Any:
    edition = _compilable(ref)
    form = WithdrawForm()
    if not form.validate_on_submit():
        entries = list(edition.entries)
        page = render_template(
            "catalogue/detail.html",
            **_body(edition, entries, present.live_refs(entries)),
            can_compile=True,
            withdraw_form=form,
            formats=catalogue_exports.FORMATS,
            breadcrumbs=_scope_crumbs(edition, (present.label(edition), None)),
        )
        return page, 400
    service.withdraw(edition, current_user, form.reason.data or "")
    db.session.commit()
    flash(_("已撤回：%(name)s。", name=_edition_name(edition)), "success")
    return redirect(url_for("catalogue.detail", ref=edition.ref))
