"""The breach log (P29): record a breach with the time the school became aware, watch the
72-hour countdown (server-rendered; with JavaScript the countdown block refreshes every minute),
fill in the regulator's fields, record the decision and whether families were told.
A trust-level DPO sees every school of the trust; office staff their own school (P12)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import abort, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice as C

from app.compliance.breaches import service
from app.core.authz import staff_required
from app.core.extensions import db
from app.core.htmx import redirect_after_post, render
from app.dataprotection.common.desk import OFFICE, desk_organisation_ids, desk_organisations
from app.dataprotection.common.desk_forms import BreachForm, DecisionForm, FamiliesToldForm
from app.dataprotection.common.forms import apply_error
from app.models import Breach, Organisation, utcnow
from app.office import bp

FIELDS = service.FIELDS


def local_input(value, org: Organisation) -> str:
    """A UTC time as the value of a ``datetime-local`` input in the school's time zone."""
    return value.astimezone(service.zone(org)).strftime("%Y-%m-%dT%H:%M") if value else ""


def local_text(value, org: Organisation) -> str:
    """A UTC time as the school's local date and time, for reading."""
    return value.astimezone(service.zone(org)).strftime("%-d %b %Y %H:%M") if value else ""


@bp.get("/breaches")
@staff_required(*OFFICE)
def breaches_page():
    """Every breach of the schools on this desk, undecided first, each with its countdown."""
    orgs = desk_organisations()
    rows = service.logged_for([o.id for o in orgs])
    schools = {o.id: o for o in orgs}
    return render(
        "office/breaches.html",
        schools=schools,
        rows=[
            (
                b,
                service.countdown(b),
                local_text(b.aware_at, schools[b.organisation_id]),
                local_text(b.families_told_at, schools[b.organisation_id]),
            )
            for b in rows
        ],
    )


@bp.route("/breaches/new", methods=["GET", "POST"])
@staff_required(*OFFICE)
def new_breach():
    """Log a breach as soon as the school knows of it: the 72 hours run from awareness."""
    orgs = desk_organisations()
    form = BreachForm()
    form.organisation_id.choices = [C(o.id, o.name) for o in orgs]
    if request.method == "GET":
        form.aware_at.data = local_input(utcnow(), orgs[0])
    status = 200
    if form.validate_on_submit():
        org_id = form.organisation_id.data if len(orgs) > 1 else orgs[0].id
        org = next((o for o in orgs if o.id == org_id), None)
        if org is None:
            abort(404)
        try:
            breach = service.record(
                current_user,
                org.id,
                aware_at=service.parse_local(form.aware_at.data, org, "aware_at"),
                **{name: form[name].data for name in FIELDS},
            )
        except service.BreachError as error:
            apply_error(form, error)
            status = error.status
        else:
            return redirect_after_post(url_for("office.breach_page", breach_id=breach.id))
    elif form.errors:
        status = 422
    return render("office/breaches_new.html", form=form, several=len(orgs) > 1, status=status)


def _breach_or_404(breach_id: int) -> Breach:
    breach = db.session.scalar(
        sa.select(Breach).where(Breach.id == breach_id, Breach.organisation_id.in_(desk_organisation_ids()))
    )
    if breach is None:
        abort(404)
    return breach


def _page(breach: Breach, *, details=None, decision=None, told=None, status: int = 200):
    db.session.refresh(breach)
    org = db.session.get_one(Organisation, breach.organisation_id)
    if details is None:
        details = BreachForm(formdata=None, obj=breach)
    if decision is None:
        decision = DecisionForm(formdata=None, obj=breach)
        decision.decision.data = None if breach.decision.value == "pending" else breach.decision.value
        decision.reported_at.data = local_input(breach.reported_at or utcnow(), org)
    if told is None:
        told = FamiliesToldForm(formdata=None)
        # Empty until it happened: a time filled in for the office could be recorded by mistake.
        told.families_told_at.data = (
            local_input(breach.families_told_at, org) if breach.families_told_at else ""
        )
    return render(
        "office/breaches_show.html",
        block="countdown",
        breach=breach,
        org=org,
        clock=service.countdown(breach),
        details=details,
        decision=decision,
        told=told,
        local=lambda value: local_text(value, org),
        status=status,
    )


@bp.get("/breaches/<int:breach_id>")
@staff_required(*OFFICE)
def breach_page(breach_id: int):
    """The breach, its countdown (an htmx poll gets only the countdown block) and its forms."""
    return _page(_breach_or_404(breach_id))


def _save(breach: Breach, form, slot: str, change):
    """A breach form's POST: an invalid form or a change the service refuses shows the page
    again with the errors at the form in ``slot`` (422, or the refusal's status); a saved change
    goes back to the breach."""
    if not form.validate_on_submit():
        return _page(breach, status=422, **{slot: form})
    try:
        change()
    except service.BreachError as error:
        apply_error(form, error)
        return _page(breach, status=error.status, **{slot: form})
    return redirect_after_post(url_for("office.breach_page", breach_id=breach.id))


@bp.post("/breaches/<int:breach_id>")
@staff_required(*OFFICE)
def update_breach(breach_id: int):
    """Save the regulator's fields as more becomes known."""
    breach = _breach_or_404(breach_id)
    form = BreachForm()
    return _save(
        breach,
        form,
        "details",
        lambda: service.update(breach.id, current_user, **{name: form[name].data for name in FIELDS}),
    )


@bp.post("/breaches/<int:breach_id>/decision")
@staff_required(*OFFICE)
def decide_breach(breach_id: int):
    """Reported (when; late only with the reason) or not reported (with the reason)."""
    breach = _breach_or_404(breach_id)
    form = DecisionForm()
    org = db.session.get_one(Organisation, breach.organisation_id)

    def decide():
        reported_at = None
        if form.decision.data == "reported" and form.reported_at.data:
            reported_at = service.parse_local(form.reported_at.data, org, "reported_at")
        service.decide(
            breach.id,
            current_user,
            decision=form.decision.data or "",
            reported_at=reported_at,
            reason=form.decision_reason.data,
            late_reason=form.late_reason.data,
        )

    return _save(breach, form, "decision", decide)


@bp.post("/breaches/<int:breach_id>/families-told")
@staff_required(*OFFICE)
def breach_families_told(breach_id: int):
    """Record when the affected families were told."""
    breach = _breach_or_404(breach_id)
    form = FamiliesToldForm()
    org = db.session.get_one(Organisation, breach.organisation_id)
    return _save(
        breach,
        form,
        "told",
        lambda: service.families_told(
            breach.id,
            current_user,
            at=service.parse_local(form.families_told_at.data, org, "families_told_at"),
        ),
    )
