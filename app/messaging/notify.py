"""The notification service: render a message and hand it to the configured backend.

Templates live in ``templates/messages/``: ``<name>.subject.txt``, ``<name>.txt`` (email text),
``<name>.html`` (email HTML, optional), ``<name>.sms.txt`` (SMS, optional: without it the message
is never sent by SMS) and ``<name>.digest.txt`` (optional: one line for the weekly digest; with it
the message is "non-urgent" and collected for carers who chose the digest).

- :func:`notify` records one delivery per (event, person, channel) with the delivery policy
  applied (see ``notification_policy``) and queues the sending after the commit.
- :func:`send_now` sends a transactional message (a sign-in link, a code) at once.

Templates rendered by :func:`notify` get ``user`` (only ``user.name`` and ``user.first_name``:
the message is rendered once for many people and those are filled in per recipient),
``organisation`` and the caller's ``context`` (ids and plain values only).
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import TemplateNotFound
from sqlalchemy.orm import Session

from app.core import i18n
from app.core.direct_reads import DirectRead
from app.core.extensions import db
from app.core.jobs import enqueue_after_commit
from app.core.transactions import transaction
from app.messaging import policy, providers
from app.messaging.sms_text import SmsTooLong, fit_sms
from app.models import Channel, DeliveryStatus, NotificationDelivery, Organisation, Pupil, one_of

log = logging.getLogger(__name__)
SEND_JOB = "app.messaging.jobs.send_deliveries"
JOB_TIMEOUT = 900
_PENDING = "hometime_deliveries"
RESERVED = ("_optional", "_on_behalf", "_pupil_id", "_week")
DEFAULT_QUIET = policy.DEFAULT_QUIET  # texts wait from 20:00 until 08:00 unless a carer set their own


@dataclass
class Message:
    subject: str
    text: str
    html: str | None
    sms: str | None


def render_part(template: str, part: str, **context) -> str | None:
    """One part of a message template, or None when the template has no such part."""
    try:
        found = current_app.jinja_env.get_template(f"messages/{template}.{part}")
    except TemplateNotFound:
        return None
    # Straight through Jinja (no request context processors): messages are rendered in jobs.
    # message_language: the reader's (inside i18n.in_language), for an HTML part's lang and dir
    return found.render({"config": current_app.config, "message_language": i18n.current(), **context}).strip()


def render_message(template: str, **context) -> Message:
    """Render every part of a message; the SMS part is made to fit two segments (GSM-7 aware)."""
    sms = render_part(template, "sms.txt", **context)
    return Message(
        subject=render_part(template, "subject.txt", **context) or "",
        text=render_part(template, "txt", **context) or "",
        html=render_part(template, "html", **context),
        sms=fit_sms(sms) if sms else None,
    )


def send_now(channel: Channel, to: str, template: str, *, language: str | None = None, **context) -> bool:
    """Send a transactional message (a sign-in link, a code) at once through the configured
    backend, in ``language``, else the ``user``'s own, else the page's (someone without an account
    reads the page they asked from). Returns whether the provider accepted it; a failure is
    logged, never raised, so a sign-in page answers the same either way. With the outbox backend
    the message is added to the current session (the caller commits)."""
    code = language or getattr(context.get("user"), "language", None)
    with i18n.in_language(code) if code else nullcontext():
        message = render_message(template, **context)
    backend = providers.backend(channel)
    org_id = getattr(context.get("organisation"), "id", None)
    try:
        if channel is Channel.SMS:
            backend.send_sms(to, message.sms or fit_sms(message.text), organisation_id=org_id)
        else:
            config = current_app.config
            backend.send_email(
                providers.EmailBatch(
                    from_email=config["MAIL_FROM"],
                    from_name=config["MAIL_FROM_NAME"],
                    subject=message.subject,
                    text=message.text,
                    html=message.html,
                    recipients=[providers.Recipient(to=to, organisation_id=org_id)],
                    category=template,
                )
            )
    except (providers.ProviderError, SmsTooLong) as exc:
        log.warning("could not send %s by %s: %s", template, channel.value, exc)
        return False
    return True


def _plain(value) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool))


def notify(
    template: str,
    *,
    event_key: str,
    user_ids,
    organisation_id: int | None,
    optional: bool = False,
    pupil_id: int | None = None,
    context: dict | None = None,
) -> int:
    """Record at most one delivery per (event_key, person, channel) with the policy applied, and
    queue the sending once the caller's transaction commits. Calling it again for the same event
    adds nothing (INSERT ... ON CONFLICT DO NOTHING). Returns how many deliveries were queued
    (held till morning and collected for the digest included; suppressed ones not)."""
    return notify_many(
        template,
        event_key=event_key,
        organisation_id=organisation_id,
        optional=optional,
        audiences=[(pupil_id, user_ids, context)],
    )


def notify_many(
    template: str, *, event_key: str, organisation_id: int | None, audiences, optional: bool = False
) -> int:
    """:func:`notify` for many audiences of one event at once, set-based: ``audiences`` is an
    iterable of ``(pupil_id or None, user_ids, context or None)``, e.g. one per child so each
    message names the child. A person in several audiences of the event gets the first one."""
    audiences = [
        (pupil_id, sorted({int(u) for u in user_ids}), dict(context or {}))
        for pupil_id, user_ids, context in audiences
    ]
    for _, _, context in audiences:
        if not all(_plain(v) for v in context.values()) or any(k in RESERVED for k in context):
            raise ValueError("notify() context holds ids and plain values only")
    if not policy.has_part(template, "txt"):
        raise ValueError(f"no message template messages/{template}.txt")
    people = policy.load_people({u for _, ids, _ in audiences for u in ids})
    pupil_ids = {p for p, _, _ in audiences if p}
    pupils = (
        {
            p.id: p
            for p in db.session.execute(
                sa.select(Pupil.id, Pupil.organisation_id, Pupil.restricted_at, Pupil.erased_at).where(
                    policy.in_ids(Pupil.id, pupil_ids)
                )
            )
        }
        if pupil_ids
        else {}
    )
    at, rows, seen, zones = policy.now(), [], set(), {}
    for pupil_id, user_ids, context in audiences:
        pupil = pupils.get(pupil_id)
        org_id = organisation_id or (pupil.organisation_id if pupil else None)
        if org_id not in zones:
            zones[org_id] = policy.zone(db.session.get(Organisation, org_id) if org_id else None)
        tz, blocked = zones[org_id], policy.pupil_block(pupil)
        for user_id in user_ids:
            if user_id in seen or user_id not in people:
                continue
            seen.add(user_id)  # so each person is scoped once: in place is safe
            person = policy.scoped(people[user_id], org_id, pupil_id, in_place=True)
            row_context = {**context, "_on_behalf": person.on_behalf}
            if optional:
                row_context["_optional"] = True
            if pupil_id:
                row_context["_pupil_id"] = pupil_id
            for p in policy.plan(person, template=template, optional=optional, blocked=blocked, at=at, tz=tz):
                rows.append(
                    {
                        "event_key": event_key,
                        "template": template,
                        "user_id": user_id,
                        "organisation_id": org_id,
                        "channel": p.channel,
                        "status": p.status,
                        "reason": p.reason,
                        "not_before": p.not_before,
                        "context": row_context,
                        "attempts": 0,
                        "created_at": at,
                    }
                )
    if not rows:
        return 0
    queued = [r for r in insert_deliveries(rows) if r.status is DeliveryStatus.QUEUED]
    enqueue_sending([r for r in queued if r.reason != policy.DIGEST])
    return len(queued)


def insert_deliveries(rows: list[dict]) -> list[_Inserted]:
    """INSERT ... ON CONFLICT (event, person, channel) DO NOTHING, returning the new rows
    (id, user_id, status, reason, channel). All rows travel as one JSON parameter (``json_to_recordset``), so 10,000 rows are one short statement."""
    found: list[_Inserted] = []
    for i in range(0, len(rows), 5000):
        payload = json.dumps(
            [
                {
                    **{
                        k: r[k]
                        for k in ("event_key", "template", "user_id", "organisation_id", "reason", "context")
                    },
                    "channel": r["channel"].value,
                    "status": r["status"].value,
                    "not_before": r["not_before"].isoformat() if r["not_before"] else None,
                }
                for r in rows[i : i + 5000]
            ]
        )
        result = db.session.execute(_PG_INSERT, {"rows": payload, "at": rows[0]["created_at"]})
        found.extend(
            _Inserted(r.id, r.user_id, DeliveryStatus(r.status), r.reason, Channel(r.channel)) for r in result
        )
    return found


_PG_INSERT = sa.text("""
    INSERT INTO notification_deliveries (event_key, template, user_id, organisation_id, channel,
                                         status, reason, not_before, context, attempts, created_at)
    SELECT r.event_key, r.template, r.user_id, r.organisation_id, r.channel, r.status, r.reason,
           r.not_before, r.context, 0, :at
    FROM json_to_recordset(CAST(:rows AS json)) AS r(
        event_key varchar, template varchar, user_id integer, organisation_id integer,
        channel varchar, status varchar, reason varchar, not_before timestamptz, context json)
    ON CONFLICT (event_key, user_id, channel) DO NOTHING
    RETURNING id, user_id, status, reason, channel""")


@dataclass
class _Inserted:
    id: int
    user_id: int
    status: DeliveryStatus
    reason: str | None
    channel: Channel


def job_id(ids: list[int], suffix: str = "") -> str:
    """A stable RQ job id for sending these deliveries: queuing it twice runs it once."""
    digest = hashlib.sha1(",".join(map(str, sorted(ids))).encode()).hexdigest()[:24]
    return f"deliver-{digest}{suffix}"


def enqueue_sending(rows) -> None:
    """Queue the sending of delivery rows (with ``id``) for when the transaction commits.

    Every notify() of one transaction shares one job (stable id ``deliver-from-<first id>``), so
    a fan-out made of many small calls (one per pupil) still packs into few provider calls."""
    ids = [r.id for r in rows]
    if not ids:
        return
    session = db.session()
    pending = session.info.get(_PENDING)
    if pending is None:
        pending = session.info[_PENDING] = []
        enqueue_after_commit(SEND_JOB, pending, job_id=f"deliver-from-{ids[0]}", timeout=JOB_TIMEOUT)
    pending.extend(ids)


@sa.event.listens_for(Session, "after_commit")
def _sent_to_queue(session: Session) -> None:
    session.info.pop(_PENDING, None)  # app.core.jobs has queued the job with the list (registered first)


@sa.event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


# --- unsubscribe (P09) -------------------------------------------------------------------------


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="hometime-unsubscribe")


def unsubscribe_token(user_id: int, organisation_id: int | None) -> str:
    return _serializer().dumps([user_id, organisation_id])


def read_unsubscribe_token(token: str) -> tuple[int, int | None] | None:
    """The (person, school) an unsubscribe link was made for, or None if it is not ours."""
    try:
        user_id, organisation_id = _serializer().loads(token)
        return int(user_id), (int(organisation_id) if organisation_id is not None else None)
    except (BadSignature, ValueError, TypeError):
        return None


def unsubscribe_url(user_id: int, organisation_id: int | None) -> str:
    base = current_app.config["BASE_URL"].rstrip("/")
    return f"{base}/privacy/unsubscribe/{unsubscribe_token(user_id, organisation_id)}"


# --- failures, for the office ------------------------------------------------------------------


class FailedDelivery(NamedTuple):
    """What the office's page shows of a delivery that failed."""

    id: int
    template: str
    channel: Channel
    status: DeliveryStatus
    reason: str | None
    attempts: int
    created_at: datetime


def failed_deliveries(organisation_id: int, limit: int = 100) -> list[tuple[FailedDelivery, str | None]]:
    """The school's deliveries that failed, newest first: (delivery, recipient name) pairs."""
    rows = _failed_read().run({"organisation_id": organisation_id, "limit": limit})
    return [(FailedDelivery._make(row[:-1]), row[-1]) for row in rows]


@functools.cache
def _failed_read() -> DirectRead:
    """``failed_deliveries``'s statement, compiled once per process."""
    from app.models import User

    nd = NotificationDelivery
    return DirectRead(
        sa.select(nd.id, nd.template, nd.channel, nd.status, nd.reason, nd.attempts, nd.created_at, User.name)
        .outerjoin(User, User.id == nd.user_id)
        .where(
            nd.organisation_id == sa.bindparam("organisation_id", type_=sa.Integer),
            one_of(nd.status, (DeliveryStatus.FAILED, DeliveryStatus.BOUNCED)),
        )
        .order_by(nd.created_at.desc(), nd.id.desc())
        .limit(sa.bindparam("limit", type_=sa.Integer))
    )


def failed_job_count() -> int:
    """Background jobs that failed for good (RQ's failed-job registry), for the office."""
    from rq.registry import FailedJobRegistry

    from app.core.jobs import get_queue

    return FailedJobRegistry(queue=get_queue()).count


def failed_counts(organisation_id: int) -> dict[str, int]:
    """How many of the school's failed messages are emails and how many texts (one query)."""
    rows = db.session.execute(
        sa.select(NotificationDelivery.channel, sa.func.count())
        .where(
            NotificationDelivery.organisation_id == organisation_id,
            NotificationDelivery.status.in_([DeliveryStatus.FAILED, DeliveryStatus.BOUNCED]),
        )
        .group_by(NotificationDelivery.channel)
    ).all()
    found = {channel.value: count for channel, count in rows}
    return {"email": found.get("email", 0), "sms": found.get("sms", 0)}


def sms_costs(organisation_id: int, since: datetime) -> dict[str, int]:
    """The school's texts sent since ``since``: how many, how many SMS segments they took (what
    the provider charges for), and how many took more than one (one query)."""
    row = _sms_costs_read().run({"organisation_id": organisation_id, "since": since})[0]
    return {"texts": row[0], "segments": int(row[1] or 0), "longer": row[2]}


@functools.cache
def _sms_costs_read() -> DirectRead:
    """``sms_costs``'s statement, compiled once per process."""
    nd = NotificationDelivery
    return DirectRead(
        sa.select(
            sa.func.count(),
            sa.func.coalesce(sa.func.sum(nd.segments), 0),
            sa.func.count().filter(nd.segments > 1),
        ).where(
            nd.organisation_id == sa.bindparam("organisation_id", type_=sa.Integer),
            nd.channel == Channel.SMS,
            nd.status == DeliveryStatus.SENT,
            nd.sent_at >= sa.bindparam("since", type_=nd.sent_at.type),
        )
    )


def retry_deliveries(organisation_id: int, delivery_ids=None) -> int:
    """Put the school's failed deliveries (all, or those given) back in the queue and send them
    after the commit; the policy is applied again when they are sent. Returns how many. Committed."""
    query = (
        sa.update(NotificationDelivery)
        .where(
            NotificationDelivery.organisation_id == organisation_id,
            NotificationDelivery.status.in_([DeliveryStatus.FAILED, DeliveryStatus.BOUNCED]),
        )
        .values(status=DeliveryStatus.QUEUED, reason=None, not_before=None, attempts=0)
        .returning(NotificationDelivery.id, NotificationDelivery.channel)
    )
    if delivery_ids is not None:
        query = query.where(NotificationDelivery.id.in_([int(i) for i in delivery_ids]))
    with transaction():
        rows = db.session.execute(query).all()
        enqueue_sending(rows)
    return len(rows)
