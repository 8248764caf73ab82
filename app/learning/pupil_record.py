"""One child's weeks for the staff who may see them (the pupil page): each week's activities
with done and rating, the family's comments and photos, and the awards given that week.

Read in four queries whatever the number of weeks; Pupil Premium status is never loaded (P04)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from app.core.extensions import db
from app.learning.classroom import AWARD_LABELS
from app.models import (
    Award,
    Contribution,
    Engagement,
    Pupil,
    TopicActivity,
    TopicStatus,
    WeeklyTopic,
    topic_classes,
)

WEEKS = 12  # the page shows about a term


@dataclass
class Line:
    """One activity of a week: done or not, the rating, the family's comments and photos."""

    title: str
    topic: str
    done: bool = False
    rating: int | None = None
    contributions: list[Contribution] = field(default_factory=list)


@dataclass
class GivenAward:
    label: str
    note: str | None
    given_at: datetime


@dataclass
class Week:
    week_start: date
    lines: list[Line] = field(default_factory=list)
    awards: list[GivenAward] = field(default_factory=list)


def pupil_weeks(pupil: Pupil, today: date, tz: str = "Europe/London", weeks: int = WEEKS) -> list[Week]:
    """The last ``weeks`` weeks up to this one, newest first, that have something to show."""
    zone = ZoneInfo(tz or "Europe/London")
    this_monday = today - timedelta(days=today.weekday())
    since = this_monday - timedelta(weeks=weeks - 1)
    found: dict[date, Week] = {}
    lines: dict[int, Line] = {}  # by topic item

    def week(day: date) -> Week:
        return found.setdefault(day, Week(day))

    def line(item: TopicActivity, topic: WeeklyTopic) -> Line:
        if item.id not in lines:
            lines[item.id] = Line(item.activity.title, topic.title)
            week(topic.week_start).lines.append(lines[item.id])
        return lines[item.id]

    if pupil.class_id is not None:
        class_topics = db.session.scalars(
            _class_topics_statement(), {"class_id": pupil.class_id, "since": since, "until": this_monday}
        ).all()
        for topic in class_topics:
            for item in sorted(topic.items, key=lambda i: i.position):
                line(item, topic)
    # what the child did (also of a topic of an earlier class), with the family's contributions
    done = db.session.execute(
        _done_statement(), {"pupil": pupil.id, "since": since, "until": this_monday}
    ).all()
    for engagement, item, topic in done:
        entry = line(item, topic)
        entry.done, entry.rating = True, engagement.rating
        entry.contributions = sorted(engagement.contributions, key=lambda c: c.created_at)
    start = datetime.combine(since, time(0), tzinfo=zone)
    for award in db.session.scalars(_awards_statement(), {"pupil": pupil.id, "start": start}):
        local = award.created_at.astimezone(zone)
        monday = local.date() - timedelta(days=local.weekday())
        week(monday).awards.append(GivenAward(AWARD_LABELS[award.kind], award.note, local))
    return [found[d] for d in sorted(found, reverse=True)]


# The page's statements, built once per process with their values bound (building them cost
# about as much as running them).


def _weeks_between() -> sa.ColumnElement[bool]:
    return WeeklyTopic.week_start.between(
        sa.bindparam("since", type_=sa.Date), sa.bindparam("until", type_=sa.Date)
    )


@functools.cache
def _class_topics_statement() -> sa.Select:
    """The published topics of ``:class_id`` for the weeks from ``:since`` to ``:until``."""
    return (
        sa.select(WeeklyTopic)
        .join(topic_classes, topic_classes.c.topic_id == WeeklyTopic.id)
        .where(
            topic_classes.c.class_id == sa.bindparam("class_id", type_=sa.Integer),
            WeeklyTopic.status == TopicStatus.PUBLISHED,
            _weeks_between(),
        )
        .options(selectinload(WeeklyTopic.items).joinedload(TopicActivity.activity))
        .order_by(WeeklyTopic.week_start, WeeklyTopic.published_at, WeeklyTopic.id)
    )


@functools.cache
def _done_statement() -> sa.Select:
    """What ``:pupil`` did in those weeks, with the activity, its topic and the contributions."""
    return (
        sa.select(Engagement, TopicActivity, WeeklyTopic)
        .join(TopicActivity, TopicActivity.id == Engagement.topic_activity_id)
        .join(WeeklyTopic, WeeklyTopic.id == TopicActivity.topic_id)
        .where(Engagement.pupil_id == sa.bindparam("pupil", type_=sa.Integer), _weeks_between())
        .options(
            joinedload(TopicActivity.activity),
            selectinload(Engagement.contributions),
        )
        .order_by(WeeklyTopic.week_start, TopicActivity.position)
    )


@functools.cache
def _awards_statement() -> sa.Select:
    """``:pupil``'s awards given since ``:start``, oldest first."""
    return (
        sa.select(Award)
        .where(
            Award.pupil_id == sa.bindparam("pupil", type_=sa.Integer),
            Award.created_at >= sa.bindparam("start", type_=sa.DateTime(timezone=True)),
        )
        .order_by(Award.created_at)
    )
