"""Invitations: "invite everyone not yet joined" for 9,000 contacts (issue 3 budget: ≤ 5 s to
create the invitations, record the deliveries and queue the sending). The job runs in-process
here, as the worker would run it; the sending is not part of this budget."""
from __future__ import annotations

import time

import sqlalchemy as sa

AREA = "invitations"
CONTACTS = 9000


def _seed(db):
    from app.models import (Guardianship, Organisation, Pupil, SchoolClass, User, UserKind,
                            UserStatus, utcnow)

    org = Organisation(name="Bench Primary", dpo_email="dpo@bench.example")
    db.session.add(org)
    db.session.flush()
    cls = SchoolClass(organisation_id=org.id, name="Year 5", year_group="5", academic_year=2026)
    db.session.add(cls)
    db.session.flush()
    now = utcnow()
    carers = list(db.session.scalars(sa.insert(User).returning(User.id), [
        {"kind": UserKind.PARENT, "name": f"Carer {i}", "email": f"carer{i}@bench.example",
         "status": UserStatus.INVITED, "session_version": 1, "email_notifications": True,
         "sms_notifications": False, "weekly_digest": False, "created_at": now}
        for i in range(CONTACTS)]))
    pupils = list(db.session.scalars(sa.insert(Pupil).returning(Pupil.id), [
        {"organisation_id": org.id, "class_id": cls.id, "first_name": f"Child{i}",
         "last_name": "Bench", "year_group": "5", "created_at": now} for i in range(CONTACTS // 2)]))
    db.session.execute(sa.insert(Guardianship), [
        {"parent_id": carer, "pupil_id": pupils[i // 2], "created_at": now}
        for i, carer in enumerate(carers)])
    db.session.commit()
    return org.id


def run(app) -> list[dict]:
    from app.extensions import db
    from app.jobs import get_queue
    from app.jobs.invitations import invite_everyone
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
        {"area": AREA, "measure": f"invite everyone: {CONTACTS:,} contacts", "value": round(seconds, 2),
         "unit": "s", "budget": 5},
        {"area": AREA, "measure": "invitations created", "value": invitations, "unit": "rows",
         "budget": None},
        {"area": AREA, "measure": "deliveries recorded", "value": deliveries, "unit": "rows",
         "budget": None},
        {"area": AREA, "measure": "send jobs queued", "value": jobs, "unit": "jobs", "budget": None},
        {"area": AREA, "measure": "families invited", "value": invited, "unit": "carers",
         "budget": None},
    ]
