"""Two-step sign-in for staff: enrolment, the code step after the password, turning it off."""

from __future__ import annotations

from flask import current_app, flash, url_for
from flask_login import current_user

from app.auth import bp
from app.auth import sessions as auth
from app.auth import totp as mfa
from app.auth.forms import MfaCodeForm, MfaEnrolForm, PasswordCheckForm
from app.auth.limits import by_current_user, by_pending_user, per_account, per_ip
from app.auth.signin_views import status
from app.core.authz import public, staff_required
from app.core.htmx import redirect_after_post, render

WRONG_CODE = (
    "That code is not right. Type the 6-digit code your app shows now, or one of your recovery codes."
)


def _manage(status_code=200, **forms):
    user = current_user._get_current_object()
    forms.setdefault("off", PasswordCheckForm(prefix="off"))
    forms.setdefault("codes", PasswordCheckForm(prefix="codes"))
    return render(
        "auth/mfa_manage.html",
        user=user,
        left=mfa.recovery_codes_left(user),
        required=current_app.config["REQUIRE_STAFF_MFA"],
        status=status_code,
        **forms,
    )


@bp.route("/mfa", methods=["GET", "POST"])
@staff_required()
@per_ip
@per_account(by_current_user)
def mfa_enrol():
    """Set up two-step sign-in (QR code and the secret as text), or manage it once it is on."""
    user = current_user._get_current_object()
    if user.mfa_enabled_at:
        return _manage()
    form = MfaEnrolForm()
    if form.validate_on_submit():
        codes = mfa.confirm_enrolment(user, form.code.data)
        if codes:
            return render("auth/mfa_codes.html", codes=codes, first=True)
        form.code.errors.append(
            "That code is not right. Check that your phone sets its clock "
            "automatically, and type the code the app shows now."
        )
    secret = mfa.enrolment_secret(user)
    return render(
        "auth/mfa_enrol.html",
        form=form,
        required=current_app.config["REQUIRE_STAFF_MFA"],
        status=status(form),
        **mfa.provisioning(user, secret),
    )


@bp.route("/mfa/verify", methods=["GET", "POST"])
@public
@per_ip
@per_account(by_pending_user)
def mfa_verify():
    """The second step after a right password; until it is passed nobody is signed in."""
    found = mfa.pending()
    if found is None:
        flash("Please sign in again.", "info")
        return redirect_after_post(url_for("auth.signin"))
    user, state = found
    form = MfaCodeForm()
    if form.validate_on_submit():
        method = mfa.check_second_factor(user, form.code.data)
        if method:
            mfa.finish()
            auth.start_session(user, remember=state["remember"], method="password + " + method)
            return redirect_after_post(auth.safe_next(state.get("next")) or auth.landing(user))
        auth.record_wrong_code(user)
        if not mfa.failed(state):
            flash("Too many wrong codes. Please sign in again.", "error")
            return redirect_after_post(url_for("auth.signin"))
        form.code.errors.append(WRONG_CODE)
    return render("auth/mfa_verify.html", form=form, status=status(form))


@bp.post("/mfa/disable")
@staff_required()
@per_ip
@per_account(by_current_user)
def mfa_disable():
    """Turn two-step sign-in off (the current password needed)."""
    user = current_user._get_current_object()
    form = PasswordCheckForm(prefix="off")
    if not user.mfa_enabled_at:
        return redirect_after_post(url_for("auth.mfa_enrol"))
    if form.validate_on_submit():
        if auth.confirm_password(user, form.password.data, "turn off two-step"):
            mfa.disable(user)
            flash("Two-step sign-in is off.", "success")
            return redirect_after_post(url_for("auth.mfa_enrol"))
        form.password.errors.append("That password is not right.")
    return _manage(422, off=form)


@bp.post("/mfa/recovery-codes")
@staff_required()
@per_ip
@per_account(by_current_user)
def mfa_recovery_codes():
    """New recovery codes (the current password needed); the old ones stop working."""
    user = current_user._get_current_object()
    form = PasswordCheckForm(prefix="codes")
    if not user.mfa_enabled_at:
        return redirect_after_post(url_for("auth.mfa_enrol"))
    if form.validate_on_submit():
        if auth.confirm_password(user, form.password.data, "new recovery codes"):
            return render("auth/mfa_codes.html", codes=mfa.regenerate_recovery_codes(user))
        form.password.errors.append("That password is not right.")
    return _manage(422, codes=form)
