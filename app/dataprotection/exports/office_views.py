"""The office's side of access exports (P22): start one for a request, review what shows other
families, release it, and download it for checking (logged and counted)."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Response, flash, render_template, request, url_for
from flask_login import current_user

from app.core import storage
from app.core.authz import office_organisation_ids, staff_required
from app.core.error_pages import render_error
from app.core.extensions import db
from app.core.htmx import redirect_after_post
from app.dataprotection.exports import service as exports
from app.dataprotection.exports.family_views import zip_response
from app.dataprotection.exports.labels import review_items
from app.models import DataExport, ExportState, PrivacyRequest, Pupil, RequestState, utcnow
from app.office import bp

OFFICE = ("office", "dpo")


@bp.get("/exports")
@staff_required(*OFFICE)
def exports_page():
    """Requests for a copy of the data that are in progress, and every export of the school."""
    orgs = office_organisation_ids(current_user) or [-1]
    waiting = db.session.execute(
        sa.select(PrivacyRequest, Pupil.first_name, Pupil.last_name)
        .outerjoin(Pupil, Pupil.id == PrivacyRequest.subject_pupil_id)
        .where(
            PrivacyRequest.organisation_id.in_(orgs),
            PrivacyRequest.kind.in_(exports.EXPORT_KINDS),
            PrivacyRequest.state == RequestState.IN_PROGRESS,
        )
        .order_by(PrivacyRequest.due_on, PrivacyRequest.id)
    ).all()
    rows = db.session.execute(
        sa.select(DataExport, PrivacyRequest)
        .join(PrivacyRequest, PrivacyRequest.id == DataExport.request_id)
        .where(PrivacyRequest.organisation_id.in_(orgs))
        .order_by(DataExport.created_at.desc(), DataExport.id.desc())
        .limit(200)
    ).all()
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
    items = (
        review_items(export.flagged or [], exports.subject_for(req))
        if export.state is ExportState.REVIEW
        else []
    )
    return render_template(
        "office/export.html",
        export=export,
        req=req,
        items=items,
        S=ExportState,
        downloadable=exports.downloadable(export),
    )


@bp.post("/exports/<int:export_id>/release")
@staff_required(*OFFICE)
def release_export(export_id: int):
    """Release the export, leaving out the items ticked for removal."""
    remove = set(request.form.getlist("remove"))
    export = exports.release(export_id, current_user, remove)
    flash(
        "Released: the requester has been told it is ready."
        if export.state is ExportState.READY
        else "The copy is being made again without the removed items; it is then released.",
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
    try:
        info = exports.manifest(export.file_key)
    except FileNotFoundError:
        return render_error(410, "This export's file has been deleted.")
    exports.record_download(export, current_user, req.organisation_id, by_office=True)
    return zip_response(export.file_key, info)


@bp.get("/exports/<int:export_id>/photos/<int:contribution_id>")
@staff_required(*OFFICE)
def flagged_photo(export_id: int, contribution_id: int):
    """A flagged photo, small, for the review (only photos flagged in this export)."""
    from app.models import Contribution

    export, _ = exports.for_office(export_id, current_user)
    flagged = {(i["table"], i["row"]) for i in export.flagged or []}
    row = db.session.get(Contribution, contribution_id)
    if (
        ("contributions", contribution_id) not in flagged
        or row is None
        or not (row.thumb_key or row.photo_key)
    ):
        return render_error(404)
    try:
        data = storage.get(row.thumb_key or row.photo_key)
    except (FileNotFoundError, storage.InvalidKey):
        return render_error(404)
    return Response(data, mimetype="image/jpeg", headers={"Cache-Control": "no-store"})
