"""Pages outside the blueprints: the front door, the privacy notice, the cookie list, health."""
from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user

from app.authz import public
from app.extensions import db
from app.models import Organisation, PrivacyNotice

bp = Blueprint("site", __name__)

# Every cookie Hometime sets (P06). Necessary ones only, until someone chooses otherwise.
COOKIES = [
    {"name": "session", "category": "necessary", "lifetime": "until you close the browser",
     "purpose": "Keeps you signed in while you use Hometime and protects forms from forgery."},
    {"name": "remember_token", "category": "necessary", "lifetime": "90 days",
     "purpose": "Only if you tick \u201ckeep me signed in\u201d: signs you in on this phone."},
]


def init_app(app) -> None:
    app.register_blueprint(bp)

    @app.context_processor
    def _privacy_contact():
        return {"privacy_contact": privacy_contact(), "staff_is_office": _staff_is_office()}


def privacy_contact() -> dict | None:
    """The data protection contact for the person looking (P11): their school's, else the first."""
    from app.authz import current_organisation, linked_pupils

    org = None
    if current_user.is_authenticated:
        if current_user.is_staff:
            org = current_organisation()
        else:
            pupil = db.session.scalar(linked_pupils(current_user).limit(1))
            org = pupil.organisation if pupil else None
    if org is None:
        org = db.session.scalar(sa.select(Organisation).order_by(Organisation.id).limit(1))
    if org is None:
        return None
    return {"name": org.dpo_name or f"the data protection officer of {org.name}",
            "email": org.dpo_email}


def _staff_is_office() -> bool:
    from app.authz import staff_roles

    return bool(current_user.is_authenticated and current_user.is_staff
                and {"office", "dpo"} & staff_roles(current_user))


@bp.get("/")
@public
def index():
    if current_user.is_authenticated:
        if current_user.is_parent:
            return redirect(url_for("parents.home"))
        return redirect(url_for("teachers.home"))
    return render_template("index.html")


@bp.get("/privacy-notice")
@public
def privacy_notice():
    notice = db.session.scalar(
        sa.select(PrivacyNotice).where(PrivacyNotice.published_at.is_not(None))
        .order_by(PrivacyNotice.published_at.desc()).limit(1))
    return render_template("privacy_notice.html", notice=notice)


@bp.get("/cookies")
@public
def cookies():
    return render_template("cookies.html", cookies=COOKIES)


@bp.get("/healthz")
@public
def health():
    db.session.execute(sa.text("SELECT 1"))
    return {"status": "ok"}
