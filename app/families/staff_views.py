"""The office invites teachers and office colleagues, one by one, by email with a role; the
invited person answers from the link (:mod:`app.families.staff_invitations`)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from app.auth import sessions as auth
from app.auth.sessions import landing
from app.core.authz import acting_school, public, staff_required
from app.core.errors import FieldError
from app.core.extensions import db, limiter
from app.core.forms import FlaskForm
from app.families import invitations
from app.families import staff_invitations as service
from app.models import User, UserKind
from app.office import bp


class StaffInviteForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Please give their name."), Length(max=120)])
    email = StringField(
        "School email address",
        validators=[
            DataRequired("Please give their email address."),
            Email("Please give a real email address, like name@school.org."),
            Length(max=254),
        ],
    )
    role = SelectField(
        "Role",
        choices=[
            SelectChoice("teacher", "Teacher"),
            SelectChoice("office", "School office"),
            SelectChoice("dpo", "Data protection officer"),
        ],
    )


class StaffJoinForm(FlaskForm):
    password = PasswordField(
        "Choose a password (at least 12 characters)",
        validators=[DataRequired("Please choose a password."), Length(min=12, max=200)],
    )


class AnswerForm(FlaskForm):
    """Accept or decline (the button pressed says which)."""


@bp.route("/staff", methods=["GET", "POST"])
@staff_required("office")
def staff_page():
    org = acting_school()
    form = StaffInviteForm()
    if form.validate_on_submit():
        try:
            user = service.invite(org.id, form.name.data, form.email.data, form.role.data, current_user)
        except FieldError as problem:
            getattr(form, problem.field).errors.append(problem.message)
        else:
            flash(f"Invitation sent to {user.email}. They have no access until they accept it.", "success")
            return redirect(url_for("office.staff_page"), 303)
    return render_template(
        "office/staff.html",
        form=form,
        people=service.staff_list(org.id),
        waiting=service.waiting(org.id),
        organisation=org,
    ), 422 if form.errors else 200


def _problem(title: str, message: str, status: int):
    return render_template(
        "parents/join_problem.html", problem=invitations.InvitationProblem(title, message, status)
    ), status


@bp.route("/staff/join/<token>", methods=["GET", "POST"])
@public
@limiter.limit("10 per hour", methods=["POST"])
def staff_join(token: str):
    """A new account chooses its password here; an existing account is asked to sign in, then
    accepts or declines. The link alone never changes an existing account."""
    try:
        invitation = invitations.find_by_token(token)
    except invitations.InvitationProblem as problem:
        return render_template("parents/join_problem.html", problem=problem), problem.status
    user = db.session.get_one(User, invitation.user_id)
    if invitation.role is None or user.kind is not UserKind.STAFF:
        return _problem("We don't recognise that invitation", "Please ask the school office.", 404)
    if service.is_new_account(user):
        return _join_new(invitation, user, token)
    return _answer(invitation, user, token)


def _join_new(invitation, user: User, token: str):
    form = StaffJoinForm()
    if form.validate_on_submit():
        try:
            user = service.join_new(invitation.id, form.password.data)
        except service.StaffInvitationError as problem:
            return _problem("This invitation can't be used", problem.message, problem.status)
        session.clear()
        auth.sign_in_here(user, remember=False)
        return redirect(landing(user), 303)
    return render_template(
        "office/staff_join.html", form=form, user=user, token=token, role=invitation.role
    ), 422 if form.errors else 200


def _answer(invitation, user: User, token: str):
    here = url_for("office.staff_join", token=token)
    if not current_user.is_authenticated:
        flash("Please sign in with your own password (and two-step code) to answer the invitation.", "info")
        return redirect(url_for("auth.signin", next=here), 303)
    if current_user.id != user.id:
        return _problem(
            "This invitation is for another account",
            "Sign out, then open the link again and sign in with the account the invitation was sent to.",
            403,
        )
    context = {
        "school": service.school_name(invitation),
        "role": invitation.role,
        "words": service.ROLE_WORDS.get(invitation.role, invitation.role),
        "token": token,
    }
    if not user.mfa_enabled_at:
        return render_template("office/staff_invitation.html", needs_mfa=True, **context), 409
    form = AnswerForm()
    if request.method == "POST" and form.validate_on_submit():
        accept = request.form.get("answer") == "accept"
        try:
            service.answer(invitation.id, current_user._get_current_object(), accept=accept)
        except service.StaffInvitationError as problem:
            return _problem("This invitation can't be used", problem.message, problem.status)
        flash(
            f"You are now {context['words']} at {context['school']}."
            if accept
            else f"You declined the invitation from {context['school']}.",
            "success",
        )
        return redirect(landing(current_user) if accept else url_for("auth.account"), 303)
    return render_template(
        "office/staff_invitation.html", form=form, needs_mfa=False, **context
    ), 422 if form.errors else 200
