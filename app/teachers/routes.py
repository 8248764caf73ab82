"""Teachers' pages."""
from __future__ import annotations

import sqlalchemy as sa
from flask import render_template
from flask_login import current_user

from app.authz import class_for_staff_or_404, pupil_for_staff_or_404, staff_required, visible_classes
from app.extensions import db
from app.models import Pupil, SchoolClass
from app.services.audit import log_access
from app.teachers import bp


@bp.get("/")
@staff_required()
def home():
    classes = db.session.scalars(
        visible_classes(current_user).order_by(SchoolClass.year_group, SchoolClass.name)).all()
    return render_template("teachers/home.html", classes=classes)


@bp.get("/classes/<int:class_id>")
@staff_required()
def class_view(class_id: int):
    school_class = class_for_staff_or_404(class_id)
    pupils = db.session.scalars(
        sa.select(Pupil).where(Pupil.class_id == school_class.id, Pupil.removed_at.is_(None),
                               Pupil.erased_at.is_(None))
        .order_by(Pupil.last_name, Pupil.first_name)).all()
    log_access("view_class", f"class:{school_class.id}")
    return render_template("teachers/class.html", school_class=school_class, pupils=pupils)


@bp.get("/pupils/<int:pupil_id>")
@staff_required()
def pupil(pupil_id: int):
    found = pupil_for_staff_or_404(pupil_id)
    log_access("view_pupil", f"pupil:{found.id}")
    return render_template("teachers/pupil.html", pupil=found)
