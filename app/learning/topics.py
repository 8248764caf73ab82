"""Weekly topics: plan, reorder, publish (now or scheduled), copy; and the families' messages.

Every change to a topic claims its ``version`` first (an atomic ``UPDATE ... WHERE version = :v``),
so when two teachers edit one topic the second, stale save is refused and nothing is overwritten.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import attributes

from app.core.authz import record_scope, taught_by
from app.core.bulk import rows_changed
from app.core.direct_reads import DirectRead, loaded
from app.core.errors import FieldError
from app.core.extensions import db
from app.models import (
    Activity,
    Organisation,
    SchoolClass,
    TopicActivity,
    TopicStatus,
    User,
    WeeklyTopic,
    bound_list,
    topic_classes,
    utcnow,
)

REMINDER_TIME = time(16, 0)  # after school, in the school's own time zone
DEFAULT_TIMEZONE = "Europe/London"  # a school that has set none


class TopicError(FieldError):
    """Input the planner refuses; ``field`` names the form field the message belongs to."""


class StaleTopic(Exception):
    """Someone else changed the topic since this form was loaded."""


def academic_year(day: date) -> int:
    """The academic year a day falls in, named by the year it starts (2026 for 2026-27)."""
    return day.year if day.month >= 9 else day.year - 1


class InTimeZone(Protocol):
    """A school, or what a page read of one: its time zone (None: Europe/London)."""

    @property
    def timezone(self) -> str | None: ...


def school_today(org: InTimeZone) -> date:
    """Today in the school's time zone."""
    return datetime.now(ZoneInfo(org.timezone or DEFAULT_TIMEZONE)).date()


def monday_of(day: date) -> date:
    """The Monday of the week ``day`` is in."""
    return day - timedelta(days=day.weekday())


def check_monday(day: date | None) -> date:
    """A topic's week is named by its Monday; anything else is refused with a clear message."""
    if day is None:
        raise TopicError("week_start", "Please choose the Monday the topic starts.")
    if day.weekday() != 0:
        raise TopicError(
            "week_start",
            f"{day:%A %-d %B %Y} is not a Monday. Please choose the "
            f"Monday of that week ({monday_of(day):%-d %B}).",
        )
    return day


USUAL_PUBLISH = time(8, 0)  # Monday 08:00 school time, when a school has set no other time


def usual_publish_time(org: Organisation, week_start: date) -> datetime | None:
    """When families usually get a week's topic: its Monday at 08:00, school time (naive, as the
    form shows it); None when that moment has passed (then "now" is the sensible choice)."""
    when = datetime.combine(week_start, USUAL_PUBLISH)
    now = datetime.now(ZoneInfo(org.timezone or DEFAULT_TIMEZONE)).replace(tzinfo=None)
    return when if when > now else None


def next_free_week(class_ids: list[int], start: date) -> date:
    """The first Monday from ``start`` on which none of these classes has a topic yet."""
    taken = set(_taken_weeks_read().scalars({"classes": list(class_ids), "start": start}))
    week = start
    while week in taken:
        week += timedelta(days=7)
    return week


@functools.cache
def _taken_weeks_read() -> DirectRead:
    """The weeks from ``:start`` on that have a topic for one of ``:classes`` (one array); built
    once per process, read directly."""
    return DirectRead(
        sa.select(WeeklyTopic.week_start)
        .join(topic_classes, topic_classes.c.topic_id == WeeklyTopic.id)
        .where(
            topic_classes.c.class_id == sa.any_(bound_list("classes", sa.Integer)),
            WeeklyTopic.week_start >= sa.bindparam("start", type_=sa.Date),
        )
    )


def local_to_utc(org: Organisation, value: datetime) -> datetime:
    """A naive date-time typed in the school's time zone, as UTC."""
    return value.replace(tzinfo=ZoneInfo(org.timezone or DEFAULT_TIMEZONE)).astimezone(ZoneInfo("UTC"))


# --- scope (P12) ------------------------------------------------------------------------------


def with_items(query: sa.Select) -> sa.Select:
    """``query`` (of topics) with each topic's activities and their library activities as its
    last two columns (outer-joined: None for a topic without any), in order; for a direct read,
    whose rows ``items_loaded`` turns back into topics."""
    return (
        query.add_columns(TopicActivity, Activity)
        .outerjoin(TopicActivity, TopicActivity.topic_id == WeeklyTopic.id)
        .outerjoin(Activity, Activity.id == TopicActivity.activity_id)
        .order_by(TopicActivity.position, TopicActivity.id)
    )


def items_loaded(rows: Sequence[tuple]) -> list[WeeklyTopic]:
    """The topics of rows read with ``with_items`` (the topic first), once each and in order,
    each with its activities set as loaded, and theirs with their library activity: what the
    ORM's joined loads give, without building their statement."""
    found: dict[WeeklyTopic, dict[TopicActivity, None]] = {}
    for row in rows:
        topic, item, activity = row[0], row[-2], row[-1]
        items = found.setdefault(topic, {})
        if item is not None and item not in items:
            items[item] = None
            loaded(item, "activity", activity)
            loaded(item, "topic", topic)
    for topic, items in found.items():
        loaded(topic, "items", list(items))
    return list(found)


@functools.cache
def visible_topics() -> sa.Select:
    """Topics a member of staff may see and edit, asked of each topic's school: every topic of a
    school where they are office or DPO; elsewhere, those for at least one class they teach.
    Built once per process: run it with ``authz.scope_params(user)``."""
    mine = sa.select(topic_classes.c.topic_id).where(
        topic_classes.c.topic_id == WeeklyTopic.id, taught_by(topic_classes.c.class_id)
    )
    return sa.select(WeeklyTopic).where(record_scope(WeeklyTopic.organisation_id, sa.exists(mine)))


@functools.cache
def earlier_years_topics() -> sa.Select:
    """Published topics of earlier academic years for some year groups (to copy last year's),
    newest week first. Built once per process: run it with ``earlier_years_params``."""
    old = (
        sa.select(topic_classes.c.topic_id)
        .join(SchoolClass, SchoolClass.id == topic_classes.c.class_id)
        .where(
            topic_classes.c.topic_id == WeeklyTopic.id,
            SchoolClass.academic_year < sa.bindparam("before_year", type_=sa.Integer),
            SchoolClass.year_group == sa.any_(bound_list("year_groups", sa.String)),
        )
    )
    return (
        sa.select(WeeklyTopic)
        .where(
            WeeklyTopic.organisation_id == sa.any_(bound_list("schools", sa.Integer)),
            WeeklyTopic.status == TopicStatus.PUBLISHED,
            sa.exists(old),
        )
        .order_by(WeeklyTopic.week_start.desc())
    )


def earlier_years_params(organisation_ids: list[int], year_groups: set[str], before_year: int) -> dict:
    """The values ``earlier_years_topics`` is run with: these schools' topics for these year
    groups, of academic years before ``before_year``."""
    return {"schools": list(organisation_ids), "year_groups": sorted(year_groups), "before_year": before_year}


# --- editing ----------------------------------------------------------------------------------


def _claim(topic: WeeklyTopic, version: int | None) -> None:
    """Move the topic to its next version, or raise StaleTopic if ``version`` is not current."""
    table = WeeklyTopic.__table__
    claimed = rows_changed(
        sa.update(table)
        .where(table.c.id == topic.id, table.c.version == version)
        .values(version=table.c.version + 1)
    )
    # no version given (a form without one) matches no row: the version column is never NULL
    if version is None or claimed != 1:
        db.session.rollback()
        raise StaleTopic()
    attributes.set_committed_value(topic, "version", version + 1)


def _check_fields(title: str, note: str, classes: list[SchoolClass]) -> None:
    if not (title or "").strip():
        raise TopicError("title", "Please give the topic a title.")
    if not classes:
        raise TopicError("class_ids", "Please choose at least one class.")
    if len({c.organisation_id for c in classes}) != 1:
        raise TopicError("class_ids", "A topic belongs to one school.")


def create_topic(
    user: User, classes: list[SchoolClass], week_start: date | None, title: str, note: str = ""
) -> WeeklyTopic:
    """A new draft topic for ``classes`` (already checked to be the user's); committed."""
    check_monday(week_start)
    _check_fields(title, note, classes)
    topic = WeeklyTopic(
        organisation_id=classes[0].organisation_id,
        week_start=week_start,
        title=title.strip(),
        note=(note or "").replace("\r\n", "\n").strip(),
        classes=list(classes),
        created_by_id=user.id,
    )
    db.session.add(topic)
    db.session.commit()
    return topic


def update_details(
    topic: WeeklyTopic,
    version: int | None,
    *,
    title: str,
    note: str,
    week_start: date | None,
    classes: list[SchoolClass],
    editable_class_ids: set[int],
) -> None:
    """Save title, note, week and classes. Classes the editor cannot see are kept as they are."""
    monday = check_monday(week_start)
    kept = [c for c in topic.classes if c.id not in editable_class_ids]
    _check_fields(title, note, kept + list(classes))
    _claim(topic, version)
    topic.title = title.strip()
    topic.note = (note or "").replace("\r\n", "\n").strip()
    topic.week_start = monday
    topic.classes = kept + [c for c in classes if c not in kept]
    db.session.commit()


def add_activity(topic: WeeklyTopic, version: int | None, activity: Activity) -> None:
    """Append a library activity to the topic (once)."""
    if activity.organisation_id != topic.organisation_id:
        raise TopicError("activity_id", "That activity is not in your school's library.")
    if activity.archived_at is not None:
        raise TopicError("activity_id", f"“{activity.title}” was taken out of the library.")
    if any(item.activity_id == activity.id for item in topic.items):
        raise TopicError("activity_id", f"“{activity.title}” is already in this topic.", status=409)
    _claim(topic, version)
    position = max((item.position for item in topic.items), default=-1) + 1
    topic.items.append(TopicActivity(activity_id=activity.id, position=position))
    db.session.commit()


def _item(topic: WeeklyTopic, item_id: int) -> TopicActivity:
    for item in topic.items:
        if item.id == item_id:
            return item
    raise TopicError("item", "That activity is no longer in this topic.", status=404)


def remove_item(topic: WeeklyTopic, version: int | None, item_id: int) -> None:
    """Take an activity out of the topic."""
    item = _item(topic, item_id)
    _claim(topic, version)
    topic.items.remove(item)
    db.session.commit()


def move_item(topic: WeeklyTopic, version: int | None, item_id: int, step: int) -> None:
    """Move an activity one place up (step -1) or down (+1)."""
    items = sorted(topic.items, key=lambda i: (i.position, i.id))
    item = _item(topic, item_id)
    index = items.index(item)
    target = index + (1 if step > 0 else -1)
    _claim(topic, version)
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]
    for position, each in enumerate(items):
        each.position = position
    db.session.commit()


# --- publishing -------------------------------------------------------------------------------


def _ready(topic: WeeklyTopic) -> None:
    if not topic.items:
        raise TopicError("publish", "Add at least one activity before publishing.")
    if not topic.classes:
        raise TopicError("publish", "Choose at least one class before publishing.")


def publish_now(topic: WeeklyTopic, version: int | None) -> bool:
    """Publish at once and tell the families after commit. Publishing an already published
    topic changes nothing and sends nothing: returns False."""
    if topic.status is TopicStatus.PUBLISHED:
        return False
    _ready(topic)
    _claim(topic, version)
    _mark_published(topic, utcnow())
    db.session.commit()
    return True


def _mark_published(topic: WeeklyTopic, when: datetime) -> None:
    from app.core.jobs import enqueue_after_commit

    topic.status = TopicStatus.PUBLISHED
    topic.published_at = when
    topic.publish_at = None
    enqueue_after_commit("app.learning.jobs.announce_topic", topic.id, job_id=f"topic-{topic.id}-announce")


def schedule_publish(topic: WeeklyTopic, version: int | None, when: datetime | None) -> None:
    """Publish automatically at ``when`` (UTC), honoured by the cron job."""
    if topic.status is TopicStatus.PUBLISHED:
        raise TopicError("publish_at", "This topic is already published.", status=409)
    if when is None or when <= utcnow():
        raise TopicError("publish_at", "Please choose a date and time in the future.")
    if when > utcnow() + timedelta(days=400):
        raise TopicError("publish_at", "Please choose a time within the next year.")
    _ready(topic)
    _claim(topic, version)
    topic.status = TopicStatus.SCHEDULED
    topic.publish_at = when
    db.session.commit()


def unschedule(topic: WeeklyTopic, version: int | None) -> None:
    """Back to a draft: a scheduled topic will not be published."""
    if topic.status is not TopicStatus.SCHEDULED:
        return
    _claim(topic, version)
    topic.status = TopicStatus.DRAFT
    topic.publish_at = None
    db.session.commit()


def publish_due(now: datetime) -> list[int]:
    """Publish every scheduled topic whose time has come; return their ids (job side)."""
    topics = db.session.scalars(
        sa.select(WeeklyTopic)
        .where(WeeklyTopic.status == TopicStatus.SCHEDULED, WeeklyTopic.publish_at <= now)
        .order_by(WeeklyTopic.id)
        .with_for_update(skip_locked=True)
    ).all()
    for topic in topics:
        topic.version += 1  # an open planner form is now stale: it must not overwrite this
        _mark_published(topic, now)
    db.session.commit()
    return [t.id for t in topics]


# --- copying ----------------------------------------------------------------------------------


def copy_topic(
    source: WeeklyTopic, user: User, week_start: date | None, classes: list[SchoolClass]
) -> tuple[WeeklyTopic, int]:
    """A new draft with the source's title, note and (still available) activities; returns the
    copy and how many archived activities were left out."""
    check_monday(week_start)
    _check_fields(source.title, source.note, classes)
    if classes[0].organisation_id != source.organisation_id:
        raise TopicError("class_ids", "A topic can only be copied within its school.")
    copy = WeeklyTopic(
        organisation_id=source.organisation_id,
        week_start=week_start,
        title=source.title,
        note=source.note,
        classes=list(classes),
        copied_from_id=source.id,
        created_by_id=user.id,
    )
    skipped = 0
    for item in sorted(source.items, key=lambda i: i.position):
        if item.activity.archived_at is not None:
            skipped += 1
            continue
        copy.items.append(TopicActivity(activity_id=item.activity_id, position=len(copy.items)))
    db.session.add(copy)
    db.session.commit()
    return copy, skipped
