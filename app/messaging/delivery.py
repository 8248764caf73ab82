"""Sending queued deliveries: claim first, call the provider, record the outcome at once.

Exactly-once, as far as a provider without idempotency keys allows:
1. **Claim**: one UPDATE marks the due, queued rows of the next chunk "sending <time>"
   (attempts + 1) and commits. Only rows this UPDATE returned are sent, so two jobs (a retried
   job, a duplicate) never send the same row: a row already sent, failed, suppressed or being sent
   is never claimed again.
2. **Send** one provider call per batch (SendGrid: up to 1,000 recipients, contents that differ
   per recipient carried in substitutions; Twilio: one SMS).
3. **Record** right after the call, in its own commit: sent (with the provider's message id),
   failed with the reason (other 4xx: never retried), or back in the queue with ``not_before``
   for 429/5xx/connection refused (honouring Retry-After, else backing off), up to MAX_ATTEMPTS.

The remaining window, stated honestly: if the worker dies after the provider accepted a batch and
before step 3 commits, or the provider's reply never arrives (a read timeout), we cannot know
whether the message went out. Those rows are **not** resent automatically (at-most-once): they
stay "sending" and, once older than STALE_AFTER, are marked failed "outcome unknown", which the
office sees with a retry button. Everything else is at-least-once with no duplicates.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from datetime import timedelta
from functools import partial

import sqlalchemy as sa

from app.core import i18n
from app.core.bulk import rows_changed
from app.core.extensions import db
from app.messaging import compose, policy, providers, sms_text
from app.messaging.notify import JOB_TIMEOUT, SEND_JOB, job_id
from app.models import Channel, DeliveryStatus, Organisation, Pupil
from app.models import NotificationDelivery as ND

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
BACKOFF = [60, 300, 900, 3600]  # seconds before attempts 2, 3, 4, 5
MAX_WAIT = 24 * 3600
CLAIM = 1000  # rows claimed (and at most one SendGrid call's worth) at a time
SHARED_MIN = 20  # a content shared by this many recipients is sent as one content with tags
TIME_BUDGET = 240  # seconds of sending before the job hands the rest to a follow-up job
STALE_AFTER = timedelta(minutes=30)  # longer than a send job's timeout
UNKNOWN = "outcome unknown: sending was interrupted; not resent automatically"


def _stamp(at) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def claimable():
    return sa.or_(ND.reason.is_(None), ND.reason == policy.QUIET, ND.reason.like("retry %"))


def due(at):
    return sa.or_(ND.not_before.is_(None), ND.not_before <= at)


def fail_stale(ids=None) -> int:
    """Mark rows claimed long ago and never resolved (a worker died) failed, outcome unknown."""
    cutoff = policy.SENDING + _stamp(policy.now() - STALE_AFTER)
    query = (
        sa.update(ND)
        .where(ND.status == DeliveryStatus.QUEUED, ND.reason.like(policy.SENDING + "%"), ND.reason < cutoff)
        .values(status=DeliveryStatus.FAILED, reason=UNKNOWN)
    )
    if ids is not None:
        query = query.where(policy.in_ids(ND.id, ids))
    count = rows_changed(query)
    db.session.commit()
    if count:
        log.warning("%s deliveries left mid-send by a stopped worker: marked outcome unknown", count)
    return count


def claim(ids) -> list[int]:
    """Atomically mark the due, queued rows among ``ids`` as being sent by this job."""
    at = policy.now()
    claimed = db.session.scalars(
        sa.update(ND)
        .where(policy.in_ids(ND.id, ids), ND.status == DeliveryStatus.QUEUED, claimable(), due(at))
        .values(reason=policy.SENDING + _stamp(at), attempts=ND.attempts + 1)
        .returning(ND.id)
    ).all()
    db.session.commit()
    return sorted(claimed)


def process(ids) -> dict:
    """The send job: send what is due among ``ids`` chunk by chunk; schedule what is waiting."""
    ids = sorted({int(i) for i in ids})
    fail_stale(ids)
    counts: dict = defaultdict(int)
    started = time.monotonic()
    for i in range(0, len(ids), CLAIM):
        if time.monotonic() - started > TIME_BUDGET:
            _follow_up(ids[i:], None, "-more")
            break
        claimed = claim(ids[i : i + CLAIM])
        touched: set[int] = set()  # rows handed to a provider: never given back
        try:
            if claimed:
                _send_chunk(claimed, counts, touched)
        except Exception:
            db.session.rollback()
            _release([c for c in claimed if c not in touched])
            raise
    schedule_later(ids)
    log.info("send job: %s deliveries, outcome %s", len(ids), dict(counts))
    if counts.get("prepare_errors"):  # to RQ's failed registry too, after sending the rest
        raise RuntimeError(f"{counts['prepare_errors']} message(s) could not be prepared")
    return dict(counts)


def _release(ids) -> None:
    """Give back rows no provider saw, after an unexpected error (RQ then retries the job)."""
    if ids:
        db.session.execute(
            sa.update(ND)
            .where(
                policy.in_ids(ND.id, ids),
                ND.status == DeliveryStatus.QUEUED,
                ND.reason.like(policy.SENDING + "%"),
            )
            .values(reason=None)
        )
        db.session.commit()


def _finish(ids, counts, status: DeliveryStatus, reason=None, provider_id=None) -> None:
    values = {"status": status, "reason": reason and reason[:200]}
    if status is DeliveryStatus.SENT:
        values.update(sent_at=policy.now(), provider_id=provider_id and provider_id[:80])
    db.session.execute(sa.update(ND).where(policy.in_ids(ND.id, ids)).values(**values))
    _digest_items(ids, status, reason, provider_id)
    counts[status.value] += len(ids)


def _send_chunk(claimed, counts, touched) -> None:
    rows = db.session.execute(
        sa.select(ND.id, ND.user_id, ND.template, ND.organisation_id, ND.channel, ND.context)
        .where(policy.in_ids(ND.id, claimed))
        .order_by(ND.id)
    ).all()
    groups = _still_allowed(rows, counts)
    if not groups:
        return
    # Compose every batch before the first call: the commit after each call expires records.
    loaded = compose.preload(rows)  # noqa: F841 (keeps the records in the identity map)
    shared_batches: list[providers.EmailBatch] = []
    singles: defaultdict[str, list[tuple]] = defaultdict(list)  # by sender name
    texts: list[tuple[int, str, str]] = []  # (delivery id, mobile, text)
    failed: list[tuple[int, str]] = []  # (delivery id, reason)
    for ready in groups.values():
        first = ready[0][0]
        try:
            compose.compose_group(ready, shared_batches, singles, texts, failed, SHARED_MIN)
        except Exception as exc:  # a broken template: these rows fail visibly, the rest go
            log.exception("could not prepare %s", first.template)
            _finish(
                [row.id for row, _ in ready],
                counts,
                DeliveryStatus.FAILED,
                f"could not prepare the message ({type(exc).__name__}); see the worker log",
            )
            counts["prepare_errors"] += 1
    for row_id, reason in failed:
        _finish([row_id], counts, DeliveryStatus.FAILED, reason)
    batches = shared_batches + [
        b for items in singles.values() for b in compose.email_batches(None, items, compose.mail_from())
    ]
    for row_id, _mobile, text in texts:  # what each text costs, for the office
        db.session.execute(sa.update(ND).where(ND.id == row_id).values(segments=sms_text.info(text).segments))
    db.session.commit()
    if batches:
        mail = providers.backend(Channel.EMAIL)
        for email in batches:
            refs = [int(r.ref) for r in email.recipients if r.ref is not None]
            _call(partial(mail.send_email, email), refs, counts, touched)
    if texts:
        sms = providers.backend(Channel.SMS)
        schools = {row.id: row.organisation_id for row in rows}
        for row_id, mobile, text in texts:
            _call(
                partial(sms.send_sms, mobile, text, organisation_id=schools.get(row_id)),
                [row_id],
                counts,
                touched,
            )


def _still_allowed(rows, counts) -> dict:
    """The policy again at sending time (an account may have closed since notify()), for the
    whole chunk at once; returns the rows still to send, grouped by content."""
    people = policy.load_people({r.user_id for r in rows if r.user_id})
    pupil_ids = {(r.context or {}).get("_pupil_id") for r in rows} - {None}
    pupils = {
        p.id: p
        for p in db.session.execute(
            sa.select(Pupil.id, Pupil.restricted_at, Pupil.erased_at).where(
                policy.in_ids(Pupil.id, pupil_ids)
            )
        )
    }
    zones = {
        org_id: policy.zone(org)
        for org_id, org in (
            (
                r.organisation_id,
                db.session.get(Organisation, r.organisation_id) if r.organisation_id else None,
            )
            for r in rows
            if r.channel is Channel.SMS
        )
    }
    groups, suppressed, at = defaultdict(list), defaultdict(list), policy.now()
    for row in rows:
        ctx = row.context or {}
        person = people.get(row.user_id)
        if person is None:
            suppressed["account deleted"].append(row.id)
            continue
        person = policy.scoped(person, row.organisation_id, ctx.get("_pupil_id"))
        blocked = policy.pupil_block(pupils.get(ctx.get("_pupil_id")))
        reason = policy.suppression(
            person,
            optional=bool(ctx.get("_optional")),
            blocked=blocked,
            template=row.template,
            decided=True,
        ) or policy.channel_problem(person, row.channel, row.template)
        if reason:
            suppressed[reason].append(row.id)
            continue
        hold = row.channel is Channel.SMS and policy.quiet_hold(
            at, zones[row.organisation_id], person.quiet_from, person.quiet_until
        )
        if hold:  # a retry or a late job reached the night: wait for the morning again
            db.session.execute(
                sa.update(ND).where(ND.id == row.id).values(reason=policy.QUIET, not_before=hold)
            )
            continue
        key: tuple = (
            row.channel,
            row.template,
            row.organisation_id,
            json.dumps(ctx, sort_keys=True),
            i18n.language(person.language).code,  # each group is written in one language
        )
        if row.template == compose.DIGEST_TEMPLATE:
            key += (row.user_id,)
        groups[key].append((row, person))
    for reason, ids in suppressed.items():
        _finish(ids, counts, DeliveryStatus.SUPPRESSED, reason)
    db.session.commit()
    return groups


def _call(send, ids, counts, touched: set[int]) -> None:
    """One provider call, its outcome committed straight after it."""
    touched.update(ids)
    try:
        provider_id = send()
    except providers.ProviderError as exc:
        db.session.rollback()
        if exc.ambiguous:
            _finish(
                ids,
                counts,
                DeliveryStatus.FAILED,
                f"{exc}; may have been delivered, not resent automatically",
            )
        elif exc.retryable:
            _retry_later(ids, exc, counts)
        else:
            _finish(ids, counts, DeliveryStatus.FAILED, str(exc))
        db.session.commit()
        return
    _finish(ids, counts, DeliveryStatus.SENT, None, provider_id)
    db.session.commit()


def _retry_later(ids, exc: providers.ProviderError, counts) -> None:
    at = policy.now()
    for row_id, attempts in db.session.execute(
        sa.select(ND.id, ND.attempts).where(policy.in_ids(ND.id, ids))
    ):
        if attempts >= MAX_ATTEMPTS:
            _finish([row_id], counts, DeliveryStatus.FAILED, f"gave up after {attempts} attempts: {exc}")
            continue
        wait = exc.retry_after if exc.retry_after is not None else BACKOFF[min(attempts, len(BACKOFF)) - 1]
        db.session.execute(
            sa.update(ND)
            .where(ND.id == row_id)
            .values(
                reason=f"{policy.RETRY}{attempts}: {exc}"[:200],
                not_before=at + timedelta(seconds=min(max(wait, 1), MAX_WAIT)),
            )
        )
        counts["retry"] += 1


def _digest_items(ids, status, reason, provider_id) -> None:
    """A weekly digest's outcome is the outcome of the messages it carries."""
    digests = db.session.execute(
        sa.select(ND.user_id, ND.organisation_id, ND.context).where(
            policy.in_ids(ND.id, ids), ND.template == compose.DIGEST_TEMPLATE
        )
    ).all()
    for user_id, org_id, ctx in digests:
        week = (ctx or {}).get("_week")
        values = {"status": status, "reason": reason or f"sent in digest {week}"}
        if status is DeliveryStatus.SENT:
            values.update(sent_at=policy.now(), provider_id=provider_id and provider_id[:80])
        if status in (DeliveryStatus.SENT, DeliveryStatus.SUPPRESSED):
            db.session.execute(
                sa.update(ND)
                .where(
                    ND.user_id == user_id,
                    ND.status == DeliveryStatus.QUEUED,
                    ND.organisation_id == org_id,
                    ND.reason == f"in digest {week}",
                )
                .values(**values)
            )


def schedule_later(ids) -> None:
    """Queue a follow-up job for rows among ``ids`` that are waiting (quiet hours, a retry)."""
    at = policy.now()
    waiting = db.session.execute(
        sa.select(ND.id, ND.not_before).where(
            policy.in_ids(ND.id, ids), ND.status == DeliveryStatus.QUEUED, claimable(), ND.not_before > at
        )
    ).all()
    db.session.commit()
    if waiting:
        when = min(nb for _, nb in waiting if nb is not None)  # all set: not_before > at
        _follow_up(sorted(i for i, _ in waiting), when, f"-at{int(when.timestamp())}")


def _follow_up(ids, when, suffix: str) -> None:
    from app.core.jobs import DEFAULT_RETRY, get_queue

    queue = get_queue()
    jid = job_id(ids, suffix)
    existing = queue.fetch_job(jid)
    if existing is not None and existing.get_status(refresh=True) in ("scheduled", "queued"):
        return
    options = {
        "job_id": jid,
        "job_timeout": JOB_TIMEOUT,
        "retry": DEFAULT_RETRY,
        "failure_ttl": 30 * 24 * 3600,
    }
    if when is None:
        queue.enqueue(SEND_JOB, ids, **options)
    else:
        queue.enqueue_at(when, SEND_JOB, ids, **options)
