"""JSON API under /api/v1/: the public resource pool for outside tools and provincial systems."""

from __future__ import annotations

from typing import Any

from flask import jsonify, make_response, url_for
from flask.views import MethodView
from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from werkzeug.wrappers import Response

from market.api import schemas
from market.core import reference
from market.core.apidoc import ErrorSchema
from market.core.db import by_ref
from market.listing_search import query as search_query
from market.listing_search import zero_results
from market.listing_search.query import FilterSyntaxError, SearchRequest
from market.listings import browse
from market.models import Need, Offering, Organization, Park
from market.parks import service as parks
from market.recommendations import service as matching
from search import SearchError

bp = Blueprint("api", __name__, description="园区供需对接平台的公开数据")


def not_found_documented(func: Any) -> Any:
    return bp.alt_response(404, schema=ErrorSchema, description="未找到，或未公开")(func)


def _by_ref(model: Any, ref: str) -> Any:
    row = by_ref(model, ref)
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


@bp.route("/search")
class Search(MethodView):
    @bp.arguments(schemas.SearchArgs, location="query", as_kwargs=True)
    @bp.response(200, schemas.SearchResultSchema)
    @bp.alt_response(503, schema=ErrorSchema, description="搜索服务暂时不可用")
    def get(
        self, q: str, index: str, filter: list[str], limit: int, page: int
    ) -> dict[str, Any] | Response:
        """Search published offerings or open needs as the web search box does.

        ``filter`` is ``KEY=VALUE`` and may repeat: the same key twice means either
        value, different keys must all match. Hits are sorted by relevance (newest
        first for an empty query); ``score`` is 0–1.
        """
        try:
            filters = search_query.parse_filters(filter)
        except FilterSyntaxError as exc:  # the schema's pattern already refuses these
            abort(422, message=str(exc))
        req = SearchRequest(index, search_query.clean_query(q), filters, per_page=limit, page=page)
        try:
            outcome = search_query.run(req, facets=False)
        except SearchError:
            message = _("搜索服务暂时不可用，请稍后再试。")
            body = {"error": {"code": "search_unavailable", "message": message}}
            return make_response(jsonify(body), 503)
        zero_results.record_search(req.index, req.q, req.has_filters, outcome.total)
        # Past the deepest page the engines serve, the answer is an empty page, not the last one.
        beyond = (page - 1) * limit >= search_query.WINDOW
        detail = "offerings.detail" if index == "offerings" else "needs.detail"
        return {
            "query": req.q,
            "index": index,
            "total": outcome.total,
            "page": page,
            "limit": limit,
            "hits": []
            if beyond
            else [
                {
                    "ref": hit.ref,
                    "id": hit.id,
                    "title": hit.item.title,
                    "score": hit.score,
                    "kind": hit.item.kind,
                    "org_name": hit.item.org.name,
                    "url": url_for(detail, ref=hit.ref, _external=True),
                }
                for hit in outcome.items
            ],
        }


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


# --- parkops: campaign reports --------------------------------------------------------------
# Public and read-only: the figures are aggregates of public listings and of dockings
# (no names, no amounts of a single docking), and provincial systems collect them.


def _report(scope_of: Any, key: str, from_: Any, to: Any) -> dict[str, Any] | Response:
    from market.core.errors import DomainError
    from market.core.report_period import Period
    from market.parkops import report as campaign_report

    try:
        scope = scope_of(key)
        period = Period.parse(from_.isoformat() if from_ else None, to.isoformat() if to else None)
    except DomainError as exc:
        body = {"error": {"code": exc.code, "message": exc.message}}
        return make_response(jsonify(body), exc.status)
    return campaign_report.build(scope, period)


@bp.route("/parks/<ref>/report")
class ParkReport(MethodView):
    @bp.arguments(schemas.ReportArgs, location="query", as_kwargs=True)
    @bp.response(200, schemas.ReportSchema)
    @bp.alt_response(400, schema=ErrorSchema, description="统计区间无效")
    @not_found_documented
    def get(self, ref: str, from_: Any = None, to: Any = None) -> dict[str, Any] | Response:
        """A park's campaign figures for a period (the same as ``market report --json``)."""
        from market.parkops.scope import for_park

        return _report(for_park, ref, from_, to)


@bp.route("/provinces/<province>/report")
class ProvinceReport(MethodView):
    @bp.arguments(schemas.ReportArgs, location="query", as_kwargs=True)
    @bp.response(200, schemas.ReportSchema)
    @bp.alt_response(400, schema=ErrorSchema, description="统计区间无效")
    @not_found_documented
    def get(self, province: str, from_: Any = None, to: Any = None) -> dict[str, Any] | Response:
        """The roll-up of every park of a province (full name, e.g. 江苏省) for a period."""
        from market.parkops.scope import for_province

        return _report(for_province, province, from_, to)


# --- match-app: recommendations (the shape of `market match --json`) -------------------------
# Stored recommendations at or above the display threshold, best first; pairs the
# listing's own side marked 不相关 are left out, as on its page.


@bp.route("/needs/<ref>/matches")
class NeedMatches(MethodView):
    @bp.arguments(schemas.MatchArgs, location="query", as_kwargs=True)
    @bp.response(200, schemas.NeedMatchesSchema)
    @not_found_documented
    def get(self, ref: str, limit: int) -> dict[str, Any]:
        """The best published offerings for one open need, with scores and reasons."""
        need = _by_ref(Need, ref)
        return {
            "need": need.ref,
            "matches": [
                {
                    "offering": rec.offering.ref,
                    "score": rec.score,
                    "reasons": matching.reason_texts(rec.parts),
                }
                for rec in matching.recommendations_for_need(need, limit)
            ],
        }


@bp.route("/offerings/<ref>/matches")
class OfferingMatches(MethodView):
    @bp.arguments(schemas.MatchArgs, location="query", as_kwargs=True)
    @bp.response(200, schemas.OfferingMatchesSchema)
    @not_found_documented
    def get(self, ref: str, limit: int) -> dict[str, Any]:
        """The best open needs for one published offering, with scores and reasons."""
        offering = _by_ref(Offering, ref)
        return {
            "offering": offering.ref,
            "matches": [
                {
                    "need": rec.need.ref,
                    "score": rec.score,
                    "reasons": matching.reason_texts(rec.parts),
                }
                for rec in matching.recommendations_for_offering(offering, limit)
            ],
        }
