"""The school's activity library: search and filter, add, edit, archive, the starter library."""

from __future__ import annotations

from flask import flash, request, url_for
from flask_login import current_user

from app.core.application import href
from app.core.authz import staff_required
from app.core.extensions import db
from app.core.htmx import redirect_after_post, render
from app.learning import activities, topics
from app.learning.activities import KIND_LABELS, SUBJECTS, YEAR_GROUPS, ActivityError
from app.learning.scope import activity_or_404, organisation_or_404, topic_or_404
from app.learning.teacher_forms import ActivityForm, year_label
from app.models import Activity, ActivityKind
from app.params import db_int, page_number
from app.teachers import bp

PAGE = 30


def _filters() -> dict:
    args = request.args
    return {
        "text": args.get("q", "")[:100],
        "kind": args.get("kind", ""),
        "subject": args.get("subject", ""),
        "year_group": args.get("year", ""),
        "archived": args.get("archived") == "1",
    }


# The columns the list shows, as rows: thirty mapped objects a page cost more than drawing them.
_LISTED = ("id", "title", "kind", "subject", "year_groups", "minutes")


@bp.get("/library")
@staff_required()
def library():
    """Search and filter the school's library (the results are a block for htmx)."""
    org = organisation_or_404()
    filters = _filters()
    page = request.args.get("page", 1, type=page_number)
    found = activities.search(org.id, _LISTED, limit=PAGE + 1, offset=(page - 1) * PAGE, **filters)
    empty = (  # nothing found, and nothing at all in the library (archived activities aside)
        not filters["archived"] and not found and not activities.search(org.id, ("id",), limit=1)
    )
    return render(
        "teachers/library.html",
        "results",
        activities=found[:PAGE],
        activity_url=href("teachers.activity", "activity_id"),
        more=len(found) > PAGE,
        page=page,
        filters=filters,
        empty_library=empty,
        kinds=KIND_LABELS,
        subjects=SUBJECTS,
        year_groups=YEAR_GROUPS,
        year_label=year_label,
    )


def _input(form: ActivityForm) -> activities.ActivityInput:
    upload = form.file.data
    pdf = upload.read(activities.MAX_PDF_BYTES + 1) if upload and upload.filename else None
    return activities.ActivityInput(
        kind=ActivityKind(form.kind.data),
        title=form.title.data or "",
        instructions=form.instructions.data or "",
        subject=form.subject.data,
        year_groups=form.year_groups.data or [],
        minutes=form.minutes.data,
        url=form.url.data or "",
        pdf=pdf,
    )


def _topic():
    """The topic a new activity is made for (from the planner), or None."""
    topic_id = request.args.get("topic", type=db_int)
    return topic_or_404(topic_id) if topic_id else None


def _save(form: ActivityForm, activity: Activity | None, topic=None):
    """Validate and save; the form again with 422 and the reasons when something is wrong. Made
    from a topic's planner, the new activity is added to the topic and the planner opens again."""
    org = organisation_or_404()
    if form.validate_on_submit():
        try:
            saved = activities.save_activity(org.id, current_user, _input(form), activity)
        except ActivityError as error:
            db.session.rollback()
            getattr(form, error.field).errors.append(error.message)
        else:
            if topic is not None:
                topics.add_activity(topic, topic.version, saved)
                flash(f"Saved “{saved.title}” and added it to “{topic.title}”.", "success")
                return redirect_after_post(url_for("teachers.planner", topic_id=topic.id) + "#items-heading")
            flash(f"Saved “{saved.title}”.", "success")
            return redirect_after_post(url_for("teachers.activity", activity_id=saved.id))
    return render(
        "teachers/activity_form.html", "form", status=422, form=form, activity=activity, topic=topic
    )


@bp.route("/library/new", methods=["GET", "POST"])
@staff_required()
def activity_new():
    """Add an activity to the library."""
    form = ActivityForm()
    topic = _topic()
    if request.method == "POST":
        return _save(form, None, topic)
    form.year_groups.data = form.year_groups.data or (
        sorted({c.year_group for c in topic.classes}) if topic is not None else []
    )
    return render("teachers/activity_form.html", form=form, activity=None, topic=topic)


@bp.get("/library/<int:activity_id>")
@staff_required()
def activity(activity_id: int):
    """An activity as families will see it, with edit and archive."""
    found = activity_or_404(activity_id)
    return render(
        "teachers/activity.html",
        activity=found,
        year_label=year_label,
        next=url_for("teachers.activity", activity_id=found.id),
    )


@bp.route("/library/<int:activity_id>/edit", methods=["GET", "POST"])
@staff_required()
def activity_edit(activity_id: int):
    """Edit an activity (a new PDF replaces the old one only once saved)."""
    found = activity_or_404(activity_id)
    if request.method == "POST":
        return _save(ActivityForm(), found)
    form = ActivityForm(
        data={
            "kind": found.kind.value,
            "title": found.title,
            "instructions": found.instructions,
            "subject": found.subject,
            "year_groups": found.year_groups.split(","),
            "minutes": found.minutes,
            "url": (activities.watch_url(found) if found.kind is ActivityKind.VIDEO else found.url),
        }
    )
    return render("teachers/activity_form.html", form=form, activity=found)


@bp.post("/library/<int:activity_id>/archive")
@staff_required()
def activity_archive(activity_id: int):
    """Take an activity out of the library, or put it back."""
    found = activity_or_404(activity_id)
    if request.form.get("restore") == "1":
        activities.restore_activity(found)
        flash(f"“{found.title}” is back in the library.", "success")
    else:
        activities.archive_activity(found)
        flash(f"“{found.title}” was taken out of the library. Topics that use it keep it.", "success")
    return redirect_after_post(url_for("teachers.activity", activity_id=found.id))


@bp.post("/library/starter")
@staff_required()
def starter_library():
    """Copy the starter activities into this school's library."""
    from app.learning.starter_library import seed_starter_library

    org = organisation_or_404()
    added = seed_starter_library(org.id)
    flash(f"Added {added} starter activities to your library.", "success")
    return redirect_after_post(url_for("teachers.library"))
