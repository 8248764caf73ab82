"""Before every request: staff who must set up two-step sign-in do that first; activity is noted."""

from __future__ import annotations

from flask import current_app, redirect, url_for

from app.auth import bp
from app.auth import sessions as auth
from app.core.contexts import current_request, signed_in_user

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
    endpoint = current_request().endpoint
    if endpoint in UNTRACKED or endpoint is None:
        return None
    user = signed_in_user()
    if not user.is_authenticated:
        return None
    auth.touch(user)
    if (
        user.is_staff
        and current_app.config["REQUIRE_STAFF_MFA"]
        and not user.mfa_enabled_at
        and endpoint not in BEFORE_MFA
    ):
        return redirect(url_for("auth.mfa_enrol"))
    return None
