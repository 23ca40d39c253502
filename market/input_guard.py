"""Refuse NUL characters in request input before it reaches the database.

No real text contains U+0000, and PostgreSQL refuses it in text parameters with an
error that would otherwise surface as a 500. Path parameters holding one cannot name
a record (404); query strings and forms on pages get a clear 400. The JSON API's query
parameters are refused by their schemas instead (422, as its document says).
"""

from __future__ import annotations

from flask import Flask, abort, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from market.services.errors import DomainError

NUL = "\x00"


def _has_nul(values: MultiDict[str, str]) -> bool:
    return any(NUL in key or NUL in value for key, value in values.items(multi=True))


def _guard() -> None:
    if any(NUL in str(value) for value in (request.view_args or {}).values()):
        abort(404)
    if request.path.startswith("/api/"):
        return
    if _has_nul(request.args) or (
        request.mimetype != "multipart/form-data" and _has_nul(request.form)
    ):
        raise DomainError(_("请求中包含无效字符（空字符），请检查输入后重试。"))


def init_app(app: Flask) -> None:
    app.before_request(_guard)
