"""SendGrid's Signed Event Webhook: bounces and drops recorded on the deliveries they concern.

Every email we send through SendGrid carries the custom arg ``delivery`` (the id of its
NotificationDelivery row: ``providers.SendGridBackend.body``), which SendGrid echoes at the top
level of each event about that recipient.

- ``bounce`` (type ``bounce`` or ``blocked``) and ``dropped`` mark the delivery BOUNCED, with a
  short reason the office can act on: the SMTP status code ("bounced (5.1.1)") or SendGrid's drop
  category ("dropped: Bounced Address"). SendGrid's free-text reason (the receiving server's
  words, which often quote the address) and the address itself are never stored.
- Everything else (processed, delivered, deferred, open, click, ...) is ignored: a delivery is
  already "sent" when SendGrid accepts it, and opens and clicks are not tracked.
- Only a delivery recorded as SENT changes, and only by an event no older than its sending (less
  SLACK): SendGrid retries webhooks, so the same payload twice changes nothing more; a later
  "delivered" never undoes a bounce; and the bounce of an earlier try does not mark a message
  the office has since sent again.
"""

from __future__ import annotations

import json
import logging
import math
import re
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from app.core.bulk import rows_changed
from app.core.errors import ServiceError
from app.models import Channel, DeliveryStatus
from app.models import NotificationDelivery as ND

log = logging.getLogger(__name__)
MAX_BODY = 1024 * 1024  # SendGrid posts batches far smaller than this
SLACK = timedelta(seconds=60)  # event times are whole seconds; sent_at is taken after the call
_MAX_ID = 2**31 - 1
_ID = re.compile(r"[0-9]{1,10}")
_SMTP_STATUS = re.compile(r"[245]\.[0-9]{1,3}\.[0-9]{1,3}")
CHECK = "check the address with the family"
# SendGrid's drop categories (fixed strings, no personal data) and what the office can do.
DROPPED = {
    "Bounced Address": f"an earlier email to this address bounced, so SendGrid no longer sends "
    f"to it: {CHECK}",
    "Invalid": f"the email address is not valid: {CHECK}",
    "Unsubscribed Address": "the person unsubscribed from emails at SendGrid",
    "Spam Reporting Address": "the person marked an earlier email as spam",
    "Spam Content": "SendGrid judged the message to be spam",
    "Invalid SMTPAPI header": "SendGrid could not read the message",
    "Recipient List over Package Quota": "the SendGrid account is over its quota",
}


class BadEvents(ServiceError):
    """The body is not what SendGrid posts: a JSON list of event objects."""

    default_status = 400


# --- verifying ---------------------------------------------------------------------------------


def public_key(text: str):
    """The Signed Event Webhook's verification key, as SendGrid shows it (base64 DER), or as a
    PEM block. Raises ValueError when it is not an elliptic-curve public key."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from sendgrid.helpers.eventwebhook import EventWebhook

    lines = [line for line in str(text).strip().splitlines() if not line.startswith("-----")]
    body = "".join("".join(lines).split())
    if not body:
        raise ValueError("no key")
    key = EventWebhook().convert_public_key_to_ecdsa(body)
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise ValueError("not an elliptic-curve public key")
    return key


def verify(key, body: bytes, signature: str | None, timestamp: str | None) -> bool:
    """Whether ``signature`` (the X-Twilio-Email-Event-Webhook-Signature header) is SendGrid's
    ECDSA signature of ``timestamp`` (the ...-Timestamp header) followed by the raw body."""
    from sendgrid.helpers.eventwebhook import EventWebhook

    if not signature or not timestamp:
        return False
    try:
        return EventWebhook().verify_signature(body.decode("utf-8"), signature, timestamp, public_key=key)
    except (ValueError, TypeError):  # not UTF-8, a signature that is not base64, ...
        return False


def parse(body: bytes) -> list[dict]:
    """The events of a verified body; :class:`BadEvents` when it is not a list of objects."""
    try:
        events = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):
        raise BadEvents("The body is not JSON.") from None
    if not isinstance(events, list) or not all(isinstance(e, dict) for e in events):
        raise BadEvents("The body must be a JSON list of event objects.")
    return events


# --- recording ---------------------------------------------------------------------------------


def _delivery_id(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and _ID.fullmatch(value):
        value = int(value)
    if isinstance(value, int) and 0 < value <= _MAX_ID:
        return value
    return None


def _when(value) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        if not math.isfinite(value):
            return None
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def reason(event: dict) -> str | None:
    """The reason recorded for a bounce or drop event (None for any other event): fixed words,
    SendGrid's status code or drop category, never the server's text or the address."""
    kind = event.get("event")
    if kind == "bounce":
        status = event.get("status")
        code = f" ({status})" if isinstance(status, str) and _SMTP_STATUS.fullmatch(status) else ""
        if event.get("type") == "blocked":
            return f"blocked{code}: the family's email service refused it; try again later, or {CHECK}"
        return f"bounced{code}: the email address bounced; {CHECK}"
    if kind == "dropped":
        category = event.get("reason")
        if isinstance(category, str) and category in DROPPED:
            return f"dropped: {category}: {DROPPED[category]}"
        return "dropped: SendGrid did not send it; the technical team can see why in SendGrid"
    return None


def record(events: list[dict]) -> dict[str, int]:
    """Mark the deliveries that bounced or were dropped, in the caller's transaction (one
    commit for the whole batch). Returns counts: events received, deliveries marked."""
    found: dict[int, tuple[datetime, str]] = {}
    for event in events:
        why = reason(event)
        delivery_id = _delivery_id(event.get("delivery"))
        when = _when(event.get("timestamp"))
        if why is None or delivery_id is None or when is None:
            continue
        if delivery_id not in found or when < found[delivery_id][0]:
            found[delivery_id] = (when, why)
    marked = 0
    for delivery_id, (when, why) in sorted(found.items()):
        marked += rows_changed(
            sa.update(ND)
            .where(
                ND.id == delivery_id,
                ND.channel == Channel.EMAIL,
                ND.status == DeliveryStatus.SENT,
                sa.or_(ND.sent_at.is_(None), ND.sent_at <= when + SLACK),
            )
            .values(status=DeliveryStatus.BOUNCED, reason=why[:200])
            .execution_options(synchronize_session=False)
        )
    if marked:
        log.info("SendGrid events: %s received, %s deliveries marked bounced", len(events), marked)
    return {"events": len(events), "bounced": marked}
