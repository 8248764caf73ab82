"""The write side: what routes and jobs call to change state."""

from __future__ import annotations


class ServiceError(Exception):
    """A change a service refuses. ``message`` is shown to the person, ``status`` is the HTTP
    code the route answers with, ``field`` names the form input it concerns (if any)."""

    default_status = 422
    default_field: str | None = None

    def __init__(self, message: str, status: int | None = None, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.status = status or self.default_status
        self.field = field or self.default_field


class FieldError(ServiceError, ValueError):
    """A refused input named by its form field first: ``FieldError("email", "message")``."""

    field: str  # always given

    def __init__(self, field_name: str, message: str, status: int | None = None):
        super().__init__(message, status=status, field=field_name)
