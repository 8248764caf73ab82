"""Invitations: "invite everyone not yet joined" for 9,000 contacts (issue 3 budget: ≤ 5 s to
create the invitations, record the deliveries and queue the sending). The job runs in-process
here, as the worker would run it; the sending is not part of this budget."""

from __future__ import annotations

import time

import sqlalchemy as sa

AREA = "invitations"
CONTACTS = 9000


def _seed(db) -> int:
    """9,000 carers not yet joined (two per child); returns the school's id."""
    from app.models import UserStatus
    from bench.seed import seed_families

    org_id, _ = seed_families(db, CONTACTS // 2, status=UserStatus.INVITED, year_group="5")
    return org_id


def run(app) -> list[dict]:
    from app.core.extensions import db
    from app.core.jobs import get_queue
    from app.families.jobs import invite_everyone
    from app.models import Invitation, NotificationDelivery

    with app.app_context():
        org_id = _seed(db)
        started = time.perf_counter()
        invited = invite_everyone(org_id, None, "email")
        seconds = time.perf_counter() - started
        invitations = db.session.scalar(sa.select(sa.func.count()).select_from(Invitation))
        deliveries = db.session.scalar(sa.select(sa.func.count()).select_from(NotificationDelivery))
        jobs = get_queue().count
    return [
        {
            "area": AREA,
            "measure": f"invite everyone: {CONTACTS:,} contacts",
            "value": round(seconds, 2),
            "unit": "s",
            "budget": 5,
        },
        {
            "area": AREA,
            "measure": "invitations created",
            "value": invitations,
            "unit": "rows",
            "budget": None,
        },
        {"area": AREA, "measure": "deliveries recorded", "value": deliveries, "unit": "rows", "budget": None},
        {"area": AREA, "measure": "send jobs queued", "value": jobs, "unit": "jobs", "budget": None},
        {"area": AREA, "measure": "families invited", "value": invited, "unit": "carers", "budget": None},
    ]
