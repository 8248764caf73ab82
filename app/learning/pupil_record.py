"""One child's weeks for the staff who may see them (the pupil page): each week's activities
with done and rating, the family's comments and photos, and the awards given that week.

Read in three queries whatever the number of weeks; Pupil Premium status is never loaded (P04)."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from app.core.direct_reads import DirectRead
from app.learning.classroom import AWARD_LABELS
from app.models import (
    Activity,
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


class Shown(NamedTuple):
    """A family's comment or photo as the pupil page shows it."""

    id: int
    body: str | None
    photo_key: str | None
    hidden_at: datetime | None


@dataclass
class Line:
    """One activity of a week: done or not, the rating, the family's comments and photos."""

    title: str
    topic: str
    done: bool = False
    rating: int | None = None
    contributions: list[Shown] = field(default_factory=list)


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

    def line(item_id: int, title: str, topic: str, week_start: date) -> Line:
        if item_id not in lines:
            lines[item_id] = Line(title, topic)
            week(week_start).lines.append(lines[item_id])
        return lines[item_id]

    between = {"since": since, "until": this_monday}
    if pupil.class_id is not None:
        for item_id, title, topic, week_start in _class_lines_read().run(
            {"class_id": pupil.class_id, **between}
        ):
            line(item_id, title, topic, week_start)
    # what the child did (also of a topic of an earlier class), with the family's contributions
    for item_id, title, topic, week_start, rating, *shown in _done_read().run({"pupil": pupil.id, **between}):
        entry = line(item_id, title, topic, week_start)
        entry.done, entry.rating = True, rating
        if shown[0] is not None:
            entry.contributions.append(Shown._make(shown))
    start = datetime.combine(since, time(0), tzinfo=zone)
    for kind, note, created_at in _awards_read().run({"pupil": pupil.id, "start": start}):
        local = created_at.astimezone(zone)
        monday = local.date() - timedelta(days=local.weekday())
        week(monday).awards.append(GivenAward(AWARD_LABELS[kind], note, local))
    return [found[d] for d in sorted(found, reverse=True)]


# The page's statements, built and compiled once per process with their values bound, read as
# rows of the columns the page shows: three queries whatever the number of weeks.


def _weeks_between() -> sa.ColumnElement[bool]:
    return WeeklyTopic.week_start.between(
        sa.bindparam("since", type_=sa.Date), sa.bindparam("until", type_=sa.Date)
    )


def _lines(query: sa.Select) -> sa.Select:
    """A line's columns (the topic item, its activity's title, the topic and its week) from
    ``query``, which reads the topic items."""
    return query.add_columns(
        TopicActivity.id, Activity.title, WeeklyTopic.title, WeeklyTopic.week_start
    ).join(Activity, Activity.id == TopicActivity.activity_id)


@functools.cache
def _class_lines_read() -> DirectRead:
    """The activities of ``:class_id``'s published topics for the weeks from ``:since`` to
    ``:until``, each topic's in order."""
    return DirectRead(
        _lines(
            sa.select()
            .select_from(WeeklyTopic)
            .join(topic_classes, topic_classes.c.topic_id == WeeklyTopic.id)
            .join(TopicActivity, TopicActivity.topic_id == WeeklyTopic.id)
        )
        .where(
            topic_classes.c.class_id == sa.bindparam("class_id", type_=sa.Integer),
            WeeklyTopic.status == TopicStatus.PUBLISHED,
            _weeks_between(),
        )
        .order_by(WeeklyTopic.week_start, WeeklyTopic.published_at, WeeklyTopic.id, TopicActivity.position)
    )


@functools.cache
def _done_read() -> DirectRead:
    """What ``:pupil`` did in those weeks, with the rating and one row per contribution (the
    contribution's columns are None when there is none), oldest contribution first."""
    return DirectRead(
        _lines(
            sa.select()
            .select_from(Engagement)
            .join(TopicActivity, TopicActivity.id == Engagement.topic_activity_id)
            .join(WeeklyTopic, WeeklyTopic.id == TopicActivity.topic_id)
        )
        .add_columns(Engagement.rating, *(getattr(Contribution, name) for name in Shown._fields))
        .outerjoin(Contribution, Contribution.engagement_id == Engagement.id)
        .where(Engagement.pupil_id == sa.bindparam("pupil", type_=sa.Integer), _weeks_between())
        .order_by(WeeklyTopic.week_start, TopicActivity.position, Contribution.created_at, Contribution.id)
    )


@functools.cache
def _awards_read() -> DirectRead:
    """``:pupil``'s awards given since ``:start``, oldest first."""
    return DirectRead(
        sa.select(Award.kind, Award.note, Award.created_at)
        .where(
            Award.pupil_id == sa.bindparam("pupil", type_=sa.Integer),
            Award.created_at >= sa.bindparam("start", type_=sa.DateTime(timezone=True)),
        )
        .order_by(Award.created_at)
    )
