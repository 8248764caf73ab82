"""The register of processing (P30): a page and a CSV, both generated from the data inventory."""

from __future__ import annotations

from flask import Response, render_template

from app.compliance import register
from app.core.authz import current_organisation, staff_required
from app.office import bp


@bp.get("/register")
@staff_required("office", "dpo")
def register_page():
    """The register of processing, for the school office and DPO."""
    return render_template(
        "office/register.html",
        activities=register.activities(),
        recipients=register.recipients(),
        organisation=current_organisation(),
    )


@bp.get("/register.csv")
@staff_required("office", "dpo")
def register_csv():
    """The register as a CSV download."""
    return Response(
        register.csv_text(),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="register-of-processing.csv"',
            "Cache-Control": "no-store",
        },
    )
