"""Search (/search/): one page for offerings and needs, rendered on the server.

Every state (words, tab, facets, sort, page) lives in the query string, so a search
can be shared and works without JavaScript; static/js/search.js only adds the
as-you-type suggestions from /search/suggest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any

from flask import Blueprint, current_app, jsonify, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from market.listing_search import query as search_query
from market.listing_search import suggest as suggesting
from market.listing_search import zero_results
from market.listing_search.query import SearchOutcome, SearchRequest
from search import SearchError

bp = Blueprint("search", __name__)
log = logging.getLogger("market.search")

PRICE_BAND_LABELS: dict[str, Any] = {
    "<5万": _l("5 万元以下"),
    "5-20万": _l("5–20 万元"),
    "20-100万": _l("20–100 万元"),
    ">100万": _l("100 万元以上"),
    "面议": _l("面议"),
}
FACET_TITLES: dict[str, Any] = {
    "kind": _l("类型"),
    "category": _l("类别"),
    "province": _l("地区"),
    "industry": _l("行业"),
    "org_kind": _l("机构类型"),
    "price_band": _l("价格区间"),
    "park": _l("园区"),
}
DETAIL = {"offerings": "offerings.detail", "needs": "needs.detail"}


@bp.app_template_filter("price_band_label")
def price_band_label(band: str) -> str:
    """5 万元以下 … 面议 for a price band facet value."""
    return str(PRICE_BAND_LABELS.get(band, band))


@dataclass
class EmptyHints:
    """What to suggest when a search finds nothing."""

    unfiltered: int = 0  # results without the filters
    other_index: int = 0  # results for the same words in the other tab
    related: list[str] = field(default_factory=list)  # synonyms of the words typed


def _other(index: str) -> str:
    return "needs" if index == "offerings" else "offerings"


def _empty_hints(req: SearchRequest) -> EmptyHints:
    plain = replace(req, filters=(), page=1)
    return EmptyHints(
        unfiltered=search_query.count(plain) if req.has_filters else 0,
        other_index=search_query.count(replace(plain, index=_other(req.index))) if req.q else 0,
        related=suggesting.related_terms(req.q),
    )


def _tab_counts(req: SearchRequest, outcome: SearchOutcome) -> dict[str, int]:
    """Results per tab for the words typed (the current tab with its filters)."""
    other = _other(req.index)
    return {req.index: outcome.total, other: search_query.count(SearchRequest(other, req.q))}


@bp.get("/")
def index() -> tuple[str, int] | str:
    req = search_query.from_args(request.args, per_page=int(current_app.config["PAGE_SIZE"]))
    title = _("搜索“%(q)s”", q=req.q) if req.q else _("搜索")
    context: dict[str, Any] = {
        "req": req,
        "title": title,
        "facet_titles": FACET_TITLES,
        "detail_endpoint": DETAIL[req.index],
        "breadcrumbs": [(_("搜索"), url_for("search.index")), (title, None)]
        if req.q
        else [(_("搜索"), None)],
    }
    try:
        outcome = search_query.run(req)
        zero_results.record_search(req.index, req.q, req.has_filters, outcome.total)
        hints = _empty_hints(req) if outcome.total == 0 else None
        tabs = _tab_counts(req, outcome)
    except SearchError:
        log.exception("search is unavailable")
        return render_template("search/index.html", outcome=None, unavailable=True, **context), 503
    parks = suggesting.park_names(fv.value for fv in outcome.facets.get("park", []))
    return render_template(
        "search/index.html",
        outcome=outcome,
        hints=hints,
        tabs=tabs,
        park_names=parks,
        unavailable=False,
        **context,
    )


@bp.get("/suggest")
def suggest() -> Response:
    """JSON for the as-you-type box: ``{"query", "index", "suggestions": [...]}``.

    Each suggestion is ``{"ref", "text", "html", "url"}``.

    ``html`` is the title escaped by the search port with ``<mark>`` around what
    was typed. An unreachable index gives no suggestions rather than an error: the
    box still submits to the search page.
    """
    req = search_query.from_args(request.args)
    try:
        found = suggesting.suggestions(req.index, req.q)
    except SearchError:
        log.warning("suggestions unavailable", exc_info=True)
        found = []
    for item in found:
        item["url"] = url_for(DETAIL[req.index], ref=item["ref"])
    response = jsonify(query=req.q, index=req.index, suggestions=found)
    response.headers["Cache-Control"] = "no-store"
    return response
