"""Static files under content-hashed names with a year-long cache: ``{{ asset('app.css') }}``.

A file's name carries the first 10 hex digits of the SHA-256 of its content, so a changed file
gets a new URL and browsers may keep every version for a year without asking again
(``immutable``).  Any other name answers 404.

``/a/`` is answered in front of Flask by a small WSGI layer (``AssetFiles``): no session, no
sign-in, no rate limit and no per-request hooks, so an asset never carries ``Vary: Cookie`` (which
made phones revalidate every file after a browser restart) nor the page-only security headers.
Each file is compressed once, at start-up, with brotli (quality 11) and gzip (level 9); the
smallest encoding the browser accepts is sent (``Vary: Accept-Encoding``), plain when compressing
does not gain. The Flask route below stays for ``url_for`` and answers what the layer passes on:
404.

The layout's scripts (app.js, htmx) are asked for by a few lines inlined in its ``<head>``
(``boot.js`` beside this file, ``boot_script``) once the page has been drawn; the CSP allows that
one inline script by its hash (``BOOT_HASH``), and no other.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import mimetypes
import time
from pathlib import Path
from urllib.parse import quote

import brotli
import rjsmin
from flask import Blueprint, abort, url_for
from markupsafe import Markup

from app.core.authz import public

bp = Blueprint("assets", __name__)
YEAR = 60 * 60 * 24 * 365
PREFIX = "/a/"
CACHE_CONTROL = f"public, max-age={YEAR}, immutable"
STAMP_EVERY = 1.0  # development: look for edited files at most once a second
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "image/svg+xml")


# boot.js as inlined: minified, since every page carries it.
BOOT_SCRIPT = rjsmin.jsmin(Path(__file__).with_name("boot.js").read_text(encoding="utf-8"))
# For the CSP's script-src: the one inline script allowed.
BOOT_HASH = "'sha256-" + base64.b64encode(hashlib.sha256(BOOT_SCRIPT.encode()).digest()).decode() + "'"
# The attributes of a <script> that name a script the page runs: its own, or the ones the layout's
# loader asks for once the page is drawn (templates/base.html). For whatever counts a page's bytes.
SCRIPT_ATTRIBUTES = ("src", "data-app", "data-htmx")


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


def _encodings(path: Path) -> tuple[str, dict[str, bytes]]:
    """(content type, {encoding: body}) of one file; "" is the plain body."""
    data = path.read_bytes()
    kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "image/svg+xml"):
        kind += "; charset=utf-8"
    bodies = {"": data}
    if kind.startswith(COMPRESSIBLE):
        for name, packed in (
            ("br", brotli.compress(data, quality=11)),
            ("gzip", gzip.compress(data, compresslevel=9, mtime=0)),
        ):
            if len(packed) < len(data):
                bodies[name] = packed
    return kind, bodies


def _load(app) -> dict:
    static = Path(_static_folder(app))
    manifest = _manifest(static)
    app.extensions["assets"] = {
        "names": manifest,
        "files": {v: k for k, v in manifest.items()},
        "bodies": {v: _encodings(static / k) for k, v in manifest.items()},
        "stamp": _stamp(static),
        "checked": time.monotonic(),
    }
    return app.extensions["assets"]


def _assets(app) -> dict:
    """The manifest; in development it follows edits to static/ without a restart (looking at
    most once a second, not on every ``asset()`` call: that walk was per-request cost)."""
    found = app.extensions["assets"]
    if app.config["ENV_NAME"] == "development" and time.monotonic() - found["checked"] > STAMP_EVERY:
        found["checked"] = time.monotonic()
        if found["stamp"] != _stamp(Path(_static_folder(app))):
            found = _load(app)
    return found


def _accepted(header: str) -> set[str]:
    """Encodings the client accepts (q=0 refused)."""
    accepted = set()
    for part in header.split(","):
        name, _, params = part.strip().partition(";")
        q = params.strip().removeprefix("q=") if params.strip().startswith("q=") else "1"
        try:
            if float(q) > 0:
                accepted.add(name.strip().lower())
        except ValueError:
            continue
    return accepted


class AssetFiles:
    """WSGI layer answering GET/HEAD ``/a/<hashed name>`` from memory; all else goes to Flask."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if not path.startswith(PREFIX) or method not in ("GET", "HEAD"):
            return self.wsgi_app(environ, start_response)
        found = _assets(self.app)["bodies"].get(path[len(PREFIX) :])
        if found is None:
            return self.wsgi_app(environ, start_response)  # Flask answers 404
        kind, bodies = found
        accepted = _accepted(environ.get("HTTP_ACCEPT_ENCODING", ""))
        encoding = min(
            (name for name in bodies if name == "" or name in accepted), key=lambda n: len(bodies[n])
        )
        body = bodies[encoding]
        headers = [
            ("Content-Type", kind),
            ("Content-Length", str(len(body))),
            ("Cache-Control", CACHE_CONTROL),
            ("X-Content-Type-Options", "nosniff"),
            ("Cross-Origin-Resource-Policy", "same-origin"),
        ]
        if len(bodies) > 1:
            headers.append(("Vary", "Accept-Encoding"))
        if encoding:
            headers.append(("Content-Encoding", encoding))
        start_response("200 OK", headers)
        return [b""] if method == "HEAD" else [body]


def init_app(app) -> None:
    """Hash and compress every file under static/ once at start-up, put the ``/a/`` layer in
    front of the app and register the ``asset()`` helper."""
    _load(app)
    app.register_blueprint(bp)
    app.wsgi_app = AssetFiles(app, app.wsgi_app)

    @app.template_global()
    def asset(name: str) -> str:
        """The URL of static/``name`` under its content-hashed name."""
        return url_for("assets.file", hashed=_assets(app)["names"][name])

    app.jinja_env.globals["boot_script"] = Markup(BOOT_SCRIPT)

    @app.template_global()
    def asset_data_uri(name: str) -> str:
        """static/``name`` (a small SVG) as a ``data:`` URI: in the page, not one more request
        (the favicon: a browser asks for it while the page is still being drawn)."""
        found = _assets(app)
        hashed = found["names"][name]
        if hashed not in _DATA_URIS:
            kind, bodies = found["bodies"][hashed]
            svg = bodies[""].decode().strip().replace('"', "'")
            _DATA_URIS[hashed] = f"data:{kind.split(';')[0]}," + quote(svg, safe="=/:',;")
        return _DATA_URIS[hashed]


_DATA_URIS: dict[str, str] = {}


@bp.get("/a/<path:hashed>")
@public
def file(hashed: str):
    """Reached only for names that are not a current hashed asset (the layer serves those): 404."""
    abort(404)
