"""Security headers on every response, HTTPS in production, and no caching of personal pages;
input no view can use (ids beyond the database's range, NUL bytes) is refused before any view.

Page-only headers (CSP, frame and opener policies, HSTS) go on documents, not on htmx fragments;
hashed assets are answered before Flask (app.core.assets) with only the headers a file needs.
Compression is app.core.compression.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, request
from flask.globals import _cv_app, _cv_request
from flask_wtf.csrf import generate_csrf
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from app.core.application import REMEMBERED
from app.core.assets import BOOT_HASH
from app.core.contexts import from_g, signed_in_user
from app.params import DB_INT_MAX


class DatabaseInt(IntegerConverter):
    """``<int:...>`` for the whole app: a number beyond PostgreSQL's integer range matches no
    route (404), as a record that does not exist, instead of failing in the database."""

    def __init__(self, map, fixed_digits=0, min=None, max=DB_INT_MAX, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def has_nul(request) -> bool:
    """Whether the path, query string or form (names, values, file names) holds a NUL byte,
    which no field accepts and PostgreSQL cannot store in text."""
    if "\x00" in request.path:
        return True
    pairs = [*request.args.items(multi=True)]
    if request.mimetype in FORM_TYPES:  # the only bodies Werkzeug reads as a form (a page's GET has none)
        pairs += request.form.items(multi=True)
        pairs += [(name, upload.filename or "") for name, upload in request.files.items(multi=True)]
    return any("\x00" in name or "\x00" in value for name, value in pairs)


FORM_TYPES = frozenset(("application/x-www-form-urlencoded", "multipart/form-data"))


# No 'unsafe-inline', no 'unsafe-eval', no other origins for scripts or styles; one inline script,
# by its hash: the layout's few lines that load the scripts once the page is drawn
# (app/core/boot.js).  Video embeds only from the providers' privacy-enhanced domains, and only
# after a tap (P05/P06).
CSP = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' {BOOT_HASH}",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "media-src 'self' blob:",
        "frame-src https://www.youtube-nocookie.com https://player.vimeo.com",
        "frame-ancestors 'none'",
        "form-action 'self'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)
PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "browsing-topics",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
    )
)
HSTS = "max-age=63072000; includeSubDomains"

# Load balancers probe over plain HTTP without X-Forwarded-Proto; the probe carries no data.
_HTTP_ALLOWED = {"/healthz"}


_SIGNED: dict[tuple[Any, str], str] = {}  # (signing key, session's token) -> that token signed


def csrf_token() -> str:
    """This request's CSRF token, as Flask-WTF's ``generate_csrf()`` gives it: that signs the
    token once a request and keeps it in ``g``, but reads the app's settings on every call, and a
    family's home asks for it a dozen times (every form).

    The token in a page is the session's own secret token signed with the app's key and the
    time. With no time limit on a token (``WTF_CSRF_TIME_LIMIT = None``: it lasts as long as the
    session) the time is never checked, so a session's token signed once serves its later pages
    as well: signing it again on every page (JSON, an HMAC and base64) is skipped. A new
    session, or signing in, gives a new secret token, signed afresh. With a time limit set,
    every page signs its own."""
    found = from_g("csrf_token")
    if found:
        return found
    ctx = _cv_request.get()
    config = ctx.app.config
    timed = config.get("WTF_CSRF_TIME_LIMIT", 3600) is not None
    if timed or config.get("WTF_CSRF_FIELD_NAME", "csrf_token") != "csrf_token":
        return generate_csrf()
    key = config.get("WTF_CSRF_SECRET_KEY") or ctx.app.secret_key
    secret = ctx.session.get("csrf_token")
    signed = _SIGNED.get((key, secret)) if type(secret) is str else None
    if signed is not None:
        _cv_app.get().g.csrf_token = signed  # where generate_csrf and the forms look for it
        return signed
    signed = generate_csrf()
    if len(_SIGNED) >= REMEMBERED:
        _SIGNED.clear()
    _SIGNED[(key, ctx.session["csrf_token"])] = signed
    return signed


def init_app(app) -> None:
    """Register the headers, the body-size check, the templates' ``csrf_token()`` and (in
    production) the HTTPS redirect."""
    production = app.config["ENV_NAME"] == "production"
    app.jinja_env.globals["csrf_token"] = csrf_token
    # Flask-WTF also hands every template its own generate_csrf through a context processor,
    # which wins over the global: without it, templates call ``csrf_token`` above.
    processors = app.template_context_processors[None]
    processors[:] = [p for p in processors if getattr(p, "__module__", None) != "flask_wtf.csrf"]
    if production:
        # Trust one proxy (the TLS terminator) for the client address, scheme and host.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

        @app.before_request
        def _https_only():
            if not request.is_secure and request.path not in _HTTP_ALLOWED:
                # 308 keeps the method and body, so a form posted over http is not lost silently.
                return redirect(request.url.replace("http://", "https://", 1), 308)
            return None

    @app.before_request
    def _refuse_oversized_body():
        # Werkzeug refuses an oversized body only when a view reads the form; refuse it up front,
        # by its declared length, so every route answers 413 and nothing is read or half-saved.
        limit = request.max_content_length
        if limit is not None and (request.content_length or 0) > limit:
            abort(413)

    @app.before_request
    def _refuse_nul_bytes():
        if has_nul(request):
            abort(400)

    every = (("X-Content-Type-Options", "nosniff"), ("Cross-Origin-Resource-Policy", "same-origin"))
    # What only a document (a page a browser shows) needs: a fragment htmx swaps into a page is
    # governed by that page's policy, so these bytes would ride along for nothing.
    document = (
        ("Content-Security-Policy", CSP),
        ("Referrer-Policy", "same-origin"),
        ("X-Frame-Options", "DENY"),
        ("Permissions-Policy", PERMISSIONS_POLICY),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ) + ((("Strict-Transport-Security", HSTS),) if production else ())
    ours = frozenset(name.lower() for name, _ in every + document) | {"cache-control"}

    @app.after_request
    def _headers(response):
        h = response.headers
        added = every + document if is_document(response) else every
        if ours.isdisjoint(name.lower() for name, _ in h.items()):
            h.extend(added)  # none set by the view (nearly always): added in one go
            if response.mimetype == "text/html":
                h.add("Cache-Control", cache_control())
            return response
        for name, value in added:
            if name == "Content-Security-Policy":
                h.setdefault(name, value)  # a view's own policy stands
            else:
                h[name] = value
        if response.mimetype == "text/html" and "Cache-Control" not in h:
            h["Cache-Control"] = cache_control()
        return response


def is_document(response) -> bool:
    """Whether ``response`` may be shown by a browser as a page of its own: anything but an htmx
    fragment (a partial request answered with HTML or nothing)."""
    from app.core.htmx import is_htmx

    return not (is_htmx() and (response.mimetype == "text/html" or not response.content_length))


def cache_control() -> str:
    """Cache rule for an HTML response (docs/performance.md, "Caching").

    Signed in: children's data, so ``no-store``: never in a shared cache, never on the phone's
    disk, and never shown again from cache by Back after signing out on a shared family phone.
    Not signed in: ``private, no-cache``: the page carries a CSRF token bound to the visitor's
    session, so it is never shared and is revalidated before reuse."""
    user = signed_in_user()
    if user and user.is_authenticated:
        return "private, no-store"
    return "private, no-cache"
