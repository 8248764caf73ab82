"""Weekly-topic jobs: scheduled publishing, the families' messages and the mid-week reminder.

Each takes ids or plain values only and is safe to run twice (see app.learning.topic_notices).
``now`` may be given as an ISO date-time so a run can be replayed for a given moment.
"""

from __future__ import annotations

import logging
from datetime import datetime

from app.core.jobs import enqueue_now, job
from app.models import utcnow

log = logging.getLogger(__name__)


def _now(now: str | None) -> datetime:
    return datetime.fromisoformat(now) if now else utcnow()


@job
def publish_due_topics(now: str | None = None) -> list[int]:
    """Cron: publish every scheduled topic whose publish time has come."""
    from app.learning.topics import publish_due

    published = publish_due(_now(now))
    if published:
        log.info("published scheduled topics %s", published)
    return published


@job
def announce_topic(topic_id: int) -> int:
    """Tell the families of a published topic's classes (once per carer)."""
    from app.learning.topic_notices import announce

    return announce(topic_id)


@job
def send_due_reminders(now: str | None = None) -> list[int]:
    """Cron: queue the mid-week reminder of every topic whose reminder time has come."""
    from app.learning.topic_notices import due_reminders

    due = due_reminders(_now(now))
    for topic_id in due:
        enqueue_now(remind_topic, topic_id, job_id=f"topic-{topic_id}-reminder")
    return due


@job
def remind_topic(topic_id: int) -> int:
    """Remind the families who have not done any activity of the topic yet."""
    from app.learning.topic_notices import remind

    return remind(topic_id)


@job
def topic_schedule(now: str | None = None) -> dict:
    """Cron, every minute: publish the topics that are due, then queue the due reminders."""
    return {"published": publish_due_topics(now), "reminded": send_due_reminders(now)}
