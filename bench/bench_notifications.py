"""Notifications: a topic fan-out to 10,000 carers (5,000 pupils, two carers each).

Each message names the child: one ``notify_many()`` with an audience per pupil, in one
transaction. (Calling ``notify()`` once per pupil gives the same messages and the same provider
calls, but costs a few database round trips per pupil: too slow for this budget at 5,000
pupils.) Budgets (issue 6): at most 10 SendGrid calls, at most 5 s to record the deliveries and
queue the sending. The sending itself runs in a real RQ worker against a local SendGrid stub
(tests/provider_stub.py) through the real ``sendgrid`` library; its time has no budget.
"""
from __future__ import annotations

import time

import sqlalchemy as sa

PUPILS = 5000
AREA = "notifications"


def _seed(db):
    from app.models import (Guardianship, Organisation, Pupil, SchoolClass, User, UserKind,
                            UserStatus, utcnow)

    org = Organisation(name="Bench Primary", dpo_email="dpo@bench.example")
    db.session.add(org)
    db.session.flush()
    cls = SchoolClass(organisation_id=org.id, name="Year 3", year_group="3", academic_year=2026)
    db.session.add(cls)
    db.session.flush()
    now = utcnow()
    carers = list(db.session.scalars(sa.insert(User).returning(User.id), [
        {"kind": UserKind.PARENT, "name": f"Carer {i}", "email": f"carer{i}@bench.example",
         "status": UserStatus.ACTIVE, "session_version": 1, "email_notifications": True,
         "sms_notifications": False, "weekly_digest": False, "created_at": now}
        for i in range(PUPILS * 2)]))
    pupils = list(db.session.scalars(sa.insert(Pupil).returning(Pupil.id), [
        {"organisation_id": org.id, "class_id": cls.id, "first_name": f"Child{i}",
         "last_name": "Bench", "year_group": "3", "created_at": now} for i in range(PUPILS)]))
    db.session.execute(sa.insert(Guardianship), [
        {"parent_id": carers[2 * i + k], "pupil_id": pupil, "created_at": now}
        for i, pupil in enumerate(pupils) for k in (0, 1)])
    db.session.commit()
    return org.id, [(pupil, [carers[2 * i], carers[2 * i + 1]]) for i, pupil in enumerate(pupils)]


def run(app) -> list[dict]:
    """Rows for ``python -m bench``."""
    from rq import SimpleWorker

    from app.extensions import db
    from app.jobs import set_worker_app
    from app.redis_conn import get_redis
    from app.services.notifications import notify_many
    from tests.provider_stub import provider_config, start

    stub, server = start()
    app.config.update(provider_config(stub))
    app.config["PROVIDER_TIMEOUT"] = 30
    try:
        with app.app_context():
            org_id, families = _seed(db)
            started = time.perf_counter()
            queued = notify_many(
                "topic_published", event_key="topic:1:published", organisation_id=org_id,
                audiences=[(pupil_id, carer_ids, {"topic_id": 1, "pupil_id": pupil_id})
                           for pupil_id, carer_ids in families])
            db.session.commit()  # the sending is queued here, after the commit
            enqueue_seconds = time.perf_counter() - started
        set_worker_app(app)
        started = time.perf_counter()
        SimpleWorker(["default"], connection=get_redis(app)).work(burst=True)
        send_seconds = time.perf_counter() - started
    finally:
        server.shutdown()
        server.server_close()
    calls = len(stub.sendgrid_calls)
    recipients = sum(len(c.body["personalizations"]) for c in stub.sendgrid_calls
                     if isinstance(c.body, dict))
    label = f"topic fan-out to {PUPILS * 2:,} carers"
    return [
        {"area": AREA, "measure": f"{label}: seconds to record and enqueue",
         "value": round(enqueue_seconds, 2), "unit": "s", "budget": 5},
        {"area": AREA, "measure": f"{label}: SendGrid calls", "value": calls, "unit": "calls",
         "budget": 10},
        {"area": AREA, "measure": f"{label}: recipients at SendGrid (of {queued:,} queued)",
         "value": recipients, "unit": "emails", "budget": None},
        {"area": AREA, "measure": f"{label}: seconds to send (one worker, local stub)",
         "value": round(send_seconds, 2), "unit": "s", "budget": None},
    ]
