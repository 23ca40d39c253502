"""The supply–demand catalogue (供需目录清单).

Public: the editions of a park, each edition as a page (contents by category, supply
and demand), what changed since the previous one, downloads and an Atom feed.
Staff of the park (and admins, who may also compile a province's or the platform's
catalogue): start an edition, compile it (filter, include/exclude, section order,
foreword), preview, publish now or on a date, withdraw with a reason.
"""

from __future__ import annotations

from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from market.catalogue import compile as compile_
from market.catalogue import diff as catalogue_diff
from market.catalogue import exports as catalogue_exports
from market.catalogue import present, service
from market.catalogue.forms import (
    WithdrawForm,
)
from market.core import downloads, permissions
from market.core.errors import NotFound
from market.core.tabular import CSV_MIMETYPE, XLSX_MIMETYPE
from market.models import CatalogueEdition, CatalogueEntry, Park, utcnow

bp = Blueprint("catalogue", __name__)

COMPILE_PAGE = 100
# Above this many entries the edition page shows its contents and one section at a time.
WHOLE_PAGE_MAX = 600
DOWNLOAD_TYPES = {
    "xlsx": XLSX_MIMETYPE,
    "pdf": "application/pdf",
    "csv": CSV_MIMETYPE,
    "zip": "application/zip",
}

bp.add_app_template_filter(present.label, "edition_label")
bp.add_app_template_filter(present.status_label, "edition_status")
bp.add_app_template_filter(present.side_label, "catalogue_side")


@bp.app_template_global()
def catalogue_park_summary(park: Park) -> dict[str, Any]:
    """What the park page shows about the park's catalogue (templates/catalogue/_park_summary)."""
    summary = service.park_summary(park)
    return {
        "summary": summary,
        "can_compile": permissions.can_compile_catalogue(current_user, "park", park.id),
    }


# --- helpers ----------------------------------------------------------------------------------


def _can_compile(edition: CatalogueEdition) -> bool:
    return permissions.can_compile_catalogue(current_user, edition.scope, edition.park_id)


def _compilable(ref: str) -> CatalogueEdition:
    """The edition after checking the user compiles its scope (403); 404 when unknown."""
    edition = service.get_by_ref(ref)
    permissions.require(_can_compile(edition), _("只有本园区工作人员和平台管理员可以编制目录。"))
    return edition


def _readable(ref: str) -> CatalogueEdition:
    """Published and withdrawn editions for everyone; drafts only for their compilers."""
    edition = service.get_by_ref(ref)
    if not edition.is_published and not _can_compile(edition):
        raise NotFound(_("目录不存在。"))
    return edition


def _scope_crumbs(edition: CatalogueEdition, *more: tuple[str, str | None]) -> list[Any]:
    crumbs: list[tuple[str, str | None]] = [(_("供需目录"), url_for("catalogue.index"))]
    if edition.park is not None:
        crumbs.append((edition.park.name, url_for("catalogue.park", ref=edition.park.ref)))
    return crumbs + list(more)


def _edition_name(edition: CatalogueEdition) -> str:
    return f"{edition.title}（{present.label(edition)}）"


def _body(
    edition: CatalogueEdition, entries: list[CatalogueEntry], live: set[str] | None
) -> dict[str, Any]:
    """What templates/catalogue/_edition_body.html needs: sections, contents, the slice."""
    order = present.section_order(edition)
    sections = present.sections(entries, order)
    side = request.args.get("side", "")
    code = request.args.get("section", "")
    whole = len(entries) <= WHOLE_PAGE_MAX
    shown = sections if whole else [s for s in sections if s.side == side and s.code == code]
    return {
        "edition": edition,
        "sections": sections,
        "shown": shown,
        "whole": whole,
        "live": live,
        "columns": {s: present.columns(s) for s in ("supply", "demand")},
        "values": present.Formatter().values,
        "top_label": present.top_label,
        "side_counts": {
            "supply": sum(1 for e in entries if e.side == "supply"),
            "demand": sum(1 for e in entries if e.side == "demand"),
        },
    }


# --- public pages ------------------------------------------------------------------------------


@bp.get("/")
def index() -> str:
    return render_template(
        "catalogue/index.html",
        editions=service.published_editions(),
        can_manage=permissions.can_manage_catalogues(current_user),
        breadcrumbs=[(_("供需目录"), None)],
    )


@bp.get("/parks/<ref>")
def park(ref: str) -> str:
    park = service.park_by_ref(ref)
    scope = compile_.park_scope(park)
    can_compile = permissions.can_compile_catalogue(current_user, "park", park.id)
    return render_template(
        "catalogue/park.html",
        park=park,
        editions=service.editions(scope, include_drafts=can_compile),
        can_compile=can_compile,
        breadcrumbs=[
            (_("供需目录"), url_for("catalogue.index")),
            (park.name, url_for("parks.detail", ref=park.ref)),
            (_("供需目录"), None),
        ],
    )


@bp.get("/parks/<ref>/feed.atom")
def feed(ref: str) -> Response:
    park = service.park_by_ref(ref)
    editions = service.editions(compile_.park_scope(park))
    items = [(e, url_for("catalogue.detail", ref=e.ref, _external=True)) for e in editions]
    updated = max(
        (e.withdrawn_at or e.published_at for e in editions if e.published_at), default=None
    )
    data = catalogue_exports.atom_feed(
        _("%(name)s供需目录", name=park.name),
        url_for("catalogue.feed", ref=park.ref, _external=True),
        url_for("catalogue.park", ref=park.ref, _external=True),
        items,
        updated or park.created_at or utcnow(),
    )
    return Response(data, mimetype="application/atom+xml")


@bp.get("/<ref>")
def detail(ref: str) -> Any:
    edition = _readable(ref)
    if not edition.is_published:
        return redirect(url_for("catalogue.preview", ref=edition.ref))
    can_compile = _can_compile(edition)
    entries = list(edition.entries) if edition.status == "published" or can_compile else []
    return render_template(
        "catalogue/detail.html",
        **_body(edition, entries, present.live_refs(entries)),
        can_compile=can_compile,
        withdraw_form=WithdrawForm(formdata=None),
        formats=catalogue_exports.FORMATS,
        breadcrumbs=_scope_crumbs(edition, (present.label(edition), None)),
    )


@bp.get("/<ref>/changes")
def changes(ref: str) -> Any:
    edition = _readable(ref)
    if edition.status == "withdrawn" and not _can_compile(edition):
        # A withdrawn edition's entries are no longer shown: its page says why.
        return redirect(url_for("catalogue.detail", ref=edition.ref))
    previous = service.previous_published(edition)
    if edition.is_published:
        current = list(edition.entries)
    else:
        current = compile_.transient_entries(edition, compile_.snapshot(edition))
    result = catalogue_diff.compare(list(previous.entries) if previous else None, current)
    return render_template(
        "catalogue/changes.html",
        edition=edition,
        previous=previous,
        changes=result,
        breadcrumbs=_scope_crumbs(
            edition,
            (present.label(edition), url_for("catalogue.detail", ref=edition.ref)),
            (_("本期变化"), None),
        ),
    )


@bp.get("/<ref>/download/<fmt>")
def download(ref: str, fmt: str) -> Response:
    edition = _readable(ref)
    if fmt not in catalogue_exports.FORMATS or not edition.is_published:
        abort(404)
    if edition.status == "withdrawn" and not _can_compile(edition):
        abort(404)
    path = catalogue_exports.path_for(edition, fmt)
    name = catalogue_exports.download_name(edition, fmt)
    return downloads.send(path, name, DOWNLOAD_TYPES[fmt], max_age=3600)
