"""The security activity log (P15): sign-ins, failures, sign-outs, MFA changes, data access."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from flask import has_request_context, request
from flask_login import current_user

from app.core.extensions import db
from app.core.transactions import writing_alone
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
) -> ActivityLog:
    """Add an activity-log row to the session, committed by the caller."""
    entry = ActivityLog(
        event=event,
        user_id=getattr(user, "id", None),
        subject=subject,
        detail=(detail or None) and detail[:200],
        ip=_ip(),
        organisation_id=organisation_id,
    )
    db.session.add(entry)
    return entry


@contextmanager
def access_logged(event: str, subject: str, organisation_id: int | None = None) -> Iterator[None]:
    """``with access_logged(...): response = render(...)``: record that the signed-in person
    looked at children's data, committed at once, in one INSERT sent on its own without BEGIN and
    COMMIT; the page renders while PostgreSQL writes it, and the block ends only once it is
    committed (``transactions.writing_alone``)."""
    user = current_user if current_user.is_authenticated else None
    row = {"event": event, "user_id": getattr(user, "id", None), "subject": subject, "ip": _ip()}
    with writing_alone(_INSERT, row | {"organisation_id": organisation_id}):
        yield


_INSERT = sa.insert(ActivityLog)  # its columns named by the values given: compiled once
