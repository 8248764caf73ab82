"""A requester's copies of their data (P22, P26): the list, the copy as one readable page, and
the zip download, each after a fresh sign-in (every opening and download logged and counted)."""

from __future__ import annotations

import functools

import sqlalchemy as sa
from flask import Response, render_template
from flask_login import current_user

from app.core import storage
from app.core.authz import fresh_signin_required, signed_in
from app.core.direct_reads import DirectRead
from app.core.error_pages import render_error
from app.core.extensions import db
from app.dataprotection.exports import service as exports
from app.dataprotection.exports import viewing
from app.models import DataExport, ExportState, Organisation, PrivacyRequest, utcnow
from app.privacy import bp


@bp.get("/exports")
@signed_in
def my_exports():
    """The signed-in person's copies of data: ready to download, being made, or expired."""
    rows = _my_exports_read().run({"requester_id": current_user.id})
    return render_template("privacy/exports.html", rows=rows, now=utcnow(), S=ExportState)


@functools.cache
def _my_exports_read() -> DirectRead:
    """The person's copies, newest first, each with its request and the school's name, compiled
    once per process."""
    return DirectRead(
        sa.select(DataExport, PrivacyRequest, Organisation.name)
        .join(PrivacyRequest, PrivacyRequest.id == DataExport.request_id)
        .join(Organisation, Organisation.id == PrivacyRequest.organisation_id)
        .where(PrivacyRequest.requester_id == sa.bindparam("requester_id", type_=sa.Integer))
        .order_by(DataExport.created_at.desc(), DataExport.id.desc())
    )


@bp.get("/exports/<int:export_id>/download")
@fresh_signin_required
@signed_in
def download_export(export_id: int):
    """The zip, decrypted part by part as it is sent; only to the requester."""
    export = exports.for_requester(export_id, current_user)
    key = exports.stored_file(export)
    try:
        info = exports.manifest(key)
    except FileNotFoundError:
        return render_error(410, "This download has expired. Ask the school office for a new one.")
    org_id = db.session.execute(
        sa.select(PrivacyRequest.organisation_id).where(PrivacyRequest.id == export.request_id)
    ).scalar_one()
    exports.record_download(export, current_user, org_id)
    return zip_response(key, info)


@bp.get("/exports/<int:export_id>/copy/", defaults={"name": viewing.PAGE})
@bp.get("/exports/<int:export_id>/copy/<path:name>")
@fresh_signin_required
@signed_in
def open_export(export_id: int, name: str):
    """The copy as one readable page a phone opens (photos as thumbnails inside it), and the
    files it links to; only to the requester. Opening the page counts as taking a copy."""
    export = exports.for_requester(export_id, current_user)
    response = viewing.entry_response(export, name)
    if name == viewing.PAGE and response.status_code == 200:
        org_id = db.session.execute(
            sa.select(PrivacyRequest.organisation_id).where(PrivacyRequest.id == export.request_id)
        ).scalar_one()
        exports.record_download(export, current_user, org_id)
    return response


def zip_response(file_key: str, info: dict) -> Response:
    """The stored zip as an attachment, streamed part by part, never cached."""
    response = Response(exports.stream(file_key), mimetype="application/zip")
    response.headers["Content-Disposition"] = f'attachment; filename="{info["name"]}"'
    response.headers["Content-Length"] = str(info["size"])
    response.headers["Cache-Control"] = storage.CACHE_CONTROL  # the one rule for stored files
    return response
