"""Offerings (供给): the public list and detail, the owner's pages, the lifecycle steps."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from market.core import downloads, permissions
from market.core.errors import DomainError, PermissionDenied
from market.core.extensions import db
from market.core.input_guard import accepts_files
from market.dataset import bulk_upload
from market.dataset.upload_template import template_file
from market.docking import mail as docking_mail
from market.docking import workflow as docking
from market.listings import browse
from market.listings import service as listings
from market.listings.forms import choices
from market.listings.forms.offerings import OfferingForm, UploadForm, offering_form_data
from market.listings.views import common as views
from market.models import Offering
from market.models.listing import OFFERING_STATUSES

bp = Blueprint("offerings", __name__)
choices.register_filters(bp)

MINE_STATUSES = (*OFFERING_STATUSES, "expired")


def _crumbs(*extra: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(_("供给"), url_for("offerings.index")), *extra]


@bp.get("/")
def index() -> str:
    filters = browse.parse_filters(request.args)
    page = browse.paginate(
        browse.offerings_query(filters), filters, current_app.config["PAGE_SIZE"]
    )
    return render_template(
        "offerings/index.html",
        page=page,
        filters=filters,
        parks=browse.park_choices(),
        breadcrumbs=[(_("供给"), None)],
    )


@bp.route("/upload", methods=["GET", "POST"])
@login_required
@accepts_files("file")
def upload() -> Response | tuple[str, int]:
    _require_lister()
    form = UploadForm()
    result: bulk_upload.UploadResult | None = None
    # A refused upload answers 4xx, so scripts and proxies see the failure too.
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        file = form.file.data
        try:
            result = bulk_upload.import_offerings(
                current_user.org, current_user, file.filename or "", file.read()
            )
        except PermissionDenied:
            raise
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
            status = exc.status
        else:
            if not result.errors:
                db.session.commit()
                flash(_("已导入 %(n)d 条草稿。", n=len(result.created)), "success")
                return redirect(url_for("offerings.mine", status="draft"))
            db.session.rollback()
            status = 422
    page = render_template(
        "offerings/upload.html",
        form=form,
        result=result,
        breadcrumbs=_crumbs((_("我的供给"), url_for("offerings.mine")), (_("批量上传"), None)),
    )
    return page, status


@bp.get("/upload/template.<fmt>")
@login_required
def upload_template(fmt: str) -> Response:
    if fmt not in ("xlsx", "csv"):
        abort(404)
    content, mimetype, filename = template_file(fmt)
    return downloads.send(content, filename, mimetype)


@bp.get("/<ref>")
def detail(ref: str) -> str:
    item = views.load_visible(Offering, ref)
    return render_template(
        "offerings/detail.html",
        item=item,
        preview=False,
        breadcrumbs=_crumbs((item.title, None)),
        **views.owner_context(item),
    )


@bp.get("/<ref>/preview")
@login_required
def preview(ref: str) -> str:
    item = views.load_visible(Offering, ref)
    return render_template(
        "offerings/preview.html",
        item=item,
        preview=True,
        is_owner=permissions.owns(current_user, item),
        breadcrumbs=_crumbs((item.title, url_for("offerings.detail", ref=ref)), (_("预览"), None)),
    )


def _require_lister() -> None:
    permissions.require(
        permissions.can_list_offerings(current_user),
        _("只有解决方案服务商、金融机构和培训机构可以发布供给。"),
    )


@bp.get("/mine")
@login_required
def mine() -> str:
    _require_lister()
    status = request.args.get("status", "")
    status = status if status in MINE_STATUSES else ""
    items = listings.owned_by_status(Offering, current_user.org_id, status)
    return render_template(
        "offerings/mine.html",
        items=items,
        status=status,
        statuses=MINE_STATUSES,
        breadcrumbs=_crumbs((_("我的供给"), None)),
    )


def _save_new(form: OfferingForm) -> Offering | None:
    try:
        return listings.create_offering(current_user.org, current_user, form.data)
    except PermissionDenied:
        raise
    except DomainError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return None


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new() -> str | Response:
    _require_lister()
    org = current_user.org
    form = OfferingForm(org)
    if request.method == "GET":
        wanted = request.args.get("kind", "")
        form.kind.data = wanted if wanted in org.offering_kinds else org.offering_kinds[0]
    if form.validate_on_submit():
        item = _save_new(form)
        if item is not None:
            flash(_("草稿已保存。"), "success")
            views.submit_after_save(item, bool(form.save_submit.data))
            views.saved_in_editor("offering", None)
            db.session.commit()
            return redirect(url_for("offerings.detail", ref=item.ref))
    return render_template(
        "offerings/form.html", form=form, item=None, breadcrumbs=_crumbs((_("发布供给"), None))
    )


@bp.route("/<ref>/edit", methods=["GET", "POST"])
@login_required
def edit(ref: str) -> str | Response:
    item = views.load_owned(Offering, ref)
    initial = None if request.method == "POST" else offering_form_data(item)
    form = OfferingForm(item.org, data=initial)
    if form.validate_on_submit():
        try:
            went_back = listings.update_offering(item, current_user, form.data)
            promoted = docking.fill_free_seats(item)  # the course may have more seats now
        except PermissionDenied:
            raise
        except DomainError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            flash(views.saved_message(went_back), "warning" if went_back else "success")
            views.submit_after_save(item, bool(form.save_submit.data))
            views.saved_in_editor("offering", item.ref)
            db.session.commit()
            if promoted:
                flash(
                    _("名额增加：%(n)d 位候补学员已转为正式报名，并已邮件通知。", n=len(promoted)),
                    "success",
                )
                docking_mail.notify(promoted)
            return redirect(url_for("offerings.detail", ref=item.ref))
    return render_template(
        "offerings/form.html",
        form=form,
        item=item,
        breadcrumbs=_crumbs((item.title, url_for("offerings.detail", ref=ref)), (_("编辑"), None)),
    )


@bp.post("/<ref>/submit")
@login_required
def submit(ref: str) -> Response:
    item = views.load_owned(Offering, ref)
    return views.run_step(listings.submit, item, _("已提交审核，审核通过后将公开展示。"))


@bp.post("/<ref>/withdraw")
@login_required
def withdraw(ref: str) -> Response:
    item = views.load_owned(Offering, ref)
    return views.run_step(listings.withdraw, item, _("已撤回审核，条目回到草稿。"))


@bp.post("/<ref>/archive")
@login_required
def archive(ref: str) -> Response:
    item = views.load_owned(Offering, ref)
    return views.run_step(listings.archive, item, _("已下架，该供给不再公开展示。"))


@bp.post("/<ref>/renew")
@login_required
def renew(ref: str) -> Response:
    item = views.load_owned(Offering, ref)
    was_archived = item.status == "archived"
    message = (
        _("已重新上架为草稿，提交审核后再次公开。")
        if was_archived
        else _("已续期，有效期延长 %(days)s 天。", days=current_app.config["LISTING_VALIDITY_DAYS"])
    )
    return views.run_step(listings.renew, item, message)
