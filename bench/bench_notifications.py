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

PUPILS = 5000
AREA = "notifications"


def _seed(db):
    """5,000 pupils with two active carers each; the school's id and the families."""
    from app.models import UserStatus
    from bench.seed import seed_families

    return seed_families(db, PUPILS, status=UserStatus.ACTIVE, year_group="3")


def run(app) -> list[dict]:
    """Rows for ``python -m bench``."""
    from rq import SimpleWorker

    from app.core.extensions import db
    from app.core.jobs import set_worker_app
    from app.core.redis_conn import get_redis
    from app.messaging.notify import notify_many
    from tests.provider_stub import provider_config, start

    stub, server = start()
    app.config.update(provider_config(stub))
    app.config["PROVIDER_TIMEOUT"] = 30
    try:
        with app.app_context():
            org_id, families = _seed(db)
            started = time.perf_counter()
            queued = notify_many(
                "topic_published",
                event_key="topic:1:published",
                organisation_id=org_id,
                audiences=[
                    (pupil_id, carer_ids, {"topic_id": 1, "pupil_id": pupil_id})
                    for pupil_id, carer_ids in families
                ],
            )
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
    recipients = sum(len(c.body["personalizations"]) for c in stub.sendgrid_calls if isinstance(c.body, dict))
    label = f"topic fan-out to {PUPILS * 2:,} carers"
    return [
        {
            "area": AREA,
            "measure": f"{label}: seconds to record and enqueue",
            "value": round(enqueue_seconds, 2),
            "unit": "s",
            "budget": 5,
        },
        {"area": AREA, "measure": f"{label}: SendGrid calls", "value": calls, "unit": "calls", "budget": 10},
        {
            "area": AREA,
            "measure": f"{label}: recipients at SendGrid (of {queued:,} queued)",
            "value": recipients,
            "unit": "emails",
            "budget": None,
        },
        {
            "area": AREA,
            "measure": f"{label}: seconds to send (one worker, local stub)",
            "value": round(send_seconds, 2),
            "unit": "s",
            "budget": None,
        },
    ]
