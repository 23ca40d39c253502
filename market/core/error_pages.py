"""Error pages and JSON errors: specific, in the user's language, never a traceback."""

from __future__ import annotations

import json
import logging
import uuid

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException

from market.core import storage
from market.core.errors import DomainError
from market.core.extensions import db

log = logging.getLogger("market.errors")


def _messages() -> dict[int, str]:
    return {
        400: _("请求无效。"),
        403: _("您无权访问此页面。"),
        404: _("页面不存在，或已被删除。"),
        405: _("不支持该请求方式。"),
        413: _(
            "上传的内容过大，不能超过 %(mb)d MB。",
            mb=int(current_app.config.get("MAX_CONTENT_LENGTH") or 0) // (1024 * 1024),
        ),
        429: _("请求过于频繁，请稍后再试。"),
        500: _("服务器出错了，我们已记录此问题。"),
        507: _("服务器存储空间不足，请稍后再试；您的内容未保存。"),
    }


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def render_error(
    status: int,
    message: str,
    code: str | None = None,
    error_id: str | None = None,
    details: dict[str, object] | None = None,
):
    """A JSON body under /api/, an HTML page elsewhere; always with ``status``."""
    if _wants_json():
        body: dict[str, object] = {"code": code or str(status), "message": message}
        if error_id:
            body["id"] = error_id
        if details:
            body["details"] = details
        return jsonify(error=body), status
    return render_template(
        "errors/error.html", status=status, message=message, error_id=error_id
    ), status


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return render_error(400, _("表单已过期或缺少安全令牌，请刷新页面后重试。"), "csrf")

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        return render_error(exc.status, exc.message, exc.code)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if status >= 500:
            return internal_error(exc)
        data = getattr(exc, "data", None) or {}
        # flask-smorest's abort(404, message=…) and webargs' 422 carry their specifics in .data
        message = data.get("message") or _messages().get(status) or _("请求无效。")
        if status == 422:
            message = _("请求参数无效。")
        details = data.get("messages") if isinstance(data.get("messages"), dict) else None
        response, code = render_error(
            status, str(message), exc.name.lower().replace(" ", "_"), details=details
        )
        if exc.response is None and status == 405 and hasattr(exc, "valid_methods"):
            # An HTML error page comes back as a string: make it a response to add the header.
            response = make_response(response)
            response.headers["Allow"] = ", ".join(exc.valid_methods or [])
        return response, code

    @app.errorhandler(Exception)
    def internal_error(exc: Exception):
        # The id ties what the user sees to the log line an operator searches for, so
        # it is logged for every 500 (a bare abort(500) included).
        error_id = uuid.uuid4().hex[:12]
        original = getattr(exc, "original_exception", None) or exc
        full = storage.out_of_space(original)
        log.error(
            "error_id=%s %s %r%s",
            error_id,
            request.method,
            request.path,
            " disk full" if full else "",
            exc_info=original,
        )
        try:
            # Nothing half-written survives the failed request.
            db.session.rollback()
            if full:
                # Not a bug to report but an operator's job: say what happened and
                # that nothing was kept, so the user knows to try again later.
                return render_error(507, _messages()[507], "insufficient_storage", error_id)
            return render_error(500, _messages()[500], "internal", error_id)
        except Exception:
            # The page itself failed (database gone, template broken): answer anyway,
            # with the id, rather than let the server print its own page.
            log.exception("error_id=%s the error page failed; sent the plain one", error_id)
            return _plain_500(error_id)


def _plain_500(error_id: str) -> tuple[str, int, dict[str, str]]:
    """A page (or JSON body) that needs no template, no database and no translation."""
    message = "服务器出错了，我们已记录此问题。"
    if _wants_json():
        body = json.dumps({"error": {"code": "internal", "message": message, "id": error_id}})
        return body, 500, {"Content-Type": "application/json"}
    page = (
        '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>500</title>'
        f"<h1>{message}</h1><p>问题编号 <code>{escape(error_id)}</code></p></html>"
    )
    return page, 500, {"Content-Type": "text/html; charset=utf-8"}
