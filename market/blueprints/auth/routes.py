"""Placeholder routes; replaced by the feature's real views."""

from flask import Blueprint

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login() -> str:
    return "login"


@bp.route("/logout", methods=["GET", "POST"])
def logout() -> str:
    return "logout"


@bp.route("/signup", methods=["GET", "POST"])
def signup() -> str:
    return "signup"


@bp.route("/account", methods=["GET", "POST"])
def account() -> str:
    return "account"
