"""Admin: /admin/concepts (the concept map, admins' additions) and the zero-result list."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.wrappers import Response

from market.core import downloads, permissions
from market.core.errors import DomainError
from market.core.extensions import db, login_manager
from market.core.urls import safe_next
from market.listing_search import concept_browse, concept_entries, forms, indexing, zero_results

bp = Blueprint("concepts_admin", __name__)


@bp.before_request
def _admins_only() -> Response | None:
    """Every page here is for platform admins: sign in first, then 403 for anyone else."""
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not permissions.is_admin(current_user):
        abort(403)
    return None


def _crumbs(*more: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(_("平台管理"), url_for("admin.index")), *more]


@bp.get("/concepts")
def concepts() -> str:
    form = forms.ConceptFilterForm(formdata=request.args)
    form.validate()
    files = indexing.concept_files()
    term = form.term_value()
    return render_template(
        "concepts_admin/index.html",
        form=form,
        areas=concept_browse.browse(files, form.query(), form.area_value()),
        total=len(files),
        term=term,
        related=concept_browse.related(indexing.concept_map(), term) if term else [],
        breadcrumbs=_crumbs((_("概念图"), None)),
    )


def _concept_page(concept_id: str, form: forms.EntryForm, status: int = 200) -> tuple[str, int]:
    files = indexing.concept_files()
    view = concept_browse.view(files, concept_id)
    if view is None:
        abort(404)
    concept = view.concept
    page = render_template(
        "concepts_admin/concept.html",
        view=view,
        form=form,
        broader=concept_browse.names(files, concept.broader),
        narrower=concept_browse.names(files, files.narrower(concept.id)),
        categories=concept_browse.category_names(concept),
        kind_labels=concept_entries.KIND_LABELS,
        breadcrumbs=_crumbs(
            (_("概念图"), url_for("concepts_admin.concepts")), (concept.name, None)
        ),
    )
    return page, status


@bp.get("/concepts/<concept_id>")
def concept(concept_id: str) -> tuple[str, int]:
    form = forms.EntryForm(formdata=None)
    form.term.data = request.args.get("term", "")[:100]
    if request.args.get("kind") in concept_entries.KIND_LABELS:
        form.kind.data = request.args["kind"]
    return _concept_page(concept_id, form)


@bp.post("/concepts/<concept_id>/entries")
def add_entry(concept_id: str) -> Response | tuple[str, int]:
    form = forms.EntryForm()
    if concept_browse.view(indexing.concept_files(), concept_id) is None:
        abort(404)
    try:
        entry = concept_entries.add(
            indexing.concept_map(),
            concept_id,
            form.kind.data or "",
            form.term.data,
            current_user._get_current_object(),
        )
    except DomainError as exc:
        db.session.rollback()
        form.term.errors = [exc.message]
        return _concept_page(concept_id, form, 400)
    db.session.commit()
    concept_entries.forget()
    flash(
        _(
            "已将「%(term)s」添加为「%(name)s」的%(kind)s，搜索即刻生效。",
            term=entry.term,
            name=indexing.concept_files().concepts[concept_id].name,
            kind=concept_entries.KIND_LABELS[entry.kind],
        ),
        "success",
    )
    return redirect(url_for("concepts_admin.concept", concept_id=concept_id))


@bp.post("/concepts/entries/<ref>/remove")
def remove_entry(ref: str) -> Response:
    entry = concept_entries.by_ref(ref)
    if entry is None:
        abort(404)
    concept_id, term = entry.concept, entry.term
    concept_entries.remove(ref)
    db.session.commit()
    concept_entries.forget()
    flash(_("已删除「%(term)s」（%(ref)s）。", term=term, ref=ref), "success")
    fallback = url_for("concepts_admin.concepts")
    if concept_id in indexing.concept_files().concepts:
        fallback = url_for("concepts_admin.concept", concept_id=concept_id)
    return redirect(safe_next(request.form.get("next"), fallback))


def _zero_rows(limit: int | None) -> tuple[forms.ZeroFilterForm, zero_results.Page]:
    form = forms.ZeroFilterForm(formdata=request.args)
    form.validate()
    period, error = zero_results.parse_period(form.start.data, form.end.data)
    rows, total = zero_results.listing(period, form.index_value() or None, limit=limit)
    return form, zero_results.Page(period, error, rows, total)


@bp.get("/concepts/zero-results")
def zero_list() -> str:
    form, page = _zero_rows(zero_results.LIST_LIMIT)
    return render_template(
        "concepts_admin/zero_results.html",
        form=form,
        page=page,
        index_labels=forms.INDEX_LABELS,
        breadcrumbs=_crumbs(
            (_("概念图"), url_for("concepts_admin.concepts")), (_("无结果的搜索"), None)
        ),
    )


@bp.get("/concepts/zero-results.csv")
def zero_csv() -> Response:
    _form, page = _zero_rows(None)
    name = f"{_('无结果的搜索')}-{page.period.start}-{page.period.end}.csv"
    return downloads.send(zero_results.csv_bytes(page.rows), name, "text/csv")


@bp.post("/concepts/zero-results/handled")
def mark_handled() -> Response:
    index, query = request.form.get("index", ""), request.form.get("query", "")
    try:
        zero_results.mark_handled(index, query)
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        db.session.commit()
        flash(_("已将「%(q)s」标为已处理；再有人搜索它时会重新出现。", q=query), "success")
    return redirect(safe_next(request.form.get("next"), url_for("concepts_admin.zero_list")))
