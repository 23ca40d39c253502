"""Home page and language switch."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from market.core.i18n import LOCALE_COOKIE
from market.core.urls import safe_next
from market.home import health
from market.home import service as home_service

bp = Blueprint("main", __name__)


@bp.get("/")
def home() -> str:
    return render_template("main/home.html", **home_service.home_context())


@bp.post("/language")
def set_language() -> Response:
    """Remember the chosen language in a cookie and go back where the visitor was.

    An unsupported ``lang`` changes nothing; ``next`` is followed only when it is a
    path on this site.
    """
    lang = request.form.get("lang", "")
    response = make_response(redirect(safe_next(request.form.get("next"), url_for("main.home"))))
    if lang in current_app.config["LANGUAGES"]:
        response.set_cookie(
            LOCALE_COOKIE, lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )
    return response


@bp.get("/healthz")
def healthz() -> tuple[Response, int]:
    """For monitors and load balancers: 200 when every check passes, 503 when degraded."""
    result = health.report(current_app._get_current_object())  # type: ignore[attr-defined]
    response = jsonify(result)
    response.headers["Cache-Control"] = "no-store"
    return response, 200 if result["status"] == "ok" else 503
