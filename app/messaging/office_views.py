"""The office's view of messages that could not be sent, with a retry button."""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask import abort, flash, request, url_for

from app.core.authz import current_organisation, staff_required
from app.core.htmx import redirect_after_post, render
from app.messaging import notify as notifications
from app.office import bp

OFFICE = ("office", "dpo")


@bp.get("/deliveries")
@staff_required(*OFFICE)
def deliveries():
    """Failed messages of this school, newest first, and the count of failed background jobs."""
    org = current_organisation()
    if org is None:
        abort(404)
    return render(
        "office/deliveries.html",
        organisation=org,
        failed=notifications.failed_deliveries(org.id),
        failed_jobs=notifications.failed_job_count(),
        month_start=(month_start := _month_start(org)),
        sms=notifications.sms_costs(org.id, month_start),
    )


def _month_start(org) -> datetime:
    """Midnight on the first of this month, in the school's time zone."""
    zone = ZoneInfo(org.timezone)
    return datetime.combine(datetime.now(zone).date().replace(day=1), time(0), tzinfo=zone)


@bp.post("/deliveries/retry")
@staff_required(*OFFICE)
def retry_deliveries():
    """Try again: one message (``delivery_id``) or, once the office has confirmed the counts,
    every failed message of this school."""
    org = current_organisation()
    if org is None:
        abort(404)
    raw = request.form.get("delivery_id")
    if raw is None and request.form.get("confirm") != "yes":
        # Sending again to every family whose message failed: first say how many, and how.
        return render(
            "office/retry_confirm.html", organisation=org, counts=notifications.failed_counts(org.id)
        )
    ids = None
    if raw is not None:
        if not raw.isdigit():
            abort(400)
        ids = [int(raw)]
    count = notifications.retry_deliveries(org.id, ids)
    if ids is not None and count == 0:
        abort(404)  # not this school's, or no longer failed
    flash(f"{count} message{'s' if count != 1 else ''} queued to be sent again.", "info")
    return redirect_after_post(url_for("office.deliveries"))
