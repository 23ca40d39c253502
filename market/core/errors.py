"""Domain exceptions raised by services and translated to HTTP by the views."""

from __future__ import annotations


class DomainError(Exception):
    """A request that breaks a business rule; ``message`` is shown to the user."""

    status = 400
    code = "invalid"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class InvalidTransition(DomainError):
    """A lifecycle step that is not allowed from the record's current status."""

    status = 409
    code = "invalid_transition"
