"""Notification jobs: send deliveries, recover lost work, and the weekly digest.

- :func:`send_deliveries` takes delivery ids (queued by ``notifications.notify`` after the commit,
  with a stable job id); running it twice sends nothing twice (see ``app.messaging.delivery``).
- :func:`sweep_deliveries` (cron, every few minutes) marks rows left mid-send by a dead worker as
  "outcome unknown" and re-queues due rows whose job was lost (a Redis restart, a crash between
  the commit and the enqueue).
- :func:`send_weekly_digests` (cron, weekly) turns each person's collected messages into one email.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import sqlalchemy as sa

from app.core.extensions import db
from app.core.jobs import job
from app.messaging import delivery, policy
from app.messaging.notify import enqueue_sending, insert_deliveries
from app.models import Channel, DeliveryStatus
from app.models import NotificationDelivery as ND

log = logging.getLogger(__name__)
LOST_AFTER = timedelta(minutes=5)


@job
def send_deliveries(delivery_ids: list[int]) -> dict:
    """Send the due deliveries among ``delivery_ids``; schedule the rest for later."""
    return delivery.process(delivery_ids)


@job
def sweep_deliveries(limit: int = 20000) -> int:
    """Fail stale claims; queue again due deliveries nobody is sending. Returns rows re-queued."""
    delivery.fail_stale()
    at = policy.now()
    rows = db.session.execute(
        sa.select(ND.id, ND.channel)
        .where(
            ND.status == DeliveryStatus.QUEUED,
            delivery.claimable(),
            delivery.due(at),
            ND.created_at < at - LOST_AFTER,
        )
        .order_by(ND.id)
        .limit(limit)
    ).all()
    enqueue_sending(rows)
    db.session.commit()  # enqueues after the commit
    if rows:
        log.info("re-queued %s deliveries whose send job was lost", len(rows))
    return len(rows)


def week_key(at=None) -> str:
    year, week, _ = (at or policy.now()).isocalendar()
    return f"{year}-W{week:02d}"


@job
def send_weekly_digests() -> int:
    """One email per person and school with the week's collected messages. Idempotent: the
    digest is a delivery like any other (event ``digest:<week>:<school>``), and the messages it
    carries are moved into it in the same transaction. Returns how many digests were queued."""
    week = week_key()
    pending = db.session.execute(
        sa.select(ND.user_id, ND.organisation_id)
        .where(ND.status == DeliveryStatus.QUEUED, ND.reason == policy.DIGEST, ND.channel == Channel.EMAIL)
        .distinct()
    ).all()
    by_org: dict[int | None, list[int]] = {}
    for user_id, org_id in pending:
        if user_id is not None:  # an account deleted since (its rows keep no user) gets no digest
            by_org.setdefault(org_id, []).append(user_id)
    queued = []
    at = policy.now()
    for org_id, user_ids in by_org.items():
        people = policy.load_recipients(user_ids, org_id)
        rows = [
            {
                "event_key": f"digest:{week}:{org_id or 0}",
                "template": "digest",
                "user_id": uid,
                "organisation_id": org_id,
                "channel": Channel.EMAIL,
                "status": DeliveryStatus.QUEUED,
                "reason": None,
                "not_before": None,
                "context": {"_week": week, "_on_behalf": bool(people.get(uid) and people[uid].on_behalf)},
                "attempts": 0,
                "created_at": at,
            }
            for uid in user_ids
        ]
        inserted = insert_deliveries(rows)
        new_users = [r.user_id for r in inserted]
        if new_users:
            db.session.execute(
                sa.update(ND)
                .where(
                    ND.status == DeliveryStatus.QUEUED,
                    ND.reason == policy.DIGEST,
                    ND.channel == Channel.EMAIL,
                    ND.user_id.in_(new_users),
                    ND.organisation_id.is_(None) if org_id is None else ND.organisation_id == org_id,
                )
                .values(reason=f"in digest {week}")
            )
        queued.extend(inserted)
    enqueue_sending(queued)
    db.session.commit()
    log.info("weekly digest %s: %s digests queued", week, len(queued))
    return len(queued)
