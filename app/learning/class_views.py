"""One class at a glance: pupils × this week's activities (done, rating), the families' comments
and photos (a teacher can hide one from everyone else), and awards. No rankings, no
leaderboards, and no Pupil Premium status per child (P04)."""

from __future__ import annotations

from datetime import date, timedelta

from flask import abort, flash, get_template_attribute, make_response, request, url_for
from flask_login import current_user

from app.core.application import href
from app.core.audit import access_logged
from app.core.authz import class_for_staff_or_404, pupil_for_staff_or_404, staff_required
from app.core.extensions import db
from app.core.htmx import add_vary, flash_at, is_htmx, redirect_after_post, render
from app.learning import classroom, topics
from app.learning.scope import contribution_or_404
from app.learning.teacher_forms import AwardForm
from app.models import AwardKind, Organisation
from app.params import day, db_int
from app.teachers import bp


def _week(org: Organisation) -> date:
    try:
        return topics.monday_of(day(request.args.get("week", "")))
    except ValueError:
        return topics.monday_of(topics.school_today(org))


@bp.get("/classes/<int:class_id>")
@staff_required()
def class_view(class_id: int):
    """The class view: a fixed number of SQL queries whatever the size of the class."""
    # authz's own scope (visible_classes), with the school loaded in the same query
    school_class = class_for_staff_or_404(class_id, with_school=True)
    week = _week(school_class.organisation)
    grid = classroom.class_grid(school_class, week, school_class.organisation.timezone)
    # Logged (P15) by one INSERT of its own, sent before the page renders and confirmed after it.
    with access_logged(
        "view_class", f"class:{school_class.id}", organisation_id=school_class.organisation_id
    ):
        response = render(
            "teachers/class.html",
            school_class=school_class,
            grid=grid,
            titles=[f"{n}. {item.activity.title}" for n, item in enumerate(grid.activities, 1)],
            grid_cells=classroom.grid_cells,
            previous=week - timedelta(days=7),
            following=week + timedelta(days=7),
            pupil_url=href("teachers.pupil", "pupil_id"),
            award_url=href("teachers.award_give", "pupil_id"),
            hide_url=url_for("teachers.class_hide", class_id=school_class.id),
        )
    return response


@bp.post("/contributions/<int:contribution_id>/hide")
@staff_required()
def contribution_hide(contribution_id: int):
    """Hide a comment or photo from everyone else (kept and recorded), or show it again."""
    contribution = contribution_or_404(contribution_id)
    hide = request.form.get("show") != "1"
    classroom.set_hidden(contribution, current_user, hide)
    flash("Hidden: only staff can see it now." if hide else "It is visible again.", "success")
    back = request.form.get("back", type=db_int)
    target = (
        url_for("teachers.class_view", class_id=back, week=request.form.get("week"))
        if back
        else url_for("teachers.home")
    )
    return redirect_after_post(target + f"#contribution-{contribution_id}")


@bp.post("/classes/<int:class_id>/hide")
@staff_required()
def class_hide(class_id: int):
    """The class view's one shared form: its buttons send ``hide=<id>`` or ``show=<id>``. Without
    JavaScript, back to that comment in the class view with the answer there; with htmx, only
    the comment comes back, swapped in place (the form's own target is retargeted). Another
    class (P12) answers 404 like the class view itself."""
    class_for_staff_or_404(class_id)
    wanted = request.form.get("hide") or request.form.get("show") or ""
    try:
        contribution_id = db_int(wanted)
    except ValueError:
        abort(400, "Choose a comment or photo to hide or show.")
    contribution = contribution_or_404(contribution_id)
    hide = "hide" in request.form
    classroom.set_hidden(contribution, current_user, hide)
    message = "Hidden: only staff can see it now." if hide else "It is visible again."
    if is_htmx():
        said = get_template_attribute("teachers/_said.html", "said")
        response = add_vary(
            make_response(said(classroom.contribution_item(contribution), [("success", message)]))
        )
        response.headers["HX-Retarget"] = f"#contribution-{contribution.id}"
        response.headers["HX-Reswap"] = "outerHTML"
        return response
    flash_at(message, f"contribution-{contribution.id}")
    week = request.form.get("week") or None
    return redirect_after_post(
        url_for("teachers.class_view", class_id=class_id, week=week) + f"#contribution-{contribution.id}"
    )


@bp.route("/pupils/<int:pupil_id>/awards", methods=["GET", "POST"])
@staff_required()
def award_give(pupil_id: int):
    """Give an award; the child's parents are told (P04). htmx: only the pupil's award cell,
    which comes back with the answer and focus on its link; without JavaScript, back to the
    pupil's row of the class view with the answer shown there."""
    pupil = pupil_for_staff_or_404(pupil_id)
    if request.method == "GET":
        form = AwardForm(formdata=None)
        return render("teachers/award.html", "award", pupil=pupil, form=form, given=None, focus=is_htmx())
    form = AwardForm()
    if not form.validate_on_submit():
        return render(
            "teachers/award.html", "award", status=422, pupil=pupil, form=form, given=None, focus=is_htmx()
        )
    kind = AwardKind(form.kind.data)
    classroom.give_award(pupil, kind, current_user, form.note.data)
    message = f"{classroom.AWARD_LABELS[kind]} given to {pupil.first_name}. Their family is being told."
    if is_htmx():
        org = db.session.get_one(Organisation, pupil.organisation_id)
        return render(
            "teachers/award.html",
            "award",
            pupil=pupil,
            given=message,
            form=None,
            awards=classroom.week_awards(pupil.id, topics.monday_of(topics.school_today(org)), org.timezone),
            award_url=href("teachers.award_give", "pupil_id"),
        )
    flash_at(message, f"award-{pupil.id}")
    return redirect_after_post(url_for("teachers.class_view", class_id=pupil.class_id) + f"#pupil-{pupil.id}")
