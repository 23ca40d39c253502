"""The park directory (园区名录) and park pages."""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, url_for
from flask_babel import gettext as _

from market.core import reference
from market.core.extensions import db
from market.models.park import PARK_LEVELS, ZONE_TYPES
from market.parks import service as park_service

bp = Blueprint("parks", __name__)

SERVING_SHOWN = 12

# Labels for any template that shows a park (home page, organization pages …).
bp.add_app_template_filter(park_service.level_label, "park_level")
bp.add_app_template_filter(park_service.zone_type_label, "park_zone_type")


@bp.get("/")
def index() -> str:
    filters = park_service.ParkFilters.from_args(request.args)
    page = request.args.get("page", 1, type=int) or 1
    pagination = park_service.search(filters, page, int(current_app.config["PAGE_SIZE"]))
    return render_template(
        "parks/index.html",
        filters=filters,
        pagination=pagination,
        figures=park_service.figures(p.id for p in pagination.items),
        provinces=park_service.provinces_present(),
        levels=PARK_LEVELS,
        zone_types=ZONE_TYPES,
        breadcrumbs=[(_("园区名录"), None)],
    )


@bp.get("/<ref>")
def detail(ref: str) -> str:
    park = park_service.get_by_ref(ref)
    serving = park_service.serving_offerings(park)
    return render_template(
        "parks/detail.html",
        park=park,
        enterprises=park_service.enterprises(park),
        needs=park_service.open_needs(park),
        offerings=list(db.session.scalars(serving.limit(SERVING_SHOWN))),
        category_counts=park_service.serving_counts_by_category(park),
        top_categories=reference.top_categories(),
        breadcrumbs=[(_("园区名录"), url_for("parks.index")), (park.name, None)],
    )
