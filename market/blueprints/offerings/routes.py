"""Placeholder routes; replaced by the feature's real views."""

from flask import Blueprint

bp = Blueprint("offerings", __name__)


@bp.route("/index", methods=["GET", "POST"])
def index() -> str:
    return "index"


@bp.route("/mine", methods=["GET", "POST"])
def mine() -> str:
    return "mine"
