"""The office invites teachers and office colleagues, one by one, by email with a role."""
from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, session, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length

from app.authz import current_organisation, public, staff_required
from app.extensions import db, limiter
from app.models import (InvitationStatus, Role, StaffMembership, User, UserKind, UserStatus,
                        utcnow)
from app.office import bp
from app.services import auth, invitations
from app.services.audit import log_event
from app.services.passwords import hash_password


class StaffInviteForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Please give their name."), Length(max=120)])
    email = StringField("School email address", validators=[
        DataRequired("Please give their email address."),
        Email("Please give a real email address, like name@school.org."), Length(max=254)])
    role = SelectField("Role", choices=[SelectChoice("teacher", "Teacher"),
                                        SelectChoice("office", "School office"),
                                        SelectChoice("dpo", "Data protection officer")])


class StaffJoinForm(FlaskForm):
    password = PasswordField("Choose a password (at least 12 characters)", validators=[
        DataRequired("Please choose a password."), Length(min=12, max=200)])


def invite_staff(organisation_id: int, name: str, email: str, role: str, actor: User) -> User:
    """Create (or reuse) the staff account, give it the role here, and send the invitation."""
    email = email.strip().lower()
    user = db.session.scalar(sa.select(User).where(User.email == email))
    if user is not None and user.kind is not UserKind.STAFF:
        raise ValueError("That email address belongs to a parent's account. Please use the "
                         "person's school address.")
    if user is None:
        user = User(kind=UserKind.STAFF, name=name.strip(), email=email, status=UserStatus.INVITED)
        db.session.add(user)
        db.session.flush()
    exists = db.session.scalar(sa.select(StaffMembership.id).where(
        StaffMembership.user_id == user.id, StaffMembership.organisation_id == organisation_id,
        StaffMembership.role == Role(role)))
    if not exists:
        db.session.add(StaffMembership(user_id=user.id, organisation_id=organisation_id,
                                       role=Role(role)))
    invitations.invite(organisation_id, user, created_by_id=actor.id, role=role)
    log_event("staff_invited", actor, subject=f"user:{user.id}", detail=role,
              organisation_id=organisation_id)
    db.session.commit()
    return user


@bp.route("/staff", methods=["GET", "POST"])
@staff_required("office")
def staff_page():
    org = current_organisation()
    form = StaffInviteForm()
    if form.validate_on_submit():
        try:
            user = invite_staff(org.id, form.name.data, form.email.data, form.role.data,
                                current_user)
        except ValueError as problem:
            form.email.errors.append(str(problem))
        else:
            flash(f"Invitation sent to {user.email}.", "success")
            return redirect(url_for("office.staff_page"), 303)
    people = db.session.execute(
        sa.select(User, StaffMembership.role).join(StaffMembership)
        .where(StaffMembership.organisation_id == org.id).order_by(User.name)).all()
    return render_template("office/staff.html", form=form, people=people,
                           organisation=org), 422 if form.errors else 200


@bp.route("/staff/join/<token>", methods=["GET", "POST"])
@public
@limiter.limit("10 per hour", methods=["POST"])
def staff_join(token: str):
    try:
        invitation = invitations.find_by_token(token)
    except invitations.InvitationProblem as problem:
        return render_template("parents/join_problem.html", problem=problem), problem.status
    user = db.session.get(User, invitation.user_id)
    if invitation.role is None or user.kind is not UserKind.STAFF:
        return render_template("parents/join_problem.html", problem=invitations.InvitationProblem(
            "We don't recognise that invitation", "Please ask the school office.", 404)), 404
    form = StaffJoinForm()
    if form.validate_on_submit():
        user.password_hash = hash_password(form.password.data)
        user.status = UserStatus.ACTIVE
        invitation.status = InvitationStatus.ACCEPTED
        invitation.accepted_at = utcnow()
        log_event("joined", user, organisation_id=invitation.organisation_id)
        db.session.commit()
        session.clear()
        auth.sign_in_here(user, remember=False)
        return redirect(url_for("teachers.home"), 303)
    return render_template("office/staff_join.html", form=form, user=user, token=token,
                           role=invitation.role), 422 if form.errors else 200
