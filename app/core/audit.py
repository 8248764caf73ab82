"""The security activity log (P15): sign-ins, failures, sign-outs, MFA changes, data access."""

from __future__ import annotations

from flask import has_request_context, request
from flask_login import current_user

from app.core.extensions import db
from app.models import ActivityLog


def _ip() -> str | None:
    return request.remote_addr if has_request_context() else None


def log_event(
    event: str,
    user=None,
    *,
    subject: str | None = None,
    detail: str | None = None,
    organisation_id: int | None = None,
    commit: bool = False,
) -> ActivityLog:
    """Add an activity-log row to the session (committed by the caller unless ``commit``)."""
    entry = ActivityLog(
        event=event,
        user_id=getattr(user, "id", None),
        subject=subject,
        detail=(detail or None) and detail[:200],
        ip=_ip(),
        organisation_id=organisation_id,
    )
    db.session.add(entry)
    if commit:
        db.session.commit()
    return entry


def log_access(event: str, subject: str) -> None:
    """Record that the signed-in person looked at children's data, and commit it."""
    user = current_user if current_user.is_authenticated else None
    log_event(event, user, subject=subject, commit=True)
