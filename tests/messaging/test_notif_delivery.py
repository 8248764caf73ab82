"""Notifications reach each carer exactly once, through the real SendGrid and Twilio libraries."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.core.jobs import enqueue_now, get_queue
from app.messaging import policy
from app.messaging.notify import SEND_JOB, notify
from app.models import (
    Channel,
    DeliveryStatus,
    OutboxMessage,
    Source,
    utcnow,
)
from tests import factories as f
from tests.notify_data import carer_and_child, deliveries, release_scheduled, sms_consent
from tests.provider_stub import TWILIO_FROM


def test_each_carer_gets_one_email_even_when_notify_and_the_job_run_twice(ctx, run_jobs, provider_stub):
    org = f.school(name="Brook Primary")
    cls = f.school_class(org)
    carers = [carer_and_child(cls)[0] for _ in range(3)]
    ids = [c.id for c in carers]
    assert notify("news", event_key="term:1", user_ids=ids, organisation_id=org.id) == 3
    db.session.commit()
    assert notify("news", event_key="term:1", user_ids=ids, organisation_id=org.id) == 0
    db.session.commit()
    assert run_jobs() == 0
    # The job runs again (a retry, a duplicate enqueue): nothing is sent twice.
    rows = deliveries(event_key="term:1")
    enqueue_now(SEND_JOB, [r.id for r in rows], job_id="again")
    assert run_jobs() == 0
    for carer in carers:
        assert len(provider_stub.emails_to(carer.email)) == 1
    assert len(provider_stub.sendgrid_calls) == 1  # three carers, one API call
    assert provider_stub.problems == []
    assert {r.status for r in deliveries()} == {DeliveryStatus.SENT}
    assert all(r.provider_id and r.provider_id.startswith("sg-") for r in deliveries())


def test_a_fan_out_made_of_many_calls_packs_into_one_provider_call(ctx, run_jobs, provider_stub):
    """One notify() per pupil (each with the child's name) still leaves in one SendGrid call."""
    org = f.school()
    cls = f.school_class(org)
    pairs = [carer_and_child(cls, name=f"Carer {i}") for i in range(5)]
    for carer, child in pairs:
        notify(
            "topic_published",
            event_key="topic:9:published",
            user_ids=[carer.id],
            organisation_id=org.id,
            pupil_id=child.id,
            context={"pupil_id": child.id},
        )
    db.session.commit()
    assert run_jobs() == 0
    assert len(provider_stub.sendgrid_calls) == 1
    for carer, child in pairs:
        (mail,) = provider_stub.messages_to(carer.email)
        assert child.first_name in mail["subject"] and child.first_name in mail["text"]
        assert f"Hello {carer.name.split()[0]}" in mail["text"]
    assert provider_stub.problems == []


def test_sms_goes_through_twilio_with_consent_only(ctx, run_jobs, provider_stub, monkeypatch):
    org = f.school(name="Hill School", timezone="Europe/London")
    cls = f.school_class(org)
    texted, _ = carer_and_child(cls, mobile="+447700900123", sms_notifications=True)
    no_consent, _ = carer_and_child(cls, mobile="+447700900124", sms_notifications=True)
    sms_consent(texted)
    noon = utcnow().replace(hour=12, minute=0)
    monkeypatch.setattr(policy, "now", lambda: noon)
    notify(
        "award_given",
        event_key="award:1",
        user_ids=[texted.id, no_consent.id],
        organisation_id=org.id,
        context={"award": "Star of the week"},
    )
    db.session.commit()
    assert run_jobs() == 0
    (call,) = provider_stub.twilio_calls
    assert call.body["To"] == "+447700900123" and call.body["From"] == TWILIO_FROM
    assert "Star of the week" in call.body["Body"] and call.body["Body"].startswith("Hill School")
    sms_rows = deliveries(channel=Channel.SMS)
    assert {(r.user_id, r.status) for r in sms_rows} == {
        (texted.id, DeliveryStatus.SENT),
        (no_consent.id, DeliveryStatus.SUPPRESSED),
    }
    assert [r.reason for r in sms_rows if r.user_id == no_consent.id] == ["no SMS consent"]
    assert [r.provider_id[:2] for r in sms_rows if r.user_id == texted.id] == ["SM"]
    assert provider_stub.problems == []


@pytest.mark.promise("P02")
def test_emails_about_school_supplied_families_are_sent_on_behalf_of_the_school(ctx, run_jobs, provider_stub):
    org = f.school(name="Oak Academy", dpo_email="dpo@oak.example")
    cls = f.school_class(org)
    school_family, _ = carer_and_child(cls, source=Source.SCHOOL)
    own_family, _ = carer_and_child(cls, source=Source.FAMILY)
    db.session.execute(
        sa.text("UPDATE guardianships SET source = 'family' WHERE parent_id = :p"), {"p": own_family.id}
    )
    db.session.commit()
    notify("news", event_key="n:1", user_ids=[school_family.id, own_family.id], organisation_id=org.id)
    db.session.commit()
    assert run_jobs() == 0
    (school_mail,) = provider_stub.messages_to(school_family.email)
    (own_mail,) = provider_stub.messages_to(own_family.email)
    assert school_mail["from_name"] == "Oak Academy via Hometime"
    assert "on behalf of Oak Academy" in school_mail["text"]
    assert "on behalf of Oak Academy" in school_mail["html"]
    assert own_mail["from_name"] == "Hometime"
    assert "on behalf of" not in own_mail["text"]


def test_a_provider_429_is_retried_after_retry_after(ctx, run_jobs, provider_stub, monkeypatch):
    org = f.school()
    carer, _ = carer_and_child(f.school_class(org))
    provider_stub.script("429", retry_after=120)
    notify("news", event_key="n:429", user_ids=[carer.id], organisation_id=org.id)
    db.session.commit()
    before = utcnow()
    assert run_jobs() == 0
    (row,) = deliveries()
    assert row.status is DeliveryStatus.QUEUED and row.reason.startswith("retry 1: HTTP 429")
    assert timedelta(seconds=115) < row.not_before - before < timedelta(seconds=125)
    scheduled = get_queue().scheduled_job_registry
    (job_id,) = scheduled.get_job_ids()
    assert abs((scheduled.get_scheduled_time(job_id) - row.not_before).total_seconds()) < 2
    # Running early sends nothing; at the time, it is sent once.
    release_scheduled()
    assert run_jobs() == 0 and len(provider_stub.sendgrid_calls) == 1
    monkeypatch.setattr(policy, "now", lambda: utcnow() + timedelta(minutes=3))
    release_scheduled()
    assert run_jobs() == 0
    assert len(provider_stub.sendgrid_calls) == 2
    (row,) = deliveries()
    assert row.status is DeliveryStatus.SENT and row.attempts == 2


def test_a_500_is_retried_with_backoff_and_a_400_is_not(ctx, run_jobs, provider_stub):
    org = f.school()
    cls = f.school_class(org)
    first, _ = carer_and_child(cls)
    provider_stub.script("500")
    notify("news", event_key="n:500", user_ids=[first.id], organisation_id=org.id)
    db.session.commit()
    assert run_jobs() == 0
    (row,) = deliveries(event_key="n:500")
    assert row.status is DeliveryStatus.QUEUED and row.reason.startswith("retry 1: HTTP 500")
    assert row.not_before > utcnow() + timedelta(seconds=50)  # the first backoff step: a minute

    second, _ = carer_and_child(cls)
    provider_stub.script("400")
    notify("news", event_key="n:400", user_ids=[second.id], organisation_id=org.id)
    db.session.commit()
    assert run_jobs() == 0
    (row,) = deliveries(event_key="n:400")
    assert row.status is DeliveryStatus.FAILED and row.reason.startswith("HTTP 400")
    assert row.not_before is None
    assert len(provider_stub.sendgrid_calls) == 2  # the 400 was not tried again


def test_a_malformed_reply_does_not_turn_into_a_duplicate(ctx, run_jobs, provider_stub, monkeypatch):
    """A success status with a body that is not the API's: accepted, so never sent again."""
    org = f.school()
    cls = f.school_class(org)
    carer, _ = carer_and_child(cls, mobile="+447700900555", sms_notifications=True)
    sms_consent(carer)
    noon = utcnow().replace(hour=12, minute=0)
    monkeypatch.setattr(policy, "now", lambda: noon)
    provider_stub.script("malformed", "malformed")
    notify(
        "award_given",
        event_key="a:m",
        user_ids=[carer.id],
        organisation_id=org.id,
        context={"award": "Kind helper"},
    )
    db.session.commit()
    rows = deliveries()
    assert run_jobs() == 0
    enqueue_now(SEND_JOB, [r.id for r in rows], job_id="again")
    assert run_jobs() == 0
    assert len(provider_stub.sendgrid_calls) == 1 and len(provider_stub.twilio_calls) == 1
    assert sorted(r.answered for r in provider_stub.requests) == [201, 202]
    assert [(r.channel, r.status, r.provider_id) for r in deliveries()] == [
        (Channel.EMAIL, DeliveryStatus.SENT, None),
        (Channel.SMS, DeliveryStatus.SENT, None),
    ]


def test_a_provider_that_hangs_is_not_resent(ctx, run_jobs, provider_stub):
    org = f.school()
    carer, _ = carer_and_child(f.school_class(org))
    provider_stub.script("hang", seconds=2.5)
    notify("news", event_key="n:hang", user_ids=[carer.id], organisation_id=org.id)
    db.session.commit()
    assert run_jobs() == 0
    (row,) = deliveries()
    assert row.status is DeliveryStatus.FAILED
    assert "may have been delivered" in row.reason
    enqueue_now(SEND_JOB, [row.id], job_id="again")
    assert run_jobs() == 0
    assert len(provider_stub.sendgrid_calls) == 1


def test_the_outbox_backend_stores_messages_when_no_keys_are_set(ctx, run_jobs):
    org = f.school()
    carer, _ = carer_and_child(f.school_class(org))
    notify(
        "news",
        event_key="n:outbox",
        user_ids=[carer.id],
        organisation_id=org.id,
        context={"headline": "Summer fair"},
    )
    db.session.commit()
    assert run_jobs() == 0
    (message,) = db.session.scalars(sa.select(OutboxMessage)).all()
    assert message.to == carer.email and message.subject == "Summer fair"
    assert f"Hello {carer.name.split()[0]}" in message.text


def test_send_now_goes_through_the_configured_providers(ctx, provider_stub):
    from app.messaging.notify import send_now

    assert (
        send_now(
            Channel.EMAIL,
            "sam@family.example",
            "signin_link",
            user=None,
            minutes=15,
            url="https://hometime.example/auth/link/xyz",
        )
        is True
    )
    (mail,) = provider_stub.messages_to("sam@family.example")
    assert "https://hometime.example/auth/link/xyz" in mail["text"]
    assert send_now(Channel.SMS, "+447700900777", "sms_code", code="123456", minutes=10) is True
    (sms,) = provider_stub.twilio_calls
    assert sms.body["To"] == "+447700900777" and "123456" in sms.body["Body"]
    provider_stub.script("500")
    assert (
        send_now(
            Channel.EMAIL,
            "sam@family.example",
            "signin_link",
            user=None,
            minutes=15,
            url="https://hometime.example/auth/link/abc",
        )
        is False
    )  # logged, not raised
    assert db.session.scalars(sa.select(OutboxMessage)).all() == []  # nothing in the outbox
    assert provider_stub.problems == []


def test_twilio_errors_429_is_retried_after_its_retry_after_and_400_fails(
    ctx, run_jobs, provider_stub, monkeypatch
):
    org = f.school()
    cls = f.school_class(org)
    busy, _ = carer_and_child(cls, mobile="+447700900601", sms_notifications=True, email=None)
    wrong, _ = carer_and_child(cls, mobile="+447700900602", sms_notifications=True, email=None)
    sms_consent(busy)
    sms_consent(wrong)
    noon = utcnow().replace(hour=12, minute=0)
    monkeypatch.setattr(policy, "now", lambda: noon)
    provider_stub.script("429", "400", retry_after=30)
    notify(
        "award_given",
        event_key="a:t",
        user_ids=[busy.id, wrong.id],
        organisation_id=org.id,
        context={"award": "Great effort"},
    )
    db.session.commit()
    assert run_jobs() == 0
    rows = {r.user_id: r for r in deliveries(channel=Channel.SMS)}
    assert rows[busy.id].status is DeliveryStatus.QUEUED
    assert rows[busy.id].reason.startswith("retry 1: HTTP 429")
    assert rows[busy.id].not_before == noon + timedelta(seconds=30)
    assert rows[wrong.id].status is DeliveryStatus.FAILED
    assert rows[wrong.id].reason.startswith("HTTP 400")
    monkeypatch.setattr(policy, "now", lambda: noon + timedelta(seconds=31))
    release_scheduled()
    assert run_jobs() == 0
    assert len(provider_stub.twilio_calls) == 3  # 429, 400, then the retry; never the 400 again
    assert deliveries(user_id=busy.id)[0].status is DeliveryStatus.SENT


def test_a_provider_that_keeps_failing_is_given_up_after_five_attempts(
    ctx, run_jobs, provider_stub, monkeypatch
):
    from app.messaging.delivery import MAX_ATTEMPTS

    org = f.school()
    carer, _ = carer_and_child(f.school_class(org))
    provider_stub.script(*["500"] * MAX_ATTEMPTS)
    notify("news", event_key="n:down", user_ids=[carer.id], organisation_id=org.id)
    db.session.commit()
    clock = [utcnow()]
    monkeypatch.setattr(policy, "now", lambda: clock[0])
    assert run_jobs() == 0
    for _ in range(MAX_ATTEMPTS - 1):
        clock[0] += timedelta(hours=2)
        release_scheduled()
        assert run_jobs() == 0
    (row,) = deliveries()
    assert row.status is DeliveryStatus.FAILED and row.attempts == MAX_ATTEMPTS
    assert row.reason.startswith(f"gave up after {MAX_ATTEMPTS} attempts: HTTP 500")
    assert len(provider_stub.sendgrid_calls) == MAX_ATTEMPTS
    assert get_queue().scheduled_job_registry.get_job_ids() == []
