"""The school office's pages."""
from __future__ import annotations

import sqlalchemy as sa
from flask import render_template

from app.authz import current_organisation, staff_required
from app.extensions import db
from app.models import Pupil, SchoolClass
from app.office import bp


@bp.get("/")
@staff_required("office", "dpo")
def home():
    organisation = current_organisation()
    counts = db.session.execute(
        sa.select(SchoolClass.name, sa.func.count(Pupil.id))
        .outerjoin(Pupil, (Pupil.class_id == SchoolClass.id) & Pupil.removed_at.is_(None))
        .where(SchoolClass.organisation_id == organisation.id)
        .group_by(SchoolClass.id, SchoolClass.name).order_by(SchoolClass.name)).all()
    return render_template("office/home.html", organisation=organisation, counts=counts)
