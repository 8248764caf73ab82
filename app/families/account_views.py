"""A parent's account: removing a link to a child, and closing the account (P17, P18)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user, logout_user

from app.core.authz import parent_required, pupil_for_parent_or_404
from app.families import membership as families
from app.parents import bp


@bp.get("/account")
@parent_required
def account():
    return render_template("parents/account.html")


@bp.post("/account/close")
@parent_required
def close_account():
    families.close_account(current_user._get_current_object())
    logout_user()
    return render_template("parents/closed.html")


@bp.post("/children/<int:pupil_id>/unlink")
@parent_required
def unlink(pupil_id: int):
    pupil = pupil_for_parent_or_404(pupil_id)
    families.unlink_child(current_user._get_current_object(), pupil)
    flash(f"{pupil.first_name} is no longer linked to your account.", "success")
    return redirect(url_for("parents.home"), 303)
