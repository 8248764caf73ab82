"""Work whose job was lost, queued again (cron, every 5 minutes).

A job queued after a commit can be lost: Redis restarts without persistence (its queues are
gone), or Redis was down when the request committed (``app.core.jobs._flush_jobs`` logs it and lets
the commit stand). Messages have their own sweep (``notifications.sweep_deliveries``); this one
covers the other jobs queued after a commit, from what the database says was asked for and not
done, once RQ holds no job for it at all (a failed job stays in RQ's failed registry, for
people to look at, and is not retried forever from here):

- a published topic whose families were never told: published between ``LOST_AFTER`` and
  ``ANNOUNCE_WITHIN`` ago, its week not over, families in its classes, never marked announced
  (``announced_at``, set with the announcement's deliveries) and not one delivery recorded for
  its announcement. ``announce_topic`` again: it announces a topic once, however often it runs.
  Delivery records alone are not the proof: retention purges them (and a rehearsal ``--as-of`` a
  later day purges this week's), and that must never make an old topic look unannounced.
- an export still queued or building ``LOST_AFTER`` after it was asked for. ``build_export``
  again: a second build of one export keeps the first result.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from rq.job import Job

from app.core.extensions import db
from app.core.jobs import enqueue_now, job
from app.models import (
    DataExport,
    ExportState,
    Guardianship,
    Pupil,
    TopicStatus,
    WeeklyTopic,
    topic_classes,
    utcnow,
)
from app.models import (
    NotificationDelivery as ND,
)

log = logging.getLogger(__name__)
LOST_AFTER = timedelta(minutes=5)
ANNOUNCE_WITHIN = timedelta(days=2)  # later than that, "this week's activities" is not news


def _no_job(*job_ids: str) -> bool:
    """RQ has no job under any of these ids: not queued, running, scheduled, failed or done."""
    from app.core.redis_conn import get_redis

    return all(j is None for j in Job.fetch_many(job_ids, connection=get_redis()))


def unannounced_topics(at: datetime) -> list[int]:
    """Published topics whose families have not been told (see the module's docstring)."""
    event = sa.literal("topic:") + sa.cast(WeeklyTopic.id, sa.String) + sa.literal(":published")
    told = sa.select(ND.id).where(ND.event_key == event)  # as app.learning.topic_notices names it
    families = (
        sa.select(Pupil.id)
        .join(topic_classes, topic_classes.c.class_id == Pupil.class_id)
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .where(
            topic_classes.c.topic_id == WeeklyTopic.id,
            Pupil.removed_at.is_(None),
            Pupil.erased_at.is_(None),
            Guardianship.removed_at.is_(None),
        )
    )
    return list(
        db.session.scalars(
            sa.select(WeeklyTopic.id)
            .where(
                WeeklyTopic.status == TopicStatus.PUBLISHED,
                WeeklyTopic.announced_at.is_(None),
                WeeklyTopic.published_at <= at - LOST_AFTER,
                WeeklyTopic.published_at > at - ANNOUNCE_WITHIN,
                WeeklyTopic.week_start > (at - timedelta(days=7)).date(),
                ~sa.exists(told),
                sa.exists(families),
            )
            .order_by(WeeklyTopic.id)
        )
    )


def unbuilt_exports(at: datetime) -> list[int]:
    """Exports still waiting to be built (or left mid-build) ``LOST_AFTER`` after the ask."""
    return list(
        db.session.scalars(
            sa.select(DataExport.id)
            .where(
                DataExport.state.in_([ExportState.QUEUED, ExportState.BUILDING]),
                DataExport.created_at <= at - LOST_AFTER,
            )
            .order_by(DataExport.id)
        )
    )


@job
def requeue_lost_jobs(now: str | None = None) -> dict[str, list[int]]:
    """Cron, every 5 minutes: queue again the topic announcements and export builds whose job
    was lost (a Redis restart, Redis down at the commit). ``now`` (an ISO date-time with its
    offset) replays a given moment. Returns the topic and export ids queued again."""
    from app.dataprotection.exports.jobs import build_export
    from app.learning.jobs import announce_topic

    at = datetime.fromisoformat(now) if now else utcnow()
    topics, exports = unannounced_topics(at), unbuilt_exports(at)
    db.session.rollback()  # read only; end the transaction before talking to Redis
    topics = [t for t in topics if _no_job(f"topic-{t}-announce")]
    exports = [e for e in exports if _no_job(f"export-{e}", f"export-{e}-rebuild")]
    for topic_id in topics:
        enqueue_now(announce_topic, topic_id, job_id=f"topic-{topic_id}-announce")
    for export_id in exports:
        enqueue_now(build_export, export_id, job_id=f"export-{export_id}")
    if topics or exports:
        log.warning(
            "queued again after their job was lost: announcements of topics %s, builds of exports %s",
            topics,
            exports,
        )
    return {"topics": topics, "exports": exports}
