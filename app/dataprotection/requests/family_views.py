"""Your data rights in plain words (the privacy home page), and making a data-protection request: a signed-in parent for themselves or a linked child (P28,
after a fresh sign-in), and anyone without an account through the public form, confirmed by an
emailed link. The workflow itself: app/dataprotection/requests/intake.py and privacy_requests.py."""

from __future__ import annotations

import functools
from typing import NamedTuple

import sqlalchemy as sa
from flask import abort, current_app, request, url_for
from flask_babel import gettext
from flask_login import current_user
from wtforms.fields.choices import SelectChoice as C

from app.core.authz import fresh_signin_required, linked_pupils, parent_required, public
from app.core.direct_reads import DirectRead
from app.core.error_pages import render_error
from app.core.extensions import db, limiter
from app.core.htmx import redirect_after_post, render
from app.core.i18n import lazy_gettext as _l
from app.dataprotection.common.forms import ParentRequestForm, PublicRequestForm, apply_error
from app.dataprotection.requests import intake
from app.dataprotection.requests import workflow as pr
from app.models import (
    LoginToken,
    Organisation,
    OrgKind,
    PrivacyRequest,
    Pupil,
    RequestState,
    TokenPurpose,
    utcnow,
)
from app.privacy import bp

# Each kind of request, in the words a parent would use (P22-P26).
RIGHTS = [
    (
        "access",
        _l("Get a copy of your data"),
        _l(
            "See what the school holds about you or your child on Hometime: what it is, why it is "
            "kept, for how long, where it came from and who it is shared with. You get a page you can "
            "read and files a computer can read, with the photos."
        ),
    ),
    (
        "erasure",
        _l("Have your data deleted"),
        _l(
            "Ask for your or your child's data to be deleted. Names, photos and comments are removed; "
            "only figures that say nothing about who you are (such as how many activities were done) "
            "are kept. If the school must keep something by law, it tells you what and why."
        ),
    ),
    (
        "rectification",
        _l("Correct your data"),
        _l(
            "Something is wrong or out of date, such as a name or a phone number. Tell the school what "
            "should change; the correction is recorded."
        ),
    ),
    (
        "restriction",
        _l("Limit how your data is used"),
        _l(
            "Ask the school to keep the data but stop using it for a while, for example while "
            "something is checked. You are left out of messages, reports and publishing until then."
        ),
    ),
    (
        "objection",
        _l("Object to how your data is used"),
        _l(
            "Tell the school you disagree with a use of your data, such as photos shown to promote "
            "the school. It stops while your objection is considered."
        ),
    ),
    (
        "portability",
        _l("Take your data elsewhere"),
        _l("Get your data in common formats (JSON and CSV files) to keep or give to another service."),
    ),
    (
        "other",
        _l("Something else"),
        _l("Any other question or request about how your or your child's data is used."),
    ),
]
RIGHT_TITLES = {kind: title for kind, title, _ in RIGHTS}


@bp.get("/")
@public
def home():
    """Your data rights, each explained, with the way to ask for it."""
    return render("privacy/home.html", rights=RIGHTS)


STATE_TEXT = {
    "received": _l("Received"),
    "identity_check": _l("Checking who you are"),
    "in_progress": _l("Being worked on"),
    "paused": _l("Waiting for your reply"),
    "completed": _l("Completed"),
    "refused": _l("Refused"),
    "withdrawn": _l("Withdrawn"),
}


def _ask_limit() -> str:
    return current_app.config.get("PRIVACY_ASK_LIMIT", "10 per hour")


def _status(form, error=None) -> int:
    return getattr(error, "status", None) or (422 if form.errors else 200)


# --- a signed-in parent ------------------------------------------------------------------------


@functools.cache
def _my_requests_read() -> DirectRead:
    """A parent's requests, newest first, each with the child's first name and the school's name,
    compiled once per process."""
    return DirectRead(
        sa.select(PrivacyRequest, Pupil.first_name, Organisation.name)
        .join(Organisation, Organisation.id == PrivacyRequest.organisation_id)
        .outerjoin(Pupil, Pupil.id == PrivacyRequest.subject_pupil_id)
        .where(PrivacyRequest.requester_id == sa.bindparam("requester_id", type_=sa.Integer))
        .order_by(PrivacyRequest.created_at.desc(), PrivacyRequest.id.desc())
    )


@bp.get("/requests")
@parent_required
def my_requests():
    """The parent's own requests, with their state and the date the school must answer by."""
    rows = _my_requests_read().run({"requester_id": current_user.id})
    exports_url = (
        url_for("privacy.my_exports") if "privacy.my_exports" in current_app.view_functions else None
    )
    return render(
        "privacy/requests.html",
        rows=rows,
        titles=RIGHT_TITLES,
        states=STATE_TEXT,
        open_states=pr.OPEN,
        exports_url=exports_url,
    )


class _Child(NamedTuple):
    id: int
    first_name: str
    last_name: str
    organisation_id: int
    school_name: str
    school_rank: int  # the school's place among the family's schools, by name

    @property
    def display_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()  # as Pupil.display_name


class _School(NamedTuple):
    id: int
    name: str


@functools.cache
def _children_read() -> DirectRead:
    """The children linked to the parent ``:parent_id`` (as ``linked_pupils`` orders them), each
    with their school and that school's rank by name (the schools a request may be addressed to,
    in order), in one statement compiled once per process."""
    return DirectRead(
        linked_pupils(sa.bindparam("parent_id", type_=sa.Integer))
        .with_only_columns(
            Pupil.id,
            Pupil.first_name,
            Pupil.last_name,
            Organisation.id,
            Organisation.name,
            sa.func.dense_rank().over(order_by=(Organisation.name, Organisation.id)),
        )
        .join(Organisation, Organisation.id == Pupil.organisation_id)
    )


@bp.route("/requests/new", methods=["GET", "POST"])
@fresh_signin_required
@parent_required
def new_request():
    """Ask for one of the rights, about oneself or a linked child."""
    parent = current_user._get_current_object()
    rows = [_Child._make(row) for row in _children_read().run({"parent_id": parent.id})]
    ranked = {row.school_rank: _School(row.organisation_id, row.school_name) for row in rows}
    schools = [ranked[rank] for rank in sorted(ranked)]
    form = ParentRequestForm()
    form.about.choices = [C("self", _l("Me"))] + [C(str(row.id), row.display_name) for row in rows]
    form.organisation_id.choices = [C(s.id, s.name) for s in schools]
    problem = None
    if form.validate_on_submit():
        about = form.about.data
        pupil_id = None
        if about != "self":
            if not about.isdigit():
                return render_error(404)
            pupil_id = int(about)
        try:
            req = intake.request_as_parent(
                parent,
                kind=form.kind.data,
                details=form.details.data or "",
                pupil_id=pupil_id,
                organisation_id=form.organisation_id.data if len(schools) > 1 else None,
            )
        except pr.RequestError as error:
            if error.status == 404:
                return render_error(404, error.message)
            if not apply_error(form, error):
                problem = error.message
            return render(
                "privacy/requests_new.html",
                form=form,
                rights=RIGHTS,
                schools=schools,
                problem=problem,
                status=error.status,
            )
        return redirect_after_post(url_for("privacy.request_sent", request_id=req.id))
    return render(
        "privacy/requests_new.html",
        form=form,
        rights=RIGHTS,
        schools=schools,
        problem=problem,
        status=_status(form),
    )


@bp.get("/requests/<int:request_id>/sent")
@parent_required
def request_sent(request_id: int):
    req = _own_or_404(request_id)
    return render("privacy/request_sent.html", req=req, title=RIGHT_TITLES[req.kind.value])


@bp.post("/requests/<int:request_id>/withdraw")
@fresh_signin_required
@parent_required
def withdraw_request(request_id: int):
    """The requester withdraws their own open request."""
    req = _own_or_404(request_id)
    pr.transition(req.id, RequestState.WITHDRAWN, actor=current_user, note="Withdrawn by the requester.")
    return redirect_after_post(url_for("privacy.my_requests"))


def _own_or_404(request_id: int) -> PrivacyRequest:
    req = db.session.scalar(
        sa.select(PrivacyRequest).where(
            PrivacyRequest.id == request_id, PrivacyRequest.requester_id == current_user.id
        )
    )
    if req is None:
        abort(404)
    return req


# --- the public form ------------------------------------------------------------------------------


@functools.cache
def _schools_by_name() -> DirectRead:
    """Every school, (id, name) in name order: the public form's choice of school."""
    return DirectRead(
        sa.select(Organisation.id, Organisation.name)
        .where(Organisation.kind == OrgKind.SCHOOL)
        .order_by(Organisation.name)
    )


@bp.route("/ask", methods=["GET", "POST"])
@public
@limiter.limit(_ask_limit, methods=["POST"])
def ask():
    """A request from someone without an account; it counts once the emailed link is used."""
    schools = _schools_by_name().run({})
    form = PublicRequestForm()
    form.organisation_id.choices = [C(school_id, name) for school_id, name in schools]
    if request.method == "GET" and len(schools) == 1:
        form.organisation_id.data = schools[0][0]
    problem = None
    if form.validate_on_submit():
        try:
            intake.submit_public_request(
                form.organisation_id.data,
                kind=form.kind.data,
                requester_name=form.requester_name.data,
                requester_email=form.requester_email.data,
                details=form.details.data or "",
                on_behalf_of=form.on_behalf_of.data,
            )
        except pr.RequestError as error:
            if not apply_error(form, error):
                problem = error.message
            return render("privacy/ask.html", form=form, rights=RIGHTS, problem=problem, status=error.status)
        return render("privacy/ask_sent.html", email=form.requester_email.data, hours=intake.CONFIRM_HOURS)
    return render("privacy/ask.html", form=form, rights=RIGHTS, problem=problem, status=_status(form))


def _waiting_request(token: str) -> tuple[int, PrivacyRequest | None, str | None]:
    """Look at an emailed link without using it: (status, request, problem)."""
    row = db.session.scalar(
        sa.select(LoginToken).where(
            LoginToken.token_hash == pr.token_hash(token or ""),
            LoginToken.purpose == TokenPurpose.EMAIL_CONFIRM,
        )
    )
    req_id = (row.payload or {}).get("privacy_request_id") if row else None
    req = db.session.get(PrivacyRequest, req_id) if req_id else None
    if row is None or req is None or row.used_at is not None:
        return 404, None, gettext("This link is not valid or has already been used.")
    if row.expires_at < utcnow():
        return 410, None, gettext("This link has expired. Please send the form again.")
    return 200, req, None


@bp.get("/requests/confirm/<token>")
@public
def confirm_request(token: str):
    """A page with one button: following a link (or a mail scanner fetching it) changes nothing."""
    status, req, problem = _waiting_request(token)
    return render(
        "privacy/confirm.html",
        req=req,
        problem=problem,
        token=token,
        title=RIGHT_TITLES.get(req.kind.value) if req else None,
        school=db.session.get(Organisation, req.organisation_id) if req else None,
        status=status,
    )


@bp.post("/requests/confirm/<token>")
@public
@limiter.limit(_ask_limit)
def confirm_request_post(token: str):
    """The button: the request now counts as received today and its clock starts."""
    try:
        req = intake.confirm_public_request(token)
    except pr.RequestError as error:
        return render(
            "privacy/confirm.html",
            req=None,
            problem=error.message,
            token=token,
            title=None,
            school=None,
            status=error.status,
        )
    return render(
        "privacy/confirmed.html",
        req=req,
        title=RIGHT_TITLES[req.kind.value],
        school=db.session.get(Organisation, req.organisation_id),
    )
