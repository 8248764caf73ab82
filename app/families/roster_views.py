"""Roster import for the school office: upload a CSV, preview it with its problems, confirm it.

The upload lives in Redis between preview and confirm (app.families.roster_store), tied to the
member of staff and the school; only the office of the school may use these pages (P12).
"""

from __future__ import annotations

from dataclasses import asdict

from flask import Response, abort, request, url_for
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from werkzeug.exceptions import NotFound, RequestEntityTooLarge
from wtforms import HiddenField

from app.core.authz import can, current_organisation, staff_required
from app.core.error_pages import NotFoundSaying, render_error
from app.core.extensions import db
from app.core.forms import FlaskForm
from app.core.htmx import redirect_after_post, render
from app.families import roster, roster_store
from app.families.roster_csv import MAX_BYTES, RosterFileError, columns_help, read_roster, template_csv
from app.office import bp

MAX_MB = MAX_BYTES // (1024 * 1024)
GONE = (
    "We can't find that upload. Uploads are kept for one hour, and each can be imported "
    "once: please upload the file again."
)


class UploadForm(FlaskForm):
    file = FileField("CSV file", validators=[FileRequired("Please choose the CSV file to upload.")])


class ConfirmForm(FlaskForm):
    upload = HiddenField()


def _upload_page(form: UploadForm, status: int = 200, error: str | None = None):
    if error:
        form.file.errors = [error]
    return render("office/roster.html", form=form, max_mb=MAX_MB, columns=columns_help(), status=status)


def _school():
    """The school being worked in, where the signed-in person must hold the office role itself
    (an office role at another school does not count)."""
    organisation = current_organisation()
    if organisation is None or not can(current_user, "manage_roster", organisation.id):
        abort(403)
    return organisation


def _not_found() -> NotFound:
    return NotFoundSaying(GONE)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    """Werkzeug refuses a body over MAX_CONTENT_LENGTH before the view runs: say so on the form."""
    if request.endpoint == "office.roster_preview":
        return _upload_page(
            UploadForm(formdata=None),
            413,
            f"The file is larger than {MAX_MB} MB, so nothing was imported. Export "
            "only the columns in our template and try again.",
        )
    return render_error(413)


@bp.get("/roster")
@staff_required("office")
def roster_upload():
    """The upload form, with the template and the columns we recognise."""
    _school()
    return _upload_page(UploadForm())


@bp.get("/roster/template.csv")
@staff_required("office")
def roster_template():
    """The template: our column headings, no data."""
    _school()
    return Response(
        template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=hometime-roster-template.csv"},
    )


@bp.post("/roster/preview")
@staff_required("office")
def roster_preview():
    """Read the upload and show what importing it would do; keep it only when it has no problem."""
    organisation = _school()
    form = UploadForm()
    if not form.validate_on_submit():
        return _upload_page(form, 422)
    try:
        parsed = read_roster(form.file.data.stream.read(MAX_BYTES + 1))
    except RosterFileError as error:
        return _upload_page(form, error.status, error.message + " Nothing was imported.")
    plan = roster.build_plan(parsed, organisation.id)
    db.session.rollback()
    token = roster_store.save_upload(parsed, organisation.id, current_user.id) if plan.ok else None
    return render(
        "office/roster_preview.html",
        plan=plan,
        form=ConfirmForm(upload=token),
        organisation=organisation,
        status=200 if plan.ok else 422,
    )


@bp.post("/roster/confirm")
@staff_required("office")
def roster_confirm():
    """Import a previewed upload in one transaction, then show the summary."""
    organisation = _school()
    form = ConfirmForm()
    token = (form.upload.data or "") if form.validate_on_submit() else ""
    parsed = roster_store.load_upload(token, organisation.id, current_user.id)
    if parsed is None:
        raise _not_found()
    try:
        plan = roster.confirm_import(parsed, organisation.id, current_user)
    except RosterFileError as error:
        return _upload_page(UploadForm(formdata=None), error.status, error.message)
    if not plan.ok:  # the records changed since the preview
        roster_store.discard_upload(token, organisation.id, current_user.id)
        return render(
            "office/roster_preview.html",
            plan=plan,
            form=None,
            changed=True,
            organisation=organisation,
            status=422,
        )
    roster_store.discard_upload(token, organisation.id, current_user.id)
    result = roster_store.save_result(
        asdict(plan.summary), [m.id for m in plan.missing], organisation.id, current_user.id
    )
    return redirect_after_post(url_for("office.roster_result", token=result))


@bp.get("/roster/result/<token>")
@staff_required("office")
def roster_result(token: str):
    """What an import did, and the pupils who were not in the file (for the office to remove)."""
    organisation = _school()
    result = roster_store.load_result(token, organisation.id, current_user.id)
    if result is None:
        raise _not_found()
    missing = roster.missing_pupils(organisation.id, result["missing"])
    return render(
        "office/roster_result.html", summary=result["summary"], missing=missing, organisation=organisation
    )
