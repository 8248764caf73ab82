"""Acknowledging a changed privacy notice (P07), on the privacy blueprint. The office's notice
pages: app/compliance/notices_views.py."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user

from app.compliance import notices
from app.core.authz import signed_in
from app.core.htmx import redirect_after_post
from app.privacy import bp


def safe_next(value: str | None, default: str) -> str:
    """Only a path on this site (never another site) to go back to."""
    value = value or ""
    if value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


@bp.post("/notices/<int:notice_id>/acknowledge")
@signed_in
def acknowledge_notice(notice_id: int):
    """'I have read the changes' (major) or 'Dismiss' (minor): recorded with the version (P07)."""
    try:
        notices.acknowledge(current_user, notice_id)
    except notices.NoticeError as error:
        abort(error.status)
    return redirect_after_post(safe_next(request.form.get("next"), url_for("site.index")))
