"""Responses compressed by the app (Flask-Compress): brotli or gzip, as the browser accepts.

- HTML, CSS, JS, JSON and SVG; bodies under ``COMPRESS_MIN_SIZE`` (500 bytes: a tap's small
  fragment) are sent plain, as compressing them gains nothing; streamed downloads (exports, CSV)
  are left alone. Hashed static files under ``/a/`` are compressed once at start-up instead
  (app.core.assets).
- BREACH (docs/security.md): a response is not compressed when it carries the CSRF token *and*
  may reflect request input: a query string, a body, or free text in the path (``<token>``).
  Pages reached by a plain GET of a path made of ids the router has checked are compressed;
  error pages (which echo the path) are never compressed, as only 2xx answers are.
"""

from __future__ import annotations

from flask import g, request
from flask_compress import Compress
from werkzeug.routing import PathConverter, UnicodeConverter

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
    the page may echo: a query string, a body, or free text in the path (a ``<token>`` segment;
    integer ids and ``any(...)`` choices are checked by the router and are not free text)."""
    if "csrf_token" not in g:  # set by Flask-WTF's generate_csrf() while rendering
        return False
    if request.query_string or request.content_length or request.method not in ("GET", "HEAD"):
        return True
    return bool(_free_text_in_path())


def _free_text_in_path() -> list[str]:
    """Names of the matched rule's path arguments that take any text (string or path)."""
    rule = request.url_rule
    converters = getattr(rule, "_converters", {}) if rule is not None else {}
    return [name for name, conv in converters.items() if isinstance(conv, (UnicodeConverter, PathConverter))]


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
