"""The copy of a family's data read in the browser: its one readable page (style and photo
thumbnails inside it), and the files it links to (full-size photos, the spreadsheets), each read
out of the stored zip. The family opens it from their downloads; the office opens the same page to
review it before release. Nothing in it runs, and nothing it shows leaves the site."""

from __future__ import annotations

import base64
import hashlib

from flask import Response

from app.core.error_pages import render_error
from app.dataprotection.exports import service as exports
from app.dataprotection.exports.texts import CSS
from app.models import DataExport

TYPES = {
    ".html": "text/html",
    ".css": "text/css",
    ".jpg": "image/jpeg",
    ".json": "application/json",
    ".csv": "text/csv",
}
_STYLE = "'sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode() + "'"
# Its own style (by hash) and thumbnails inside the page (data:) are all it may load.
CSP = (
    f"default-src 'none'; style-src 'self' {_STYLE}; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'none'"
)
PAGE = "index.html"


def entry_response(export: DataExport, name: str) -> Response:
    """One file of the copy as a response: the page and pictures shown, data files downloaded.
    404 for a name the copy does not hold, or a copy not built or expired."""
    kind = next((v for k, v in TYPES.items() if name.endswith(k)), None)
    if kind is None or not exports.downloadable(export):
        raise exports.ExportError("This copy has no such file (not built yet, or expired).", 404)
    try:
        data = exports.read_entry(exports.stored_file(export), name)
    except (KeyError, FileNotFoundError):
        return render_error(404, "This copy has no such file.")
    headers = {"Cache-Control": "no-store", "Content-Security-Policy": CSP}
    if kind in ("application/json", "text/csv"):
        headers["Content-Disposition"] = f'attachment; filename="{name.rsplit("/", 1)[-1]}"'
    return Response(data, mimetype=kind, headers=headers)
