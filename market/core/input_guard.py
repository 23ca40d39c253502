"""Refuse NUL characters in request input before it reaches the database.

No real text contains U+0000, and PostgreSQL refuses it in text parameters with an
error that would otherwise surface as a 500. Path parameters holding one cannot name
a record (404); query strings and forms on pages get a clear 400. The JSON API's query
parameters are refused by their schemas instead (422, as its document says).

Pages take HTML forms only. Flask-WTF would otherwise hand a form a JSON body (any
shape: a list, a number) or an uploaded file under a text field's name, and the
validators fail on those with a TypeError, a 500: a JSON body on a page, or a file
sent to a view that did not declare it with ``accepts_files``, gets a clear 400.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, abort, current_app, request
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from market.core.errors import DomainError

NUL = "\x00"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
View = TypeVar("View", bound=Callable[..., object])


def accepts_files(*names: str) -> Callable[[View], View]:
    """Mark a view that takes uploaded files under ``names``; every other view refuses files.

    Put it next to the function (below ``login_required``, which copies the mark).
    """

    def mark(view: View) -> View:
        view.accepted_files = frozenset(names)  # type: ignore[attr-defined]
        return view

    return mark


def _unexpected_files() -> bool:
    if not request.files:
        return False
    view = current_app.view_functions.get(request.endpoint or "")
    accepted: frozenset[str] = getattr(view, "accepted_files", frozenset())
    return any(name not in accepted for name in request.files)


def _has_nul(values: MultiDict[str, str]) -> bool:
    return any(NUL in key or NUL in value for key, value in values.items(multi=True))


def _guard() -> None:
    if any(NUL in str(value) for value in (request.view_args or {}).values()):
        abort(404)
    if request.path.startswith("/api/"):
        return
    # Multipart forms too (files are apart, in request.files): curl -F sends text that way.
    if _has_nul(request.args) or _has_nul(request.form):
        raise DomainError(_("请求中包含无效字符（空字符），请检查输入后重试。"))
    if request.method in SAFE_METHODS:
        return
    if request.is_json:
        raise DomainError(_("此页面只接受表单提交，不接受 JSON 数据。"))
    if _unexpected_files():
        raise DomainError(_("此页面不接受文件上传。"))


def init_app(app: Flask) -> None:
    app.before_request(_guard)
