"""First-party usage (P05): what a family opened, played or did, recorded by Hometime itself.

Only the minimum is kept: who (the signed-in carer), which child when known, which activity,
what happened and when. No address, no browser details, no third party: pages load nothing
from other sites, and an outside link (a game) goes through our own ``open`` route, which
records the event and then redirects.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.core.extensions import db
from app.models import (
    Activity,
    Guardianship,
    Pupil,
    TopicActivity,
    TopicStatus,
    UsageEvent,
    UsageKind,
    User,
    WeeklyTopic,
    topic_classes,
)


def record(
    kind: UsageKind, *, user_id: int | None, pupil_id: int | None = None, activity_id: int | None = None
) -> UsageEvent:
    """Add one usage event to the session (the caller commits)."""
    event = UsageEvent(kind=kind, user_id=user_id, pupil_id=pupil_id, activity_id=activity_id)
    db.session.add(event)
    return event


def item_for_parent(user: User, item_id: int) -> TopicActivity | None:
    """A topic's activity, if it is in a published topic for the class of a child linked to
    ``user``; None otherwise (another family's, a draft's, or no such activity)."""
    shared = (
        sa.select(Pupil.id)
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .join(topic_classes, topic_classes.c.class_id == Pupil.class_id)
        .where(
            topic_classes.c.topic_id == TopicActivity.topic_id,
            Guardianship.parent_id == user.id,
            Guardianship.removed_at.is_(None),
            Pupil.erased_at.is_(None),
        )
    )
    return db.session.scalar(
        sa.select(TopicActivity)
        .join(WeeklyTopic, WeeklyTopic.id == TopicActivity.topic_id)
        .where(TopicActivity.id == item_id, WeeklyTopic.status == TopicStatus.PUBLISHED, sa.exists(shared))
    )


def open_activity(user: User, item: TopicActivity) -> Activity:
    """Record that ``user`` opened the activity behind ``item`` (committed); return it."""
    record(UsageKind.ACTIVITY_OPENED, user_id=user.id, activity_id=item.activity_id)
    db.session.commit()
    return db.session.get_one(Activity, item.activity_id)
