"""The breach log (P29): recording with the time of awareness, the 72-hour countdown, the
reminders to the DPO at 24, 48 and 66 hours (each exactly once, through the worker), the
decision and its reasons, families told, and trust-level scope (P12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.compliance.breaches.jobs import remind_dpo_of_breaches
from app.core.extensions import db
from app.core.jobs import enqueue_now
from app.models import Breach, BreachDecision, NotificationDelivery, OutboxMessage, Role, utcnow
from tests import factories as f

LONDON = ZoneInfo("Europe/London")


@pytest.fixture()
def school(ctx):
    org = f.school(name="Oak Primary", dpo_email="dpo@oak.example")
    return {
        "org": org,
        "office": f.staff(org, Role.OFFICE, name="Olive Office"),
        "dpo": f.staff(org, Role.DPO, name="Dee DPO", email="dee@oak.example"),
    }


def _local(moment: datetime) -> str:
    return moment.astimezone(LONDON).strftime("%Y-%m-%dT%H:%M")


def _record(client, aware: datetime, **kw):
    data = {
        "title": "Class list emailed to the wrong parent",
        "aware_at": _local(aware),
        "what_happened": "A spreadsheet with 28 names went to one parent.",
        "data_categories": "Names, classes",
        "people_affected": "28",
        "records_affected": "28",
        "consequences": "Low",
        "measures": "Asked them to delete",
    }
    data.update(kw)
    return client.post("/office/breaches/new", data=data)


def _breach(breach_id=None) -> Breach:
    db.session.expire_all()
    query = sa.select(Breach).order_by(Breach.id.desc())
    return db.session.scalar(query.where(Breach.id == breach_id) if breach_id else query)


@pytest.mark.promise("P29")
def test_recording_a_breach_starts_a_72_hour_countdown(client, school):
    f.login(client, school["office"])
    aware = (utcnow() - timedelta(hours=5, minutes=30)).replace(second=0, microsecond=0)
    response = _record(client, aware)
    assert response.status_code == 303
    breach = _breach()
    assert breach.aware_at == aware and breach.people_affected == 28
    assert breach.decision is BreachDecision.PENDING

    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "66 hours 30 minutes left to report to the ICO" in page or "66 hours 29 minutes left" in page
    assert 'hx-trigger="every 60s"' in page
    deadline = (aware + timedelta(hours=72)).astimezone(LONDON).strftime("%-d %b %Y %H:%M")
    assert f"Report due by {deadline}" in page

    # The htmx refresh gets the countdown block alone.
    fragment = client.get(f"/office/breaches/{breach.id}", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and body.lstrip().startswith('<div id="countdown"')
    assert "<html" not in body and "left to report to the ICO" in body


def test_a_breach_needs_a_title_and_what_happened_and_no_future_time(client, school):
    f.login(client, school["office"])
    response = _record(client, utcnow(), title="", what_happened="")
    assert response.status_code == 422
    assert "Give the breach a short title." in response.get_data(as_text=True)
    assert _record(client, utcnow() + timedelta(hours=3)).status_code == 422
    assert _record(client, utcnow(), aware_at="last tuesday").status_code == 422
    assert _record(client, utcnow(), people_affected="lots").status_code == 422
    assert _breach() is None


def _remind_at(run_jobs, moment: datetime) -> None:
    enqueue_now(remind_dpo_of_breaches, moment.isoformat())
    assert run_jobs() == 0


def _reminders():
    return db.session.execute(
        sa.select(NotificationDelivery.event_key, NotificationDelivery.user_id)
        .where(NotificationDelivery.template == "breach_reminder")
        .order_by(NotificationDelivery.id)
    ).all()


def _emails_to(address):
    return db.session.scalars(
        sa.select(OutboxMessage.subject).where(OutboxMessage.to == address).order_by(OutboxMessage.id)
    ).all()


@pytest.mark.promise("P29")
def test_the_dpo_is_reminded_at_24_48_and_66_hours_exactly_once(client, school, run_jobs):
    org = school["org"]
    org.trust_id = f.trust().id
    db.session.commit()
    trust_dpo = f.staff(None, Role.DPO, trust_id=org.trust_id, email="trust@dpo.example")
    other_dpo = f.staff(None, Role.DPO, trust_id=f.trust().id)
    f.login(client, school["office"])
    aware = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    _record(client, utcnow())
    breach_id = _breach().id
    db.session.execute(sa.update(Breach).values(aware_at=aware))
    db.session.commit()

    expected = []
    for hours_later, reminder in [
        (23.9, None),
        (24, 24),
        (24.25, None),
        (47, None),
        (48.1, 48),
        (48.2, None),
        (66, 66),
        (70, None),
        (80, None),
    ]:
        _remind_at(run_jobs, aware + timedelta(hours=hours_later))
        if reminder:
            expected += [
                (f"breach:{breach_id}:{reminder}h", school["dpo"].id),
                (f"breach:{breach_id}:{reminder}h", trust_dpo.id),
            ]
        assert sorted(_reminders()) == sorted(expected), hours_later
    assert _breach(breach_id).reminders_sent == 3
    assert other_dpo.id not in {user for _, user in _reminders()}
    assert school["office"].id not in {user for _, user in _reminders()}
    # The school's DPO address (no account) by email, once per reminder, after the worker ran.
    subjects = _emails_to("dpo@oak.example")
    assert subjects == [
        f"Data breach B{breach_id}: {h} hours since the school became aware" for h in (24, 48, 66)
    ]
    assert len(_emails_to("dee@oak.example")) == 3  # the DPO account, through notify


def test_a_decided_breach_gets_no_reminders_and_a_late_recorded_one_only_the_latest(client, school, run_jobs):
    f.login(client, school["office"])
    now = utcnow()
    _record(client, now - timedelta(hours=30))
    decided = _breach().id
    client.post(
        f"/office/breaches/{decided}/decision",
        data={"decision": "not_reported", "decision_reason": "Encrypted laptop"},
    )
    _record(client, now - timedelta(hours=50), title="Recorded late")
    late = _breach().id
    _remind_at(run_jobs, now)
    assert _reminders() == [(f"breach:{late}:48h", school["dpo"].id)]
    assert (_breach(decided).reminders_sent, _breach(late).reminders_sent) == (0, 2)


@pytest.mark.promise("P29")
def test_not_reporting_needs_a_reason(client, school):
    f.login(client, school["office"])
    _record(client, utcnow() - timedelta(hours=2))
    breach_id = _breach().id
    response = client.post(
        f"/office/breaches/{breach_id}/decision", data={"decision": "not_reported", "decision_reason": " "}
    )
    assert response.status_code == 422
    assert "Give the reason for not reporting it" in response.get_data(as_text=True)
    assert _breach(breach_id).decision is BreachDecision.PENDING
    assert (
        client.post(f"/office/breaches/{breach_id}/decision", data={"decision": "maybe"}).status_code == 422
    )

    ok = client.post(
        f"/office/breaches/{breach_id}/decision",
        data={"decision": "not_reported", "decision_reason": "The file was encrypted"},
    )
    assert ok.status_code == 303
    breach = _breach(breach_id)
    assert (breach.decision, breach.decision_reason) == (
        BreachDecision.NOT_REPORTED,
        "The file was encrypted",
    )
    page = client.get(f"/office/breaches/{breach_id}").get_data(as_text=True)
    assert "Decided not to report to the ICO" in page and "hx-trigger" not in page


def test_the_database_itself_refuses_not_reported_without_a_reason(school):
    db.session.add(
        Breach(
            organisation_id=school["org"].id,
            title="x",
            aware_at=utcnow(),
            decision=BreachDecision.NOT_REPORTED,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


@pytest.mark.promise("P29")
def test_reporting_after_72_hours_needs_the_reason_for_the_delay(client, school):
    f.login(client, school["office"])
    _record(client, utcnow() - timedelta(hours=80))
    breach_id = _breach().id
    page = client.get(f"/office/breaches/{breach_id}").get_data(as_text=True)
    assert "The 72 hours ran out 8 hours" in page
    reported = _local(utcnow())
    response = client.post(
        f"/office/breaches/{breach_id}/decision", data={"decision": "reported", "reported_at": reported}
    )
    assert response.status_code == 422
    assert "give the reason for the delay" in response.get_data(as_text=True)
    assert _breach(breach_id).reported_at is None

    ok = client.post(
        f"/office/breaches/{breach_id}/decision",
        data={
            "decision": "reported",
            "reported_at": reported,
            "late_reason": "The DPO was away; the deputy was not told",
        },
    )
    assert ok.status_code == 303
    breach = _breach(breach_id)
    assert breach.decision is BreachDecision.REPORTED and breach.late_reason.startswith("The DPO")
    assert "Reported to the ICO after the 72 hours" in client.get(f"/office/breaches/{breach_id}").get_data(
        as_text=True
    )


def test_reporting_in_time_needs_no_delay_reason_and_families_told_is_recorded(client, school):
    f.login(client, school["office"])
    _record(client, utcnow() - timedelta(hours=10))
    breach_id = _breach().id
    assert (
        client.post(
            f"/office/breaches/{breach_id}/decision",
            data={"decision": "reported", "reported_at": _local(utcnow())},
        ).status_code
        == 303
    )
    breach = _breach(breach_id)
    assert breach.decision is BreachDecision.REPORTED and breach.late_reason is None
    told = utcnow().replace(second=0, microsecond=0)
    assert (
        client.post(
            f"/office/breaches/{breach_id}/families-told", data={"families_told_at": _local(told)}
        ).status_code
        == 303
    )
    assert _breach(breach_id).families_told_at == told
    before = client.post(
        f"/office/breaches/{breach_id}/families-told",
        data={"families_told_at": _local(utcnow() - timedelta(days=3))},
    )
    assert before.status_code == 422 and _breach(breach_id).families_told_at == told
    listing = client.get("/office/breaches").get_data(as_text=True)
    assert "Reported to the ICO within 72 hours" in listing


def test_the_regulators_fields_can_be_completed_later(client, school):
    f.login(client, school["office"])
    _record(client, utcnow(), consequences="", measures="")
    breach_id = _breach().id
    assert (
        client.post(
            f"/office/breaches/{breach_id}",
            data={
                "title": "Class list sent to the wrong parent",
                "what_happened": "As before",
                "data_categories": "Names",
                "people_affected": "1,200",
                "records_affected": "",
                "consequences": "Distress",
                "measures": "Recalled the email",
            },
        ).status_code
        == 303
    )
    breach = _breach(breach_id)
    assert (breach.people_affected, breach.records_affected, breach.measures) == (
        1200,
        None,
        "Recalled the email",
    )


@pytest.mark.promise("P12")
def test_a_trust_dpo_sees_breaches_across_the_trust_and_an_office_only_its_own(client, ctx):
    group = f.trust()
    oak, elm = f.school(name="Oak", trust_id=group.id), f.school(name="Elm", trust_id=group.id)
    oak_office, elm_office = f.staff(oak, Role.OFFICE), f.staff(elm, Role.OFFICE)
    dpo = f.staff(None, Role.DPO, trust_id=group.id)
    ids = {}
    for office, title in ((oak_office, "Oak laptop stolen"), (elm_office, "Elm letter lost")):
        f.login(client, office)
        _record(client, utcnow() - timedelta(hours=1), title=title)
        ids[title] = _breach().id
    f.login(client, dpo)
    listing = client.get("/office/breaches").get_data(as_text=True)
    assert "Oak laptop stolen" in listing and "Elm letter lost" in listing
    assert client.get(f"/office/breaches/{ids['Elm letter lost']}").status_code == 200
    f.login(client, oak_office)
    listing = client.get("/office/breaches").get_data(as_text=True)
    assert "Oak laptop stolen" in listing and "Elm letter lost" not in listing
    assert client.get(f"/office/breaches/{ids['Elm letter lost']}").status_code == 404
    response = client.post(
        f"/office/breaches/{ids['Elm letter lost']}/decision",
        data={"decision": "not_reported", "decision_reason": "x"},
    )
    assert response.status_code == 404
    assert _breach(ids["Elm letter lost"]).decision is BreachDecision.PENDING


def test_the_reminder_job_runs_every_15_minutes():
    from app.jobs.schedule import SCHEDULE

    assert (remind_dpo_of_breaches, "*/15 * * * *", "default") in SCHEDULE


@pytest.mark.promise("P29")
def test_the_privacy_desk_shows_its_schools_breaches_waiting_for_a_decision_oldest_first(client, ctx):
    group = f.trust()
    oak, elm = f.school(name="Oak", trust_id=group.id), f.school(name="Elm", trust_id=group.id)
    oak_office, elm_office = f.staff(oak, Role.OFFICE), f.staff(elm, Role.OFFICE)
    f.login(client, oak_office)
    _record(client, utcnow() - timedelta(hours=30), title="Oak register left on a bus")
    _record(client, utcnow() - timedelta(hours=2), title="Oak laptop stolen")
    _record(client, utcnow() - timedelta(hours=5), title="Oak file encrypted")
    decided = _breach().id
    client.post(
        f"/office/breaches/{decided}/decision",
        data={"decision": "not_reported", "decision_reason": "The file was encrypted"},
    )
    f.login(client, elm_office)
    _record(client, utcnow() - timedelta(hours=1), title="Elm letter lost")
    f.login(client, oak_office)
    page = client.get("/office/requests").get_data(as_text=True)
    banner = page[page.index('aria-label="Open breaches"') : page.index('id="overdue"')]
    assert banner.index("Oak register left on a bus") < banner.index("Oak laptop stolen")
    assert "42 hours left to report to the ICO" in banner or "41 hours" in banner
    assert "Oak file encrypted" not in banner  # decided
    assert "Elm letter lost" not in banner  # another school's
