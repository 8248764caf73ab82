"""The privacy desk: the office's dashboard of data-protection requests (P27), logging requests
that came by phone, letter, email or in person, and each request's page with its clock, its
audit trail and a plain form for every step. A trust-level DPO sees every school of the trust;
office staff only their own school (P12: another school's request answers 404)."""

from __future__ import annotations

import functools
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import abort, current_app, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice as C

from app.compliance.breaches import service as breaches
from app.core.application import href
from app.core.audit import access_logged
from app.core.authz import staff_required
from app.core.direct_reads import DirectRead
from app.core.extensions import db
from app.core.htmx import redirect_after_post, render
from app.dataprotection.common.desk import OFFICE, desk_organisation_ids, desk_organisations
from app.dataprotection.common.forms import OfficeRequestForm, apply_error
from app.dataprotection.requests import deadlines, intake
from app.dataprotection.requests import workflow as pr
from app.dataprotection.requests.dashboard import desk, off_desk
from app.models import (
    DataExport,
    Organisation,
    PrivacyRequest,
    Pupil,
    RequestChannel,
    RequestEvent,
    RequestKind,
    RequestState,
    User,
    bound_list,
)
from app.office import bp
from app.params import day

TITLES = {
    "access": "Access: a copy of the data",
    "erasure": "Erasure",
    "rectification": "Rectification",
    "restriction": "Restriction",
    "objection": "Objection",
    "portability": "Portability: data to take elsewhere",
    "other": "Other request",
}
S = RequestState
STATE_TEXT = {
    "received": "Received",
    "identity_check": "Checking identity",
    "in_progress": "In progress",
    "paused": "Paused for clarification",
    "completed": "Completed",
    "refused": "Refused",
    "withdrawn": "Withdrawn",
}
# The steps offered on a request in each state: (to-state, button, what the form asks for).
# The service is the authority: a step out of order is refused there (409), whatever is posted.
STEPS = {
    S.RECEIVED: [
        ("identity_check", "Check identity first", "note"),
        ("in_progress", "Start (no identity check needed)", "note"),
    ],
    S.IDENTITY_CHECK: [("in_progress", "Identity checked: start the clock", "on")],
    S.IN_PROGRESS: [("paused", "Pause: ask for clarification", "on"), ("completed", "Complete", "outcome")],
    S.PAUSED: [("in_progress", "Resume: the reply has arrived", "on")],
}
ENDINGS = [("refused", "Refuse", "reason"), ("withdrawn", "Mark as withdrawn", "note")]


def _today() -> date:
    orgs = desk_organisations()
    return pr.local_today(orgs[0] if len(orgs) == 1 else None)


@bp.get("/requests")
@staff_required(*OFFICE)
def requests_desk():
    """Overdue, due this week and paused requests; the rest of the open ones; open breaches."""
    orgs = desk_organisations()
    ids, today = [o.id for o in orgs], _today()
    found = desk(ids, today)
    others = off_desk(ids, today)  # not already listed above
    open_breaches = breaches.waiting_for_decision(ids)
    return render(
        "office/requests.html",
        desk=found,
        others=others,
        today=today,
        schools={o.id: o.name for o in orgs},
        titles=TITLES,
        states=STATE_TEXT,
        breaches=[(b, breaches.countdown(b)) for b in open_breaches],
        describe_due=deadlines.describe_due,
        request_href=href("office.request_page", "request_id"),
    )


@functools.cache
def _pupils_read() -> DirectRead:
    """The children of the desk's schools (one array), to choose whom a request is about."""
    return DirectRead(
        sa.select(Pupil.id, Pupil.first_name, Pupil.last_name, Organisation.name)
        .join(Organisation, Organisation.id == Pupil.organisation_id)
        .where(Pupil.organisation_id == sa.any_(bound_list("schools", sa.Integer)), Pupil.erased_at.is_(None))
        .order_by(Organisation.name, Pupil.last_name, Pupil.first_name)
    )


def _log_form() -> OfficeRequestForm:
    orgs = desk_organisations()
    form = OfficeRequestForm()
    form.organisation_id.choices = [C(o.id, o.name) for o in orgs]
    pupils = _pupils_read().run({"schools": [o.id for o in orgs]})
    several = len(orgs) > 1
    form.pupil_id.choices = [C("", "Not about a child: about the requester")] + [
        C(str(pupil_id), f"{first} {last}" + (f" ({school})" if several else ""))
        for pupil_id, first, last, school in pupils
    ]
    if request.method == "GET":
        form.received_on.data = _today()
    return form


@bp.route("/requests/new", methods=["GET", "POST"])
@staff_required(*OFFICE)
def log_request():
    """Log a request that arrived by phone, letter, email or in person, with the day it came."""
    orgs = desk_organisations()
    form = _log_form()
    problem, status = None, 200
    if form.validate_on_submit():
        org_id = form.organisation_id.data if len(orgs) > 1 else orgs[0].id
        if org_id not in [o.id for o in orgs]:
            abort(404)
        try:
            req = intake.log_request(
                current_user,
                org_id,
                kind=form.kind.data,
                channel=form.channel.data,
                requester_name=form.requester_name.data,
                requester_email=form.requester_email.data or "",
                received_on=form.received_on.data,
                details=form.details.data or "",
                pupil_id=form.pupil_id.data,
            )
        except pr.RequestError as error:
            if not apply_error(form, error):
                problem = error.message
            status = error.status
        else:
            return redirect_after_post(url_for("office.request_page", request_id=req.id))
    elif form.errors:
        status = 422
    return render(
        "office/requests_new.html", form=form, several=len(orgs) > 1, problem=problem, status=status
    )


def _request_or_404(request_id: int) -> PrivacyRequest:
    req = db.session.scalar(
        sa.select(PrivacyRequest).where(
            PrivacyRequest.id == request_id, PrivacyRequest.organisation_id.in_(desk_organisation_ids())
        )
    )
    if req is None:
        abort(404)
    return req


def _page(req: PrivacyRequest, *, problem: str | None = None, field: str | None = None, status: int = 200):
    db.session.refresh(req)
    org = db.session.get_one(Organisation, req.organisation_id)
    today = pr.local_today(org)
    start = deadlines.clock_start(req.received_on, req.identity_checked_on)
    running = deadlines.pause_days(req.paused_since, today) if req.paused_since else 0
    paused = req.paused_days + running
    counted = req.confirmed_at is not None or req.channel is not RequestChannel.PUBLIC_FORM
    trail = db.session.execute(
        sa.select(RequestEvent, User.name)
        .outerjoin(User, User.id == RequestEvent.actor_id)
        .where(RequestEvent.request_id == req.id)
        .order_by(RequestEvent.at, RequestEvent.id)
    ).all()
    subject = db.session.get(Pupil, req.subject_pupil_id) if req.subject_pupil_id else None
    clock = {
        "start": start,
        "due": req.due_on,
        "paused": paused,
        "running_pause": running,
        "first_deadline": deadlines.first_deadline(start, paused_days=paused),
        "can_extend": deadlines.can_extend(start, today, paused_days=paused)
        and req.extension_months < deadlines.MAX_EXTENSION_MONTHS,
        "left": deadlines.describe_due(req.due_on, today) if req.due_on else None,
    }
    # logged (P15) with the request's school, so it is kept for that school's period
    with access_logged("privacy_request.viewed", f"request:{req.id}", organisation_id=req.organisation_id):
        return render(
            "office/requests_show.html",
            req=req,
            org=org,
            clock=clock,
            trail=trail,
            subject=subject,
            counted=counted,
            steps=STEPS.get(req.state, []),
            endings=ENDINGS if req.state in pr.OPEN else [],
            states=STATE_TEXT,
            title=TITLES[req.kind.value],
            today=today,
            problem=problem,
            field=field,
            form=request.form if status != 200 else {},
            links=_privacy_data_links(req),
            tz=breaches.zone(org),
            status=status,
        )


def _privacy_data_links(req: PrivacyRequest) -> dict:
    """What the privacy-data pages offer for this request, where they exist: building the
    access/portability export (and the exports made so far); the person's page (correct a
    detail, restrict, object) and the erasure preview."""
    views = current_app.view_functions
    found: dict[str, Any] = {"start_export": None, "exports": [], "person": None, "erasure": None}
    if req.kind in (RequestKind.ACCESS, RequestKind.PORTABILITY):
        if "office.start_export" in views and req.state is S.IN_PROGRESS:
            found["start_export"] = url_for("office.start_export", request_id=req.id)
        if "office.export_page" in views:
            found["exports"] = [
                (row.id, row.state.value, url_for("office.export_page", export_id=row.id))
                for row in db.session.scalars(
                    sa.select(DataExport)
                    .where(DataExport.request_id == req.id)
                    .order_by(DataExport.id.desc())
                )
            ]
        return found
    subject: dict[str, Any] | None
    if req.on_behalf_of == "child" and req.subject_pupil_id:
        subject = {"kind": "pupils", "subject_id": req.subject_pupil_id}
    elif req.requester_id:
        subject = {"kind": "parents", "subject_id": req.requester_id}
    else:  # no account and no child named: the office finds the person on the people page
        subject = None
    if subject and req.kind is not RequestKind.OTHER and "office.person_page" in views:
        found["person"] = url_for("office.person_page", **subject)
    if subject and req.kind is RequestKind.ERASURE and "office.erase_person" in views:
        found["erasure"] = url_for("office.erase_person", **subject, request=req.id)
    return found


@bp.get("/requests/<int:request_id>")
@staff_required(*OFFICE)
def request_page(request_id: int):
    """One request: its clock, its audit trail and the steps it can take now."""
    return _page(_request_or_404(request_id))


@bp.post("/requests/<int:request_id>/step")
@staff_required(*OFFICE)
def request_step(request_id: int):
    """One step of the workflow (a plain form post); a step out of order changes nothing."""
    req = _request_or_404(request_id)
    form = request.form
    on = None
    if form.get("on"):
        try:
            on = day(form["on"])
        except ValueError:
            return _page(req, problem="Give the day as a date, like 2026-03-05.", field="on", status=422)
    try:
        pr.transition(req.id, form.get("to", ""), actor=current_user, on=on, note=form.get("note", ""))
    except pr.RequestError as error:
        return _page(req, problem=error.message, field=error.field, status=error.status)
    return redirect_after_post(url_for("office.request_page", request_id=req.id))


@bp.post("/requests/<int:request_id>/extend")
@staff_required(*OFFICE)
def request_extend(request_id: int):
    """Extend a complex request by one or two months, with the reason the requester is told."""
    req = _request_or_404(request_id)
    months = request.form.get("months", "")
    if months not in ("1", "2"):
        return _page(req, problem="Choose one or two months.", field="months", status=422)
    try:
        pr.extend(req.id, actor=current_user, months=int(months), reason=request.form.get("reason", ""))
    except pr.RequestError as error:
        return _page(req, problem=error.message, field=error.field, status=error.status)
    return redirect_after_post(url_for("office.request_page", request_id=req.id))
