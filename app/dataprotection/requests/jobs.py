"""The privacy desk's daily reminder (P27): the office hears about requests before they are late."""

from __future__ import annotations

import logging
from datetime import date

from app.core.extensions import db
from app.core.jobs import job

log = logging.getLogger(__name__)


@job
def remind_office_of_due_requests(today: str | None = None) -> int:
    """Cron, daily: tell each school's office staff and DPO (and its trust's DPO) which open
    requests are overdue or due within 7 days. Safe to run twice a day: one message per person
    per school per day. ``today`` (an ISO date) replays a given day. Returns messages queued."""
    from app.dataprotection.requests.dashboard import due_for_reminder, office_recipients
    from app.dataprotection.requests.workflow import local_today
    from app.messaging import notify as notifications

    day = date.fromisoformat(today) if today else local_today()
    queued = 0
    for organisation_id, found in due_for_reminder(day).items():
        queued += notifications.notify(
            "request_due_reminder",
            event_key=f"privacy-due:{organisation_id}:{day.isoformat()}",
            user_ids=office_recipients(organisation_id),
            organisation_id=organisation_id,
            context={
                "day": day.isoformat(),
                "overdue": len(found["overdue"]),
                "due_soon": len(found["due_soon"]),
                "request_ids": found["overdue"] + found["due_soon"],
            },
        )
    db.session.commit()
    log.info("privacy-desk reminders queued: %s", queued)
    return queued
