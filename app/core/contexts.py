"""What a request reads of Flask's contexts, read from the context variables themselves.

``flask.g``, ``flask.request``, ``current_app`` and Flask-Login's ``current_user`` are
``LocalProxy`` objects: every attribute read through one first fails Python's own lookup (an
``AttributeError``, its message formatted and thrown away) before the proxy's ``__getattr__``
finds the context again, some 400 nanoseconds here; ``current_user`` goes through ``g``'s proxy
twice more inside Flask-Login's ``_get_user``. A family's home read them some 275 times a
request, a twentieth of its instructions, most of them inside Flask-Login and Flask-Babel, which
ask the same question a few times for every translated phrase and every form.

``install()`` (from ``create_app``) gives Flask-Login's ``_get_user`` and ``_create_identifier``
(the session protection's fingerprint, on every page) and Flask-Babel's
``_get_current_context`` and ``get_babel`` versions that read the context variables once; each
keeps its library's behaviour, written for the versions in ``WRITTEN_FOR`` (pinned in
``requirements.txt``): ``tests/core/test_contexts.py`` fails when another is installed, so an
upgrade reads those functions again. The helpers below serve the app's own code where it runs
on every request or for every card: the signed-in user and the request read once by the hooks,
the layout's values and the loader's columns' conditions, forms' CSRF token, flashed messages,
each activity's address prefix.
"""

from __future__ import annotations

import functools
import hashlib
from types import SimpleNamespace
from typing import Any

import flask_babel
import flask_login.utils
from flask import Request
from flask.ctx import _AppCtxGlobals
from flask.globals import _cv_app, _cv_request

WRITTEN_FOR = {"Flask-Login": "0.6.3", "Flask-Babel": "4.0.0"}


def app_globals() -> _AppCtxGlobals | None:
    """This application context's ``g`` (None outside one)."""
    ctx = _cv_app.get(None)
    return ctx.g if ctx is not None else None


def from_g(name: str, default: Any = None) -> Any:
    """``g.get(name, default)`` without the proxy (``default`` outside an application context)."""
    ctx = _cv_app.get(None)
    return ctx.g.__dict__.get(name, default) if ctx is not None else default


def current_request() -> Request:
    """The request being handled (``flask.request`` without the proxy), in a request: read it
    once where a function asks it several things."""
    return _cv_request.get().request


def signed_in_user() -> Any:
    """Flask-Login's ``_get_user`` (what ``current_user`` stands for): the user loaded for this
    request (the loader runs on first use) or the anonymous user; None outside a request."""
    if _cv_request.get(None) is None:
        return None
    app_ctx = _cv_app.get()
    here = app_ctx.g.__dict__
    if "_login_user" not in here:
        app_ctx.app.login_manager._load_user()  # type: ignore[attr-defined]  # set by LoginManager.init_app
    return here["_login_user"]


def _babel_context() -> SimpleNamespace | None:
    """Flask-Babel's ``_get_current_context``: the namespace in ``g`` where it keeps this
    context's locale, translations and domain (made on first use); None outside an app context."""
    app_ctx = _cv_app.get(None)
    if app_ctx is None:
        return None
    here = app_ctx.g
    found = here.__dict__.get("_flask_babel")
    if found is None:
        found = here._flask_babel = SimpleNamespace()
    return found


def _babel_configuration(app=None):
    """Flask-Babel's ``get_babel``: its configuration on ``app`` or the current app."""
    if app is None:
        ctx = _cv_app.get(None)
        if ctx is None:
            raise RuntimeError("Working outside of application context.")
        app = ctx.app
    return app.extensions["babel"]


def session_identifier() -> str:
    """Flask-Login's ``_create_identifier``: its "basic" session protection's fingerprint of the
    browser (its address and user agent, SHA-512), the same string for the same request, with
    the request read once and each address and agent hashed once per process."""
    here = _cv_request.get().request
    headers = here.headers
    return _fingerprint(headers.get("X-Forwarded-For", here.remote_addr), headers.get("User-Agent"))


@functools.lru_cache(maxsize=1024)
def _fingerprint(address: str | None, agent: str | None) -> str:
    first = address.encode("utf-8").split(b",")[0].strip() if address is not None else None
    named = agent.encode("utf-8") if agent is not None else None
    return hashlib.sha512(f"{first!s}|{named!s}".encode()).hexdigest()  # as Flask-Login writes it


def install() -> None:
    """Put the versions above in place of the libraries' own (their modules look them up by
    name on every call, so each library's functions use them)."""
    flask_login.utils._get_user = signed_in_user
    flask_login.utils._create_identifier = session_identifier
    flask_babel._get_current_context = _babel_context
    flask_babel.get_babel = _babel_configuration
