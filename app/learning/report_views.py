"""The office's engagement report: aggregates only (P13), Pupil Premium only in aggregate (P04)."""

from __future__ import annotations

from flask import render_template

from app.core.authz import acting_school, staff_required
from app.learning.reports import SMALL_GROUP, WEEKS, engagement_by_class
from app.office import bp


@bp.get("/report")
@staff_required("office", "dpo")
def report_page():
    organisation = acting_school()
    return render_template(
        "office/report.html",
        organisation=organisation,
        rows=engagement_by_class(organisation.id),
        small=SMALL_GROUP,
        weeks=WEEKS,
    )
