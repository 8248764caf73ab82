"""Parents sign in without a password: a one-time link by email, or a one-time code by text."""

from __future__ import annotations

from flask import flash, redirect, request, session, url_for
from flask_babel import gettext

from app.auth import bp
from app.auth import sessions as auth
from app.auth import tokens as login_tokens
from app.auth.forms import CodeCheckForm, CodeRequestForm, LinkRequestForm, LinkUseForm
from app.auth.limits import by_code_mobile, by_email, by_mobile, by_token, per_account, per_ip
from app.auth.signin_views import next_from, status
from app.core.authz import public
from app.core.htmx import redirect_after_post, render
from app.models import TokenPurpose

WRONG_CODE = (
    "That code is not right, or it has expired. Check the text message and try again, or ask for a new code."
)


def link_problem():
    """The answer for an expired, used or forged sign-in link: say so, and offer a new one."""
    return render("auth/link_problem.html", status=400)


@bp.route("/link", methods=["GET", "POST"])
@public
@per_ip
@per_account(by_email, "AUTH_LIMIT_SEND")
def link_request():
    form = LinkRequestForm()
    if request.method == "GET":
        form.next.data = next_from()
    if form.validate_on_submit():
        login_tokens.queue_sign_in_message(
            TokenPurpose.SIGNIN_LINK,
            auth.normalise_email(form.email.data),
            next_url=next_from(form),
            remember=form.remember.data,
        )
        return render("auth/sent.html", what="link")
    return render("auth/link_request.html", form=form, status=status(form))


@bp.route("/link/<token>", methods=["GET", "POST"])
@public
@per_ip
@per_account(by_token)
def link_use(token: str):
    """GET only shows a button (mail scanners follow links); the POST signs in."""
    form = LinkUseForm()
    if request.method == "GET":
        found = login_tokens.peek(TokenPurpose.SIGNIN_LINK, token)
        if found is None:
            return link_problem()
        form.remember.data = bool((found.payload or {}).get("remember"))
        return render("auth/link_use.html", form=form, token=token)
    used = login_tokens.use_signin_link(token)
    if used is None:
        return link_problem()
    user, payload = used
    auth.start_session(user, remember=form.remember.data, method="email link")
    return redirect_after_post(auth.safe_next(payload.get("next")) or auth.landing(user))


@bp.route("/code", methods=["GET", "POST"])
@public
@per_ip
@per_account(by_mobile, "AUTH_LIMIT_SEND")
def code_request():
    form = CodeRequestForm()
    if request.method == "GET":
        form.next.data = next_from()
    if form.validate_on_submit():
        login_tokens.queue_sign_in_message(TokenPurpose.SMS_CODE, form.mobile.data)
        session["code_mobile"], session["code_next"] = form.mobile.data, next_from(form)
        flash(
            gettext("If that number belongs to an account, we've sent a code to it by text message."),
            "success",
        )
        return redirect_after_post(url_for("auth.code_check"))
    return render("auth/code_request.html", form=form, status=status(form))


@bp.route("/code/check", methods=["GET", "POST"])
@public
@per_ip
@per_account(by_code_mobile)
def code_check():
    mobile = session.get("code_mobile")
    if not isinstance(mobile, str):
        return redirect(url_for("auth.code_request"))
    form = CodeCheckForm()
    if request.method == "GET":
        form.remember.data = auth.has_remember_cookie()
    if form.validate_on_submit():
        user = login_tokens.check_sms_code(mobile, form.code.data)
        if user is not None:
            target = auth.safe_next(session.get("code_next"))
            auth.start_session(user, remember=form.remember.data, method="sms code")
            return redirect_after_post(target or auth.landing(user))
        form.code.errors.append(WRONG_CODE)
    return render("auth/code_check.html", form=form, mobile=mobile, status=status(form))
