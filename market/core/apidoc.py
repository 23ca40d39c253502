"""flask-smorest wired to our error format.

flask-smorest installs an app-wide HTTPException handler of its own; the platform's
handler in ``market.core.error_pages`` already answers JSON under /api/ and HTML elsewhere,
so this subclass keeps that one and only documents the error shape.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_smorest import Api


class ErrorBodySchema(ma.Schema):
    code = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    id = ma.fields.String()
    details = ma.fields.Dict()


class ErrorSchema(ma.Schema):
    error = ma.fields.Nested(ErrorBodySchema, required=True)


class MarketApi(Api):
    ERROR_SCHEMA = ErrorSchema
    # No catch-all "default" response: each operation documents the codes it returns,
    # so an undocumented status code is a finding, not something "default" hides.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def _register_error_handlers(self) -> None:
        """Leave error handling to market.core.error_pages (see module docstring)."""


API_CONFIG: dict[str, Any] = {
    "API_TITLE": "园区供需对接平台 API",
    "API_VERSION": "v1",
    "OPENAPI_VERSION": "3.0.3",
    "OPENAPI_URL_PREFIX": "/api/v1",
    "OPENAPI_JSON_PATH": "openapi.json",
}
