"""Scope for the teachers' pages (P12), built on app.core.authz: another school's (or, for a teacher,
another class's) topic, activity or contribution answers 404, as if it did not exist. What a
person may see is asked of each record's own school (authz.record_scope): office powers at one
school never open another school's classes where the same person only teaches."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import abort
from flask_login import current_user

from app.core.authz import current_organisation, scope_params, staff_organisation_ids, visible_classes
from app.core.direct_reads import DirectRead, loaded
from app.core.extensions import db
from app.learning import activities, topics
from app.learning.classroom import contribution_for_staff
from app.models import Activity, Organisation, SchoolClass, WeeklyTopic, topic_classes


def organisation_or_404() -> Organisation:
    """The school a member of staff works in (its library, its topics)."""
    org = current_organisation()
    if org is None:
        abort(404)
    return org


def my_classes(current_year_only: bool = True, organisation: Organisation | None = None) -> list[SchoolClass]:
    """The classes the user may see (each asked of its own school: visible_classes), only
    ``organisation``'s when given; this academic year's by default."""
    params = scope_params(current_user)
    org = organisation or (current_organisation() if current_year_only else None)
    if current_year_only and org is not None:
        params["year"] = topics.academic_year(topics.school_today(org))
    if organisation is not None:
        params["school"] = organisation.id
    read = _classes_read(organisation is not None, "year" in params)
    return read.scalars(params)


@functools.cache
def _classes_read(of_school: bool, of_year: bool) -> DirectRead:
    """``_classes_statement`` compiled once per process and run by psycopg (every teacher's page
    lists the classes)."""
    return DirectRead(_classes_statement(of_school, of_year))


def _classes_statement(of_school: bool, of_year: bool) -> sa.Select:
    """``my_classes``'s query for each shape: of one school and of one academic year, or not (its
    values are bound parameters; built once per process by ``_classes_read``)."""
    query = visible_classes()
    if of_school:
        query = query.where(SchoolClass.organisation_id == sa.bindparam("school", type_=sa.Integer))
    if of_year:
        query = query.where(SchoolClass.academic_year == sa.bindparam("year", type_=sa.Integer))
    return query.order_by(SchoolClass.year_group, SchoolClass.name)


@functools.cache
def _topic_read() -> DirectRead:
    """A topic the user may see (``visible_topics``), by id, with its classes and its activities
    in order, each with its library activity: one row per class and activity, as the ORM's joined
    loads read them, compiled once per process. The join to the topic's classes is aliased: the
    scope's own subquery reads ``topic_classes`` and must not be correlated to it."""
    chosen = topic_classes.alias("chosen")
    return DirectRead(
        topics.with_items(
            topics.visible_topics()
            .add_columns(SchoolClass)
            .outerjoin(chosen, chosen.c.topic_id == WeeklyTopic.id)
            .outerjoin(SchoolClass, SchoolClass.id == chosen.c.class_id)
            .where(WeeklyTopic.id == sa.bindparam("topic_id", type_=sa.Integer))
        ).order_by(SchoolClass.id)
    )


def _visible_topic(topic_id: int) -> WeeklyTopic | None:
    """The topic if the user may see it, with its classes and activities (every topic page shows
    them) in the same query, set as loaded where they were not loaded already (as the ORM's
    joined loads do)."""
    rows = _topic_read().run({**scope_params(current_user), "topic_id": topic_id})
    if not rows:
        return None
    (topic,) = topics.items_loaded(rows)
    loaded(topic, "classes", list(dict.fromkeys(row[1] for row in rows if row[1] is not None)))
    return topic


def topic_or_404(topic_id: int) -> WeeklyTopic:
    """A topic the user may see and edit (visible_topics)."""
    found = _visible_topic(topic_id)
    if found is None:
        abort(404)
    return found


def copy_source_or_404(topic_id: int) -> WeeklyTopic:
    """A topic the user may copy: one they can see, or an earlier year's for their year groups."""
    found = _visible_topic(topic_id)
    if found is None:
        org = organisation_or_404()
        groups = {c.year_group for c in my_classes(organisation=org)}
        found = db.session.scalar(
            topics.earlier_years_topics().where(WeeklyTopic.id == topic_id),
            topics.earlier_years_params([org.id], groups, topics.academic_year(topics.school_today(org))),
        )
    if found is None:
        abort(404)
    return found


def activity_or_404(activity_id: int) -> Activity:
    """An activity of the user's schools' libraries."""
    found = activities.activity_for_staff(staff_organisation_ids(current_user), activity_id)
    if found is None:
        abort(404)
    return found


def viewer_activity_or_404(activity_id: int) -> Activity:
    """For videos and printables: staff of the school, or a parent of a child whose class has a
    published topic with the activity."""
    if current_user.is_staff:
        found = activities.activity_for_staff(staff_organisation_ids(current_user), activity_id)
    else:
        found = activities.activity_for_parent(current_user, activity_id)
    if found is None:
        abort(404)
    return found


def contribution_or_404(contribution_id: int):
    """A family's comment or photo about a child of the user's classes (office: school)."""
    found = contribution_for_staff(contribution_id, current_user)
    if found is None:
        abort(404)
    return found


def classes_by_id(ids, allowed: list[SchoolClass]) -> list[SchoolClass]:
    """The chosen classes, keeping only those in ``allowed`` (the user's)."""
    wanted = {int(i) for i in ids or []}
    return [c for c in allowed if c.id in wanted]
