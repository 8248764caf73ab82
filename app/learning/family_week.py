"""What a family's pages show, read in a fixed, small number of queries (the page must be quick on
a cheap phone): the linked children, this week's published topics for their classes, what the
family already sent back, and the children's awards.

Siblings in one class share one topic card (with controls for each child), so no topic appears
twice on the page.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

import sqlalchemy as sa
from flask import url_for
from flask_babel import gettext
from sqlalchemy.dialects.postgresql import aggregate_order_by

from app.core.authz import NOT_LOADED, layout_column, layout_value, linked_pupils
from app.core.contexts import current_request
from app.core.direct_reads import DirectRead
from app.core.extensions import db
from app.learning import topics as topic_service
from app.learning.classroom import AWARD_LABELS
from app.models import (
    Activity,
    ActivityKind,
    Award,
    AwardKind,
    Contribution,
    ContributionKind,
    Engagement,
    Organisation,
    Pupil,
    SchoolClass,
    TopicActivity,
    TopicStatus,
    User,
    WeeklyTopic,
    bound_list,
    json_moment,
    topic_classes,
)

RECENT_AWARDS = 3
WEEKS_PER_PAGE = 4


class ActivityView:
    """An activity as a family's card shows it: an outside game opens through our own ``open``
    route, which records the opening first-party (P05) and then redirects."""

    def __init__(self, activity, url: str | None):
        self._activity = activity
        self.url = url

    def __getattr__(self, name):
        return getattr(self._activity, name)


@dataclass
class ItemView:
    id: int
    activity: ActivityView | ActivityShown
    position: int


class Named(NamedTuple):
    """A child's class or school, as the family's home names it."""

    name: str
    timezone: str | None = None


@dataclass
class Child:
    """A linked child as the family's home shows it, read with the signed-in carer's row
    (``_children_column``): the page only shows it."""

    id: int
    first_name: str
    last_name: str
    class_id: int | None
    removed_at: datetime | None
    school_class: Named | None
    organisation: Named

    display_name = Pupil.display_name


@dataclass
class Card:
    """One published topic and the linked children it is for."""

    topic: WeeklyTopic | TopicShown
    items: list[ItemView]
    children: list[Pupil | Child] = field(default_factory=list)

    @property
    def names(self) -> str:
        names = [c.first_name for c in self.children]
        return " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)


@dataclass
class FamilyWeek:
    children: list[Child]
    cards: list[Card]
    without_topic: list[Child]
    engagements: dict[tuple[int, int], Done]
    awards: dict[int, list[AwardShown]]


def item_views(topic: WeeklyTopic | TopicShown) -> list[ItemView]:
    """The topic's activities in order, with game links through the ``open`` route."""
    views = []
    items: list[TopicActivity | ItemShown] = list(topic.items)
    for item in sorted(items, key=lambda i: (i.position, i.id)):
        activity = item.activity
        url = activity.url
        if activity.kind is ActivityKind.GAME and activity.url:
            url = url_for("parents.open_item", item_id=item.id)
        # A row read for the home is copied with the link (each read through ActivityView's
        # __getattr__ first failed Python's own lookup: eight a card); an object is wrapped.
        shown = (
            activity._replace(url=url) if isinstance(activity, ActivityShown) else ActivityView(activity, url)
        )
        views.append(ItemView(item.id, shown, item.position))
    return views


class ActivityShown(NamedTuple):
    """What a family's card shows of an activity (``activities.activity_card`` draws it, from
    the same names): each field is the activity's column of that name."""

    id: int
    title: str
    kind: ActivityKind
    minutes: int | None
    instructions: str | None
    url: str | None
    file_key: str | None
    video_provider: str | None


class ItemShown(NamedTuple):
    id: int
    position: int
    activity: ActivityShown


class TopicShown(NamedTuple):
    """A published topic as the family's home shows it, read as rows (not ORM objects: the
    home only shows it, and loading a topic with its activities as objects cost more than the
    query)."""

    id: int
    week_start: date
    title: str
    note: str | None
    items: list[ItemShown]


def _items_column(topic) -> sa.ScalarSelect:
    """The topic's activities as JSON ``[[item id, position, activity id, title, kind, minutes,
    steps, link, file, video site], ...]`` in their order."""
    item, activity = TopicActivity.__table__, Activity.__table__
    row = sa.func.json_build_array(
        item.c.id, item.c.position, *(activity.c[name] for name in ActivityShown._fields)
    )
    return (
        sa.select(sa.func.json_agg(aggregate_order_by(row, item.c.position, item.c.id)))
        .select_from(item.join(activity, activity.c.id == item.c.activity_id))
        .where(item.c.topic_id == topic.c.id)
        .correlate(topic)
        .scalar_subquery()
    )


def _topic_from_row(id_, week_start, title, note, items) -> TopicShown:
    return TopicShown(
        id_,
        week_start,
        title,
        note,
        [
            ItemShown(item_id, position, ActivityShown(activity_id, name, ActivityKind(kind), *rest))
            for item_id, position, activity_id, name, kind, *rest in items or []
        ],
    )


@dataclass(frozen=True)
class Sent:
    """A comment or photo as a family's page lists it."""

    id: int
    kind: ContributionKind
    body: str | None
    promo_opt_in: bool
    hidden_at: datetime | None


@dataclass
class Done:
    """A child's engagement with an activity as a family's page shows it: the rating and what
    was sent, in the order it was sent. Read as rows, not ORM objects: the family's pages only
    show them (a home has one for every child and activity done)."""

    rating: int | None
    contributions: list[Sent] = field(default_factory=list)


def engagements_for(pupil_ids: list[int], item_ids: list[int]) -> dict[tuple[int, int], Done]:
    """The children's engagements with these activities, with their comments and photos."""
    if not pupil_ids or not item_ids:
        return {}
    found: dict[tuple[int, int], Done] = {}
    _collect(_engagements_read().run({"pupils": pupil_ids, "items": item_ids}), found)
    return found


def _collect(rows, found: dict[tuple[int, int], Done]) -> None:
    """Add engagement rows (pupil, item, rating, and what was sent: id, kind, body, promotion
    opt-in, hidden at; one row for each thing sent, in the order sent) to ``found``."""
    for pupil_id, item_id, rating, sent_id, kind, body, promo_opt_in, hidden_at in rows:
        done = found.get((pupil_id, item_id))
        if done is None:
            done = found[(pupil_id, item_id)] = Done(rating)
        if sent_id is not None:
            done.contributions.append(Sent(sent_id, kind, body, promo_opt_in, hidden_at))


def _from_json(rows: list | None):
    """The rows of ``_engagements_column`` (JSON), typed as ``_engagements_statement``'s."""
    for pupil_id, item_id, rating, sent_id, kind, body, promo_opt_in, hidden_at in rows or []:
        yield (
            pupil_id,
            item_id,
            rating,
            sent_id,
            ContributionKind(kind) if kind else None,
            body,
            promo_opt_in,
            json_moment(hidden_at),
        )


def _engagements_column(topic, pupil) -> sa.ScalarSelect:
    """In the children's query: ``pupil``'s engagements with ``topic``'s activities, each with
    what was sent, as the rows of ``_engagements_statement`` in JSON."""
    e, c, item = Engagement.__table__, Contribution.__table__, TopicActivity.__table__
    row = sa.func.json_build_array(*_engagement_columns(e, c))
    return (
        sa.select(sa.func.json_agg(aggregate_order_by(row, e.c.id, c.c.id)))
        .select_from(
            e.join(item, item.c.id == e.c.topic_activity_id).outerjoin(c, c.c.engagement_id == e.c.id)
        )
        .where(item.c.topic_id == topic.c.id, e.c.pupil_id == pupil.id)
        .correlate(topic, pupil)
        .scalar_subquery()
    )


@functools.cache
def _engagements_read() -> DirectRead:
    """``_engagements_statement``, compiled once per process and run by psycopg."""
    return DirectRead(_engagements_statement())


def _engagements_statement() -> sa.Select:
    """The engagements of the children ``:pupils`` with the activities ``:items`` (arrays), with
    what was sent."""
    e, c = Engagement.__table__, Contribution.__table__
    return (
        sa.select(*_engagement_columns(e, c))
        .select_from(e.outerjoin(c, c.c.engagement_id == e.c.id))
        .where(
            e.c.pupil_id == sa.any_(bound_list("pupils", sa.Integer)),
            e.c.topic_activity_id == sa.any_(bound_list("items", sa.Integer)),
        )
        .order_by(e.c.id, c.c.id)
    )


def _engagement_columns(e: sa.Table, c: sa.Table) -> tuple[sa.Column, ...]:
    """What a family's page reads of an engagement (``e``) and of each thing sent (``c``): the
    rows ``_collect`` takes, from ``_engagements_statement`` or as JSON from the children's query."""
    return (
        e.c.pupil_id,
        e.c.topic_activity_id,
        e.c.rating,
        c.c.id,
        c.c.kind,
        c.c.body,
        c.c.promo_opt_in,
        c.c.hidden_at,
    )


class AwardShown(NamedTuple):
    """An award as a family's pages show it."""

    kind: AwardKind
    note: str | None
    created_at: datetime


def awards_for(pupil_ids: list[int], limit: int | None = RECENT_AWARDS) -> dict[int, list[AwardShown]]:
    """Each child's awards, newest first (the latest ``limit`` of each; all with None), as rows."""
    if not pupil_ids:
        return {}
    found: dict[int, list[AwardShown]] = defaultdict(list)
    params = {"pupils": pupil_ids, "limit": limit or 2**31 - 1}
    for pupil_id, kind, note, created_at in _awards_read().run(params):
        found[pupil_id].append(AwardShown(kind, note, created_at))
    return found


def _recent_awards_column(pupil) -> sa.ScalarSelect:
    """For each ``pupil`` (an alias) of a query: the latest ``RECENT_AWARDS`` awards, newest
    first, as JSON ``[[kind, note, given at], ...]`` (None: no awards)."""
    recent = (
        sa.select(Award.id, Award.kind, Award.note, Award.created_at)
        .where(Award.pupil_id == pupil.id)
        .order_by(Award.created_at.desc(), Award.id.desc())
        .limit(RECENT_AWARDS)
        .correlate(pupil)
        .subquery()
    )
    row = sa.func.json_build_array(recent.c.kind, recent.c.note, recent.c.created_at)
    newest = (recent.c.created_at.desc(), recent.c.id.desc())
    return sa.select(sa.func.json_agg(aggregate_order_by(row, *newest))).scalar_subquery()


def _awards_from_json(rows) -> list[AwardShown]:
    return [AwardShown(AwardKind(kind), note, json_moment(at)) for kind, note, at in rows or []]


@functools.cache
def _awards_read() -> DirectRead:
    """``_awards_statement``, compiled once per process and run by psycopg."""
    return DirectRead(_awards_statement())


@functools.cache
def _awards_statement() -> sa.Select:
    """Each child's awards ranked newest first, up to ``:limit`` each; built once per process."""
    ranked = (
        sa.select(
            Award.pupil_id,
            Award.kind,
            Award.note,
            Award.created_at,
            sa.func.row_number()
            .over(partition_by=Award.pupil_id, order_by=(Award.created_at.desc(), Award.id.desc()))
            .label("n"),
        )
        .where(Award.pupil_id == sa.any_(bound_list("pupils", sa.Integer)))
        .subquery()
    )
    return (
        sa.select(ranked.c.pupil_id, ranked.c.kind, ranked.c.note, ranked.c.created_at)
        .where(ranked.c.n <= sa.bindparam("limit", type_=sa.Integer))
        .order_by(ranked.c.pupil_id, ranked.c.n)
    )


def award_label(award: Award | AwardShown) -> str:
    """The award's name in the reader's language (the words are in the catalogs by way of
    templates/messages/_words.txt, which names them for messages)."""
    return gettext(AWARD_LABELS.get(award.kind, award.kind.value.replace("_", " ").capitalize()))


def this_monday(pupil: Pupil | Child) -> date:
    """This week's Monday in the child's school's time zone."""
    return topic_service.monday_of(topic_service.school_today(pupil.organisation))


def family_week(user: User) -> FamilyWeek:
    """Everything the family home shows, in one query whatever the number of children: the
    children, each with their latest awards and this week's topics for their class (with their
    activities and the child's engagements, comments and photos), are read with the carer's row
    by the user loader (``_children_column``; by a query of their own when it did not)."""
    loaded = layout_value("family")
    if loaded is NOT_LOADED:
        loaded = db.session.scalar(_children_statement(), {"user": user.id})
    children, awards, weeks = [], {}, {}
    for id_, first, last, class_id, removed, class_name, school, tz, recent, week in loaded or []:
        named_class = Named(class_name) if class_name is not None else None
        children.append(
            Child(id_, first, last, class_id, json_moment(removed), named_class, Named(school, tz))
        )
        if recent:
            awards[id_] = _awards_from_json(recent)
        if class_id and removed is None:
            weeks[id_] = week or []
    cards: dict[int, Card] = {}
    engagements: dict[tuple[int, int], Done] = {}
    for child in children:  # siblings in one class share a card
        for topic_id, monday, title, note, items, done in weeks.get(child.id, []):
            card = cards.get(topic_id)
            if card is None:
                topic = _topic_from_row(topic_id, date.fromisoformat(monday), title, note, items)
                card = cards[topic_id] = Card(topic, item_views(topic))
            _collect(_from_json(done), engagements)
            card.children.append(child)
    with_topic = {c.id for card in cards.values() for c in card.children}
    return FamilyWeek(
        children=children,
        cards=list(cards.values()),
        without_topic=[c for c in children if c.id not in with_topic],
        engagements=engagements,
        awards=awards,
    )


@functools.cache
def _children_statement() -> sa.Select:
    """``_children_column`` as a query of its own, for ``:user`` (a page the loader did not read
    them for); built once per process."""
    return sa.select(_children_column()).where(User.id == sa.bindparam("user", type_=sa.Integer))


def _home_page() -> bool:
    here = current_request()
    return here.method == "GET" and here.endpoint == "parents.home"


@layout_column("family", _home_page)
def _children_column() -> sa.ScalarSelect:
    """On the family's home, in the user loader's query: the carer's linked children (as
    ``linked_pupils``), each with their class, school, latest awards and this week's topics, as
    JSON ``[[id, first name, last name, class id, removed at, class name, school name, school
    time zone, awards, topics], ...]`` in ``linked_pupils``' order: the whole home in the
    loader's one statement."""
    pupil = sa.orm.aliased(Pupil)
    school_class, school = sa.orm.aliased(SchoolClass), sa.orm.aliased(Organisation)
    child = sa.func.json_build_array(
        pupil.id,
        pupil.first_name,
        pupil.last_name,
        pupil.class_id,
        pupil.removed_at,
        school_class.name,
        school.name,
        school.timezone,
        _recent_awards_column(pupil),
        _week_topics_column(pupil, school),
    )
    return (
        linked_pupils(User.id, pupil)
        .with_only_columns(sa.func.json_agg(aggregate_order_by(child, pupil.first_name, pupil.id)))
        .order_by(None)
        .outerjoin(school_class, school_class.id == pupil.class_id)
        .join(school, school.id == pupil.organisation_id)
        .correlate(User)
        .scalar_subquery()
    )


def _week_topics_column(pupil, school) -> sa.ScalarSelect:
    """For each ``pupil`` (an alias) of the children's query, at ``school`` (its school): the
    topics published for the child's class for this week (the Monday of today in the school's
    time zone, by the database's clock), oldest published first, as JSON ``[[topic id, Monday,
    title, note, activities (``_items_column``), the child's engagements with them
    (``_engagements_column``)], ...]``."""
    topic, for_class = WeeklyTopic.__table__, topic_classes
    local_now = sa.func.timezone(
        sa.func.coalesce(school.timezone, topic_service.DEFAULT_TIMEZONE), sa.func.now()
    )
    monday = sa.cast(sa.func.date_trunc("week", local_now), sa.Date)  # PostgreSQL's weeks start on Monday
    row = sa.func.json_build_array(
        topic.c.id,
        topic.c.week_start,
        topic.c.title,
        topic.c.note,
        _items_column(topic),
        _engagements_column(topic, pupil),
    )
    return (
        sa.select(sa.func.json_agg(aggregate_order_by(row, topic.c.published_at, topic.c.id)))
        .select_from(topic.join(for_class, for_class.c.topic_id == topic.c.id))
        .where(
            for_class.c.class_id == pupil.class_id,
            topic.c.status == TopicStatus.PUBLISHED,
            topic.c.week_start == monday,
        )
        .correlate(pupil, school)
        .scalar_subquery()
    )


@dataclass
class PastWeeks:
    cards: list[Card]
    engagements: dict[tuple[int, int], Done]
    page: int
    more: bool


def past_weeks(pupil: Pupil, page: int = 1) -> PastWeeks:
    """Earlier published topics for the child (their class's, and any they took part in), newest
    first, ``WEEKS_PER_PAGE`` a page."""
    page = max(1, page)
    params = {
        "pupil_id": pupil.id,
        "class_id": pupil.class_id,
        "before": this_monday(pupil),
        "offset": (page - 1) * WEEKS_PER_PAGE,
        "limit": WEEKS_PER_PAGE + 1,
    }
    found = topic_service.items_loaded(_past_weeks_read().run(params))
    cards = [Card(t, item_views(t), [pupil]) for t in found[:WEEKS_PER_PAGE]]
    item_ids = [i.id for card in cards for i in card.items]
    return PastWeeks(cards, engagements_for([pupil.id], item_ids), page, len(found) > WEEKS_PER_PAGE)


@functools.cache
def _past_weeks_read() -> DirectRead:
    """``past_weeks``' statement: a page of the child's earlier topics (``:limit`` from
    ``:offset``), each with its activities, compiled once per process."""
    took_part = (
        sa.select(TopicActivity.topic_id)
        .join(Engagement, Engagement.topic_activity_id == TopicActivity.id)
        .where(Engagement.pupil_id == sa.bindparam("pupil_id", type_=sa.Integer))
    )
    mine = sa.or_(
        WeeklyTopic.id.in_(took_part),
        WeeklyTopic.id.in_(
            sa.select(topic_classes.c.topic_id).where(
                topic_classes.c.class_id == sa.bindparam("class_id", type_=sa.Integer)
            )
        ),
    )
    newest_first = (WeeklyTopic.week_start.desc(), WeeklyTopic.id.desc())
    chosen = (
        sa.select(WeeklyTopic.id)
        .where(
            WeeklyTopic.status == TopicStatus.PUBLISHED,
            mine,
            WeeklyTopic.week_start < sa.bindparam("before", type_=sa.Date),
        )
        .order_by(*newest_first)
        .offset(sa.bindparam("offset", type_=sa.Integer))
        .limit(sa.bindparam("limit", type_=sa.Integer))
        .subquery("chosen")
    )
    page = sa.select(WeeklyTopic).join(chosen, chosen.c.id == WeeklyTopic.id).order_by(*newest_first)
    return DirectRead(topic_service.with_items(page))
