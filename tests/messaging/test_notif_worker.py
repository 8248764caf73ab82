"""Worker reliability: batching at the provider, a worker killed mid-send, lost jobs recovered."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.core.jobs import enqueue_now, get_queue
from app.messaging import delivery, policy
from app.messaging.jobs import sweep_deliveries
from app.messaging.notify import SEND_JOB, failed_job_count, notify, retry_deliveries
from app.models import DeliveryStatus, User, UserKind, UserStatus, utcnow
from tests import factories as f
from tests.notify_data import carer_and_child, deliveries
from tests.provider_stub import provider_config

ROOT = Path(__file__).resolve().parents[2]


def many_carers(n: int) -> list[int]:
    rows = [
        {
            "kind": UserKind.PARENT,
            "name": f"Carer {i}",
            "email": f"carer{i}@bulk.example",
            "status": UserStatus.ACTIVE,
            "session_version": 1,
            "email_notifications": True,
            "sms_notifications": False,
            "weekly_digest": False,
            "created_at": utcnow(),
        }
        for i in range(n)
    ]
    return list(db.session.scalars(sa.insert(User).returning(User.id), rows))


def test_2500_carers_take_three_sendgrid_calls(ctx, run_jobs, provider_stub):
    org = f.school()
    ids = many_carers(2500)
    db.session.commit()
    assert notify("topic_published", event_key="topic:big", user_ids=ids, organisation_id=org.id) == 2500
    db.session.commit()
    assert run_jobs() == 0
    calls = provider_stub.sendgrid_calls
    assert sorted(len(c.body["personalizations"]) for c in calls) == [500, 1000, 1000]
    assert provider_stub.problems == []
    addressed = [p["to"][0]["email"] for c in calls for p in c.body["personalizations"]]
    assert len(addressed) == len(set(addressed)) == 2500
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .where(sa.text("status = 'sent'"))
            .select_from(sa.table("notification_deliveries"))
        )
        == 2500
    )


@pytest.mark.promise("P17")
def test_a_worker_killed_mid_send_leaves_no_duplicate_when_the_job_runs_again(
    app, ctx, run_jobs, provider_stub, monkeypatch
):
    org = f.school()
    carer, _ = carer_and_child(f.school_class(org))
    notify("topic_published", event_key="topic:kill", user_ids=[carer.id], organisation_id=org.id)
    db.session.commit()
    (row,) = deliveries()
    started: list[subprocess.Popen] = []
    # The provider receives the message, and the worker dies before it hears back (set before the
    # worker starts, so it can never reach the provider first).
    provider_stub.on_request = lambda record: os.kill(started[0].pid, signal.SIGKILL)
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, **_env(app, provider_stub)},
    )
    started.append(worker)
    try:
        _, err = worker.communicate(timeout=60)  # reads its log as it goes: a full pipe never stalls it
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == -signal.SIGKILL, err.decode(errors="replace")[-3000:]
    assert len(provider_stub.sendgrid_calls) == 1
    (row,) = deliveries()
    assert row.status is DeliveryStatus.QUEUED and row.reason.startswith("sending ")
    provider_stub.on_request = None
    rerun_sends_nothing_more(run_jobs, provider_stub, monkeypatch)


def rerun_sends_nothing_more(run_jobs, provider_stub, monkeypatch) -> None:
    """After a send whose outcome the database never recorded (the rows still "sending"): the
    job run again (RQ's retry, the sweeper, someone re-queuing it) sends no second email, and
    later the office sees the rows as failed, outcome unknown, to check before trying again."""
    calls = len(provider_stub.sendgrid_calls)
    enqueue_now(SEND_JOB, [r.id for r in deliveries()], job_id="rerun")
    assert run_jobs() == 0
    assert sweep_deliveries() == 0 and run_jobs() == 0
    assert len(provider_stub.sendgrid_calls) == calls
    later = utcnow() + delivery.STALE_AFTER + timedelta(minutes=1)
    monkeypatch.setattr(policy, "now", lambda: later)
    sweep_deliveries()
    assert all(
        r.status is DeliveryStatus.FAILED and r.reason.startswith("outcome unknown") for r in deliveries()
    )
    assert len(provider_stub.sendgrid_calls) == calls


def test_rows_whose_job_was_lost_are_sent_by_the_sweeper(ctx, run_jobs, monkeypatch):
    org = f.school()
    carer, _ = carer_and_child(f.school_class(org))
    notify("news", event_key="lost", user_ids=[carer.id], organisation_id=org.id)
    db.session.commit()
    get_queue().empty()  # Redis lost the job (a restart without persistence)
    assert run_jobs() == 0
    assert deliveries()[0].status is DeliveryStatus.QUEUED
    assert sweep_deliveries() == 0  # too recent: its job may still be on the way
    monkeypatch.setattr(policy, "now", lambda: utcnow() + timedelta(minutes=10))
    assert sweep_deliveries() == 1
    assert run_jobs() == 0
    assert deliveries()[0].status is DeliveryStatus.SENT


def test_failed_jobs_reach_the_failed_registry_and_the_office_count(ctx, run_jobs):
    assert failed_job_count() == 0
    enqueue_now(SEND_JOB, ["not-an-id"], job_id="broken", retry=None)
    assert run_jobs() == 1
    assert failed_job_count() == 1


def test_office_retry_only_touches_failed_rows_of_that_school(ctx, run_jobs, provider_stub):
    org = f.school()
    carer, _ = carer_and_child(f.school_class(org))
    provider_stub.script("400")
    notify("news", event_key="r", user_ids=[carer.id], organisation_id=org.id)
    db.session.commit()
    assert run_jobs() == 0
    assert retry_deliveries(f.school().id) == 0
    assert retry_deliveries(org.id) == 1
    db.session.commit()
    assert run_jobs() == 0
    assert deliveries()[0].status is DeliveryStatus.SENT


WORKER = """
from rq import SimpleWorker
from app import create_app
from app.core.jobs import set_worker_app
from app.core.redis_conn import get_redis
app = create_app()
set_worker_app(app)
SimpleWorker(["default"], connection=get_redis(app)).work(burst=True)
"""


def _env(app, stub) -> dict:
    env = {
        "HOMETIME_ENV": "test",
        "HOMETIME_SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
        "HOMETIME_REDIS_URL": app.config["REDIS_URL"],
        "HOMETIME_STORAGE_DIR": app.config["STORAGE_DIR"],
    }
    for key, value in provider_config(stub).items():
        env[f"HOMETIME_{key}"] = str(value)
    return env
