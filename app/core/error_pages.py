"""Error pages a parent understands, for full pages and htmx requests alike.

A normal (or boosted) request gets the full page with the status code.  A partial htmx request
gets a short message with the same status code, retargeted to the layout's ``#messages`` region
so that the form or list the person was using stays on screen.  Nothing internal (exception
text, stack traces, SQL) is ever shown: details go to the log.
"""

from __future__ import annotations

import logging

import redis
import sqlalchemy as sa
from flask import current_app, g, make_response, render_template, request
from flask_babel import gettext
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound

from app.core.errors import ServiceError
from app.core.htmx import add_vary, is_htmx
from app.core.i18n import lazy_gettext as _l
from app.core.storage import StoreUnavailable

log = logging.getLogger(__name__)

CSRF_EXPIRED = _l(
    "This form has expired. Please go back, reload the page and try again. "
    "Anything you typed may need to be entered again."
)

MESSAGES = {
    400: (
        _l("Something in that request was not right"),
        _l("Please go back, check what you entered and try again."),
    ),
    401: (_l("Please sign in"), _l("You need to sign in to see that page.")),
    403: (
        _l("You can't open this page"),
        _l("Your account does not have access to it. If you think it should, please ask your school."),
    ),
    404: (
        _l("We can't find that page"),
        _l(
            "It may have moved, or the link may be old or mistyped. "
            "Check the address, or start again from your home page."
        ),
    ),
    405: (_l("That didn't work"), _l("Please go back and use the buttons on the page.")),
    413: (_l("That file is too big"), _l("Please choose a smaller file, or a smaller photo, and try again.")),
    422: (_l("Please check what you entered"), _l("Something in the form needs correcting.")),
    429: (
        _l("Too many tries"),
        _l("For your safety we've paused this for a little while. Please wait a few minutes and try again."),
    ),
    503: (
        _l("Sorry, Hometime is busy for a moment"),
        _l("Nothing was lost. Please wait a minute and try again."),
    ),
    500: (
        _l("Sorry, something went wrong on our side"),
        _l("It's not your fault, and nothing you did caused it. Please try again in a minute."),
    ),
}

# Used only if the error page itself cannot be rendered (say, the database is down).
_FALLBACK = (
    '<!doctype html><html lang="en-GB"><head><meta charset="utf-8">'
    '<meta name="viewport" content="width=device-width, initial-scale=1">'
    "<title>{title} · Hometime</title></head><body><main><h1>{title}</h1><p>{text}</p>"
    '<p><a href="/">Go to the start page</a></p></main><footer><p>Questions about your '
    "data? Contact your school's data protection officer, or "
    '<a href="{ico}">complain to the ICO</a> (0303 123 1113).</p></footer>'
    "</body></html>"
)


class NotFoundSaying(NotFound):
    """A 404 whose page says ``message`` instead of the usual text: ``raise NotFoundSaying(...)``."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.hometime_message = message


def _size_text() -> str:
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if not limit:
        return MESSAGES[413][1]
    return gettext(
        "Photos and files can be up to %(mb)s MB. Please choose a smaller one and try again.",
        mb=limit // (1024 * 1024),
    )


def render_error(code: int, detail: str | None = None, headers: dict | None = None):
    """The error page (or, for a partial htmx request, the error message) with status ``code``."""
    title, text = MESSAGES.get(code, MESSAGES[500 if code >= 500 else 400])
    if code == 413 and detail is None:
        text = _size_text()
    partial = is_htmx()
    template = "errors/fragment.html" if partial else "errors/error.html"
    try:
        body = render_template(template, code=code, title=title, text=detail or text)
    except Exception:  # noqa: BLE001 - the page about an error must not become another error
        log.exception("could not render the %s page", code)
        body = _FALLBACK.format(
            title=escape(title), text=escape(detail or text), ico=escape(current_app.config["ICO_URL"])
        )
    response = make_response(body, code)
    response.headers.update(headers or {})
    if partial:
        response.headers["HX-Retarget"] = "#messages"
        response.headers["HX-Reswap"] = "innerHTML"
    return add_vary(response)


def _rollback() -> None:
    from app.core.extensions import db

    try:
        db.session.rollback()
    except Exception as error:  # noqa: BLE001 - the connection itself is gone (database down)
        log.error("rollback after an error failed (%s); dropping the connection", error.__class__.__name__)
        try:  # no rollback is tried again on it (nor at the end of the request)
            db.session().invalidate()
        except Exception:  # noqa: BLE001
            log.exception("could not drop the connection")


def _forget_user() -> None:
    """Treat this request as signed out, so the error page and the response headers do not ask
    the database for the user again."""
    from app.core.extensions import login

    g._login_user = login.anonymous_user()


def http_error(error: HTTPException):
    """The page (or htmx message) for an HTTP error; a rate limit's own message when it has one."""
    if error.code is None or error.code < 400:
        return error  # a RequestRedirect and the like: let Werkzeug answer
    detail = getattr(error, "hometime_message", None)
    headers = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(error.valid_methods)
    if isinstance(error, RateLimitExceeded):
        if error.limit.error_message:  # a message written for people, set on the limit
            detail = error.description
        # Flask-Limiter sets Retry-After from the limit's own window.
    elif error.code == 429:
        headers["Retry-After"] = "60"
    if error.code >= 500:
        _rollback()
    return render_error(error.code, detail, headers)


def service_error(error: ServiceError):
    """A change a service refused, not caught by the view: roll back whatever the request had
    written and show the refusal's own message with its status (a 4xx). A view that shows the
    message inline on its form still catches the error itself."""
    _rollback()
    return render_error(error.status, error.message)


def init_app(app) -> None:
    """Register the handlers: CSRF failures, every HTTP error, a service's refusal, and anything
    unexpected."""

    @app.errorhandler(CSRFError)
    def _csrf(error):
        return render_error(400, CSRF_EXPIRED)

    app.register_error_handler(HTTPException, http_error)
    app.register_error_handler(ServiceError, service_error)

    @app.errorhandler(redis.exceptions.ConnectionError)
    def _redis_down(error):
        # Redis restarting or unreachable (queues, rate limits): say so, and roll back, so the
        # person can simply try again; the log says what happened.
        log.error("Redis unreachable on %s %s: %s", request.method, request.path, error)
        _rollback()
        return render_error(503, headers={"Retry-After": "60"})

    @app.errorhandler(StoreUnavailable)
    def _store_down(error):
        # The object store (photos, printables, exports) is unreachable: "busy, try again". The
        # request's transaction is rolled back, so no row points at a file that was not stored;
        # pages that need no file are unaffected.
        log.error("object store unreachable on %s %s: %s", request.method, request.path, error)
        _rollback()
        return render_error(503, headers={"Retry-After": "60"})

    @app.errorhandler(sa.exc.OperationalError)
    @app.errorhandler(sa.exc.InterfaceError)
    def _database_down(error):
        # PostgreSQL unreachable, restarting or refusing for a moment: the same "busy" page as
        # for Redis. Whatever the request had not committed is rolled back by PostgreSQL itself
        # (nothing half-written); the pool's pre-ping replaces dead connections once it is back.
        log.error(
            "database unreachable on %s %s: %s",
            request.method,
            request.path,
            str(error.orig if getattr(error, "orig", None) else error).strip(),
        )
        _forget_user()
        _rollback()
        return render_error(503, headers={"Retry-After": "60"})

    @app.errorhandler(Exception)
    def _unexpected(error):
        if isinstance(error, HTTPException):
            return http_error(error)
        if app.testing and not app.config.get("SHOW_ERROR_PAGES"):
            raise error
        log.exception("unhandled error on %s %s", request.method, request.path)
        _rollback()
        return render_error(500)
