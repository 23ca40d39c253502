"""Placeholder routes; replaced by the feature's real views."""

from flask import Blueprint

bp = Blueprint("admin", __name__)


@bp.route("/index", methods=["GET", "POST"])
def index() -> str:
    return "index"
