"""htmx conventions: one URL, two renderings (full page, or one named block of it)."""
from __future__ import annotations

import json

from flask import make_response, redirect, request
from flask import render_template
from jinja2_fragments.flask import render_block


def is_htmx() -> bool:
    """A partial htmx request: not a boosted navigation and not a history restore."""
    h = request.headers
    return (h.get("HX-Request") == "true" and h.get("HX-Boosted") != "true"
            and h.get("HX-History-Restore-Request") != "true")


def render(template: str, block: str | None = None, status: int = 200, **context):
    """Render the whole page, or only ``block`` for an htmx partial request."""
    if block and is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    response = make_response(body, status)
    response.vary.add("HX-Request")
    return response


def redirect_after_post(url: str):
    """303 for a plain form post; ``HX-Redirect`` for an htmx request."""
    if request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true":
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
        return response
    return redirect(url, 303)


def trigger(response, event: str, detail=None):
    """Add an ``HX-Trigger`` event (merged with any already set)."""
    events = json.loads(response.headers.get("HX-Trigger", "{}") or "{}")
    events[event] = detail if detail is not None else True
    response.headers["HX-Trigger"] = json.dumps(events)
    return response
