"""Joining from an invitation link or a printed letter's code (P01, P02, P03, P09)."""

from __future__ import annotations

from flask import flash, redirect, render_template, session, url_for
from flask_babel import gettext
from flask_login import current_user

from app.auth import sessions as auth
from app.core import i18n
from app.core.authz import public
from app.core.consent import current_notice
from app.core.extensions import db, limiter
from app.families import invitations
from app.families.join_forms import JoinCodeForm, JoinForm
from app.families.membership import JoinChoices, accept_invitation
from app.models import Organisation, User, UserStatus
from app.parents import bp

GUESS_LIMIT = "10 per hour"


def _problem(problem: invitations.InvitationProblem):
    return render_template("parents/join_problem.html", problem=problem), problem.status


@bp.route("/join", methods=["GET", "POST"])
@public
@limiter.limit(GUESS_LIMIT, methods=["POST"])
def join_with_code():
    form = JoinCodeForm()
    if form.validate_on_submit():
        try:
            invitation = invitations.find_by_code(form.code.data)
        except invitations.InvitationProblem as problem:
            # A mistyped code is no dead end: the box again, with what was typed and why.
            form.code.errors.append(f"{problem.title}. {problem.message}")  # translated where raised
            return render_template("parents/join_code.html", form=form), 422
        return redirect(url_for("parents.join", token=invitations.token_for(invitation.id)), 303)
    return render_template("parents/join_code.html", form=form), 422 if form.errors else 200


@bp.route("/join/<token>", methods=["GET", "POST"])
@public
@limiter.limit(GUESS_LIMIT, methods=["POST"])
@limiter.limit("60 per hour")
def join(token: str):
    try:
        invitation = invitations.find_by_token(token)
    except invitations.InvitationProblem as problem:
        return _problem(problem)
    user = db.session.get_one(User, invitation.user_id)
    organisation = db.session.get_one(Organisation, invitation.organisation_id)
    existing = user.status is not UserStatus.INVITED  # already uses Hometime (P12)
    if existing:  # the link is only a request: its holder signs in their own way first
        if not current_user.is_authenticated:
            flash(
                gettext(
                    "You already use Hometime. Please sign in to join %(school)s.", school=organisation.name
                ),
                "info",
            )
            return redirect(url_for("auth.signin", next=url_for("parents.join", token=token)), 303)
        if current_user.id != user.id:
            return _problem(
                invitations.InvitationProblem(
                    gettext("This invitation is for another account"),
                    gettext(
                        "Sign out, then open the link again and sign in with the account it was sent to."
                    ),
                    403,
                )
            )
    form = JoinForm(meta={"existing_mobile": user.mobile})
    if form.language.data not in i18n.LANGUAGES:  # not chosen yet (or a form without the select)
        form.language.data = i18n.joining_language(user.language)
    if form.validate_on_submit():
        choices = JoinChoices(
            agreed=form.agree.data,
            sms_reminders=form.sms_reminders.data,
            promo_photos=form.promo_photos.data,
            news=form.news.data,
            mobile=None if existing else form.mobile.data or None,
            password=form.password.data if form.signin.data == "password" and not existing else None,
            language=form.language.data,
        )
        user = accept_invitation(invitation, choices)
        if not existing:
            session.clear()
            auth.sign_in_here(user, remember=True)
        with i18n.in_language(user.language):
            flash(gettext("Welcome to Hometime, %(name)s.", name=user.name), "success")
        return redirect(url_for("parents.home"), 303)
    with i18n.in_language(form.language.data):  # the page in the language the select shows
        page = render_template(
            "parents/join.html",
            form=form,
            token=token,
            organisation=organisation,
            user=user,
            existing=existing,
            children=invitations.children_for(invitation),
            notice=current_notice(organisation.id),
        )
    return page, 422 if form.errors else 200
