"""SendGrid's Signed Event Webhook: bounces and drops reach the office's failures page.

The events are signed here exactly as SendGrid signs them (ECDSA P-256 over the timestamp header
followed by the raw body, base64 DER signature; base64 DER public key) and the delivery ids in
them are the ones our emails carried to SendGrid (the stub records the real library's calls).
"""

from __future__ import annotations

import base64
import json
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from app.core.extensions import db
from app.messaging.notify import notify
from app.models import DeliveryStatus, NotificationDelivery, Role, utcnow
from tests import factories as f
from tests.notify_data import carer_and_child, deliveries

URL = "/webhooks/sendgrid"
SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
SENDGRID = ec.generate_private_key(ec.SECP256R1())


def public_key(private) -> str:
    """The key as SendGrid's settings page shows it: base64 DER SubjectPublicKeyInfo."""
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.b64encode(der).decode()


def signed(body: bytes, *, key=SENDGRID, timestamp: str | None = None) -> dict:
    timestamp = timestamp or str(int(time.time()))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    return {
        SIGNATURE: base64.b64encode(signature).decode(),
        TIMESTAMP: timestamp,
        "Content-Type": "application/json",
    }


def post(client, events=None, *, body: bytes | None = None, **sign):
    body = json.dumps(events).encode() if body is None else body
    return client.post(URL, data=body, headers=signed(body, **sign))


@pytest.fixture()
def webhook_key(app):
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = public_key(SENDGRID)
    yield
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = None


def sent_to(run_jobs, provider_stub, org, *carers, event_key="t:1") -> list[str]:
    """Notify the carers, send through the stub, and return the delivery id each email carried
    to SendGrid (``custom_args.delivery``), in the carers' order."""
    notify("topic_published", event_key=event_key, user_ids=[c.id for c in carers], organisation_id=org.id)
    db.session.commit()
    assert run_jobs() == 0
    refs = []
    for carer in carers:
        _, personalization = provider_stub.emails_to(carer.email)[-1]
        refs.append(personalization["custom_args"]["delivery"])
    assert {d.status for d in deliveries(event_key=event_key)} == {DeliveryStatus.SENT}
    return refs


def bounce(ref, **extra) -> dict:
    """A bounce as SendGrid posts it: the server's words quote the address."""
    return {
        "email": "amy.khan@family.example",
        "timestamp": int(time.time()),
        "event": "bounce",
        "type": "bounce",
        "status": "5.1.1",
        "reason": "550 5.1.1 <amy.khan@family.example>: Recipient address rejected: "
        "User unknown in virtual mailbox table",
        "sg_event_id": "ZGVsaXZlcmVk",
        "sg_message_id": "sg-1.filter0001.0",
        "delivery": ref,
        **extra,
    }


def status_of(ref):
    row = deliveries(id=int(ref))[0]
    return row.status, row.reason


def test_a_signed_bounce_shows_on_that_schools_failures_page_and_retry_sends_again(
    app, client, run_jobs, provider_stub, webhook_key
):
    org, other = f.school(), f.school()
    carer, _ = carer_and_child(f.school_class(org), name="Amy Khan", email="amy.khan@family.example")
    (ref,) = sent_to(run_jobs, provider_stub, org, carer)
    # Sent ten minutes ago; it bounced five minutes ago.
    db.session.execute(
        sa.update(NotificationDelivery)
        .where(NotificationDelivery.id == int(ref))
        .values(sent_at=utcnow() - timedelta(minutes=10))
    )
    db.session.commit()
    payload = json.dumps([bounce(ref, timestamp=int(time.time()) - 300)]).encode()
    headers = signed(payload)
    answer = client.post(URL, data=payload, headers=headers)
    assert answer.status_code == 204
    status, reason = status_of(ref)
    assert status is DeliveryStatus.BOUNCED
    assert reason.startswith("bounced (5.1.1)") and "check the address with the family" in reason
    assert "amy" not in reason.lower() and "unknown" not in reason.lower()  # nothing of theirs

    f.login(client, f.staff(other, Role.OFFICE))
    elsewhere = client.get("/office/deliveries").get_data(as_text=True)
    assert "Amy Khan" not in elsewhere and "bounced (5.1.1)" not in elsewhere
    f.login(client, f.staff(org, Role.OFFICE))
    page = client.get("/office/deliveries").get_data(as_text=True)
    assert "Amy Khan" in page and "bounced (5.1.1)" in page and "Try again" in page

    # The address is corrected; the office tries again and the email goes out again.
    assert client.post("/office/deliveries/retry", data={"delivery_id": ref}).status_code == 303
    assert run_jobs() == 0
    assert status_of(ref) == (DeliveryStatus.SENT, None)
    assert len(provider_stub.emails_to(carer.email)) == 2
    # SendGrid posts the old bounce again: it was about the first try, not this one.
    assert client.post(URL, data=payload, headers=headers).status_code == 204
    assert status_of(ref) == (DeliveryStatus.SENT, None)


def test_bounce_blocked_and_dropped_mark_the_delivery_other_events_do_not(
    app, client, run_jobs, provider_stub, webhook_key
):
    org = f.school()
    cls = f.school_class(org)
    carers = [carer_and_child(cls)[0] for _ in range(5)]
    bounced, blocked, dropped, delivered, opened = sent_to(run_jobs, provider_stub, org, *carers)
    now = int(time.time())
    events = [
        bounce(bounced),
        bounce(
            blocked,
            type="blocked",
            status="5.7.1",
            reason="554 5.7.1 Service unavailable; Client host [1.2.3.4] blocked",
        ),
        {
            "event": "dropped",
            "reason": "Bounced Address",
            "timestamp": now,
            "email": "x@family.example",
            "delivery": dropped,
        },
        {"event": "processed", "timestamp": now, "delivery": delivered},
        {"event": "deferred", "timestamp": now, "delivery": delivered, "response": "400 later"},
        {"event": "delivered", "timestamp": now, "delivery": delivered, "response": "250 OK"},
        {"event": "open", "timestamp": now, "delivery": opened, "useragent": "Mail"},
        {"event": "click", "timestamp": now, "delivery": opened, "url": "https://x.example"},
        # Not ours, or not a delivery of ours: ignored, nothing refused.
        bounce("999999"),
        bounce("12abc"),
        bounce("99999999999999"),
        bounce(True),
        bounce(None),
        bounce(-1),
        {k: v for k, v in bounce(bounced).items() if k != "delivery"},
        {"event": "bounce", "delivery": bounced},  # no timestamp
        {"email": "example@test.com", "event": "processed", "timestamp": now},  # SendGrid's test
    ]
    assert post(client, events).status_code == 204
    assert status_of(bounced)[0] is DeliveryStatus.BOUNCED
    assert status_of(blocked)[0] is DeliveryStatus.BOUNCED
    assert status_of(blocked)[1].startswith("blocked (5.7.1)")
    assert "1.2.3.4" not in status_of(blocked)[1]
    assert status_of(dropped)[0] is DeliveryStatus.BOUNCED
    assert status_of(dropped)[1].startswith("dropped: Bounced Address")
    assert status_of(delivered) == (DeliveryStatus.SENT, None)
    assert status_of(opened) == (DeliveryStatus.SENT, None)


def test_a_replayed_payload_changes_nothing_more_and_delivered_never_undoes_a_bounce(
    app, client, run_jobs, provider_stub, webhook_key
):
    org = f.school()
    carer, _ = carer_and_child(f.school_class(org))
    (ref,) = sent_to(run_jobs, provider_stub, org, carer)
    first = [bounce(ref)]
    assert post(client, first).status_code == 204
    after_first = status_of(ref)
    assert after_first[0] is DeliveryStatus.BOUNCED
    # The same payload again, then a drop and a "delivered" for the same message.
    assert post(client, first).status_code == 204
    later = [
        {"event": "dropped", "reason": "Invalid", "timestamp": int(time.time()), "delivery": ref},
        {"event": "delivered", "timestamp": int(time.time()), "delivery": ref},
    ]
    assert post(client, later).status_code == 204
    assert status_of(ref) == after_first


def test_a_bounce_for_a_message_not_sent_changes_nothing(app, client, webhook_key):
    org = f.school()
    carer, _ = carer_and_child(f.school_class(org))
    notify("topic_published", event_key="t:q", user_ids=[carer.id], organisation_id=org.id)
    db.session.commit()  # queued, not sent (no worker ran)
    (row,) = deliveries(event_key="t:q")
    assert post(client, [bounce(str(row.id))]).status_code == 204
    assert status_of(row.id) == (DeliveryStatus.QUEUED, None)


@pytest.mark.parametrize(
    "how",
    [
        "tampered body",
        "wrong key",
        "no signature",
        "no timestamp",
        "other timestamp",
        "garbage signature",
        "unsigned",
    ],
)
def test_without_sendgrids_signature_it_is_refused_and_nothing_changes(
    app, client, run_jobs, provider_stub, webhook_key, how
):
    org = f.school()
    carer, _ = carer_and_child(f.school_class(org))
    (ref,) = sent_to(run_jobs, provider_stub, org, carer)
    body = json.dumps([bounce(ref)]).encode()
    headers = signed(body)
    if how == "tampered body":
        body = body.replace(b'"5.1.1"', b'"5.1.2"')  # signed before the change
    elif how == "wrong key":
        headers = signed(body, key=ec.generate_private_key(ec.SECP256R1()))
    elif how == "no signature":
        del headers[SIGNATURE]
    elif how == "no timestamp":
        del headers[TIMESTAMP]
    elif how == "other timestamp":
        headers[TIMESTAMP] = str(int(headers[TIMESTAMP]) + 1)
    elif how == "garbage signature":
        headers[SIGNATURE] = "not base64 at all!"
    elif how == "unsigned":
        headers = {"Content-Type": "application/json"}
    answer = client.post(URL, data=body, headers=headers)
    assert answer.status_code == 403
    assert b"signature" in answer.data
    assert status_of(ref) == (DeliveryStatus.SENT, None)


@pytest.mark.parametrize(
    "body, status, message",
    [
        (b'[{"event": "bounce",', 400, b"not JSON"),
        (b"\xff\xfe not text", 403, b"signature"),  # not UTF-8: cannot be SendGrid's
        (b'{"event": "bounce"}', 400, b"list of event objects"),
        (b'["bounce"]', 400, b"list of event objects"),
        (b"[" * 100000 + b"]" * 100000, 400, b"not JSON"),
    ],
)
def test_a_signed_body_that_is_not_a_list_of_events_is_a_clear_4xx(
    client, webhook_key, body, status, message
):
    answer = post(client, body=body)
    assert answer.status_code == status
    assert message in answer.data
    assert answer.mimetype == "text/plain"


def test_a_body_over_1_mb_is_refused(client, webhook_key):
    events = [{"event": "open", "timestamp": 1, "delivery": "1", "pad": "x" * 1000}] * 1100
    answer = post(client, events)
    assert answer.status_code == 413 and b"1 MB" in answer.data


def test_until_a_key_is_configured_the_address_does_not_exist(app, client):
    body = json.dumps([bounce("1")]).encode()
    assert client.post(URL, data=body, headers=signed(body)).status_code == 404
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = "not a key"
    try:  # a key that cannot be read: SendGrid is asked to try again later, nothing crashes
        assert client.post(URL, data=body, headers=signed(body)).status_code == 503
    finally:
        app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = None


def test_a_pem_key_works_too(app, client, run_jobs, provider_stub):
    org = f.school()
    carer, _ = carer_and_child(f.school_class(org))
    (ref,) = sent_to(run_jobs, provider_stub, org, carer)
    pem = SENDGRID.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = pem.decode()
    try:
        assert post(client, [bounce(ref)]).status_code == 204
    finally:
        app.config["SENDGRID_WEBHOOK_PUBLIC_KEY"] = None
    assert status_of(ref)[0] is DeliveryStatus.BOUNCED


def test_the_webhook_needs_no_csrf_token_but_office_forms_still_do(app, client, webhook_key):
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        assert post(client, []).status_code == 204
        f.login(client, f.staff(f.school(), Role.OFFICE))
        assert client.post("/office/deliveries/retry").status_code == 400  # no token
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_the_public_webhook_refuses_what_sendgrid_did_not_sign(client, webhook_key):
    assert client.post(URL, data=b"[]", headers={"Content-Type": "application/json"}).status_code == 403
    assert client.get(URL).status_code == 405
