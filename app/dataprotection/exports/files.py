"""An access export's stored file (P16): encrypted parts and a manifest.

A zip can be tens of megabytes, and Fernet encrypts a whole message at once with several copies
of it in memory, so the zip is stored in parts of :data:`PART_BYTES` (``export-part/…``), each
encrypted through :func:`app.core.storage.put`, plus a small manifest (``export/…``) listing
them; ``DataExport.file_key`` is the manifest's key. :func:`stored_keys` names every file of an
export, for :func:`app.core.storage.delete_after_commit` (read while the manifest still exists).
"""

from __future__ import annotations

import json
import os

import sqlalchemy as sa

from app.core import storage

PART_BYTES = 4 * 1024 * 1024


def store(path: str, name: str) -> list[str]:
    """Encrypt the file part by part; returns the part keys, then the manifest's key last."""
    parts = []
    with open(path, "rb") as fh:
        while chunk := fh.read(PART_BYTES):
            parts.append(storage.put(chunk, prefix="export-part"))
    manifest = {"v": 1, "name": name, "size": os.path.getsize(path), "parts": parts}
    return parts + [storage.put(json.dumps(manifest).encode(), prefix="export")]


def manifest(file_key: str) -> dict:
    """The manifest of a stored export: its file name, size and part keys."""
    return json.loads(storage.get(file_key))


def stream(file_key: str):
    """The zip's bytes, one decrypted part at a time (a few megabytes in memory). The parts are
    listed now; each is read in a short app context of its own, so the generator can be
    consumed after the request's context has gone (as a WSGI server does)."""
    from flask import current_app

    app = current_app._get_current_object()  # type: ignore[attr-defined]  # Flask types the proxy as Flask
    parts = manifest(file_key)["parts"]

    def chunks():
        for key in parts:
            with app.app_context():
                data = storage.get(key)
            yield data

    return chunks()


def stored_keys(file_key: str) -> list[str]:
    """Every stored file of an export: its parts and the manifest."""
    try:
        parts = manifest(file_key)["parts"]
    except (FileNotFoundError, storage.InvalidKey, storage.InvalidToken, ValueError, KeyError):
        parts = []
    return [*parts, file_key]


def _referenced(keys: list[str]) -> set[str]:
    """Which of ``keys`` an export still holds: its manifest, and the parts that manifest lists
    (for the orphan sweep). A part is only looked for when the batch holds parts."""
    from app.core.extensions import db
    from app.models import DataExport

    claimed: set[str] = {
        k
        for k in db.session.scalars(sa.select(DataExport.file_key).where(DataExport.file_key.in_(keys)))
        if k is not None
    }
    if any(k.startswith("export-part/") for k in keys):
        for file_key in db.session.scalars(
            sa.select(DataExport.file_key).where(DataExport.file_key.is_not(None))
        ):
            if file_key is None:
                continue
            try:
                claimed.update(manifest(file_key)["parts"])
            except FileNotFoundError:  # an export whose manifest is gone: its parts are orphans
                continue
    return claimed & set(keys)


storage.register_references(("export", "export-part"), _referenced)


def read_entry(file_key: str, name: str) -> bytes:
    """One file of the stored zip (``index.html``, a photo), for the office's review. The zip is
    decrypted into a temporary file (spilled to disk beyond a few megabytes) and read from there.
    Raises ``KeyError`` for a name the zip does not hold."""
    import tempfile
    import zipfile

    with tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024) as tmp:
        for key in manifest(file_key)["parts"]:
            tmp.write(storage.get(key))
        tmp.seek(0)
        with zipfile.ZipFile(tmp) as zf:
            return zf.read(name)
