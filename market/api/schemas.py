"""Shapes of the JSON API: records use the data format's field names plus ``id`` and ``url``."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for

from market.core import reference, report_period
from market.listing_search.query import FILTER_FIELDS

MAX_PAGE = 10_000


class Text(ma.fields.String):
    """A query string: at most ``max_length`` characters and never a NUL character."""

    def __init__(self, max_length: int = 100, **kwargs: Any) -> None:
        # The pattern tells API clients (and the fuzzer) what the validator refuses.
        kwargs.setdefault("metadata", {"pattern": r"^[^\x00]*$"})
        super().__init__(validate=ma.validate.Length(max=max_length), **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text: str = super()._deserialize(value, attr, data, **kwargs)
        if "\x00" in text:
            raise ma.ValidationError("NUL characters are not allowed.")
        return text


def _one_of(codes: Any) -> ma.validate.OneOf:
    return ma.validate.OneOf(sorted(codes))


class PageArgs(ma.Schema):
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE))
    per_page = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))


class ParkArgs(PageArgs):
    province = ma.fields.String(validate=_one_of(reference.provinces()))
    q = Text()
    level = ma.fields.String(validate=ma.validate.OneOf(["national", "provincial", "municipal"]))
    zone_type = ma.fields.String(
        validate=ma.validate.OneOf(["economic_development", "high_tech", "industrial", "other"])
    )


class ListingArgs(PageArgs):
    q = Text()
    kind = ma.fields.String(validate=ma.validate.OneOf(["solution", "finance", "training"]))
    category = ma.fields.String(validate=_one_of(reference.categories()))
    province = ma.fields.String(validate=_one_of(reference.provinces()))
    park = Text(max_length=64)
    sort = ma.fields.String(validate=ma.validate.OneOf(["newest", "price"]))


class ParkSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    ref = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    province = ma.fields.String(required=True)
    city = ma.fields.String(required=True)
    level = ma.fields.String(required=True)
    zone_type = ma.fields.String(required=True)
    industries = ma.fields.List(ma.fields.String(), required=True)
    description = ma.fields.String(required=True)
    url = ma.fields.Function(lambda p: url_for("parks.detail", ref=p.ref, _external=True))


class OrganizationSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    ref = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    province = ma.fields.String(required=True)
    city = ma.fields.String(required=True)
    park = ma.fields.Function(lambda o: o.park.ref if o.park else None, allow_none=True)
    size = ma.fields.String(allow_none=True)
    industries = ma.fields.List(ma.fields.String(), required=True)
    description = ma.fields.String(required=True)
    verified = ma.fields.Boolean(required=True)
    url = ma.fields.Function(lambda o: url_for("orgs.profile", ref=o.ref, _external=True))


class OfferingSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    ref = ma.fields.String(required=True)
    org = ma.fields.Function(lambda o: o.org.ref, required=True)
    org_name = ma.fields.Function(lambda o: o.org.name, required=True)
    kind = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    summary = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    tags = ma.fields.List(ma.fields.String(), required=True)
    industries = ma.fields.List(ma.fields.String(), required=True)
    regions = ma.fields.List(ma.fields.String(), required=True)
    parks = ma.fields.Function(lambda o: [p.ref for p in o.parks], required=True)
    price_min = ma.fields.Integer(allow_none=True)
    price_max = ma.fields.Integer(allow_none=True)
    price_unit = ma.fields.String(allow_none=True)
    amount_min = ma.fields.Integer(allow_none=True)
    amount_max = ma.fields.Integer(allow_none=True)
    rate_min = ma.fields.Float(allow_none=True)
    rate_max = ma.fields.Float(allow_none=True)
    term_months_max = ma.fields.Integer(allow_none=True)
    eligible_sizes = ma.fields.List(ma.fields.String())
    mode = ma.fields.String(allow_none=True)
    starts_on = ma.fields.Date(allow_none=True)
    capacity = ma.fields.Integer(allow_none=True)
    certificate = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True)
    published_at = ma.fields.DateTime(allow_none=True)
    expires_at = ma.fields.DateTime(allow_none=True)
    url = ma.fields.Function(lambda o: url_for("offerings.detail", ref=o.ref, _external=True))


class NeedSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    ref = ma.fields.String(required=True)
    org = ma.fields.Function(lambda n: n.org.ref, required=True)
    org_name = ma.fields.Function(lambda n: n.org.name, required=True)
    park = ma.fields.Function(lambda n: n.park.ref, required=True)
    kind = ma.fields.String(required=True)
    category = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    description = ma.fields.String(required=True)
    tags = ma.fields.List(ma.fields.String(), required=True)
    industries = ma.fields.List(ma.fields.String(), required=True)
    budget_min = ma.fields.Integer(allow_none=True)
    budget_max = ma.fields.Integer(allow_none=True)
    deadline = ma.fields.Date(allow_none=True)
    amount = ma.fields.Integer(allow_none=True)
    term_months = ma.fields.Integer(allow_none=True)
    status = ma.fields.String(required=True)
    published_at = ma.fields.DateTime(allow_none=True)
    url = ma.fields.Function(lambda n: url_for("needs.detail", ref=n.ref, _external=True))


def page_schema(item: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A page envelope {total, page, per_page, items: [...]} for ``item``."""
    return ma.Schema.from_dict(
        {
            "total": ma.fields.Integer(required=True),
            "page": ma.fields.Integer(required=True),
            "per_page": ma.fields.Integer(required=True),
            "items": ma.fields.List(ma.fields.Nested(item), required=True),
        },
        name=name,
    )


ParkPage = page_schema(ParkSchema, "ParkPage")
OfferingPage = page_schema(OfferingSchema, "OfferingPage")
NeedPage = page_schema(NeedSchema, "NeedPage")


class CategorySchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    en = ma.fields.String(required=True)
    kind = ma.fields.String(allow_none=True)
    parent = ma.fields.String(allow_none=True)


# --- search ------------------------------------------------------------------------
SEARCH_FILTER_KEYS = tuple(FILTER_FIELDS)
SEARCH_FILTER_PATTERN = r"^(" + "|".join(SEARCH_FILTER_KEYS) + r")=[^\x00]{1,64}$"


class FilterPair(ma.fields.String):
    """One ``KEY=VALUE`` search filter (repeat the parameter for more)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {"pattern": SEARCH_FILTER_PATTERN})
        super().__init__(
            validate=ma.validate.Regexp(
                SEARCH_FILTER_PATTERN, error="Use KEY=VALUE with a known key and a short value."
            ),
            **kwargs,
        )


class SearchArgs(ma.Schema):
    q = Text(max_length=200, load_default="")
    index = ma.fields.String(
        load_default="offerings", validate=ma.validate.OneOf(["offerings", "needs"])
    )
    filter = ma.fields.List(
        FilterPair(),
        load_default=list,
        validate=ma.validate.Length(max=20),
        metadata={
            "description": "KEY=VALUE, repeatable; keys: "
            + ", ".join(SEARCH_FILTER_KEYS)
            + ". The same key twice means either value; different keys must all match."
        },
    )
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(min=1, max=100))
    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=MAX_PAGE))


class SearchHitSchema(ma.Schema):
    ref = ma.fields.String(required=True)
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(required=True)
    score = ma.fields.Float(required=True, metadata={"description": "0–1, higher is better"})
    kind = ma.fields.String(required=True)
    org_name = ma.fields.String(required=True)
    url = ma.fields.String(required=True)


class SearchResultSchema(ma.Schema):
    query = ma.fields.String(required=True)
    index = ma.fields.String(required=True)
    total = ma.fields.Integer(required=True)
    page = ma.fields.Integer(required=True)
    limit = ma.fields.Integer(required=True)
    hits = ma.fields.List(ma.fields.Nested(SearchHitSchema), required=True)


# --- parkops: campaign reports (aggregate figures, public) -----------------------------------
def _report_day(description: str) -> dict[str, str]:
    """A report date's documentation: the days a period may cover (outside them: 400)."""
    low, high = report_period.EARLIEST.isoformat(), report_period.LATEST.isoformat()
    return {
        "description": f"{description}; from {low} to {high}, a day outside gives 400",
        # OpenAPI 3.0 has no bounds for dates: stated as extensions fuzzers can read.
        "x-minimum": low,
        "x-maximum": high,
    }


class ReportArgs(ma.Schema):
    from_ = ma.fields.Date(
        data_key="from",
        load_default=None,
        metadata=_report_day("first day (default 1 January of the last day's year)"),
    )
    to = ma.fields.Date(load_default=None, metadata=_report_day("last day (default today)"))


class CategoryCountsSchema(ma.Schema):
    offerings = ma.fields.Integer(required=True)
    needs = ma.fields.Integer(required=True)


class MonthCountsSchema(ma.Schema):
    offerings = ma.fields.Integer(required=True)
    needs = ma.fields.Integer(required=True)
    dockings = ma.fields.Integer(required=True)
    deals = ma.fields.Integer(required=True)


class ReportSchema(ma.Schema):
    """The campaign figures of interfaces.md (`market report --json`), plus a few more."""

    park = ma.fields.String(metadata={"description": "park ref (park reports)"})
    province = ma.fields.String(metadata={"description": "province (province roll-ups)"})
    parks = ma.fields.Integer(metadata={"description": "parks in the province (roll-ups)"})
    name = ma.fields.String(required=True)
    from_ = ma.fields.String(data_key="from", attribute="from", required=True)
    to = ma.fields.String(required=True)
    offerings_serving_park = ma.fields.Integer(required=True)
    open_needs = ma.fields.Integer(required=True)
    enterprises = ma.fields.Integer(required=True)
    catalogue_editions = ma.fields.Integer(required=True)
    docking_requests = ma.fields.Integer(required=True)
    deals = ma.fields.Integer(required=True)
    deal_amount = ma.fields.Integer(required=True)
    financing_applied = ma.fields.Integer(required=True)
    financing_granted = ma.fields.Integer(required=True)
    training_registrations = ma.fields.Integer(required=True)
    by_category = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Nested(CategoryCountsSchema), required=True
    )
    recommended = ma.fields.Integer(required=True)
    accepted = ma.fields.Integer(required=True)
    financing_applications = ma.fields.Integer(required=True)
    training_certificates = ma.fields.Integer(required=True)
    unserved_needs = ma.fields.Integer(required=True)
    recommendation_threshold = ma.fields.Float(required=True)
    by_month = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.Nested(MonthCountsSchema), required=True
    )


# --- match-app: recommendations of one listing (the `market match --json` shape) --------------
class MatchArgs(ma.Schema):
    limit = ma.fields.Integer(load_default=10, validate=ma.validate.Range(min=1, max=20))


class OfferingMatchSchema(ma.Schema):
    offering = ma.fields.String(required=True, metadata={"description": "the offering's ref"})
    score = ma.fields.Float(required=True, metadata={"description": "0–100, higher is better"})
    reasons = ma.fields.List(ma.fields.String(), required=True)


class NeedMatchesSchema(ma.Schema):
    need = ma.fields.String(required=True)
    matches = ma.fields.List(ma.fields.Nested(OfferingMatchSchema), required=True)


class NeedMatchSchema(ma.Schema):
    need = ma.fields.String(required=True, metadata={"description": "the need's ref"})
    score = ma.fields.Float(required=True, metadata={"description": "0–100, higher is better"})
    reasons = ma.fields.List(ma.fields.String(), required=True)


class OfferingMatchesSchema(ma.Schema):
    offering = ma.fields.String(required=True)
    matches = ma.fields.List(ma.fields.Nested(NeedMatchSchema), required=True)
