"""Error pages a parent understands: full pages and htmx fragments, with the right status codes."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from flask import abort

from app.core.authz import public
from app.core.error_pages import MESSAGES
from app.models import Role
from tests import factories as f
from tests.conftest import Client
from tests.html_check import Page

CODES = [400, 403, 404, 405, 413, 422, 429, 500]
PARTIAL = {"HX-Request": "true"}
BOOSTED = {"HX-Request": "true", "HX-Boosted": "true"}
# Words that mean nothing to a parent, or that would give away how the app is built.
JARGON = (
    "Traceback",
    "Exception",
    "Werkzeug",
    "werkzeug",
    "Internal Server Error",
    "Bad Request",
    "CSRF",
    "sqlalchemy",
    "psycopg",
    "SECRET-INTERNAL-DETAIL",
    "no_such_table",
)


@pytest.fixture(scope="module")
def error_app(app):
    """The app, built once more with routes that fail on purpose (the suite's app is already
    serving requests, so no route can be added to it)."""
    from app import create_app
    from app.core.extensions import db

    failing = create_app(
        {
            "ENV_NAME": "test",
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": app.config["REDIS_URL"],
            "STORAGE_DIR": app.config["STORAGE_DIR"],
        }
    )

    @failing.get("/fail/<int:code>")
    @public
    def fail(code: int):
        if code == 500:
            raise RuntimeError("SECRET-INTERNAL-DETAIL password=hunter2")
        abort(code)

    @failing.get("/fail/database")
    @public
    def fail_database():
        db.session.execute(sa.text("SELECT * FROM no_such_table"))

    @failing.post("/fail/refused")
    @public
    def fail_refused():
        from app.core.errors import ServiceError
        from app.models import Organisation

        db.session.add(Organisation(name="Half-saved school", dpo_email="x@y.example", dpo_name="X"))
        db.session.flush()
        raise ServiceError("That pupil has left the school.", 409)

    failing.test_client_class = Client
    yield failing
    with failing.app_context():
        db.engine.dispose()


@pytest.fixture()
def show_error_pages(error_app):
    """errors.py re-raises unexpected errors in tests unless asked to show the page."""
    error_app.config["SHOW_ERROR_PAGES"] = True
    yield
    error_app.config["SHOW_ERROR_PAGES"] = False


def _text(response) -> str:
    return Page(response.get_data(as_text=True)).root.all_text()


def _assert_friendly(html: str, code: int):
    shown = Page(html).root.all_text()  # what a person reads (not attribute values)
    assert shown.strip()
    for word in JARGON:
        assert word not in shown, f"{word!r} shown to a person on the {code} page"


@pytest.mark.parametrize("code", CODES)
def test_full_error_page_explains_what_happened_and_what_to_do(error_app, ctx, show_error_pages, code):
    f.school(dpo_email="dpo@a.example")
    response = error_app.test_client().get(f"/fail/{code}")
    html = response.get_data(as_text=True)
    page = Page(html)
    assert response.status_code == code
    assert [h.all_text().strip() for h in page.find_all("h1")] == [str(MESSAGES[code][0])]
    assert page.find("html").attrs["lang"] == "en-GB"
    assert page.find("a", href="/") is not None  # a way on
    assert "dpo@a.example" in page.find("footer").all_text()  # P11 on error pages too
    assert page.csp_violations() == []
    _assert_friendly(html, code)


@pytest.mark.parametrize("code", CODES)
def test_partial_htmx_request_gets_a_message_with_the_same_status(error_app, ctx, show_error_pages, code):
    response = error_app.test_client().get(f"/fail/{code}", headers=PARTIAL)
    html = response.get_data(as_text=True)
    assert response.status_code == code
    assert "<html" not in html and "<footer" not in html
    alert = Page(html).find(role="alert")
    assert alert is not None and str(MESSAGES[code][0]) in alert.all_text()
    # Shown in the layout's message region, leaving the person's form where it was.
    assert response.headers["HX-Retarget"] == "#messages"
    assert "HX-Request" in response.headers["Vary"]
    _assert_friendly(html, code)


@pytest.mark.parametrize("code", [404, 500])
def test_boosted_navigation_gets_the_full_error_page(error_app, ctx, show_error_pages, code):
    response = error_app.test_client().get(f"/fail/{code}", headers=BOOSTED)
    assert response.status_code == code
    assert "<footer" in response.get_data(as_text=True)
    assert "HX-Retarget" not in response.headers


def test_the_layout_has_the_region_error_messages_are_retargeted_to(client, ctx):
    assert Page(client.get("/").get_data(as_text=True)).by_id("messages") is not None


def test_a_broken_database_transaction_still_gets_the_friendly_page(error_app, ctx, show_error_pages):
    f.school(dpo_email="dpo@a.example")
    response = error_app.test_client().get("/fail/database")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert str(MESSAGES[500][0]) in _text(response)
    assert "dpo@a.example" in html  # the session was rolled back, so the footer could load
    _assert_friendly(html, 500)


@pytest.mark.parametrize("headers", [{}, PARTIAL], ids=["page", "htmx"])
def test_a_refused_change_shows_its_own_message_and_status_and_saves_nothing(error_app, ctx, headers):
    """A ServiceError a view does not catch: one handler rolls back and shows the message."""
    from app.core.extensions import db
    from app.models import Organisation

    response = error_app.test_client().post("/fail/refused", headers=headers)
    assert response.status_code == 409
    assert "That pupil has left the school." in _text(response)
    if headers:
        assert response.headers["HX-Retarget"] == "#messages"
    db.session.rollback()
    assert db.session.scalar(sa.select(Organisation).where(Organisation.name == "Half-saved school")) is None
    _assert_friendly(response.get_data(as_text=True), 409)


def test_in_tests_unexpected_errors_surface_unless_pages_are_asked_for(error_app):
    with pytest.raises(RuntimeError):
        error_app.test_client().get("/fail/500")


def test_too_many_requests_says_when_to_try_again(error_app, ctx):
    response = error_app.test_client().get("/fail/429")
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


# --- real requests on the app itself --------------------------------------------------------------


def test_unknown_page_is_404(client, ctx):
    response = client.get("/no/such/page")
    assert response.status_code == 404 and str(MESSAGES[404][0]) in _text(response)


def test_wrong_method_is_405_with_allow(client, ctx):
    response = client.get("/auth/signout")
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
    assert str(MESSAGES[405][0]) in _text(response)


def test_parent_on_a_staff_page_is_403(client, ctx):
    f.login(client, f.parent())
    response = client.get("/teach/")
    assert response.status_code == 403 and str(MESSAGES[403][0]) in _text(response)


@pytest.mark.parametrize("csrf", [False, True], ids=["csrf-off", "csrf-on"])
def test_oversized_body_is_413_never_500(app, client, ctx, csrf):
    limit = app.config["MAX_CONTENT_LENGTH"]
    app.config["WTF_CSRF_ENABLED"] = csrf
    try:
        f.login(client, f.parent())
        response = client.post(
            "/auth/signout", data=b"x" * (limit + 1), content_type="application/octet-stream"
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert response.status_code == 413
    assert "too big" in _text(response) and f"{limit // (1024 * 1024)} MB" in _text(response)


def _signed_in_token(client) -> str:
    org = f.school()
    parent = f.parent()
    f.pupil(f.school_class(org), parent)
    f.login(client, parent)
    page = Page(client.get("/family/").get_data(as_text=True))
    carrier = next(e for e in page.elements if "hx-headers" in e.attrs)
    return json.loads(carrier.attrs["hx-headers"])["X-CSRFToken"]


@pytest.fixture()
def csrf_on(app):
    app.config["WTF_CSRF_ENABLED"] = True
    yield
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.mark.parametrize("headers", [{}, {"X-CSRFToken": "not-the-token"}], ids=["none", "wrong"])
def test_missing_or_wrong_csrf_token_is_400_form_expired(client, ctx, csrf_on, headers):
    _signed_in_token(client)
    response = client.post("/auth/signout", headers=headers)
    assert response.status_code == 400
    assert "This form has expired" in _text(response)
    assert client.get("/family/").status_code == 200  # still signed in: nothing happened


def test_csrf_failure_in_an_htmx_request_is_a_400_message(client, ctx, csrf_on):
    _signed_in_token(client)
    response = client.post("/auth/signout", headers={**PARTIAL, "X-CSRFToken": "stale"})
    assert response.status_code == 400
    assert "This form has expired" in _text(response)
    assert response.headers["HX-Retarget"] == "#messages"


def test_token_from_hx_headers_is_accepted_as_x_csrftoken(client, ctx, csrf_on):
    token = _signed_in_token(client)
    response = client.post("/auth/signout", headers={**BOOSTED, "X-CSRFToken": token})
    assert response.status_code in (302, 303)
    assert client.get("/family/").status_code == 302  # signed out: back to sign-in


def test_signed_in_error_page_shows_their_schools_contact(client, ctx):
    mine, other = f.school(dpo_email="dpo@mine.example"), f.school(dpo_email="dpo@other.example")
    teacher = f.staff(mine, Role.TEACHER, classes=[f.school_class(mine)])
    f.school_class(other)
    f.login(client, teacher)
    response = client.get("/no/such/page")
    footer = Page(response.get_data(as_text=True)).find("footer").all_text()
    assert "dpo@mine.example" in footer and "dpo@other.example" not in footer
    assert response.headers["Cache-Control"] == "private, no-store"
