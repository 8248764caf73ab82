"""htmx conventions: one URL, two renderings, Vary, CSRF in hx-headers, the layout's htmx config."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from app.core import htmx
from app.models import Role
from tests import factories as f
from tests.html_check import Page

HTMX_JS = Path(__file__).resolve().parents[2] / "static" / "htmx.min.js"
PARTIAL = {"HX-Request": "true"}
BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}
RESTORE = {"HX-Request": "true", "HX-History-Restore-Request": "true"}


def _config(client) -> dict:
    meta = Page(client.get("/").get_data(as_text=True)).find("meta", name="htmx-config")
    assert meta is not None, "the layout has no htmx-config meta tag"
    return json.loads(meta.attrs["content"])


def _handling(config: dict, status: int) -> dict:
    """The responseHandling entry htmx 2 would pick: the first whose code matches (RegExp.test)."""
    return next((e for e in config["responseHandling"] if re.search(e["code"], str(status))), {"swap": False})


def test_htmx_config_meta_is_json_that_keeps_pages_private_and_csp_clean(client):
    config = _config(client)
    assert config["historyCacheSize"] == 0  # no copy of a page in the phone's storage
    assert config["historyRestoreAsHxRequest"] is False  # back button gets the full page
    assert config["includeIndicatorStyles"] is False  # no inline <style> from htmx
    assert config["allowEval"] is False and config["allowScriptTags"] is False


@pytest.mark.parametrize(
    "status, swaps", [(200, True), (204, False), (303, True), (422, True), (404, True), (500, True)]
)
def test_response_handling_swaps_validation_errors_and_error_pages(client, status, swaps):
    entry = _handling(_config(client), status)
    assert entry["swap"] is swaps
    if status == 422:
        assert not entry.get("error"), "a re-rendered form is not an error for htmx"


def test_htmx_2_0_11_knows_every_key_of_our_config(client):
    source = HTMX_JS.read_text()
    assert 'version:"2.0.11"' in source
    defaults = source[source.index("config:{") : source.index("parseInterval:")]
    for key in _config(client):
        assert f"{key}:" in defaults, f"htmx 2.0.11 has no config key {key!r}"
    # htmx reads the meta tag by this exact name and merges it over its defaults.
    assert 'meta[name="htmx-config"]' in source


def test_csrf_token_sits_on_an_element_that_boosted_navigation_replaces(client):
    page = Page(client.get("/").get_data(as_text=True))
    body = page.find("body")
    assert body.attrs.get("hx-boost") == "true"
    carrier = next(e for e in page.elements if "hx-headers" in e.attrs)
    # Boosted links and forms swap the body's innerHTML: the carrier must be inside the body, not
    # the body itself, and no hx-target/hx-swap may redirect the swap elsewhere.
    assert carrier.tag != "body" and body in list(carrier.ancestors())
    assert not any(
        "hx-target" in e.attrs or "hx-swap" in e.attrs or "hx-select" in e.attrs
        for e in [carrier, *carrier.ancestors()]
    )
    token = json.loads(carrier.attrs["hx-headers"])["X-CSRFToken"]
    assert len(token) > 20
    # The boosted response is the full page again, so the swap brings the current token with it.
    boosted = Page(client.get("/cookies", headers=BOOSTED).get_data(as_text=True))
    fresh = next(e for e in boosted.elements if "hx-headers" in e.attrs)
    assert fresh.attrs["id"] == carrier.attrs["id"]
    assert json.loads(fresh.attrs["hx-headers"])["X-CSRFToken"]


def _render(app, headers, block="main"):
    with app.test_request_context("/", headers=headers):
        return htmx.render("cookies.html", block=block, cookies=[], status=200)


def test_partial_request_gets_only_the_named_block(app, ctx):
    response = _render(app, PARTIAL)
    html = response.get_data(as_text=True)
    assert "<h1>Cookies</h1>" in html
    assert "<html" not in html and "<footer" not in html and "hx-headers" not in html


@pytest.mark.parametrize("headers", [{}, BOOSTED, RESTORE], ids=["plain", "boosted", "restore"])
def test_plain_boosted_and_history_restore_requests_get_the_full_page(app, ctx, headers):
    html = _render(app, headers).get_data(as_text=True)
    assert html.startswith("<!doctype html>") and "<footer" in html and "<h1>Cookies</h1>" in html


@pytest.mark.parametrize("headers", [{}, PARTIAL, BOOSTED], ids=["plain", "partial", "boosted"])
def test_both_renderings_say_vary_hx_request(app, ctx, headers):
    vary = {v.strip().lower() for v in _render(app, headers).headers["Vary"].split(",")}
    assert {"hx-request", "hx-boosted", "hx-history-restore-request"} <= vary


def test_render_without_a_block_is_always_the_full_page_with_a_status(app, ctx):
    with app.test_request_context("/", headers=PARTIAL):
        response = htmx.render("cookies.html", cookies=[], status=422)
    assert response.status_code == 422 and "<footer" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    "headers, status", [({}, 303), (BOOSTED, 303), (PARTIAL, 204)], ids=["plain", "boosted", "partial"]
)
def test_redirect_after_post(app, ctx, headers, status):
    with app.test_request_context("/x", method="POST", headers=headers):
        response = htmx.redirect_after_post("/family/")
    assert response.status_code == status
    if status == 303:
        assert response.headers["Location"] == "/family/"
        assert "HX-Redirect" not in response.headers
    else:
        assert response.headers["HX-Redirect"] == "/family/"
    assert "HX-Request" in response.headers["Vary"]


def test_trigger_merges_events(app, ctx):
    with app.test_request_context("/"):
        response = htmx.trigger(htmx.trigger(app.make_response("ok"), "saved"), "count", {"n": 2})
    assert json.loads(response.headers["HX-Trigger"]) == {"saved": True, "count": {"n": 2}}


def test_partial_request_without_a_session_navigates_to_sign_in(client):
    """htmx must not swap the sign-in page into a small region: it goes there instead."""
    response = client.get("/teach/", headers=PARTIAL)
    assert response.status_code == 204
    assert response.headers["HX-Redirect"].startswith("/auth/signin?next=")
    plain = client.get("/teach/")
    assert plain.status_code == 302 and "HX-Redirect" not in plain.headers


def test_boosted_navigation_gets_a_full_page_with_title(client, ctx):
    org = f.school()
    user = f.staff(org, Role.TEACHER, classes=[f.school_class(org)])
    f.login(client, user)
    response = client.get("/teach/", headers=BOOSTED)
    page = Page(response.get_data(as_text=True))
    assert response.status_code == 200
    assert page.find("title").text.strip().endswith("Hometime")
    assert page.by_id("main") is not None and page.find("footer") is not None
