"""The app's Flask class: what every request does, done once per process where it can be.

``url_for`` remembers the addresses it has built. A family's home builds some thirty (a rating
form and a sending link for each child and activity, the layout's links), the same ones on every
visit, and the router works each out afresh: matching the rule, converting and quoting each
value. An address inside the app (no scheme, host or anchor asked for) depends only on the
endpoint, its values and the path the app is mounted at, so it is built once and looked up after
that. Anything else, and every address while a ``url_defaults`` function is registered (none
is), is built by Flask as before. The session cookie, the templates' imports, their calls and
how they write values are below.
"""

from __future__ import annotations

import time
from collections import ChainMap
from collections.abc import Callable
from types import BuiltinFunctionType, FunctionType, MethodType
from typing import Any

from flask import Flask, url_for
from flask.globals import _cv_request
from flask.sessions import SecureCookieSessionInterface
from flask.templating import Environment
from itsdangerous import BadSignature, URLSafeTimedSerializer
from jinja2 import Template
from jinja2.runtime import Context, new_context
from jinja2.utils import _PassArg
from markupsafe import _escape_inner

REMEMBERED = 4096  # addresses, cookies, signed tokens: each memory is emptied when full, so it stays small
LONGEST_VALUE = 200  # a longer value (a "next" address typed by someone) is not remembered


_SCALARS = frozenset({str, int, bool, float, type(None)})


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed session cookie, its serializer made once per set of keys rather than twice
    a request (opening the cookie and saving it), and a cookie it has opened remembered: a
    browser sends the same cookie with every page until the session changes, and checking its
    signature (an HMAC, the JSON and base64 around it) is most of opening it. A cookie seen
    before, with the same keys, is opened from what its signature check gave, its age checked
    again as that check does (``PERMANENT_SESSION_LIFETIME``); one holding anything but plain
    values (a list of flashed messages, which a request changes in place) is checked each time.
    Up to ``REMEMBERED`` cookies; the memory is emptied when full."""

    _made: tuple[tuple, URLSafeTimedSerializer | None] = ((), None)
    _opened: dict[str, tuple[URLSafeTimedSerializer, int, dict]] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if self._made[0] != keys:
            self._made = (keys, super().get_signing_serializer(app))
        return self._made[1]

    def open_session(self, app: Flask, request: Any) -> Any:
        signer = self.get_signing_serializer(app)
        if signer is None:
            return None
        value = request.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        hit = self._opened.get(value)
        if hit is not None and hit[0] is signer:
            age = int(time.time()) - hit[1]  # as itsdangerous's TimestampSigner.unsign
            return self.session_class(hit[2] if 0 <= age <= max_age else None)
        try:
            data, signed_at = signer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if type(data) is dict and all(type(v) in _SCALARS for v in data.values()):
            if len(self._opened) >= REMEMBERED:
                self._opened.clear()
            self._opened[value] = (signer, int(signed_at.timestamp()), data)
        return self.session_class(data)


class ImportedTemplate(Template):
    """Every template. Jinja keeps a template's globals as a ``ChainMap`` of its own over the
    app's, and starts every context from a copy of it (and the set of its names): a ``ChainMap``
    is copied key by key in Python, the app's eighty-odd globals three or four times a page. A
    template with no globals of its own (all of them here) gives the app's dict itself, which
    Python copies at once; what the context holds is the same.

    When a page imports a template's macros (``{% from "parents/_topic.html" import topic_card
    %}``), Jinja runs that template again for the page only when the page has globals the
    template lacks (none here: every template shares the app's); it finds out by testing each of
    the page's global names against the template's globals, one by one. The same set difference,
    taken in one pass; otherwise as Jinja does it."""

    def _globals(self):
        found = self.globals
        if type(found) is TemplateGlobals and not found.maps[0]:
            return found.maps[1]  # the app's globals: nothing of the template's own over them
        return found

    def new_context(self, vars=None, shared=False, locals=None) -> Context:
        return new_context(self.environment, self.name, self.blocks, vars, shared, self._globals(), locals)

    @classmethod
    def from_code(cls, environment, code, globals, uptodate=None):  # noqa: A002 - Jinja's names
        made = super().from_code(environment, code, globals, uptodate)
        made.root_render_func.__globals__["escape"] = escape_output  # the module's own name
        return made

    def _get_default_module(self, ctx: Context | None = None):
        if ctx is not None and not ctx.globals_keys.difference(self._globals()):
            ctx = None  # no globals to add: the module made once is the same
        return super()._get_default_module(ctx)


def escape_output(value: Any) -> str:
    """What a template's ``{{ value }}`` writes: ``value`` escaped, as markupsafe's ``escape``
    escapes it, or as it is when it is markup already. Jinja calls ``escape`` for every value a
    template writes, and each call made a ``Markup`` string (a Python ``__new__``) that only ever
    went into the page's ``"".join`` (a macro's or a block's output is made markup when it is
    joined). Compiled templates call this instead (``ImportedTemplate.from_code``)."""
    if type(value) is str:
        return _escape_inner(value)
    if hasattr(value, "__html__"):
        return value.__html__()
    return _escape_inner(str(value))


_PLAIN = (FunctionType, BuiltinFunctionType, MethodType)


class CallingContext(Context):
    """A template's context. Jinja calls every function a template names through ``call``,
    which looks for ``pass_context`` and friends on the function and on its ``__call__`` each
    time (a hundred calls a family home). A plain function or method without them, or with
    ``pass_eval_context`` (the templates' ``_()``, thirty calls a home), is called at once;
    anything else as Jinja does it."""

    def call(__self, __obj, *args, **kwargs):  # noqa: N805 - Jinja's own signature
        kind = type(__obj)
        if kind not in _PLAIN:
            return super().call(__obj, *args, **kwargs)
        # asked of a bound method's function: a method's own lookup of a name it lacks formats an
        # AttributeError to throw away (url_for, a dozen calls a page)
        pass_arg = getattr(__obj.__func__ if kind is MethodType else __obj, "jinja_pass_arg", None)
        if pass_arg is _PassArg.eval_context:
            args = (__self.eval_ctx, *args)
        elif pass_arg is not None:
            return super().call(__obj, *args, **kwargs)
        if kwargs:
            kwargs.pop("_block_vars", None)
            kwargs.pop("_loop_vars", None)
        try:
            return __obj(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


class TemplateGlobals(ChainMap):
    """A template's globals over the app's (Jinja's ``make_globals``), as Jinja's ``ChainMap``
    with a key found by asking each map rather than by catching ``KeyError``: every template
    context starts from a copy of them, and ``ChainMap`` raised and caught an exception for each
    of the app's globals a template does not set itself, some forty a family's home."""

    def __getitem__(self, key):
        for mapping in self.maps:
            if key in mapping:
                return mapping[key]
        return self.__missing__(key)


class Templates(Environment):
    template_class = ImportedTemplate
    context_class = CallingContext

    def make_globals(self, d):
        return TemplateGlobals({} if d is None else d, self.globals)


class Hometime(Flask):
    session_interface = CookieSessions()
    jinja_environment = Templates
    _built: dict[tuple, str]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._built = {}

    def url_for(
        self,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values,
    ) -> str:
        ctx = _cv_request.get(None)
        if (
            ctx is None
            or ctx.url_adapter is None
            or _anchor is not None
            or _method is not None
            or _scheme is not None
            or _external
            or endpoint[:1] == "."
            or self.url_default_functions
            or not all(
                type(v) is int or (type(v) is str and len(v) <= LONGEST_VALUE) for v in values.values()
            )
        ):
            return super().url_for(
                endpoint, _anchor=_anchor, _method=_method, _scheme=_scheme, _external=_external, **values
            )
        key = (ctx.url_adapter.script_name, endpoint, *values.items())
        built = self._built.get(key)
        if built is None:
            built = super().url_for(endpoint, **values)
            if len(self._built) >= REMEMBERED:
                self._built.clear()
            self._built[key] = built
        return built


def href(endpoint: str, name: str) -> Callable[[int], str]:
    """``href(id)``: the URL of ``endpoint`` with ``name`` set to that id, built by ``url_for``
    once for a whole list (a list of thirty links would otherwise build it thirty times)."""
    marker = "987654321"
    values: dict[str, Any] = {name: int(marker)}
    url = url_for(endpoint, **values)
    return lambda value: url.replace(marker, str(int(value)))
