"""The office's side of access exports (P22): start one for a request, review what shows other
families, release it, and download it for checking (logged and counted)."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import flash, render_template, request, url_for
from flask_login import current_user

from app.core import storage
from app.core.authz import office_organisation_ids, staff_required
from app.core.error_pages import render_error
from app.core.extensions import db
from app.core.htmx import redirect_after_post
from app.dataprotection.exports import service as exports
from app.dataprotection.exports import viewing
from app.dataprotection.exports.family_views import zip_response
from app.dataprotection.exports.labels import review_items
from app.models import ExportState, User, utcnow
from app.office import bp

OFFICE = ("office", "dpo")


@bp.get("/exports")
@staff_required(*OFFICE)
def exports_page():
    """Requests for a copy of the data that are in progress, and every export of the school."""
    orgs = office_organisation_ids(current_user) or [-1]
    waiting = exports.waiting_for_a_copy(orgs)
    rows = exports.made_for(orgs)
    live = {
        export.request_id
        for export, _ in rows
        if export.state in exports.LIVE and (export.expires_at is None or export.expires_at > utcnow())
    }
    return render_template(
        "office/exports.html",
        waiting=waiting,
        rows=rows,
        live=live,
        S=ExportState,
        now=utcnow(),
        downloadable=exports.downloadable,
    )


@bp.post("/requests/<int:request_id>/export")
@staff_required(*OFFICE)
def start_export(request_id: int):
    """Start making the copy of the data for a request in progress."""
    export = exports.start(request_id, current_user)  # a refusal: the ServiceError page
    flash("The copy of the data is being made. This page shows when it is ready.", "info")
    return redirect_after_post(url_for("office.export_page", export_id=export.id))


@bp.get("/exports/<int:export_id>")
@staff_required(*OFFICE)
def export_page(export_id: int):
    """An export's state, its download for checking, and the items to review."""
    export, req = exports.for_office(export_id, current_user)
    items = review_items(export.flagged or [], exports.subject_for(req)) if export.flagged else []
    reviewer = db.session.get(User, export.reviewed_by_id) if export.reviewed_by_id else None
    return render_template(
        "office/export.html",
        export=export,
        req=req,
        items=items,
        S=ExportState,
        downloadable=exports.downloadable(export),
        exemptions=exports.EXEMPTIONS,
        decisions=exports.DECISIONS,
        names_reason=exports.NAMES_REASON,
        reviewer=reviewer,
        tz=ZoneInfo("Europe/London"),
        summary=exports.review_summary(export.flagged or []) if export.reviewed_at else None,
    )


@bp.post("/exports/<int:export_id>/release")
@staff_required(*OFFICE)
def release_export(export_id: int):
    """Release the export after review: each flagged item kept, its names blanked out or left
    out, with the exemption relied on."""
    choices = {
        key[len("decision-") :]: value for key, value in request.form.items() if key.startswith("decision-")
    }
    remove = set(request.form.getlist("remove")) | {k for k, v in choices.items() if v == "remove"}
    redact = {k for k, v in choices.items() if v == "redact"}
    reasons = {
        key[len("exemption-") :]: value for key, value in request.form.items() if key.startswith("exemption-")
    }
    for item_id in set(request.form.getlist("remove")):
        reasons.setdefault(item_id, "other_person")
    exports.for_office(export_id, current_user)  # anyone else's: 404 before anything else
    if request.form.get("checked") != "yes":
        raise exports.ExportError("Tick that you have read the copy before releasing it.", 422)
    export = exports.release(export_id, current_user, remove, redact=redact, reasons=reasons)
    flash(
        "Released: the requester has been told it is ready."
        if export.state is ExportState.READY
        else "The copy is being made again with your changes; it is then released.",
        "success",
    )
    return redirect_after_post(url_for("office.export_page", export_id=export.id))


@bp.get("/exports/<int:export_id>/download")
@staff_required(*OFFICE)
def office_download(export_id: int):
    """The office downloads the zip to check it (logged and counted like any download)."""
    export, req = exports.for_office(export_id, current_user)
    if not exports.downloadable(export):
        raise exports.ExportError("This export has no file to download (not built yet, or expired).", 404)
    key = exports.stored_file(export)
    try:
        info = exports.manifest(key)
    except FileNotFoundError:
        return render_error(410, "This export's file has been deleted.")
    exports.record_download(export, current_user, req.organisation_id, by_office=True)
    return zip_response(key, info)


@bp.get("/exports/<int:export_id>/photos/<int:contribution_id>")
@staff_required(*OFFICE)
def flagged_photo(export_id: int, contribution_id: int):
    """A flagged photo, small, for the review (only photos flagged in this export)."""
    from app.models import Contribution

    export, _ = exports.for_office(export_id, current_user)
    flagged = {(i["table"], i["row"]) for i in export.flagged or []}
    row = db.session.get(Contribution, contribution_id)
    key = (row.thumb_key or row.photo_key) if row is not None else None
    if ("contributions", contribution_id) not in flagged or not key:
        return render_error(404)
    return storage.send_stored_file(key)


@bp.get("/exports/<int:export_id>/preview/", defaults={"name": "index.html"})
@bp.get("/exports/<int:export_id>/preview/<path:name>")
@staff_required(*OFFICE)
def preview_export(export_id: int, name: str):
    """The copy as the family will read it (its index page, style, photos and files), for the
    office to check before release. Opening it is recorded like a download."""
    export, req = exports.for_office(export_id, current_user)
    response = viewing.entry_response(export, name)
    if name == viewing.PAGE and response.status_code == 200:
        exports.record_preview(export, current_user, req.organisation_id)
    return response
