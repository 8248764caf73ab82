"""The teachers' start page and a pupil's page."""

from __future__ import annotations

import functools

from flask_login import current_user

from app.core.audit import access_logged
from app.core.authz import pupil_for_staff_or_404, scope_params, staff_required
from app.core.direct_reads import DirectRead
from app.core.extensions import db
from app.core.htmx import render
from app.learning import topics
from app.learning.pupil_record import WEEKS, pupil_weeks
from app.learning.scope import my_classes
from app.models import Organisation, TopicStatus, WeeklyTopic
from app.teachers import bp


@functools.cache
def _pending_read() -> DirectRead:
    """The user's topics not yet published, soonest first (run with ``scope_params``): built once
    and read directly."""
    return DirectRead(
        topics.visible_topics()
        .where(WeeklyTopic.status != TopicStatus.PUBLISHED)
        .order_by(WeeklyTopic.week_start, WeeklyTopic.id)
        .limit(20)
    )


@bp.get("/")
@staff_required()
def home():
    """The user's classes and their topics that are not yet published."""
    classes = my_classes(current_year_only=False)
    pending = _pending_read().scalars(scope_params(current_user))
    return render("teachers/home.html", classes=classes, pending=pending, TopicStatus=TopicStatus)


@bp.get("/pupils/<int:pupil_id>")
@staff_required()
def pupil(pupil_id: int):
    """A pupil of the user's classes, or of the school for the office (logged: P15): the
    child's recent weeks, ratings, the family's comments and photos, and awards."""
    found = pupil_for_staff_or_404(pupil_id)
    org = db.session.get_one(Organisation, found.organisation_id)
    weeks = pupil_weeks(found, topics.school_today(org), org.timezone)
    # logged (P15) with the child's school, so it is kept for that school's period
    with access_logged("view_pupil", f"pupil:{found.id}", organisation_id=found.organisation_id):
        return render(
            "teachers/pupil.html",
            pupil=found,
            weeks=weeks,
            WEEKS=WEEKS,
            may_award=found.class_id is not None,
        )
