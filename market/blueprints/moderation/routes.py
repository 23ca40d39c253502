"""Placeholder routes; replaced by the feature's real views."""

from flask import Blueprint

bp = Blueprint("moderation", __name__)


@bp.route("/queue", methods=["GET", "POST"])
def queue() -> str:
    return "queue"
