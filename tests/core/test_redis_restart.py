"""A Redis restart mid-run: nothing lost, nothing sent twice, and no error for work that was done.

Each test starts its own redis-server (never the suite's, never 127.0.0.1:6379), points the app's
Redis client at it, then stops it or restarts it under the app: shut down without saving and
started again on the same socket, so every queued job is gone, as with a production Redis without
persistence. The sweeps, run as the cron would, bring the work back from what the database says
is not done, and a real worker sends it through the real SendGrid library to the stub, which
counts every email.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.core.jobs import get_queue
from app.core.redis_conn import get_redis
from app.dataprotection.exports import service as exports
from app.dataprotection.requests import intake
from app.jobs.recovery import requeue_lost_jobs
from app.messaging import policy
from app.messaging.jobs import LOST_AFTER, sweep_deliveries
from app.messaging.notify import notify
from app.models import DataExport, DeliveryStatus, ExportState, Role, TopicStatus, WeeklyTopic, utcnow
from tests import factories as f
from tests import teaching as t
from tests.notify_data import carer_and_child, deliveries
from tests.privacy_data import in_progress

NOTHING = {"topics": [], "exports": []}


def carers(cls, n: int) -> list:
    return [carer_and_child(cls)[0] for _ in range(n)]


def emails(stub, people, subject: str | None = None) -> dict[str, int]:
    """How many emails each person got (optionally: with this subject)."""
    return {
        p.email: len([m for m in stub.messages_to(p.email) if subject is None or m["subject"] == subject])
        for p in people
    }


def clock_past_lost_after(monkeypatch) -> None:
    later = utcnow() + LOST_AFTER + timedelta(minutes=1)
    monkeypatch.setattr(policy, "now", lambda: later)


def later() -> str:
    return (utcnow() + LOST_AFTER + timedelta(minutes=1)).isoformat()


@pytest.fixture()
def job_log(caplog):
    """The errors ``app.core.jobs`` logs."""
    caplog.set_level(logging.ERROR, logger="app.core.jobs")
    return caplog


def not_queued(job_log) -> list[str]:
    return [
        r.getMessage() for r in job_log.records if r.name == "app.core.jobs" and r.levelno >= logging.ERROR
    ]


# --- a. queued, then Redis restarts before any worker runs ---------------------------------------


def test_messages_queued_before_a_restart_are_sent_once_by_the_sweep(
    app, ctx, own_redis, run_jobs, provider_stub, monkeypatch
):
    org = f.school()
    people = carers(f.school_class(org), 4)
    client = get_redis()
    assert notify("news", event_key="restart:a", user_ids=[p.id for p in people], organisation_id=org.id) == 4
    db.session.commit()
    assert get_queue().count == 1
    own_redis.restart()
    # The same client reconnects by itself; the queue, and the job in it, are gone.
    assert get_redis() is client and get_queue().count == 0
    assert run_jobs() == 0 and provider_stub.sendgrid_calls == []
    assert sweep_deliveries() == 0  # too recent: its job may still be on its way
    clock_past_lost_after(monkeypatch)
    assert sweep_deliveries() == 4
    assert run_jobs() == 0
    assert emails(provider_stub, people) == {p.email: 1 for p in people}
    assert {r.status for r in deliveries()} == {DeliveryStatus.SENT}
    # The cron and the worker run again: nothing more goes out.
    assert sweep_deliveries() == 0 and run_jobs() == 0
    assert len(provider_stub.sendgrid_calls) == 1 and provider_stub.problems == []


# --- b. Redis down (or restarting) when work that enqueues commits -------------------------------


def test_redis_down_at_the_commit_keeps_the_commit_and_the_sweep_sends_once(
    app, ctx, own_redis, run_jobs, provider_stub, monkeypatch, job_log
):
    org = f.school()
    people = carers(f.school_class(org), 3)
    own_redis.stop()
    assert notify("news", event_key="restart:b", user_ids=[p.id for p in people], organisation_id=org.id) == 3
    db.session.commit()  # no exception: the work is committed
    (message,) = not_queued(job_log)
    assert "deliver-from-" in message and "not queued" in message
    with db.engine.connect() as other:  # committed, as another process sees it
        assert (
            other.scalar(
                sa.text(
                    "SELECT count(*) FROM notification_deliveries "
                    "WHERE event_key = 'restart:b' AND status = 'queued'"
                )
            )
            == 3
        )
    own_redis.start()
    clock_past_lost_after(monkeypatch)
    assert sweep_deliveries() == 3
    assert run_jobs() == 0
    assert emails(provider_stub, people) == {p.email: 1 for p in people}
    assert sweep_deliveries() == 0 and run_jobs() == 0
    assert len(provider_stub.sendgrid_calls) == 1


def test_a_restart_of_most_of_a_second_at_the_commit_is_ridden_out(
    app, ctx, own_redis, run_jobs, provider_stub, job_log
):
    org = f.school()
    people = carers(f.school_class(org), 2)
    own_redis.stop()
    back = threading.Timer(0.8, own_redis.start)
    back.start()
    try:
        notify("news", event_key="restart:blip", user_ids=[p.id for p in people], organisation_id=org.id)
        db.session.commit()
    finally:
        back.join()
    assert not_queued(job_log) == []
    assert get_queue().count == 1  # queued once the server was back, no sweep needed
    assert run_jobs() == 0
    assert emails(provider_stub, people) == {p.email: 1 for p in people}


def test_a_topic_published_while_redis_is_down_reaches_every_family_once(
    app, ctx, client, own_redis, run_jobs, provider_stub, job_log
):
    org = f.school()
    cls = f.school_class(org)
    people = carers(cls, 3)
    teacher = f.staff(org, Role.TEACHER, classes=[cls])
    topic = t.topic(org, [cls], [t.activity(org)])
    f.login(client, teacher)
    own_redis.stop()
    response = client.post(
        f"/teach/topics/{topic.id}/publish", data={"when": "now", "version": topic.version}
    )
    assert response.status_code == 303  # the teacher sees it published, not an error page
    db.session.expire_all()
    assert db.session.get(WeeklyTopic, topic.id).status is TopicStatus.PUBLISHED
    (message,) = not_queued(job_log)
    assert f"topic-{topic.id}-announce" in message
    own_redis.start()
    assert requeue_lost_jobs() == NOTHING  # too recent: its job may still be on its way
    assert requeue_lost_jobs(later()) == {"topics": [topic.id], "exports": []}
    assert run_jobs() == 0  # the announcement, then the sending it queues
    assert emails(provider_stub, people) == {p.email: 1 for p in people}
    assert requeue_lost_jobs(later()) == NOTHING
    assert sweep_deliveries() == 0 and run_jobs() == 0
    assert len(provider_stub.sendgrid_calls) == 1 and provider_stub.problems == []


def test_an_export_started_while_redis_is_down_is_built_once_redis_is_back(
    app, ctx, own_redis, run_jobs, provider_stub, job_log
):
    org = f.school()
    cls = f.school_class(org)
    office = f.staff(org, Role.OFFICE)
    mo = f.parent(name="Mo Moore", email="mo@family.example")
    zara = f.pupil(cls, mo, first_name="Zara")
    req = intake.request_as_parent(mo, kind="access", pupil_id=zara.id, organisation_id=org.id)
    in_progress(req.id, office)
    assert run_jobs() == 0  # the request's own messages go out first
    own_redis.stop()
    export_id = exports.start(req.id, office).id
    (message,) = not_queued(job_log)
    assert f"export-{export_id}" in message
    own_redis.start()
    assert requeue_lost_jobs() == NOTHING
    assert requeue_lost_jobs(later()) == {"topics": [], "exports": [export_id]}
    assert run_jobs() == 0
    db.session.expire_all()
    assert db.session.get(DataExport, export_id).state is ExportState.REVIEW
    exports.release(export_id, office)
    assert run_jobs() == 0
    ready = f"Your copy of the data is ready (request R{req.id})"
    assert emails(provider_stub, [mo], ready) == {mo.email: 1}
    assert requeue_lost_jobs(later()) == NOTHING
    assert sweep_deliveries() == 0 and run_jobs() == 0
    assert emails(provider_stub, [mo], ready) == {mo.email: 1}


# --- c. Redis restarts while the worker is running ----------------------------------------------


def work_one(app) -> None:
    """A real worker that runs one job and stops (``run_jobs`` has set the worker's app)."""
    from rq import SimpleWorker

    worker = SimpleWorker(["default"], connection=get_redis(app))
    contextvars.Context().run(worker.work, burst=True, max_jobs=1, with_scheduler=False)


@pytest.mark.parametrize("when", ["between two jobs", "while the provider is answering"])
def test_a_restart_while_the_worker_runs_loses_nothing_and_sends_nothing_twice(
    when, app, ctx, own_redis, run_jobs, provider_stub, monkeypatch
):
    org = f.school()
    cls = f.school_class(org)
    first, second = carers(cls, 3), carers(cls, 3)
    for key, people in (("restart:c1", first), ("restart:c2", second)):
        notify("news", event_key=key, user_ids=[p.id for p in people], organisation_id=org.id)
        db.session.commit()  # one send job per commit
    assert get_queue().count == 2
    if when == "between two jobs":
        work_one(app)  # the first job runs; Redis restarts before the second
        own_redis.restart()
    else:
        # SendGrid has the first batch; Redis restarts before the worker hears back.
        monkeypatch.setitem(app.config, "PROVIDER_TIMEOUT", 10.0)

        def restart_once(record):
            provider_stub.on_request = None
            own_redis.restart()

        provider_stub.on_request = restart_once
    assert run_jobs() == 0
    assert emails(provider_stub, first) == {p.email: 1 for p in first}
    assert emails(provider_stub, second) == {p.email: 0 for p in second}  # its job was lost
    clock_past_lost_after(monkeypatch)
    assert sweep_deliveries() == 3
    assert run_jobs() == 0
    assert emails(provider_stub, first + second) == {p.email: 1 for p in first + second}
    assert sweep_deliveries() == 0 and run_jobs() == 0
    assert len(provider_stub.sendgrid_calls) == 2 and provider_stub.problems == []
    assert {r.status for r in deliveries()} == {DeliveryStatus.SENT}
