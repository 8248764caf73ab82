"""The office's families pages: who has joined, invitations, letters, and removing a child."""

from __future__ import annotations

import functools
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from flask import abort, flash, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from app.core import i18n, qr
from app.core.authz import acting_school, staff_required
from app.core.direct_reads import DirectRead
from app.core.extensions import db
from app.core.htmx import redirect_after_post, render
from app.families import invitations
from app.families import jobs as invite_jobs
from app.families import membership as families
from app.models import (
    DeliveryStatus,
    Guardianship,
    Invitation,
    InvitationStatus,
    NotificationDelivery,
    Pupil,
    SchoolClass,
    User,
    UserStatus,
    bound_list,
    utcnow,
)
from app.models.reportable import parent_reportable, pupil_reportable
from app.office import bp
from app.params import db_int

OFFICE = ("office", "dpo")


def _carer_or_404(organisation_id: int, user_id: int) -> User:
    """A carer linked to a pupil of this school, or 404 (never another school's family)."""
    found = db.session.scalar(
        sa.select(User)
        .join(Guardianship, Guardianship.parent_id == User.id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(User.id == user_id, Pupil.organisation_id == organisation_id)
        .limit(1)
    )
    if found is None:
        abort(404)
    return found


def _school_row_or_404(model, row_id: int, organisation_id: int, *conditions):
    """A row of this school (by its organisation_id), or 404: never another school's."""
    found = db.session.scalar(
        sa.select(model).where(model.id == row_id, model.organisation_id == organisation_id, *conditions)
    )
    if found is None:
        abort(404)
    return found


# The families page's reads, each compiled once per process and run as a direct read (the
# school, and the carers' ids, bound): a school with hundreds of carers not yet joined shows them
# all on one page, every time the office looks.
_SCHOOL = sa.bindparam("school", type_=sa.Integer)


@functools.cache
def _rates_read() -> DirectRead:
    joined = (
        sa.select(Guardianship.pupil_id)
        .join(User, User.id == Guardianship.parent_id)
        .where(User.status == UserStatus.ACTIVE, Guardianship.removed_at.is_(None), parent_reportable())
    )
    return DirectRead(
        sa.select(
            SchoolClass.name, sa.func.count(Pupil.id), sa.func.count(Pupil.id).filter(Pupil.id.in_(joined))
        )
        .join(Pupil, (Pupil.class_id == SchoolClass.id) & pupil_reportable())
        .where(SchoolClass.organisation_id == _SCHOOL)
        .group_by(SchoolClass.id, SchoolClass.name)
        .order_by(SchoolClass.name)
    )


class _Carer(NamedTuple):
    id: int
    name: str
    email: str | None
    mobile: str | None


class _Invitation(NamedTuple):
    id: int
    user_id: int
    status: InvitationStatus
    expires_at: datetime
    sent_at: datetime | None


@functools.cache
def _waiting_read() -> DirectRead:
    """What the table shows of each carer not joined, as rows (no mapped objects for a list)."""
    waiting = invitations.not_joined(_SCHOOL)
    return DirectRead(waiting.with_only_columns(*(getattr(User, name) for name in _Carer._fields)))


@functools.cache
def _invitations_read() -> DirectRead:
    return DirectRead(
        sa.select(*(getattr(Invitation, name) for name in _Invitation._fields))
        .where(
            Invitation.organisation_id == _SCHOOL,
            Invitation.user_id == sa.any_(bound_list("carers", sa.Integer)),
        )
        .order_by(Invitation.id)
    )


@functools.cache
def _deliveries_read() -> DirectRead:
    return DirectRead(
        sa.select(
            NotificationDelivery.user_id, NotificationDelivery.status, NotificationDelivery.created_at
        ).where(
            NotificationDelivery.organisation_id == _SCHOOL,
            NotificationDelivery.template == "invitation",
            NotificationDelivery.user_id == sa.any_(bound_list("carers", sa.Integer)),
        )
    )


def join_rates(organisation_id: int) -> list[tuple]:
    """Per class: pupils, and pupils with at least one carer who has joined."""
    return _rates_read().run({"school": organisation_id})


@bp.get("/families")
@staff_required(*OFFICE)
def families_page():
    org = acting_school()
    waiting = [_Carer(*row) for row in _waiting_read().run({"school": org.id})]
    latest: dict[int, _Invitation] = {}
    if waiting:
        carers = {"school": org.id, "carers": [u.id for u in waiting]}
        for row in _invitations_read().run(carers):
            latest[row[1]] = _Invitation(*row)
    return render(
        "office/families.html",
        block="progress" if request.args.get("poll") else None,
        organisation=org,
        waiting=waiting,
        latest=latest,
        rates=join_rates(org.id),
        failed=_failed_invitations(org.id, latest),
        progress=invite_jobs.progress(org.id),
        now=utcnow(),
    )


def _failed_invitations(organisation_id: int, latest: dict[int, _Invitation]) -> set[int]:
    """Carers whose newest invitation message could not be delivered (every channel failed)."""
    if not latest:
        return set()
    rows = _deliveries_read().run({"school": organisation_id, "carers": list(latest)})
    outcome: dict[int, set] = {}
    for user_id, status, created in rows:
        if user_id in latest:  # always: the query asked for these people
            sent = latest[user_id].sent_at
            if sent is None or created >= sent:
                outcome.setdefault(user_id, set()).add(status)
    return {u for u, statuses in outcome.items() if statuses == {DeliveryStatus.FAILED}}


@bp.post("/families/<int:user_id>/invite")
@staff_required(*OFFICE)
def invite_one(user_id: int):
    org = acting_school()
    carer = _carer_or_404(org.id, user_id)
    channels = request.form.get("channels", "email")
    if channels not in ("email", "sms", "email,sms"):
        abort(400)
    invitations.invite_carer(org.id, carer, channels=channels, created_by_id=current_user.id)
    flash(f"Invitation sent to {carer.name}.", "success")
    return redirect_after_post(url_for("office.families_page"))


@bp.post("/invitations/<int:invitation_id>/revoke")
@staff_required(*OFFICE)
def revoke_invitation(invitation_id: int):
    org = acting_school()
    inv = _school_row_or_404(Invitation, invitation_id, org.id)
    invitations.cancel(inv)
    flash("Invitation cancelled. Its link and code no longer work.", "success")
    return redirect_after_post(url_for("office.families_page"))


@bp.post("/families/invite-all")
@staff_required(*OFFICE)
def invite_all():
    org = acting_school()
    if request.form.get("confirm") != "yes":
        # Nothing reaches a family before the office has seen how many, and how.
        people = invite_jobs.to_invite(org.id)
        return render(
            "office/invite_confirm.html",
            organisation=org,
            by_email=sum(1 for u in people if u.email),
            by_text=sum(1 for u in people if not u.email and u.mobile),
            total=len(people),
        )
    invite_jobs.start(org.id, current_user.id, "email")
    flash("Inviting every family not yet joined. This page shows the progress.", "info")
    return redirect_after_post(url_for("office.families_page"))


@bp.post("/families/letters")
@staff_required(*OFFICE)
def letters():
    """Printable letters (one page per family) with a code and a QR code for each carer chosen,
    or for every carer not yet joined who has no email address."""
    org = acting_school()
    chosen = request.form.getlist("user_id", type=db_int)
    query = invitations.not_joined(org.id)
    query = query.where(User.id.in_(chosen)) if chosen else query.where(User.email.is_(None))
    carers = db.session.scalars(query).all()
    ids = invitations.letter_invitations(org.id, [c.id for c in carers], created_by_id=current_user.id)
    pages = []
    join_code_url = url_for("parents.join_with_code", _external=True)
    for carer, inv_id in zip(carers, ids, strict=True):  # one invitation per carer, in order
        url = invitations.join_url(inv_id)
        page = {
            "carer": carer,
            "code": invitations.code_for(inv_id),
            "url": url,
            "qr": Markup(qr.svg(url, scale=4, xmlns=False)),
            "children": invitations.children_for(db.session.get_one(Invitation, inv_id)),
        }
        with i18n.in_language(carer.language) as lang:  # the family's (the roster's home language)
            page["letter"] = Markup(
                render_template(
                    "messages/letter.html",
                    page=page,
                    organisation=org,
                    join_code_url=join_code_url,
                    message_language=lang,
                )
            )
        pages.append(page)
    return render_template(
        "office/letters.html",
        organisation=org,
        pages=pages,
        join_code_url=join_code_url,
    )


@bp.post("/pupils/<int:pupil_id>/remove")
@staff_required(*OFFICE)
def remove_pupil(pupil_id: int):
    org = acting_school()
    pupil = _school_row_or_404(Pupil, pupil_id, org.id)
    families.remove_child(pupil, current_user)
    return render_template("office/pupil_removed.html", pupil=pupil)


@bp.post("/pupils/<int:pupil_id>/tell-parents")
@staff_required(*OFFICE)
def tell_parents(pupil_id: int):
    org = acting_school()
    pupil = _school_row_or_404(Pupil, pupil_id, org.id, Pupil.removed_at.is_not(None))
    families.tell_parents_removed(pupil)
    flash("The parents have been told.", "success")
    return redirect_after_post(url_for("office.families_page"))
