"""Pages around notifications: the dev outbox, one-click unsubscribe, the office's failures."""

from __future__ import annotations

import re

import pytest

from app.core import consent as consent_service
from app.core.extensions import db
from app.messaging.notify import notify, send_now, unsubscribe_url
from app.models import ConsentMethod, ConsentPurpose, ConsentRecord, DeliveryStatus, Role
from tests import factories as f
from tests.notify_data import carer_and_child, deliveries


def news_opt_in(user):
    db.session.add(
        ConsentRecord(
            user_id=user.id, purpose=ConsentPurpose.NEWS, granted=True, method=ConsentMethod.WEB_FORM
        )
    )
    db.session.commit()


# --- the outbox ---------------------------------------------------------------------------------


def test_outbox_shows_staff_the_newest_messages_with_clickable_links(app, client):
    org = f.school()
    teacher = f.staff(org, Role.TEACHER)
    f.pupil(f.school_class(org), f.parent(email="amy@family.example"))  # a family of the school
    from app.models import Channel

    send_now(
        Channel.EMAIL,
        "amy@family.example",
        "signin_link",
        url="http://127.0.0.1:5000/auth/link/abc123",
        user=None,
        minutes=15,
    )
    db.session.commit()
    f.login(client, teacher)
    page = client.get("/dev/outbox")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "amy@family.example" in html
    assert '<a href="http://127.0.0.1:5000/auth/link/abc123">' in html
    only = client.get("/dev/outbox?to=someone@else.example").get_data(as_text=True)
    assert "amy@family.example" not in only.split("<h1>Outbox</h1>")[1]


def test_outbox_is_for_staff_only_and_only_when_enabled(app, client):
    org = f.school()
    carer, _ = carer_and_child(f.school_class(org))
    assert client.get("/dev/outbox").status_code in (302, 401)  # signed out: sign in first
    f.login(client, carer)
    assert client.get("/dev/outbox").status_code == 403
    staff = f.staff(org, Role.OFFICE)
    f.login(client, staff)
    app.config["SHOW_OUTBOX"] = False
    try:
        assert client.get("/dev/outbox").status_code == 404
    finally:
        app.config["SHOW_OUTBOX"] = True


def test_outbox_does_not_exist_in_production(app):
    from app import create_app

    prod = create_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": "x" * 32,
            "ENCRYPTION_KEYS": app.config["ENCRYPTION_KEYS"],
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": app.config["REDIS_URL"],
        }
    )
    assert prod.config["SHOW_OUTBOX"] is False
    assert not any(rule.rule.startswith("/dev") for rule in prod.url_map.iter_rules())


# --- unsubscribe (P09) ------------------------------------------------------------------------


@pytest.mark.promise("P09")
def test_optional_emails_carry_one_click_unsubscribe_that_works(app, client, run_jobs, provider_stub):
    org = f.school()
    carer, _ = carer_and_child(f.school_class(org))
    news_opt_in(carer)
    notify("news", event_key="news:u", user_ids=[carer.id], organisation_id=org.id, optional=True)
    notify("topic_published", event_key="t:u", user_ids=[carer.id], organisation_id=org.id)
    db.session.commit()
    assert run_jobs() == 0
    news, topic = sorted(provider_stub.messages_to(carer.email), key=lambda m: m["subject"])
    assert news["subject"] == "News from Hometime"
    header = news["headers"]["List-Unsubscribe"]
    assert news["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = re.fullmatch(r"<(https?://\S+)>", header).group(1)
    assert url in news["text"] and url in news["html"]
    assert "List-Unsubscribe" not in topic["headers"]  # the service's own messages: none
    path = url.split("://", 1)[1].split("/", 1)[1]
    # A mail client's one-click POST (RFC 8058): no sign-in, no CSRF token.
    answer = client.post("/" + path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    assert consent_service.has_consent(carer.id, ConsentPurpose.NEWS) is False
    history = [r.granted for r in consent_service.history(carer.id)]
    assert history == [True, False]  # appended, never overwritten
    # The next optional message is not sent.
    notify("news", event_key="news:u2", user_ids=[carer.id], organisation_id=org.id, optional=True)
    db.session.commit()
    assert deliveries(event_key="news:u2")[0].status is DeliveryStatus.SUPPRESSED


@pytest.mark.promise("P09")
def test_the_unsubscribe_link_in_the_email_asks_once_then_withdraws(app, client):
    org = f.school()
    carer, _ = carer_and_child(f.school_class(org))
    news_opt_in(carer)
    url = unsubscribe_url(carer.id, org.id)
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    page = client.get(path)  # a link checker's GET changes nothing
    assert page.status_code == 200 and b"Unsubscribe" in page.data
    assert consent_service.has_consent(carer.id, ConsentPurpose.NEWS) is True
    done = client.post(path)
    assert done.status_code == 200 and b"You are unsubscribed" in done.data
    assert consent_service.has_consent(carer.id, ConsentPurpose.NEWS) is False
    client.post(path)  # twice: still one withdrawal
    assert [r.granted for r in consent_service.history(carer.id)] == [True, False]


def test_a_tampered_unsubscribe_link_is_refused_clearly(client):
    answer = client.post("/privacy/unsubscribe/not-a-real-token")
    assert answer.status_code == 400
    assert b"not complete" in answer.data


# --- the office's failures --------------------------------------------------------------------


def test_office_sees_failed_messages_and_can_retry(app, client, run_jobs, provider_stub):
    org = f.school()
    other = f.school()
    carer, _ = carer_and_child(f.school_class(org), name="Fatima Khan")
    stranger, _ = carer_and_child(f.school_class(other))
    provider_stub.script("400", "400")
    notify("topic_published", event_key="t:f", user_ids=[carer.id], organisation_id=org.id)
    notify("topic_published", event_key="t:g", user_ids=[stranger.id], organisation_id=other.id)
    db.session.commit()
    assert run_jobs() == 0
    mine = deliveries(event_key="t:f")[0]
    theirs = deliveries(event_key="t:g")[0]
    assert mine.status is DeliveryStatus.FAILED and theirs.status is DeliveryStatus.FAILED
    office = f.staff(org, Role.OFFICE)
    f.login(client, office)
    page = client.get("/office/deliveries").get_data(as_text=True)
    assert "Fatima Khan" in page and "HTTP 400" in page and "Try again" in page
    assert stranger.name not in page
    # Another school's delivery: 404, and untouched.
    assert client.post("/office/deliveries/retry", data={"delivery_id": theirs.id}).status_code == 404
    answer = client.post("/office/deliveries/retry", data={"delivery_id": mine.id})
    assert answer.status_code == 303
    assert run_jobs() == 0
    assert deliveries(event_key="t:f")[0].status is DeliveryStatus.SENT
    assert deliveries(event_key="t:g")[0].status is DeliveryStatus.FAILED
    assert len(provider_stub.messages_to(carer.email)) == 2  # the failed try and the retry


def test_teachers_and_parents_cannot_open_the_failures_page(client):
    org = f.school()
    f.login(client, f.staff(org, Role.TEACHER))
    assert client.get("/office/deliveries").status_code == 403
    carer, _ = carer_and_child(f.school_class(org))
    f.login(client, carer)
    assert client.get("/office/deliveries").status_code == 403


def test_retry_with_a_malformed_id_is_a_clear_400(client):
    org = f.school()
    f.login(client, f.staff(org, Role.OFFICE))
    assert client.post("/office/deliveries/retry", data={"delivery_id": "1; DROP"}).status_code == 400


def test_trying_every_failed_message_again_asks_first_with_the_counts(app, client, run_jobs, provider_stub):
    org = f.school()
    carers = [carer_and_child(f.school_class(org))[0] for _ in range(2)]
    provider_stub.script("400")  # one batch for both: it fails once
    notify("topic_published", event_key="t:all", user_ids=[c.id for c in carers], organisation_id=org.id)
    db.session.commit()
    assert run_jobs() == 0
    f.login(client, f.staff(org, Role.OFFICE))
    asked = client.post("/office/deliveries/retry")
    text = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Send 2 emails again?" in text and "Nothing has been sent yet" in text
    assert run_jobs() == 0
    assert {d.status for d in deliveries(event_key="t:all")} == {DeliveryStatus.FAILED}  # nothing sent
    done = client.post("/office/deliveries/retry", data={"confirm": "yes"})
    assert done.status_code == 303
    assert run_jobs() == 0
    db.session.expire_all()
    assert {d.status for d in deliveries(event_key="t:all")} == {DeliveryStatus.SENT}
    again = client.post("/office/deliveries/retry").get_data(as_text=True)
    assert "Nothing to send again" in again
