"""Static files under content-hashed names with a year-long cache: ``{{ asset('app.css') }}``."""
from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory, url_for

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


def init_app(app) -> None:
    static = Path(app.static_folder)
    manifest = _manifest(static)
    app.extensions["assets"] = {"names": manifest, "files": {v: k for k, v in manifest.items()}}
    app.register_blueprint(bp)

    @app.template_global()
    def asset(name: str) -> str:
        return url_for("assets.file", hashed=app.extensions["assets"]["names"][name])


@bp.get("/a/<path:hashed>")
def file(hashed: str):
    real = current_app.extensions["assets"]["files"].get(hashed)
    if real is None:
        abort(404)
    response = send_from_directory(current_app.static_folder, real, max_age=YEAR)
    response.headers["Cache-Control"] = f"public, max-age={YEAR}, immutable"
    return response


file._access = "public"  # noqa: SLF001 - see app.authz
