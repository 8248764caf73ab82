"""Weekly topics: the list, a new topic, its details (with the two-editors version check),
publishing now or at a set time, copying to another week, and the parent's-eye preview."""

from __future__ import annotations

import functools
from datetime import date, timedelta
from typing import NamedTuple

import sqlalchemy as sa
from flask import flash, request, url_for
from flask_login import current_user
from sqlalchemy.dialects.postgresql import ARRAY

from app.core.authz import scope_params, staff_required
from app.core.direct_reads import DirectRead
from app.core.extensions import db
from app.core.htmx import redirect_after_post, render
from app.learning import topics
from app.learning.planner_views import CONFLICT, render_planner, topic_org
from app.learning.scope import (
    classes_by_id,
    copy_source_or_404,
    my_classes,
    organisation_or_404,
    topic_or_404,
)
from app.learning.teacher_forms import CopyForm, PublishForm, TopicForm, options, version_of, year_label
from app.learning.topics import StaleTopic, TopicError
from app.models import SchoolClass, TopicStatus, WeeklyTopic, topic_classes
from app.params import db_int
from app.teachers import bp


class _Listed(NamedTuple):
    """A topic as a list of topics shows it."""

    id: int
    title: str
    week_start: date
    status: TopicStatus
    class_names: list[str]


def _listed(topics_query: sa.Select) -> DirectRead:
    """``topics_query`` (a select of topics) as the columns a list shows, each topic's classes
    named in one array (no second query for them), read directly."""
    names = (
        sa.select(SchoolClass.name)
        .join(topic_classes, topic_classes.c.class_id == SchoolClass.id)
        .where(topic_classes.c.topic_id == WeeklyTopic.id)
    )
    return DirectRead(
        topics_query.with_only_columns(
            WeeklyTopic.id,
            WeeklyTopic.title,
            WeeklyTopic.week_start,
            WeeklyTopic.status,
            sa.func.array(names.scalar_subquery(), type_=ARRAY(sa.String)),
        )
    )


@functools.cache
def _mine_read() -> DirectRead:
    """The user's topics, newest week first (run with ``scope_params``)."""
    return _listed(
        topics.visible_topics().order_by(WeeklyTopic.week_start.desc(), WeeklyTopic.id.desc()).limit(100)
    )


@functools.cache
def _earlier_read() -> DirectRead:
    """Earlier years' topics to copy (run with ``topics.earlier_years_params``)."""
    return _listed(topics.earlier_years_topics().limit(50))


@bp.get("/topics", endpoint="topics")
@staff_required()
def topics_list():
    """This user's topics, newest week first, and earlier years' topics to reuse."""
    org = organisation_or_404()
    mine = [_Listed._make(row) for row in _mine_read().run(scope_params(current_user))]
    year = topics.academic_year(topics.school_today(org))
    groups = {c.year_group for c in my_classes(organisation=org)}  # this school's classes only
    params = topics.earlier_years_params([org.id], groups, year)
    earlier = [_Listed._make(row) for row in _earlier_read().run(params)]
    return render("teachers/topics.html", topics=mine, earlier=earlier, TopicStatus=TopicStatus)


def _class_choices(form, classes: list[SchoolClass]) -> None:
    form.class_ids.choices = options((c.id, c.name) for c in classes)
    groups = sorted({c.year_group for c in classes}, key=lambda g: (g != "R", g))
    form.year_group.choices = options(
        [("", "No, just the classes ticked above")]
        + [
            (g, f"Every {year_label(g)} class ({', '.join(c.name for c in classes if c.year_group == g)})")
            for g in groups
        ]
    )


def _chosen(form, classes: list[SchoolClass]) -> list[SchoolClass]:
    chosen = classes_by_id(form.class_ids.data, classes)
    chosen += [c for c in classes if c.year_group == form.year_group.data and c not in chosen]
    return chosen


def _field_error(form, error: TopicError) -> None:
    getattr(form, error.field, form.title).errors.append(error.message)


def _save(form, topic: WeeklyTopic | None, save, done: str):
    """The topic form's POST: ``save()`` returns the saved topic, then ``done`` is flashed and
    the planner opens; an invalid form or a refused field shows the form again (422)."""
    if form.validate_on_submit():
        try:
            saved = save()
        except TopicError as error:
            db.session.rollback()
            _field_error(form, error)
        else:
            flash(done, "success")
            return redirect_after_post(url_for("teachers.planner", topic_id=saved.id))
    return render("teachers/topic_form.html", "form", status=422, form=form, topic=topic)


@bp.route("/topics/new", methods=["GET", "POST"])
@staff_required()
def topic_new():
    """A new draft topic for some of the user's classes or a whole year group."""
    organisation_or_404()
    classes = my_classes()
    form = TopicForm()
    _class_choices(form, classes)
    if request.method == "POST":
        return _save(
            form,
            None,
            lambda: topics.create_topic(
                current_user, _chosen(form, classes), form.week_start.data, form.title.data, form.note.data
            ),
            "Topic created. Now add its activities.",
        )
    today = topics.school_today(organisation_or_404())
    form.week_start.data = topics.monday_of(today) + timedelta(days=7)
    if len(classes) == 1:
        form.class_ids.data = [classes[0].id]
    return render("teachers/topic_form.html", form=form, topic=None)


@bp.route("/topics/<int:topic_id>/details", methods=["GET", "POST"])
@staff_required()
def topic_details(topic_id: int):
    """Title, week, classes and note; a stale version answers 409 with the current state."""
    topic = topic_or_404(topic_id)
    classes = my_classes(organisation=topic_org(topic))  # the topic's school, not the page's
    classes += [
        c
        for c in topic.classes
        if c not in classes and c.id in {v.id for v in my_classes(current_year_only=False)}
    ]
    if request.method == "POST":
        form = TopicForm()
        _class_choices(form, classes)

        def save() -> WeeklyTopic:
            topics.update_details(
                topic,
                version_of(form),
                title=form.title.data,
                note=form.note.data,
                week_start=form.week_start.data,
                classes=_chosen(form, classes),
                editable_class_ids={c.id for c in classes},
            )
            return topic

        try:
            return _save(form, topic, save, "Topic saved.")
        except StaleTopic:
            submitted = {"title": form.title.data, "note": form.note.data}
            topic = topic_or_404(topic_id)
            return render(
                "teachers/topic_form.html",
                "form",
                status=409,
                form=_details_form(topic, classes),
                topic=topic,
                conflict=CONFLICT,
                submitted=submitted,
            )
    return render("teachers/topic_form.html", form=_details_form(topic, classes), topic=topic)


def _details_form(topic: WeeklyTopic, classes: list[SchoolClass]) -> TopicForm:
    form = TopicForm(
        formdata=None,
        data={
            "version": topic.version,
            "title": topic.title,
            "note": topic.note,
            "week_start": topic.week_start,
            "class_ids": [c.id for c in topic.classes],
        },
    )
    _class_choices(form, classes)
    return form


@bp.post("/topics/<int:topic_id>/publish")
@staff_required()
def topic_publish(topic_id: int):
    """Publish now, or at a set time (school time) that the cron job honours."""
    topic = topic_or_404(topic_id)
    form = PublishForm()
    try:
        if form.when.data == "later":
            when = form.publish_at.data
            if form.publish_at.errors or when is None:
                raise TopicError("publish_at", "Please give the date and time to publish.")
            topics.schedule_publish(topic, version_of(form), topics.local_to_utc(topic_org(topic), when))
            flash("Scheduled. Families will be told when it is published.", "success")
        elif topics.publish_now(topic, version_of(form)):
            flash("Published. Families are being told now.", "success")
        else:
            flash("This topic was already published; nothing was sent again.", "info")
    except StaleTopic:
        return render_planner(topic_or_404(topic_id), status=409, message=CONFLICT)
    except TopicError as error:
        db.session.rollback()
        topic = topic_or_404(topic_id)
        if error.field == "publish_at":
            form.publish_at.errors = list(form.publish_at.errors or []) + [error.message]
        return render_planner(topic, status=error.status, message=error.message, publish_form=form)
    return redirect_after_post(url_for("teachers.planner", topic_id=topic_id))


@bp.post("/topics/<int:topic_id>/unschedule")
@staff_required()
def topic_unschedule(topic_id: int):
    """Cancel a scheduled publish."""
    topic = topic_or_404(topic_id)
    try:
        topics.unschedule(topic, request.form.get("version", type=db_int))
    except StaleTopic:
        return render_planner(topic_or_404(topic_id), status=409, message=CONFLICT)
    flash("The scheduled publish was cancelled: the topic is a draft again.", "success")
    return redirect_after_post(url_for("teachers.planner", topic_id=topic_id))


@bp.route("/topics/<int:topic_id>/copy", methods=["GET", "POST"])
@staff_required()
def topic_copy(topic_id: int):
    """Copy a past topic (this year's, or an earlier year's for the same year group)."""
    source = copy_source_or_404(topic_id)
    classes = my_classes(organisation=topic_org(source))
    form = CopyForm()
    form.class_ids.choices = options((c.id, c.name) for c in classes)
    if request.method == "POST":
        if form.validate_on_submit():
            try:
                copy, skipped = topics.copy_topic(
                    source, current_user, form.week_start.data, classes_by_id(form.class_ids.data, classes)
                )
            except TopicError as error:
                db.session.rollback()
                getattr(form, error.field).errors.append(error.message)
            else:
                note = f" {skipped} activities no longer in the library were left out." if skipped else ""
                flash(f"Copied. This is the new draft; check it before publishing.{note}", "success")
                return redirect_after_post(url_for("teachers.planner", topic_id=copy.id))
        return render("teachers/copy.html", "form", status=422, form=form, source=source)
    groups = {c.year_group for c in source.classes}
    same = {c.id for c in source.classes}
    form.class_ids.data = [c.id for c in classes if c.id in same] or [
        c.id for c in classes if c.year_group in groups
    ]
    # the first week from next week on where the chosen classes have no topic yet
    form.week_start.data = topics.next_free_week(
        form.class_ids.data, topics.monday_of(topics.school_today(topic_org(source))) + timedelta(7)
    )
    return render("teachers/copy.html", form=form, source=source)


@bp.get("/topics/<int:topic_id>/preview")
@staff_required()
def topic_preview(topic_id: int):
    """The topic exactly as a parent sees it on a phone (the parents' own card template)."""
    topic = topic_or_404(topic_id)
    return render(
        "teachers/preview.html",
        topic=topic,
        items=sorted(topic.items, key=lambda i: i.position),
        next=url_for("teachers.topic_preview", topic_id=topic.id),
    )
