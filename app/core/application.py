"""The app's Flask class: ``url_for`` remembers the addresses it has built in this process.

A family's home builds some thirty addresses (a rating form and a sending link for each child and
activity, the layout's links), the same ones on every visit, and the router works each out
afresh: matching the rule, converting and quoting each value. An address inside the app (no
scheme, host or anchor asked for) depends only on the endpoint, its values and the path the app
is mounted at, so it is built once and looked up after that. Anything else, and every address
while a ``url_defaults`` function is registered (none is), is built by Flask as before.
"""

from __future__ import annotations

from flask import Flask
from flask.globals import _cv_request

REMEMBERED = 4096  # addresses; the memory is emptied when full, so it stays small
LONGEST_VALUE = 200  # a longer value (a "next" address typed by someone) is not remembered


class Hometime(Flask):
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
