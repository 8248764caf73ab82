"""The office's people pages: a child's or a parent's details, and the data-protection actions on
them: correct a detail (P24), restrict or object and lift (P25), erase after a preview (P23).

Scoped to the schools the member of staff works for: another school's child or parent is 404.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from flask import abort, flash, request, url_for
from flask_login import current_user
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice as C
from wtforms.validators import DataRequired, Length

from app.core.authz import office_organisation_ids, staff_required
from app.core.direct_reads import DirectRead
from app.core.errors import ServiceError
from app.core.extensions import db
from app.core.forms import FlaskForm
from app.core.htmx import redirect_after_post, render
from app.dataprotection.rights import erasure, partial, rectification, restriction
from app.models import (
    Guardianship,
    PrivacyRequest,
    Pupil,
    RequestKind,
    RequestState,
    SchoolClass,
    User,
    UserKind,
    UserStatus,
    bound_list,
)
from app.office import bp

OFFICE = ("office", "dpo")
KINDS = {
    "correct": [RequestKind.RECTIFICATION],
    "erase": [RequestKind.ERASURE],
    "restriction": [RequestKind.RESTRICTION],
    "objection": [RequestKind.OBJECTION],
}


class CorrectForm(FlaskForm):
    """Correct one detail (P24)."""

    field = SelectField("Which detail", validators=[DataRequired("Choose the detail.")])
    value = StringField("The correct value", validators=[Length(max=254)])
    request_id = SelectField("Under which request", default="")


class FlagForm(FlaskForm):
    """Set or lift a restriction or an objection (P25)."""

    kind = SelectField("What", choices=[C("restriction", "Restriction"), C("objection", "Objection")])
    action = SelectField("Set or lift", choices=[C("set", "Set"), C("lift", "Lift")])
    note = TextAreaField("Note for the record (optional)", validators=[Length(max=150)])
    request_id = SelectField("Under which request", default="")


class EraseForm(FlaskForm):
    """Confirm an erasure after its preview (P23)."""

    confirm = BooleanField(
        "I have checked the preview: erase this record now",
        validators=[DataRequired("Tick the box to confirm.")],
    )
    request_id = SelectField("Under which request", default="")
    part = HiddenField(default="whole")


def _pupil_or_404(pupil_id: int) -> Pupil:
    rows = _pupil_read().run({"pupil": pupil_id, "schools": office_organisation_ids(current_user) or [-1]})
    if not rows:
        abort(404)
    return rows[0][0]


@functools.cache
def _pupil_read() -> DirectRead:
    """A child of ``:schools`` (one array) not yet erased; built once per process, read directly."""
    return DirectRead(
        sa.select(Pupil).where(
            Pupil.id == sa.bindparam("pupil", type_=sa.Integer),
            Pupil.erased_at.is_(None),
            Pupil.organisation_id == sa.any_(bound_list("schools", sa.Integer)),
        )
    )


def _parent_or_404(user_id: int) -> User:
    found = db.session.scalar(
        sa.select(User)
        .join(Guardianship, Guardianship.parent_id == User.id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(
            User.id == user_id,
            User.kind == UserKind.PARENT,
            Pupil.organisation_id.in_(office_organisation_ids(current_user) or [-1]),
        )
        .limit(1)
    )
    if found is None:
        abort(404)
    return found


def _subject(kind: str, subject_id: int):
    if kind == "pupils":
        return _pupil_or_404(subject_id)
    if kind == "parents":
        return _parent_or_404(subject_id)
    abort(404)


def _open_requests(subject, actions: tuple[str, ...]) -> dict[str, list[C]]:
    """For each action, the choice of its in-progress requests about ``subject`` (one query)."""
    kinds = {kind: action for action in actions for kind in KINDS.get(action, [])}
    params = {
        "subject": subject.id,
        "kinds": list(kinds),
        "schools": office_organisation_ids(current_user) or [-1],
    }
    found = _open_requests_read(isinstance(subject, Pupil)).run(params)
    choices: dict[str, list[C]] = {action: [] for action in actions}
    for request_id, kind, requester_name in found:
        choices[kinds[kind]].append(C(str(request_id), f"R{request_id}: {kind.value} from {requester_name}"))
    return choices


@functools.cache
def _open_requests_read(about_pupil: bool) -> DirectRead:
    """In-progress requests of ``:kinds`` at ``:schools`` about the child (or the person)
    ``:subject``, the columns a choice shows; built once per process for each kind of subject
    (values bound, lists as arrays), read directly."""
    subject = sa.bindparam("subject", type_=sa.Integer)
    about = (
        PrivacyRequest.subject_pupil_id == subject
        if about_pupil
        else sa.and_(PrivacyRequest.subject_pupil_id.is_(None), PrivacyRequest.requester_id == subject)
    )
    return DirectRead(
        sa.select(PrivacyRequest.id, PrivacyRequest.kind, PrivacyRequest.requester_name)
        .where(
            about,
            PrivacyRequest.kind == sa.any_(bound_list("kinds", PrivacyRequest.kind.type)),
            PrivacyRequest.state == RequestState.IN_PROGRESS,
            PrivacyRequest.organisation_id == sa.any_(bound_list("schools", sa.Integer)),
        )
        .order_by(PrivacyRequest.id)
    )


def _request_choices(subject, action: str) -> list[C]:
    return [C("", "Not under a request"), *_open_requests(subject, (action,))[action]]


def _forms(subject):
    """Both forms of the page, empty; the route processes the one that was sent."""
    found = _open_requests(subject, ("correct", "restriction", "objection"))
    none = C("", "Not under a request")
    correct = CorrectForm(formdata=None, prefix="c")
    correct.field.choices = [C(k, v) for k, v in rectification.fields_for(subject).items()]
    correct.request_id.choices = [none, *found["correct"]]
    flag = FlagForm(formdata=None, prefix="f")
    if isinstance(subject, Pupil):
        flag.kind.choices = [C("restriction", "Restriction")]
    flag.request_id.choices = [none, *found["restriction"], *found["objection"]]
    return correct, flag


def _page(kind: str, subject, correct=None, flag=None, status: int = 200):
    defaults = _forms(subject)
    correct, flag = correct or defaults[0], flag or defaults[1]
    context = {"kind": kind, "subject": subject, "correct": correct, "flag": flag}
    if isinstance(subject, Pupil):
        carers, classes = _pupil_page_reads()
        context["carers"] = [_Linked._make(row) for row in carers.run({"pupil": subject.id})]
        # the school's classes (their names to choose from) and the child's, in one query
        names = dict(classes.run({"school": subject.organisation_id}))
        class_id = subject.class_id
        context["school_class"] = (
            None
            if class_id is None
            else _Named(class_id, names[class_id])
            if class_id in names
            else db.session.get(SchoolClass, class_id)
        )
        context["classes"] = sorted(set(names.values()))
    else:
        context["children"] = db.session.scalars(
            sa.select(Pupil)
            .join(Guardianship, Guardianship.pupil_id == Pupil.id)
            .where(
                Guardianship.parent_id == subject.id,
                Pupil.erased_at.is_(None),
                Pupil.organisation_id.in_(office_organisation_ids(current_user)),
            )
        ).all()
    return render("office/people_detail.html", status=status, **context)


class _Linked(NamedTuple):
    """A carer linked to a child, as the child's page lists them."""

    id: int
    name: str
    relationship_label: str
    removed_at: datetime | None


class _Named(NamedTuple):
    id: int
    name: str


@functools.cache
def _pupil_page_reads() -> tuple[DirectRead, DirectRead]:
    """A child's carers (``:pupil``) and their school's classes (``:school``), as rows of what
    the page shows; built once per process, read directly."""
    carers = (
        sa.select(User.id, User.name, Guardianship.relationship_label, Guardianship.removed_at)
        .join(Guardianship, Guardianship.parent_id == User.id)
        .where(Guardianship.pupil_id == sa.bindparam("pupil", type_=sa.Integer))
        .order_by(User.name)
    )
    classes = sa.select(SchoolClass.id, SchoolClass.name).where(
        SchoolClass.organisation_id == sa.bindparam("school", type_=sa.Integer)
    )
    return DirectRead(carers), DirectRead(classes)


def _request_id(form) -> int | None:
    value = form.request_id.data
    return int(value) if value and value.isdigit() else None


class _Child(NamedTuple):
    id: int
    first_name: str
    last_name: str
    year_group: str
    restricted_at: datetime | None
    removed_at: datetime | None


class _Carer(NamedTuple):
    id: int
    name: str
    restricted_at: datetime | None
    objected_at: datetime | None
    status: UserStatus


@functools.cache
def _people_reads(searching: bool) -> tuple[DirectRead, DirectRead]:
    """What the list shows of the children and the parents of some schools (bound as one array),
    the first 200 of each, with a search (a bound pattern) or without: built once per process,
    run as direct reads, as rows (a list of hundreds has no use for mapped objects)."""
    schools = sa.any_(bound_list("schools", sa.Integer))
    pupils = sa.select(*(getattr(Pupil, name) for name in _Child._fields)).where(
        Pupil.organisation_id == schools, Pupil.erased_at.is_(None)
    )
    parents = (
        sa.select(*(getattr(User, name) for name in _Carer._fields))
        .distinct()
        .join(Guardianship, Guardianship.parent_id == User.id)
        .join(Pupil, Pupil.id == Guardianship.pupil_id)
        .where(Pupil.organisation_id == schools, User.kind == UserKind.PARENT)
    )
    if searching:
        like = sa.bindparam("like", type_=sa.String)
        pupils = pupils.where((Pupil.first_name + " " + Pupil.last_name).ilike(like))
        parents = parents.where(sa.or_(User.name.ilike(like), User.email.ilike(like)))
    return (
        DirectRead(pupils.order_by(Pupil.last_name, Pupil.first_name).limit(200)),
        DirectRead(parents.order_by(User.name, User.id).limit(200)),
    )


@bp.get("/people")
@staff_required(*OFFICE)
def people_page():
    """Children and parents of the school, searchable by name."""
    orgs, q = office_organisation_ids(current_user) or [-1], (request.args.get("q") or "").strip()
    pupils, parents = _people_reads(bool(q))
    params = {"schools": list(orgs), "like": f"%{q.replace('%', '').replace('_', '')}%"}
    return render(
        "office/people.html",
        block="results",
        q=q,
        pupils=[_Child(*row) for row in pupils.run(params)],
        parents=[_Carer(*row) for row in parents.run(params)],
    )


@bp.get("/people/<any(pupils, parents):kind>/<int:subject_id>")
@staff_required(*OFFICE)
def person_page(kind: str, subject_id: int):
    """A child's or a parent's details and the data-protection actions on them."""
    return _page(kind, _subject(kind, subject_id))


def _act(kind: str, subject, form, change, *, slot: str, refused: type[ServiceError], at: str):
    """A person-page form's POST: ``change()`` makes the change and returns what to flash. A
    refusal answers 404 when the record or request is not one of the office's, else shows the
    page again (422) with the message at the field it names, or at ``at``."""
    form.process(request.form)
    if form.validate():
        try:
            message = change()
        except refused as problem:
            if problem.status == 404:
                abort(404)
            form[problem.field if problem.field in form else at].errors.append(problem.message)
        else:
            flash(message, "success")
            return redirect_after_post(url_for("office.person_page", kind=kind, subject_id=subject.id))
    return _page(kind, subject, status=422, **{slot: form})


@bp.post("/people/<any(pupils, parents):kind>/<int:subject_id>/correct")
@staff_required(*OFFICE)
def correct_detail(kind: str, subject_id: int):
    """Correct one detail; a 422 with the page and the error at the field when refused."""
    subject = _subject(kind, subject_id)
    correct, _ = _forms(subject)

    def change() -> str:
        changed = rectification.rectify(
            subject, correct.field.data, correct.value.data, current_user, request_id=_request_id(correct)
        )
        label = rectification.fields_for(subject)[correct.field.data]
        return (
            f"{label} corrected; the correction is recorded."
            if changed
            else f"{label} was already that: nothing changed."
        )

    return _act(
        kind, subject, correct, change, slot="correct", refused=rectification.RectificationError, at="value"
    )


@bp.post("/people/<any(pupils, parents):kind>/<int:subject_id>/flag")
@staff_required(*OFFICE)
def set_flag(kind: str, subject_id: int):
    """Set or lift a restriction or objection, recorded."""
    subject = _subject(kind, subject_id)
    _, flag = _forms(subject)

    def change() -> str:
        changed = restriction.set_flag(
            subject,
            flag.kind.data,
            flag.action.data == "set",
            current_user,
            request_id=_request_id(flag),
            note=flag.note.data or "",
        )
        return (
            "Recorded: " if changed else "Nothing changed: it was already "
        ) + f"{flag.kind.data} {'set' if flag.action.data == 'set' else 'lifted'}."

    return _act(
        kind, subject, flag, change, slot="flag", refused=restriction.RestrictionError, at="request_id"
    )


@bp.route("/people/<any(pupils, parents):kind>/<int:subject_id>/erase", methods=["GET", "POST"])
@staff_required(*OFFICE)
def erase_person(kind: str, subject_id: int):
    """The preview of what erasure deletes, anonymises and keeps; then the confirmed erasure."""
    subject = _subject(kind, subject_id)
    form = EraseForm(prefix="e")
    form.request_id.choices = _request_choices(subject, "erase")
    part = request.values.get("part", request.form.get("e-part", "whole")) if kind == "pupils" else "whole"
    if part not in partial.PARTS:
        part = "whole"
    if request.method == "GET":
        form.part.data = part
        wanted = request.args.get("request", "")
        if any(choice.value == wanted for choice in form.request_id.choices):
            form.request_id.data = wanted  # opened from the request: done under it
    problem = None
    if request.method == "POST" and form.validate_on_submit():
        try:
            if part == "whole":
                outcome = erasure.erase(subject, current_user, request_id=_request_id(form))
            else:
                outcome = partial.erase_part(subject, current_user, part, request_id=_request_id(form))
        except erasure.ErasureError as error:
            if error.status == 404:
                abort(404)
            problem = error.message
        else:
            flash(outcome, "success")
            return redirect_after_post(
                url_for("office.people_page")
                if part == "whole"
                else url_for("office.person_page", kind=kind, subject_id=subject.id)
            )
    status = 422 if request.method == "POST" else 200
    return render(
        "office/people_erase.html",
        status=status,
        kind=kind,
        subject=subject,
        form=form,
        part=part,
        parts=partial.PARTS,
        lines=erasure.preview(subject) if part == "whole" else [],
        part_preview=partial.preview_part(subject, part) if part != "whole" else None,
        problem=problem,
    )
