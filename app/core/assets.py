"""Static files under content-hashed names with a year-long cache: ``{{ asset('app.css') }}``.

A file's name carries the first 10 hex digits of the SHA-256 of its content, so a changed file
gets a new URL and browsers may keep every version for a year without asking again.  Any other
name answers 404.  Compression (gzip/brotli) is left to the web server or proxy in production;
``make bench`` reports each asset's gzip size against its budget.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory, url_for

from app.core.authz import public

bp = Blueprint("assets", __name__)
YEAR = 60 * 60 * 24 * 365


def _manifest(static: Path) -> dict[str, str]:
    names = {}
    for path in sorted(static.rglob("*")):
        if path.is_file():
            digest = hashlib.sha256(path.read_bytes()).hexdigest()[:10]
            rel = path.relative_to(static).as_posix()
            stem, dot, ext = rel.rpartition(".")
            names[rel] = f"{stem}.{digest}.{ext}" if dot else f"{rel}.{digest}"
    return names


def _stamp(static: Path) -> tuple:
    return tuple((p.as_posix(), p.stat().st_mtime_ns) for p in sorted(static.rglob("*")) if p.is_file())


def _static_folder(app) -> str:
    """The app's static/ (Flask's default; Hometime never turns it off)."""
    if app.static_folder is None:
        raise RuntimeError("Hometime serves its assets from the app's static folder")
    return app.static_folder


def _load(app) -> dict:
    static = Path(_static_folder(app))
    manifest = _manifest(static)
    app.extensions["assets"] = {
        "names": manifest,
        "files": {v: k for k, v in manifest.items()},
        "stamp": _stamp(static),
    }
    return app.extensions["assets"]


def _assets(app) -> dict:
    """The manifest; in development it follows edits to static/ without a restart."""
    found = app.extensions["assets"]
    if app.config["ENV_NAME"] == "development" and found["stamp"] != _stamp(Path(_static_folder(app))):
        found = _load(app)
    return found


def init_app(app) -> None:
    """Hash every file under static/ once at start-up and register the ``asset()`` helper."""
    _load(app)
    app.register_blueprint(bp)

    @app.template_global()
    def asset(name: str) -> str:
        """The URL of static/``name`` under its content-hashed name."""
        return url_for("assets.file", hashed=_assets(app)["names"][name])


@bp.get("/a/<path:hashed>")
@public
def file(hashed: str):
    """Serve a static file by its hashed name, cached publicly for a year."""
    real = _assets(current_app)["files"].get(hashed)
    if real is None:
        abort(404)
    response = send_from_directory(_static_folder(current_app), real, max_age=YEAR)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response
