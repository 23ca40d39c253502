"""JSON API under /api/v1/: the public resource pool for outside tools and provincial systems."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint, abort
from sqlalchemy import select

from market import reference
from market.apidoc import ErrorSchema
from market.blueprints.api import schemas
from market.extensions import db
from market.models import Need, Offering, Organization, Park
from market.services import browse, parks

bp = Blueprint("api", __name__, description="园区供需对接平台的公开数据")


def not_found_documented(func: Any) -> Any:
    return bp.alt_response(404, schema=ErrorSchema, description="未找到，或未公开")(func)


def _by_ref(model: Any, ref: str) -> Any:
    row = db.session.scalar(select(model).where(model.ref == ref))
    if row is None or (hasattr(row, "is_public") and not row.is_public):
        abort(404, message="未找到该记录。")
    return row


def _page(pagination: Any, per_page: int) -> dict[str, Any]:
    return {
        "total": pagination.total or 0,
        "page": pagination.page,
        "per_page": per_page,
        "items": list(pagination.items),
    }


def _listing_filters(args: dict[str, Any]) -> browse.ListingFilters:
    return browse.ListingFilters(
        q=" ".join(str(args.get("q", "")).split()),
        kind=args.get("kind", ""),
        category=args.get("category", ""),
        province=args.get("province", ""),
        park=args.get("park", ""),
        sort=args.get("sort", "newest"),
        page=args["page"],
    )


@bp.route("/parks")
class ParkList(MethodView):
    @bp.arguments(schemas.ParkArgs, location="query", as_kwargs=True)
    @bp.response(200, schemas.ParkPage)
    def get(self, page: int, per_page: int, **args: Any) -> dict[str, Any]:
        """Parks of the directory, national parks first; filters as on the directory page."""
        filters = parks.ParkFilters.from_args(args)
        return _page(parks.search(filters, page, per_page), per_page)


@bp.route("/offerings")
class OfferingList(MethodView):
    @bp.arguments(schemas.ListingArgs, location="query", as_kwargs=True)
    @bp.response(200, schemas.OfferingPage)
    def get(self, per_page: int, **args: Any) -> dict[str, Any]:
        """Published offerings, newest first (or by price); filters as on the list page."""
        filters = _listing_filters(args)
        return _page(browse.paginate(browse.offerings_query(filters), filters, per_page), per_page)


@bp.route("/needs")
class NeedList(MethodView):
    @bp.arguments(schemas.ListingArgs, location="query", as_kwargs=True)
    @bp.response(200, schemas.NeedPage)
    def get(self, per_page: int, **args: Any) -> dict[str, Any]:
        """Open needs, newest first (or biggest budget); filters as on the list page."""
        filters = _listing_filters(args)
        return _page(browse.paginate(browse.needs_query(filters), filters, per_page), per_page)


@bp.route("/parks/<ref>")
class ParkResource(MethodView):
    @bp.response(200, schemas.ParkSchema)
    @not_found_documented
    def get(self, ref: str) -> Park:
        """One park by its ref."""
        return _by_ref(Park, ref)


@bp.route("/organizations/<ref>")
class OrganizationResource(MethodView):
    @bp.response(200, schemas.OrganizationSchema)
    @not_found_documented
    def get(self, ref: str) -> Organization:
        """One organization's public profile."""
        return _by_ref(Organization, ref)


@bp.route("/offerings/<ref>")
class OfferingResource(MethodView):
    @bp.response(200, schemas.OfferingSchema)
    @not_found_documented
    def get(self, ref: str) -> Offering:
        """One published offering."""
        return _by_ref(Offering, ref)


@bp.route("/needs/<ref>")
class NeedResource(MethodView):
    @bp.response(200, schemas.NeedSchema)
    @not_found_documented
    def get(self, ref: str) -> Need:
        """One open need."""
        return _by_ref(Need, ref)


@bp.route("/categories")
class CategoryList(MethodView):
    @bp.response(200, schemas.CategorySchema(many=True))
    def get(self) -> list[reference.Entry]:
        """The category taxonomy, top levels followed by their children."""
        return list(reference.categories().values())
