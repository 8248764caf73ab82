"""Parents' and carers' pages."""
from __future__ import annotations

from flask import render_template
from flask_login import current_user

from app.authz import linked_pupils, parent_required, pupil_for_parent_or_404
from app.extensions import db
from app.parents import bp


@bp.get("/")
@parent_required
def home():
    children = db.session.scalars(linked_pupils(current_user)).all()
    return render_template("parents/home.html", children=children)


@bp.get("/children/<int:pupil_id>")
@parent_required
def child(pupil_id: int):
    pupil = pupil_for_parent_or_404(pupil_id)
    return render_template("parents/child.html", pupil=pupil)
