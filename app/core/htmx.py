"""htmx conventions: one URL, two renderings (the full page, or one named block of it).

- A *partial* request is one htmx makes for a region of the page: ``HX-Request`` is set and it is
  neither a boosted navigation (``HX-Boosted``) nor a history restore
  (``HX-History-Restore-Request``).  Only those get a fragment; everything else gets the page.
- Every such response says ``Vary: HX-Request`` (and the two other headers the choice depends on),
  so no cache hands a fragment to someone who typed the URL.
- A plain form post answers 303 (post/redirect/get); a partial htmx post gets ``HX-Redirect``.
- ``HTMX_CONFIG`` is the ``<meta name="htmx-config">`` of the layout: read once by htmx 2.0.x and
  shallow-merged over its defaults (so ``responseHandling`` below replaces htmx's list entirely).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from flask import flash, get_flashed_messages, make_response, redirect, render_template, request
from jinja2_fragments.flask import render_block
from werkzeug.wrappers import Response

from app.core.contexts import app_globals

VARY = ("HX-Request", "HX-Boosted", "HX-History-Restore-Request")
VARY_HEADER = ", ".join(VARY)

HTMX_CONFIG = {
    # Nothing of a page (children's names, comments) is copied into the phone's sessionStorage:
    # back/forward fetches the page again instead.
    "historyCacheSize": 0,
    # That refetch must come back as a full page, so it must not look like a partial request
    # (htmx's own advice when HX-Request selects partial responses).
    "historyRestoreAsHxRequest": False,
    # htmx would otherwise add an inline <style> element, which our CSP refuses.
    "includeIndicatorStyles": False,
    # No eval (hx-on, trigger filters) and no <script> from swapped content: CSP forbids both.
    "allowEval": False,
    "allowScriptTags": False,
    "selfRequestsOnly": True,
    # Tried in order, first match wins.  422 is a form re-rendered with its errors: swap it.
    # Other errors swap too: a boosted link gets the full error page (instead of a dead click),
    # and a partial request gets a short message, retargeted by the server to #messages.
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[23]..", "swap": True},
        {"code": "422", "swap": True},
        {"code": "[45]..", "swap": True, "error": True},
        {"code": "...", "swap": False},
    ],
}
HTMX_CONFIG_JSON = json.dumps(HTMX_CONFIG, separators=(",", ":"))


def is_htmx() -> bool:
    """A partial htmx request: not a boosted navigation and not a history restore."""
    h = request.headers
    return (
        h.get("HX-Request") == "true"
        and h.get("HX-Boosted") != "true"
        and h.get("HX-History-Restore-Request") != "true"
    )


def is_boosted() -> bool:
    """A navigation by a boosted link or form (htmx swaps the whole body with our full page)."""
    return request.headers.get("HX-Boosted") == "true"


def add_vary(response):
    """Mark ``response`` as depending on the htmx request headers."""
    if "Vary" not in response.headers:  # a page's response: no header to merge with
        response.headers["Vary"] = VARY_HEADER
        return response
    for name in VARY:
        response.vary.add(name)
    return response


def render(template: str, block: str | None = None, status: int = 200, **context):
    """Render the whole page, or only ``block`` of it for a partial htmx request.

    ``block`` names a ``{% block %}`` of ``template``: the fragment is the same markup as the page,
    never a copy.  Use ``status=422`` for a form re-rendered with its errors.
    """
    if block and is_htmx():
        body = render_block(template, block, **context)
    else:
        body = render_template(template, **context)
    return add_vary(make_response(body, status))


def redirect_after_post(url: str):
    """303 for a plain (or boosted) form post; ``HX-Redirect`` for a partial htmx request."""
    response: Response
    if is_htmx():
        response = make_response("", 204)
        response.headers["HX-Redirect"] = url
    else:
        response = redirect(url, 303)
    return add_vary(response)


def flash_at(message: str, anchor: str, kind: str = "success") -> None:
    """Flash ``message`` for the card or field with id ``anchor``: after a plain post redirects
    to ``#anchor``, the answer is shown there, where the person is, not at the top of the page."""
    flash(message, f"{kind}:{anchor}")


def flashed_at(anchor: str | None = None) -> list[tuple[str, str]]:
    """(kind, message) pairs flashed for ``anchor``; with None, those flashed for no card (the
    layout's message area)."""
    here = app_globals()
    by_anchor = here.__dict__.get("_flashed_at") if here is not None else None
    if by_anchor is None:  # sorted once a request: a family's home asks for a dozen anchors
        by_anchor = {}
        flashed: list[tuple[str, str]] = get_flashed_messages(with_categories=True)  # type: ignore[assignment]  # Flask types it as a list of str or of pairs
        for category, message in flashed:
            kind, _, where = category.partition(":")
            by_anchor.setdefault(where or None, []).append((kind, message))
        if here is not None:
            here._flashed_at = by_anchor
    return list(by_anchor.get(anchor, ()))


def trigger(response, event: str, detail=None):
    """Add an ``HX-Trigger`` event (merged with any already set)."""
    events = json.loads(response.headers.get("HX-Trigger", "{}") or "{}")
    events[event] = detail if detail is not None else True
    response.headers["HX-Trigger"] = json.dumps(events)
    return response


def init_app(app) -> None:
    """Template global for the layout's meta tag; sign-in redirects become full-page loads."""
    app.jinja_env.globals["htmx_config"] = HTMX_CONFIG_JSON
    app.jinja_env.globals["flashed_at"] = flashed_at

    @app.after_request
    def _signin_redirects_leave_the_fragment(response):
        # A partial request whose session has ended is redirected to sign in.  The browser would
        # follow that redirect inside the XHR and swap the whole sign-in page into a small region;
        # tell htmx to navigate there instead.
        if response.status_code in (301, 302, 303, 307, 308) and is_htmx():
            location = response.headers.get("Location", "")
            if urlsplit(location).path.startswith("/auth/"):
                response = make_response("", 204)
                response.headers["HX-Redirect"] = location
                add_vary(response)
        return response
