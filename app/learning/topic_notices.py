"""Telling families about a published topic, and the mid-week reminder (job side).

Both are idempotent: the topic's status is checked first, and the notification service keeps at
most one delivery per (event, carer, channel), so running a job twice never sends twice.
Carers of children still in the class are considered; the notification service's delivery policy
then leaves out (and records why) anyone who may not be contacted: "no contact" links, restricted
children or carers (P25), closed accounts.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from app.core.extensions import db
from app.learning.topics import REMINDER_TIME
from app.models import (
    Engagement,
    Guardianship,
    Organisation,
    Pupil,
    TopicActivity,
    TopicStatus,
    WeeklyTopic,
    topic_classes,
    utcnow,
)

_REMINDED = "hometime:topic-reminded:{}"


def _families(topic_id: int, *, only_not_started: bool = False) -> dict[int, list[int]]:
    """Carer ids per child in the topic's classes (optionally: only children who have done
    nothing yet)."""
    query = (
        sa.select(Pupil.id, Guardianship.parent_id)
        .join(topic_classes, topic_classes.c.class_id == Pupil.class_id)
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .where(
            topic_classes.c.topic_id == topic_id,
            Pupil.removed_at.is_(None),
            Pupil.erased_at.is_(None),
            Guardianship.removed_at.is_(None),
        )
        .order_by(Pupil.id, Guardianship.parent_id)
    )
    if only_not_started:
        done = (
            sa.select(Engagement.id)
            .join(TopicActivity, TopicActivity.id == Engagement.topic_activity_id)
            .where(TopicActivity.topic_id == topic_id, Engagement.pupil_id == Pupil.id)
        )
        query = query.where(~sa.exists(done))
    families: dict[int, list[int]] = defaultdict(list)
    for pupil_id, parent_id in db.session.execute(query):
        families[pupil_id].append(parent_id)
    return families


def _context(topic: WeeklyTopic, pupil_id: int) -> dict:
    """Ids only: the message templates get ``topic`` and ``pupil`` from them."""
    return {"topic_id": topic.id, "pupil_id": pupil_id}


def announce(topic_id: int) -> int:
    """Tell every family of the topic's classes "This week's activities for <child>"; commit and
    return how many messages were queued. A topic that is not published, or was announced
    already, sends nothing: ``announced_at`` is set in the same transaction as the deliveries,
    so a topic is announced once even after its delivery records are purged."""
    from app.messaging.notify import notify

    topic = db.session.get(WeeklyTopic, topic_id, with_for_update=True, populate_existing=True)
    if topic is None or topic.status is not TopicStatus.PUBLISHED or topic.announced_at:
        db.session.rollback()
        return 0
    queued = 0
    for pupil_id, parent_ids in _families(topic_id).items():
        queued += notify(
            "topic_published",
            event_key=f"topic:{topic_id}:published",
            user_ids=parent_ids,
            organisation_id=topic.organisation_id,
            pupil_id=pupil_id,
            context=_context(topic, pupil_id),
        )
    topic.announced_at = utcnow()
    db.session.commit()
    return queued


def reminder_at(topic: WeeklyTopic, org: Organisation) -> datetime:
    """When the topic's mid-week reminder is due (UTC): the school's reminder weekday, after
    school, in the school's time zone."""
    day = topic.week_start + timedelta(days=org.reminder_weekday)
    local = datetime.combine(day, REMINDER_TIME, tzinfo=ZoneInfo(org.timezone or "Europe/London"))
    return local.astimezone(ZoneInfo("UTC"))


def _week_end(topic: WeeklyTopic, org: Organisation) -> datetime:
    local = datetime.combine(
        topic.week_start + timedelta(days=7),
        datetime.min.time(),
        tzinfo=ZoneInfo(org.timezone or "Europe/London"),
    )
    return local.astimezone(ZoneInfo("UTC"))


def _redis():
    from app.core.redis_conn import get_redis

    return get_redis(current_app)


def due_reminders(now: datetime) -> list[int]:
    """Ids of published topics whose reminder time has passed this week and that have not been
    reminded yet. A topic published after its reminder time gets no reminder."""
    rows = db.session.execute(
        sa.select(WeeklyTopic, Organisation)
        .join(Organisation, Organisation.id == WeeklyTopic.organisation_id)
        .where(
            WeeklyTopic.status == TopicStatus.PUBLISHED,
            WeeklyTopic.week_start >= (now - timedelta(days=8)).date(),
            WeeklyTopic.week_start <= (now + timedelta(days=1)).date(),
        )
    ).all()
    redis = _redis()
    due = []
    for topic, org in rows:
        at = reminder_at(topic, org)
        if (
            at <= now < _week_end(topic, org)
            and topic.published_at
            and topic.published_at < at
            and not redis.exists(_REMINDED.format(topic.id))
        ):
            due.append(topic.id)
    return due


def remind(topic_id: int) -> int:
    """Remind the families who have not done any of the topic's activities yet; commit and
    return how many messages were queued."""
    from app.messaging.notify import notify

    topic = db.session.get(WeeklyTopic, topic_id)
    if topic is None or topic.status is not TopicStatus.PUBLISHED:
        return 0
    queued = 0
    for pupil_id, parent_ids in _families(topic_id, only_not_started=True).items():
        queued += notify(
            "topic_reminder",
            event_key=f"topic:{topic_id}:reminder",
            user_ids=parent_ids,
            organisation_id=topic.organisation_id,
            pupil_id=pupil_id,
            context=_context(topic, pupil_id),
        )
    db.session.commit()
    _redis().set(_REMINDED.format(topic_id), "1", ex=60 * 60 * 24 * 10)
    return queued
