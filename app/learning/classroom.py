"""The class view's data (pupils × this week's activities) and what a teacher does there: hide a
family's comment or photo, give an award.

The grid is read in a fixed number of queries whatever the class size. Pupil Premium status is
never loaded here: it is for aggregate comparison only (P04).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from markupsafe import Markup, escape

from app.core.audit import log_event
from app.core.authz import carer_ids, record_scope, scope_params, taught_by
from app.core.direct_reads import DirectRead
from app.core.extensions import db
from app.learning.topics import items_loaded, with_items
from app.models import (
    Activity,
    Award,
    AwardKind,
    Contribution,
    Engagement,
    Pupil,
    SchoolClass,
    TopicActivity,
    TopicStatus,
    User,
    WeeklyTopic,
    bound_list,
    topic_classes,
    utcnow,
)

AWARD_LABELS = {
    AwardKind.STAR_OF_THE_WEEK: "Star of the week",
    AwardKind.GREAT_EFFORT: "Great effort",
    AwardKind.READING_CHAMPION: "Reading champion",
    AwardKind.SUPER_SCIENTIST: "Super scientist",
    AwardKind.KIND_HELPER: "Kind helper",
}


@dataclass
class Cell:
    """One pupil and one activity: done, and the rating if given."""

    done: bool = False
    rating: int | None = None


def grid_cells(cells: list[Cell], titles: list[str]) -> Markup:
    """One pupil's cells of the class view, one per activity (``titles``, the activities' column
    headings, label each cell on a phone): "Done" with the stars given, or "Not yet" read out.

    Written here rather than by a loop in the template: the grid has a cell for every pupil and
    activity (two hundred for a class of 35 and six activities), and Jinja's loop with its
    ``loop`` variable cost more than the cells' text. A cell's text depends only on what it
    shows, so each is written once per process."""
    return Markup(
        "".join(_cell(cell.done, cell.rating, title) for cell, title in zip(cells, titles, strict=True))
    )


@functools.lru_cache(maxsize=2048)
def _cell(done: bool, rating: int | None, title: str) -> str:
    label = escape(title)
    if not done:
        return f'<td class="n" data-a="{label}"><span class="visually-hidden">Not yet</span></td>'
    stars = (
        f' <span role="img" aria-label="rated {escape(rating)} out of 5">{"★" * rating}</span>'
        if rating
        else ""
    )
    return f'<td class="y" data-a="{label}">Done{stars}</td>'


@dataclass
class Item:
    """A family's comment or photo, with what the class view needs to show it."""

    id: int
    pupil_name: str
    activity_title: str
    kind: str
    body: str | None
    has_photo: bool
    hidden: bool
    created_at: datetime


@dataclass
class Row:
    """One pupil's row (name order; never ranked)."""

    pupil_id: int
    name: str
    cells: list[Cell]
    awards: list[str] = field(default_factory=list)
    said: list[Item] = field(default_factory=list)  # the family's comments and photos, oldest first


@dataclass
class Grid:
    """The class view's data for one week."""

    week_start: date
    topics: list[WeeklyTopic]
    activities: list[TopicActivity]
    rows: list[Row]

    @property
    def done_counts(self) -> list[int]:
        """How many pupils did each activity (per activity, never per child)."""
        return [sum(1 for row in self.rows if row.cells[i].done) for i in range(len(self.activities))]


def class_grid(school_class: SchoolClass, week_start: date, tz: str = "Europe/London") -> Grid:
    """Pupils × the activities of the class's published topics for a week (two queries); the
    awards shown are those given that week (Monday to Sunday in the school's time zone)."""
    topics = items_loaded(_topics_read().run({"class_id": school_class.id, "week": week_start}))
    items = [item for topic in topics for item in sorted(topic.items, key=lambda i: i.position)]
    column = {item.id: index for index, item in enumerate(items)}
    titles = {item.id: item.activity.title for item in items}
    start, end = _week_bounds(week_start, tz)
    found = _rows_read().run(
        {"class_id": school_class.id, "items": list(column) or [-1], "start": start, "end": end}
    )
    rows: dict[int, Row] = {}
    for pupil_id, first, last, awards, engagement_id, item_id, rating, contribution in found:
        row = rows.get(pupil_id)
        if row is None:
            row = rows[pupil_id] = Row(pupil_id, f"{first} {last}".strip(), [Cell() for _ in items])
            row.awards = [AWARD_LABELS[AwardKind(a)] for a in (awards or "").split(",") if a]
        if engagement_id is not None:
            row.cells[column[item_id]] = Cell(True, rating)
        if contribution is not None:
            row.said.append(_item(contribution, row.name, titles[item_id]))
    for row in rows.values():
        row.said.sort(key=lambda c: (c.created_at, c.id))
    return Grid(week_start, list(topics), items, list(rows.values()))


@functools.cache
def _topics_read() -> DirectRead:
    """The published topics of ``:class_id`` for the week of ``:week``, with their activities;
    built once per process (values bound) and read directly, as the class view is opened all day."""
    return DirectRead(
        with_items(
            sa.select(WeeklyTopic)
            .join(topic_classes, topic_classes.c.topic_id == WeeklyTopic.id)
            .where(
                topic_classes.c.class_id == sa.bindparam("class_id", type_=sa.Integer),
                WeeklyTopic.week_start == sa.bindparam("week", type_=sa.Date),
                WeeklyTopic.status == TopicStatus.PUBLISHED,
            )
            .order_by(WeeklyTopic.published_at, WeeklyTopic.id)
        )
    )


@functools.cache
def _rows_read() -> DirectRead:
    """A row per pupil of ``:class_id`` and engagement with ``:items``, with each comment or
    photo, and the kinds of the awards given between ``:start`` and ``:end``; built once per
    process and run as a direct read (a row per pupil and activity done)."""
    moment = sa.DateTime(timezone=True)
    week_awards = (
        sa.select(sa.func.string_agg(sa.cast(Award.kind, sa.Text), sa.literal(","), type_=sa.Text))
        .where(
            Award.pupil_id == Pupil.id,
            Award.created_at >= sa.bindparam("start", type_=moment),
            Award.created_at < sa.bindparam("end", type_=moment),
        )
        .scalar_subquery()
    )
    return DirectRead(
        sa.select(
            Pupil.id,
            Pupil.first_name,
            Pupil.last_name,
            week_awards,
            Engagement.id,
            Engagement.topic_activity_id,
            Engagement.rating,
            Contribution,
        )
        .outerjoin(
            Engagement,
            sa.and_(
                Engagement.pupil_id == Pupil.id,
                Engagement.topic_activity_id == sa.any_(bound_list("items", sa.Integer)),
            ),
        )
        .outerjoin(Contribution, Contribution.engagement_id == Engagement.id)
        .where(
            Pupil.class_id == sa.bindparam("class_id", type_=sa.Integer),
            Pupil.removed_at.is_(None),
            Pupil.erased_at.is_(None),
        )
        .order_by(Pupil.last_name, Pupil.first_name, Pupil.id)
    )


def _item(contribution: Contribution, pupil_name: str, activity_title: str) -> Item:
    return Item(
        id=contribution.id,
        pupil_name=pupil_name,
        activity_title=activity_title,
        kind=contribution.kind.value,
        body=contribution.body,
        has_photo=bool(contribution.thumb_key or contribution.photo_key),
        hidden=contribution.hidden_at is not None,
        created_at=contribution.created_at,
    )


def contribution_item(contribution: Contribution) -> Item:
    """What the class view shows of one comment or photo (after hiding it, for an htmx swap)."""
    pupil, title = db.session.execute(
        sa.select(Pupil, Activity.title)
        .join(Engagement, Engagement.pupil_id == Pupil.id)
        .join(TopicActivity, TopicActivity.id == Engagement.topic_activity_id)
        .join(Activity, Activity.id == TopicActivity.activity_id)
        .where(Engagement.id == contribution.engagement_id)
    ).one()
    return _item(contribution, f"{pupil.first_name} {pupil.last_name}".strip(), title)


def _week_bounds(week_start: date, tz: str) -> tuple[datetime, datetime]:
    start = datetime.combine(week_start, time(0), tzinfo=ZoneInfo(tz or "Europe/London"))
    return start, start + timedelta(days=7)


def week_awards(pupil_id: int, week_start: date, tz: str = "Europe/London") -> list[str]:
    """The labels of one pupil's awards of a week (Monday to Sunday, school time), oldest first."""
    start, end = _week_bounds(week_start, tz)
    kinds = db.session.scalars(
        sa.select(Award.kind)
        .where(Award.pupil_id == pupil_id, Award.created_at >= start, Award.created_at < end)
        .order_by(Award.created_at, Award.id)
    )
    return [AWARD_LABELS[k] for k in kinds]


def set_hidden(contribution: Contribution, user: User, hidden: bool) -> None:
    """Hide a family's comment or photo from everyone else (it is kept), or show it again;
    recorded on the row and in the activity log."""
    if hidden and contribution.hidden_at is None:
        contribution.hidden_at, contribution.hidden_by_id = utcnow(), user.id
    elif not hidden and contribution.hidden_at is not None:
        contribution.hidden_at, contribution.hidden_by_id = None, None
    else:
        return
    pupil = db.session.scalar(
        sa.select(Pupil)
        .join(Engagement, Engagement.pupil_id == Pupil.id)
        .where(Engagement.id == contribution.engagement_id)
    )
    log_event(
        "hide_contribution" if hidden else "unhide_contribution",
        user,
        subject=f"contribution:{contribution.id}",
        organisation_id=pupil.organisation_id if pupil else None,
    )
    db.session.commit()


def give_award(pupil: Pupil, kind: AwardKind, user: User, note: str | None = None) -> Award:
    """Give an award and tell the child's parents (P04: contacts used for award notices)."""
    from app.messaging.notify import notify

    award = Award(pupil_id=pupil.id, kind=kind, given_by_id=user.id, note=(note or "").strip()[:200] or None)
    db.session.add(award)
    db.session.flush()
    # The delivery policy leaves out (and records why) "no contact" links and restricted
    # children or carers (P25).
    parent_ids = carer_ids(pupil.id)
    notify(
        "award_given",
        event_key=f"award:{award.id}",
        user_ids=parent_ids,
        organisation_id=pupil.organisation_id,
        pupil_id=pupil.id,
        context={
            "award_id": award.id,
            "pupil_id": pupil.id,
            "award_label": AWARD_LABELS[kind],
            "award_note": award.note,
        },
    )
    db.session.commit()
    return award


def contribution_for_staff(contribution_id: int, user: User) -> Contribution | None:
    """A contribution about a child ``user`` may see: of a school where they are office or DPO,
    or of a class they teach at a school where they are staff (asked of the child's school)."""
    return db.session.scalar(
        _contribution_statement(), {**scope_params(user), "contribution_id": contribution_id}
    )


@functools.cache
def _contribution_statement() -> sa.Select:
    return (
        sa.select(Contribution)
        .join(Engagement, Engagement.id == Contribution.engagement_id)
        .join(Pupil, Pupil.id == Engagement.pupil_id)
        .where(
            Contribution.id == sa.bindparam("contribution_id", type_=sa.Integer),
            record_scope(Pupil.organisation_id, taught_by(Pupil.class_id)),
        )
    )
