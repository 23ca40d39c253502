"""Placeholder routes; replaced by the feature's real views."""

from flask import Blueprint

bp = Blueprint("orgs", __name__)


@bp.route("/profile", methods=["GET", "POST"])
def profile() -> str:
    return "profile"
