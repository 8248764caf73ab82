"""The delivery policy: who is never messaged, quiet hours, and the weekly digest."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.core.jobs import enqueue_now
from app.messaging import policy
from app.messaging.jobs import send_weekly_digests
from app.messaging.notify import notify
from app.models import (
    Channel,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    DeliveryStatus,
    Guardianship,
    OutboxMessage,
    UserStatus,
    utcnow,
)
from tests import factories as f
from tests.notify_data import carer_and_child, deliveries, release_scheduled, sms_consent

LONDON = ZoneInfo("Europe/London")


def consent(user, purpose, granted=True):
    db.session.add(
        ConsentRecord(user_id=user.id, purpose=purpose, granted=granted, method=ConsentMethod.WEB_FORM)
    )
    db.session.commit()


def outbox_to(address):
    return db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.to == address).order_by(OutboxMessage.id)
    ).all()


def reasons():
    return {(r.user_id, r.channel): (r.status, r.reason) for r in deliveries()}


@pytest.mark.promise("P17")
def test_closed_erased_and_unreachable_accounts_are_never_messaged(ctx, run_jobs):
    org = f.school()
    cls = f.school_class(org)
    active, _ = carer_and_child(cls)
    closed, _ = carer_and_child(cls, status=UserStatus.DEACTIVATED)
    erased, _ = carer_and_child(cls, status=UserStatus.ERASED)
    invited_no_contact, _ = carer_and_child(cls, status=UserStatus.INVITED, email=None)
    ids = [active.id, closed.id, erased.id, invited_no_contact.id]
    assert notify("topic_published", event_key="t:1", user_ids=ids, organisation_id=org.id) == 1
    db.session.commit()
    assert run_jobs() == 0
    got = reasons()
    assert got[(active.id, Channel.EMAIL)][0] is DeliveryStatus.SENT
    assert got[(closed.id, Channel.EMAIL)] == (DeliveryStatus.SUPPRESSED, "account closed (P17)")
    assert got[(erased.id, Channel.EMAIL)] == (DeliveryStatus.SUPPRESSED, "account erased")
    assert got[(invited_no_contact.id, Channel.EMAIL)] == (
        DeliveryStatus.SUPPRESSED,
        "invited without contact details",
    )
    assert len(outbox_to(active.email)) == 1
    assert outbox_to(closed.email) == [] and outbox_to(erased.email) == []


@pytest.mark.promise("P17")
def test_an_account_closed_after_the_event_gets_nothing(ctx, run_jobs):
    org = f.school()
    carer, _ = carer_and_child(f.school_class(org))
    notify("topic_published", event_key="t:2", user_ids=[carer.id], organisation_id=org.id)
    carer.status = UserStatus.DEACTIVATED  # closed in the same moment, before the job runs
    db.session.commit()
    assert run_jobs() == 0
    assert reasons()[(carer.id, Channel.EMAIL)] == (DeliveryStatus.SUPPRESSED, "account closed (P17)")
    assert outbox_to(carer.email) == []


@pytest.mark.promise("P25")
def test_restricted_and_objecting_people_and_restricted_pupils_are_left_out(ctx, run_jobs):
    org = f.school()
    cls = f.school_class(org)
    restricted, _ = carer_and_child(cls, restricted_at=utcnow())
    objected, _ = carer_and_child(cls, objected_at=utcnow())
    fine, child = carer_and_child(cls)
    notify(
        "topic_published",
        event_key="t:3",
        user_ids=[restricted.id, objected.id, fine.id],
        organisation_id=org.id,
    )
    child.restricted_at = utcnow()
    db.session.commit()
    notify(
        "award_given",
        event_key="award:3",
        user_ids=[fine.id],
        organisation_id=org.id,
        pupil_id=child.id,
        context={"award": "Great effort"},
    )
    db.session.commit()
    assert run_jobs() == 0
    got = {(r.user_id, r.event_key): (r.status, r.reason) for r in deliveries()}
    assert got[(restricted.id, "t:3")] == (DeliveryStatus.SUPPRESSED, "restricted (P25)")
    assert got[(objected.id, "t:3")] == (DeliveryStatus.SUPPRESSED, "objected (P25)")
    assert got[(fine.id, "t:3")][0] is DeliveryStatus.SENT
    assert got[(fine.id, "award:3")] == (DeliveryStatus.SUPPRESSED, "pupil restricted (P25)")
    assert outbox_to(restricted.email) == [] and outbox_to(objected.email) == []
    assert [m.subject for m in outbox_to(fine.email)] == ["This week's activities for your child"]


def test_no_contact_links_are_respected(ctx, run_jobs):
    org = f.school()
    cls = f.school_class(org)
    allowed, barred = f.parent(), f.parent()
    child = f.pupil(cls, allowed, barred)
    db.session.execute(
        sa.update(Guardianship).where(Guardianship.parent_id == barred.id).values(no_contact=True)
    )
    db.session.commit()
    notify(
        "award_given",
        event_key="award:4",
        user_ids=[allowed.id, barred.id],
        organisation_id=org.id,
        pupil_id=child.id,
        context={"award": "Kind helper"},
    )
    notify(
        "topic_published", event_key="t:4", user_ids=[allowed.id, barred.id], organisation_id=org.id
    )  # about the school in general: still no contact
    db.session.commit()
    assert run_jobs() == 0
    barred_rows = {(r.event_key, r.status, r.reason) for r in deliveries(user_id=barred.id)}
    assert barred_rows == {
        ("award:4", DeliveryStatus.SUPPRESSED, "no-contact link"),
        ("t:4", DeliveryStatus.SUPPRESSED, "no-contact link"),
    }
    assert outbox_to(barred.email) == []
    assert len(outbox_to(allowed.email)) == 2


@pytest.mark.promise("P09")
def test_optional_messages_need_their_own_opt_in(ctx, run_jobs):
    org = f.school()
    cls = f.school_class(org)
    opted_in, _ = carer_and_child(cls)
    never, _ = carer_and_child(cls)
    withdrew, _ = carer_and_child(cls)
    consent(opted_in, ConsentPurpose.NEWS)
    consent(withdrew, ConsentPurpose.NEWS)
    consent(withdrew, ConsentPurpose.NEWS, granted=False)
    ids = [opted_in.id, never.id, withdrew.id]
    assert notify("news", event_key="news:1", user_ids=ids, organisation_id=org.id, optional=True) == 1
    db.session.commit()
    assert run_jobs() == 0
    got = reasons()
    assert got[(opted_in.id, Channel.EMAIL)][0] is DeliveryStatus.SENT
    for person in (never, withdrew):
        assert got[(person.id, Channel.EMAIL)] == (
            DeliveryStatus.SUPPRESSED,
            "optional message without consent (P09)",
        )
        assert outbox_to(person.email) == []


def test_quiet_hours_end_at_eight_in_the_schools_timezone_across_the_clock_change():
    tz = LONDON
    # 21:30 on Saturday 28 March 2026 (GMT); the clocks go forward that night.
    evening = datetime(2026, 3, 28, 21, 30, tzinfo=UTC)
    assert policy.quiet_hold(evening, tz) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)
    # 06:00 BST on a summer morning is 05:00 UTC; quiet until 08:00 BST = 07:00 UTC.
    dawn = datetime(2026, 7, 1, 5, 0, tzinfo=UTC)
    assert policy.quiet_hold(dawn, tz) == datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert policy.quiet_hold(datetime(2026, 7, 1, 12, tzinfo=UTC), tz) is None
    # A parent's own quiet hours (a night-shift worker sleeping 09:00-15:00).
    assert policy.quiet_hold(datetime(2026, 1, 5, 10, tzinfo=UTC), tz, time(9), time(15)) == datetime(
        2026, 1, 5, 15, tzinfo=UTC
    )
    assert policy.quiet_hold(datetime(2026, 1, 5, 21, tzinfo=UTC), tz, time(9), time(15)) is None


def test_a_text_in_quiet_hours_is_held_until_morning(ctx, run_jobs, provider_stub, monkeypatch):
    org = f.school(timezone="Europe/London")
    carer, _ = carer_and_child(f.school_class(org), mobile="+447700900321", sms_notifications=True)
    sms_consent(carer)
    evening = datetime(2026, 11, 24, 21, 30, tzinfo=UTC)  # 21:30 in London (GMT)
    monkeypatch.setattr(policy, "now", lambda: evening)
    notify(
        "award_given",
        event_key="award:q",
        user_ids=[carer.id],
        organisation_id=org.id,
        context={"award": "Star of the week"},
    )
    db.session.commit()
    assert run_jobs() == 0
    sms = deliveries(channel=Channel.SMS)[0]
    assert sms.status is DeliveryStatus.QUEUED and sms.reason == "quiet hours"
    assert sms.not_before == datetime(2026, 11, 25, 8, 0, tzinfo=LONDON)
    assert provider_stub.twilio_calls == [] and len(provider_stub.sendgrid_calls) == 1
    release_scheduled()  # a job running before 08:00 still sends nothing
    assert run_jobs() == 0 and provider_stub.twilio_calls == []
    monkeypatch.setattr(policy, "now", lambda: datetime(2026, 11, 25, 8, 1, tzinfo=UTC))
    release_scheduled()
    assert run_jobs() == 0
    assert len(provider_stub.twilio_calls) == 1
    assert deliveries(channel=Channel.SMS)[0].status is DeliveryStatus.SENT


def test_weekly_digest_collects_messages_into_one_email(ctx, run_jobs):
    org = f.school(name="Digest Primary")
    cls = f.school_class(org)
    carer, child = carer_and_child(cls, weekly_digest=True)
    notify(
        "award_given",
        event_key="award:d1",
        user_ids=[carer.id],
        organisation_id=org.id,
        pupil_id=child.id,
        context={"award": "Great effort"},
    )
    notify(
        "topic_published", event_key="t:d1", user_ids=[carer.id], organisation_id=org.id, pupil_id=child.id
    )
    notify("news", event_key="urgent:1", user_ids=[carer.id], organisation_id=org.id)  # no digest part
    db.session.commit()
    assert run_jobs() == 0
    assert [m.subject for m in outbox_to(carer.email)] == ["News from Hometime"]
    assert send_weekly_digests() == 1
    assert run_jobs() == 0
    assert send_weekly_digests() == 0  # twice in a week: nothing more
    assert run_jobs() == 0
    mails = outbox_to(carer.email)
    assert [m.subject for m in mails] == ["News from Hometime", "Your week on Hometime"]
    digest = mails[1].text
    assert f"Award for {child.first_name}: Great effort" in digest
    assert f"New topic for {child.first_name}" in digest
    assert "on behalf of Digest Primary" in digest
    assert {r.status for r in deliveries(channel=Channel.EMAIL)} == {DeliveryStatus.SENT}


def test_context_must_hold_plain_values(ctx):
    org = f.school()
    carer, _ = carer_and_child(f.school_class(org))
    with pytest.raises(ValueError):
        notify("news", event_key="bad", user_ids=[carer.id], organisation_id=org.id, context={"user": carer})


def test_the_same_job_queued_twice_runs_once(ctx, run_jobs):
    org = f.school()
    carer, _ = carer_and_child(f.school_class(org))
    notify("news", event_key="dupe", user_ids=[carer.id], organisation_id=org.id)
    db.session.commit()
    (row,) = deliveries()
    enqueue_now("app.messaging.jobs.send_deliveries", [row.id], job_id="same")
    enqueue_now("app.messaging.jobs.send_deliveries", [row.id], job_id="same")
    assert run_jobs() == 0
    assert len(outbox_to(carer.email)) == 1


def test_a_text_retried_into_the_night_waits_for_the_morning(ctx, run_jobs, provider_stub, monkeypatch):
    org = f.school(timezone="Europe/London")
    carer, _ = carer_and_child(
        f.school_class(org), mobile="+447700900654", sms_notifications=True, email=None
    )
    sms_consent(carer)
    clock = [datetime(2026, 11, 24, 19, 58, tzinfo=UTC)]  # 19:58 in London
    monkeypatch.setattr(policy, "now", lambda: clock[0])
    provider_stub.script("429", retry_after=300)
    notify(
        "award_given",
        event_key="award:n",
        user_ids=[carer.id],
        organisation_id=org.id,
        context={"award": "Kind helper"},
    )
    db.session.commit()
    assert run_jobs() == 0
    assert deliveries()[0].reason.startswith("retry 1: HTTP 429")
    clock[0] = datetime(2026, 11, 24, 20, 4, tzinfo=UTC)  # the retry is due at 20:03
    release_scheduled()
    assert run_jobs() == 0
    row = deliveries()[0]
    assert (row.status, row.reason) == (DeliveryStatus.QUEUED, "quiet hours")
    assert row.not_before == datetime(2026, 11, 25, 8, 0, tzinfo=LONDON)
    assert len(provider_stub.twilio_calls) == 1  # only the 429


@pytest.mark.promise("P25")
def test_a_restricted_person_still_hears_about_their_own_request(ctx):
    from app.messaging.policy import Recipient, UserStatus, suppression

    person = Recipient(
        id=1,
        name="R",
        email="r@x.example",
        mobile=None,
        status=UserStatus.ACTIVE,
        email_on=True,
        sms_on=False,
        weekly_digest=False,
        quiet_from=None,
        quiet_until=None,
        restricted=True,
        objected=True,
    )
    assert suppression(person, optional=False, template="topic_published") == "objected (P25)"
    assert suppression(person, optional=False, template="request_completed") is None
    assert suppression(person, optional=False, template="export_ready") is None
