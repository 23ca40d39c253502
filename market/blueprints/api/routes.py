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

bp = Blueprint("api", __name__, description="园区供需对接平台的公开数据")


def not_found_documented(func: Any) -> Any:
    return bp.alt_response(404, schema=ErrorSchema, description="未找到，或未公开")(func)


def _by_ref(model: Any, ref: str) -> Any:
    row = db.session.scalar(select(model).where(model.ref == ref))
    if row is None or (hasattr(row, "is_public") and not row.is_public):
        abort(404, message="未找到该记录。")
    return row


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
