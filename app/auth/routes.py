"""Sign-in for staff and families (placeholder routes; see the foundation issue)."""
from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import logout_user

from app.authz import public, signed_in
from app.auth import bp


@bp.get("/signin")
@public
def signin():
    return render_template("auth/signin.html")


@bp.post("/signout")
@signed_in
def signout():
    logout_user()
    return redirect(url_for("site.index"), 303)


@bp.get("/mfa")
@signed_in
def mfa_enrol():
    return render_template("auth/signin.html")


@bp.get("/reauth")
@signed_in
def reauth():
    return render_template("auth/signin.html")
