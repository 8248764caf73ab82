"""A database error half-way through sending: the provider already has the batch, the database
cannot record it. Nothing is sent twice, and the office is told the outcome is unknown."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.extensions import db
from app.messaging.notify import notify
from app.models import DeliveryStatus
from tests import factories as f
from tests.messaging.test_notif_worker import rerun_sends_nothing_more
from tests.notify_data import carer_and_child, deliveries


def _refuse_marking_sent() -> None:
    """PostgreSQL itself fails the statement that records the sending (as a lost connection,
    a full disk or a lock timeout would)."""
    db.session.execute(
        sa.text("""
        CREATE FUNCTION hometime_test_refuse_sent() RETURNS trigger AS $$
        BEGIN
          IF NEW.status = 'sent' THEN RAISE EXCEPTION 'simulated failure'; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""")
    )
    db.session.execute(
        sa.text(
            "CREATE TRIGGER hometime_test_refuse_sent BEFORE UPDATE ON notification_deliveries "
            "FOR EACH ROW EXECUTE FUNCTION hometime_test_refuse_sent()"
        )
    )
    db.session.commit()


def _allow() -> None:
    db.session.rollback()
    db.session.execute(sa.text("DROP TRIGGER IF EXISTS hometime_test_refuse_sent ON notification_deliveries"))
    db.session.execute(sa.text("DROP FUNCTION IF EXISTS hometime_test_refuse_sent()"))
    db.session.commit()


def test_a_database_error_after_the_provider_call_sends_nothing_twice(
    ctx, run_jobs, provider_stub, monkeypatch
):
    org = f.school()
    cls = f.school_class(org)
    carers = [carer_and_child(cls)[0] for _ in range(3)]
    notify("news", event_key="n:db-fault", user_ids=[c.id for c in carers], organisation_id=org.id)
    db.session.commit()
    _refuse_marking_sent()
    try:
        run_jobs()  # the job fails after SendGrid took the batch (RQ keeps it for a retry)
    finally:
        _allow()
    assert len(provider_stub.sendgrid_calls) == 1
    rows = deliveries()
    assert all(r.status is DeliveryStatus.QUEUED and r.reason.startswith("sending ") for r in rows), [
        (r.status, r.reason) for r in rows
    ]
    rerun_sends_nothing_more(run_jobs, provider_stub, monkeypatch)
    assert all(len(provider_stub.messages_to(c.email)) == 1 for c in carers)
