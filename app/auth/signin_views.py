"""Signing in with a password, signing out (here and everywhere) and signing in again (fresh)."""

from __future__ import annotations

from flask import flash, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user

from app.auth import bp
from app.auth import sessions as auth
from app.auth import tokens as login_tokens
from app.auth import totp as mfa
from app.auth.forms import ReauthForm, SignInForm
from app.auth.limits import by_current_user, by_email, per_account, per_ip
from app.core.authz import public, signed_in
from app.core.htmx import redirect_after_post, render

NOT_RECOGNISED = (
    "The email address or password is not right. Check them and try again, or ask for a sign-in link."
)


def next_from(form=None) -> str | None:
    """The safe local ``next`` of this request (form field first, then the query string)."""
    raw = form.next.data if form is not None and form.next.data else request.args.get("next")
    return auth.safe_next(raw)


def status(form) -> int:
    return 422 if form.errors else 200


@bp.route("/signin", methods=["GET", "POST"])
@public
@per_ip
@per_account(by_email)
def signin():
    form = SignInForm()
    if request.method == "GET":
        if current_user.is_authenticated:
            return redirect(next_from() or auth.landing(current_user))
        form.next.data = next_from()
    if form.validate_on_submit():
        user = auth.check_credentials(auth.normalise_email(form.email.data), form.password.data)
        if user is None:
            form.password.errors.append(NOT_RECOGNISED)
        elif user.mfa_enabled_at:
            auth.rotate_session()
            mfa.begin(user, remember=form.remember.data, next_url=next_from(form))
            return redirect_after_post(url_for("auth.mfa_verify"))
        else:
            auth.start_session(user, remember=form.remember.data, method="password")
            return redirect_after_post(next_from(form) or auth.landing(user))
    return render("auth/signin.html", form=form, status=status(form))


@bp.post("/signout")
@signed_in
def signout():
    auth.end_session(current_user._get_current_object())
    flash(gettext("You have signed out."), "success")
    return redirect_after_post(url_for("auth.signin"))


@bp.post("/signout-everywhere")
@signed_in
def signout_everywhere():
    auth.sign_out_everywhere(current_user._get_current_object())
    flash("You have been signed out on every other phone and computer.", "success")
    return redirect_after_post(url_for("auth.account"))


@bp.route("/reauth", methods=["GET", "POST"])
@signed_in
@per_ip
@per_account(by_current_user)
def reauth():
    """Sign in again before privacy requests and downloads: password, or a new link or code."""
    user = current_user._get_current_object()
    form = ReauthForm()
    if request.method == "GET":
        form.next.data = next_from()
    target = next_from(form) or auth.landing(user)
    action = request.form.get("action", "password")
    if request.method == "POST" and action == "link" and user.is_parent and user.email:
        login_tokens.send_signin_link(user, next_url=target, remember=auth.has_remember_cookie())
        return render("auth/sent.html", what="link", reauth=True)
    if request.method == "POST" and action == "sms" and user.is_parent and user.mobile:
        login_tokens.send_sms_code(user)
        session["code_mobile"], session["code_next"] = user.mobile, target
        flash(gettext("We've sent a code to your mobile."), "success")
        return redirect_after_post(url_for("auth.code_check"))
    if user.password_hash and form.validate_on_submit():
        if auth.reauthenticate(user, form.password.data):
            return redirect_after_post(target)
        form.password.errors.append("That password is not right.")
    return render("auth/reauth.html", form=form, user=user, status=status(form))


@bp.get("/account")
@signed_in
def account():
    """Sign-in and security: password, two-step sign-in, signing out everywhere."""
    user = current_user._get_current_object()
    left = mfa.recovery_codes_left(user) if user.mfa_enabled_at else None
    return render("auth/account.html", user=user, codes_left=left)
