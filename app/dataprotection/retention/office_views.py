"""The office's retention page (P21): the schedule, a preview of what is due, and past runs."""

from __future__ import annotations

import functools
import re
from datetime import timedelta

from flask import render_template, request
from flask_login import current_user

from app.core.authz import office_organisation_ids, staff_required
from app.dataprotection.retention import rules as retention
from app.models import utcnow
from app.models.inventory import INVENTORY, RETENTION
from app.office import bp
from app.params import day

# The kinds of data of the retention schedule, as the office says them.
RETENTION_NAMES = {
    "account": "Parents' accounts",
    "staff": "Staff accounts",
    "pupil": "Children's records",
    "content": "Comments, photos and activities done",
    "usage": "How Hometime is used",
    "activity_log": "Sign-in and security log",
    "tokens": "Sign-in links and codes",
    "sessions": "Signed-in phones and computers",
    "consent": "Consents given and withdrawn",
    "requests": "Data-protection requests",
    "exports": "Copies of data made for requests",
    "breaches": "The breach log",
    "deliveries": "Messages sent",
    "outbox": "Test messages (development only)",
    "school": "The school's own details",
    "none": "Data about nobody",
}


@functools.cache
def _schedule() -> tuple[tuple[str, str], ...]:
    """Each kind of data's retention period, in words: the same for every school."""
    return tuple(
        sorted(
            {
                (
                    RETENTION_NAMES.get(e.retention, e.retention),
                    re.sub(r"\s*\(P\d\d\)", "", RETENTION[e.retention]),
                )
                for e in INVENTORY.values()
            }
        )
    )


@bp.get("/retention")
@staff_required("office", "dpo")
def retention_page():
    today = utcnow().date()
    try:
        as_of = day(request.args.get("as_of", "")) if request.args.get("as_of") else today
    except ValueError:
        as_of = today
    as_of = min(max(as_of, today), today + timedelta(days=400))
    runs = retention.recent_runs()
    # Counts only, of the records of the schools whose office side this person runs (no names
    # or ids), in one query.
    schools = office_organisation_ids(current_user)
    preview = retention.counts(as_of, schools)
    return render_template(
        "office/retention.html",
        schedule=_schedule(),
        preview=preview,
        runs=runs,
        as_of=as_of,
        today=today,
        deleted_files=retention.deleted_files(schools),
    )
