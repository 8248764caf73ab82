"""Responses compressed by the app (Flask-Compress): brotli or gzip, as the browser accepts.

- HTML, CSS, JS, JSON and SVG; bodies under ``COMPRESS_MIN_SIZE`` (500 bytes: a tap's small
  fragment) are sent plain, as compressing them gains nothing; streamed downloads (exports, CSV)
  are left alone. Hashed static files under ``/a/`` are compressed once at start-up instead
  (app.core.assets).
- BREACH (docs/security.md): a response is not compressed when it carries the CSRF token *and*
  reflects request input, i.e. the request had a query string or a body. Pages reached by a plain
  GET of a path (whose parts are ids the router has checked) are compressed.
"""

from __future__ import annotations

from flask import g, request
from flask_compress import Compress

compress = Compress()

SETTINGS = {
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    "COMPRESS_BR_LEVEL": 4,  # cheap enough per request; within a few % of level 11 on pages
    "COMPRESS_LEVEL": 6,
    "COMPRESS_MIN_SIZE": 500,
    "COMPRESS_STREAMS": False,
    "COMPRESS_REGISTER": False,  # registered below, behind the BREACH check
    "COMPRESS_EVALUATE_CONDITIONAL_REQUEST": False,
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/css",
        "text/plain",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
    ],
}


def carries_secret_and_reflects_input() -> bool:
    """The BREACH condition: the CSRF token was put in this response and the request sent input
    (a query string or a body) that the page may echo."""
    carries_secret = "csrf_token" in g  # set by Flask-WTF's generate_csrf() while rendering
    reflects = (
        bool(request.query_string) or bool(request.content_length) or request.method not in ("GET", "HEAD")
    )
    return carries_secret and reflects


def init_app(app) -> None:
    """Register compression; call first in the factory, so that it runs after every other
    ``after_request`` hook (Flask runs them in reverse order)."""
    for key, value in SETTINGS.items():
        app.config.setdefault(key, value)
    compress.init_app(app)

    @app.after_request
    def _compress(response):
        if carries_secret_and_reflects_input():
            return response
        return compress.after_request(response)
