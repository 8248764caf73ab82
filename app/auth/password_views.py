"""Passwords: reset by an emailed one-time link, and setting or changing one when signed in."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user

from app.auth import bp
from app.auth import sessions as auth
from app.auth import tokens as login_tokens
from app.auth.forms import ChangePasswordForm, NewPasswordForm, ResetRequestForm
from app.auth.limits import by_current_user, by_email, by_token, per_account, per_ip
from app.auth.signin_views import status
from app.core.authz import public, signed_in
from app.core.htmx import redirect_after_post, render
from app.models import TokenPurpose


def reset_problem():
    return render("auth/link_problem.html", reset=True, status=400)


@bp.route("/reset", methods=["GET", "POST"])
@public
@per_ip
@per_account(by_email, "AUTH_LIMIT_SEND")
def reset_request():
    form = ResetRequestForm()
    if form.validate_on_submit():
        login_tokens.queue_sign_in_message(TokenPurpose.PASSWORD_RESET, auth.normalise_email(form.email.data))
        return render("auth/sent.html", what="reset")
    return render("auth/reset_request.html", form=form, status=status(form))


@bp.route("/reset/<token>", methods=["GET", "POST"])
@public
@per_ip
@per_account(by_token)
def reset_use(token: str):
    """Choose a new password. The link is used only when the new password is accepted."""
    if login_tokens.peek(TokenPurpose.PASSWORD_RESET, token) is None:
        return reset_problem()
    form = NewPasswordForm()
    if form.validate_on_submit():
        if login_tokens.reset_password(token, form.password.data) is None:
            return reset_problem()
        auth.rotate_session()
        flash(
            gettext(
                "Your password has been changed, and you have been signed out everywhere. "
                "Please sign in with your new password."
            ),
            "success",
        )
        return redirect_after_post(url_for("auth.signin"))
    return render("auth/reset_use.html", form=form, token=token, status=status(form))


@bp.route("/password", methods=["GET", "POST"])
@signed_in
@per_ip
@per_account(by_current_user)
def password():
    """Set a password (parents may sign in with one) or change it (the current one needed)."""
    user = current_user._get_current_object()
    if not user.password_hash and not auth.is_fresh():
        return redirect(url_for("auth.reauth", next=request.path))
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if user.password_hash and not form.current.data:
            form.current.errors.append("Enter your current password.")
        elif auth.change_password(user, form.password.data, form.current.data):
            flash(
                "Your password has been saved. You have been signed out on your other phones and computers.",
                "success",
            )
            return redirect_after_post(url_for("auth.account"))
        else:
            form.current.errors.append("That is not your current password.")
    return render("auth/password.html", form=form, has_password=bool(user.password_hash), status=status(form))
