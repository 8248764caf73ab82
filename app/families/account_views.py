"""A parent's account: removing a link to a child, and closing the account (P17, P18).

Nothing here is final by accident: each first shows, in plain words, what will happen and asks
for a confirmation; closing also needs a fresh sign-in (the password, or a new link or code).
"""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user, logout_user

from app.core.authz import fresh_signin_required, parent_required, pupil_for_parent_or_404
from app.families import membership as families
from app.parents import bp


@bp.get("/account")
@parent_required
def account():
    return render_template("parents/account.html")


@bp.get("/account/close")
@fresh_signin_required
@parent_required
def confirm_close():
    """What closing means (P17), and the button that does it; after a fresh sign-in."""
    return render_template("parents/close.html")


@bp.post("/account/close")
@fresh_signin_required
@parent_required
def close_account():
    if request.form.get("confirm") != "yes":
        return redirect(url_for("parents.confirm_close"), 303)
    families.close_account(current_user._get_current_object())
    logout_user()
    return render_template("parents/closed.html")


@bp.get("/children/<int:pupil_id>/unlink")
@parent_required
def confirm_unlink(pupil_id: int):
    """What removing a child from the account means, and the button that does it."""
    return render_template("parents/unlink.html", pupil=pupil_for_parent_or_404(pupil_id))


@bp.post("/children/<int:pupil_id>/unlink")
@parent_required
def unlink(pupil_id: int):
    pupil = pupil_for_parent_or_404(pupil_id)
    if request.form.get("confirm") != "yes":
        return redirect(url_for("parents.confirm_unlink", pupil_id=pupil.id), 303)
    families.unlink_child(current_user._get_current_object(), pupil)
    flash(f"{pupil.first_name} is no longer linked to your account.", "success")
    return redirect(url_for("parents.home"), 303)
