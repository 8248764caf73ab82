"""Before every request: staff who must set up two-step sign-in do that first; activity is noted."""

from __future__ import annotations

from flask import current_app, redirect, request, url_for
from flask_login import current_user

from app.auth import bp
from app.auth import sessions as auth

# What a member of staff may still open before setting up two-step sign-in.
BEFORE_MFA = {
    "auth.mfa_enrol",
    "auth.signout",
    "auth.signout_everywhere",
    "static",
    "assets.file",
    "site.health",
    "site.privacy_notice",
    "site.cookies",
}
UNTRACKED = {"static", "assets.file", "site.health"}


@bp.before_app_request
def _signed_in_checks():
    if request.endpoint in UNTRACKED or request.endpoint is None:
        return None
    if not current_user.is_authenticated:
        return None
    auth.touch(current_user)
    if (
        current_user.is_staff
        and current_app.config["REQUIRE_STAFF_MFA"]
        and not current_user.mfa_enabled_at
        and request.endpoint not in BEFORE_MFA
    ):
        return redirect(url_for("auth.mfa_enrol"))
    return None
