"""The school office's home: the school at a glance, and the way to every office page."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import current_app, render_template, url_for

from app.core.authz import acting_school, staff_required
from app.core.direct_reads import DirectRead
from app.models import Pupil, SchoolClass
from app.models.reportable import pupil_reportable
from app.office import bp

# (endpoint, label, what it is for), in the order the office needs them.
SECTIONS = [
    (
        "Families",
        [
            ("office.roster_upload", "Import pupils and contacts", "Upload a CSV from your MIS."),
            (
                "office.families_page",
                "Families and invitations",
                "Who has joined, invitations, printed letters.",
            ),
            ("office.staff_page", "Staff", "Invite teachers and office colleagues."),
            ("office.report_page", "Engagement report", "Who took part, by class (figures only)."),
            (
                "office.deliveries",
                "Messages",
                "Text messages this month and what they cost; failed messages, to retry.",
            ),
        ],
    ),
    (
        "Privacy",
        [
            ("office.requests_desk", "Data-protection requests", "Deadlines, requests and their trail."),
            ("office.exports_page", "Data exports", "Build, review and release copies of data."),
            ("office.people_page", "People's records", "Correct, restrict or erase a record."),
            ("office.breaches_page", "Breach log", "Record a breach and its 72-hour clock."),
            ("office.notices_page", "Privacy notice versions", "Publish a new version."),
            ("office.register_page", "Register of processing", "What we hold, why, and for how long."),
            ("office.retention_page", "Retention", "What is deleted, when, and what is due."),
        ],
    ),
]


def _links():
    """The sections, keeping only pages this installation has."""
    views = current_app.view_functions
    return [
        (title, [(url_for(endpoint), label, text) for endpoint, label, text in pages if endpoint in views])
        for title, pages in SECTIONS
    ]


@bp.get("/")
@staff_required("office", "dpo")
def home():
    organisation = acting_school()
    counts = _counts_read().run({"school": organisation.id})
    return render_template("office/home.html", organisation=organisation, counts=counts, sections=_links())


@functools.cache
def _counts_read() -> DirectRead:
    """Each class of ``:school`` with its number of pupils (those reports may count); built once
    per process, the school's id bound, read directly."""
    return DirectRead(
        sa.select(SchoolClass.name, sa.func.count(Pupil.id))
        .outerjoin(Pupil, (Pupil.class_id == SchoolClass.id) & pupil_reportable())
        .where(SchoolClass.organisation_id == sa.bindparam("school", type_=sa.Integer))
        .group_by(SchoolClass.id, SchoolClass.name)
        .order_by(SchoolClass.name)
    )
