"""Error pages a parent understands, for full pages and htmx requests alike."""
from __future__ import annotations

import logging

from flask import render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

log = logging.getLogger(__name__)

MESSAGES = {
    400: ("Something in that request was not right",
          "Please go back, check what you entered and try again."),
    401: ("Please sign in", "You need to sign in to see that page."),
    403: ("You can't open this page", "Your account does not have access to it. If you think it "
          "should, please ask your school."),
    404: ("We can't find that page", "It may have moved, or the link may be old or mistyped."),
    405: ("That didn't work", "Please go back and use the buttons on the page."),
    413: ("That file is too big", "Please choose a smaller file, or a smaller photo, and try again."),
    422: ("Please check what you entered", "Something in the form needs correcting."),
    429: ("Too many tries", "For your safety we've paused this for a little while. "
          "Please wait a few minutes and try again."),
    500: ("Sorry, something went wrong on our side",
          "It's not your fault. Please try again in a minute."),
}


def render_error(code: int, detail: str | None = None):
    title, text = MESSAGES.get(code, MESSAGES[500 if code >= 500 else 400])
    block = request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"
    template = "errors/fragment.html" if block else "errors/error.html"
    return render_template(template, code=code, title=title, text=detail or text), code


def init_app(app) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error):
        return render_error(400, "This form has expired. Please go back, reload the page and try "
                                 "again.")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code in (301, 302, 303, 307, 308) or error.code is None:
            return error
        detail = getattr(error, "hometime_message", None)
        response = render_error(error.code, detail)
        if error.code == 429:
            return (*response, {"Retry-After": "60"})
        return response

    @app.errorhandler(Exception)
    def _unexpected(error):
        if isinstance(error, HTTPException):
            return _http(error)
        if app.testing and not app.config.get("SHOW_ERROR_PAGES"):
            raise error
        log.exception("unhandled error on %s", request.path)
        return render_error(InternalServerError.code)
