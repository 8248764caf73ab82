"""Flask-Login's and Flask-Babel's context reads, and the app's own, done without the proxies
(``app/core/contexts.py``), behave as the libraries' own: who is signed in, in which language,
which CSRF token a form carries and where each flashed message is shown."""

from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import flask_babel
import flask_login.utils
from flask import flash, render_template_string
from flask_babel import force_locale, get_locale, gettext
from flask_login import current_user

from app.core import contexts, security
from app.core.htmx import flashed_at
from tests import factories as f

REQUIREMENTS = (Path(__file__).resolve().parents[2] / "requirements.txt").read_text()


def test_the_libraries_are_the_versions_whose_functions_were_replaced(app):
    """contexts.install() stands in for four of their functions: upgrading either library
    means reading those functions again (and then changing the pins here with the requirements)."""
    for package, written_for in contexts.WRITTEN_FOR.items():
        pinned = re.search(rf"^{package}==(\S+)$", REQUIREMENTS, re.M)
        assert pinned and version(package) == pinned.group(1) == written_for, package
    assert flask_login.utils._get_user is contexts.signed_in_user
    assert flask_babel._get_current_context is contexts._babel_context


def test_current_user_is_whoever_signed_in_and_no_one_outside_a_request(app, client):
    mum = f.oak_family()["mum"]
    assert flask_login.utils._get_user() is None  # an application context, no request
    with app.app_context(), app.test_request_context("/"):  # its own g, as a served request's
        assert current_user.is_authenticated is False  # a visitor: the anonymous user
    f.login(client, mum)
    assert client.get("/family/").status_code == 200
    cookie = {"Cookie": f"session={client.get_cookie('session').value}"}
    with (
        app.app_context(),
        app.test_request_context("/family/", headers=cookie, environ_base=client.environ_base),
    ):
        assert current_user.is_authenticated and current_user.id == mum.id  # loaded on first use
        assert flask_login.utils._get_user() is current_user._get_current_object()


def test_the_language_follows_the_page_and_a_forced_one_and_none_outside_an_app(app):
    with app.test_request_context("/", headers={"Accept-Language": "pl-PL"}):
        assert str(get_locale()) == "pl"
        assert gettext("Your name") == "Imię i nazwisko"
        with force_locale("ur"):
            assert str(get_locale()) == "ur"
        assert str(get_locale()) == "pl"
    with app.test_request_context("/"):
        assert str(get_locale()) == "en_GB"
    assert get_locale() is None  # no application context at all


def test_templates_carry_the_requests_one_csrf_token(app):
    """Flask-WTF hands templates its own function through a context processor; the app's is the
    one every template calls, and gives the same token as every other form of the request."""
    with app.test_request_context("/"):
        context: dict = {}
        app.update_template_context(context)
        assert context.get("csrf_token", security.csrf_token) is security.csrf_token
        drawn = render_template_string("{{ csrf_token() }}|{{ csrf_token() }}")
        first, second = drawn.split("|")
        assert first == second == security.csrf_token() and len(first) > 20


def test_each_flashed_message_is_shown_at_its_own_place_however_often_asked(app):
    with app.test_request_context("/"):
        flash("Rating saved", "success:c-1-2")
        flash("Signed out", "info")
        flash("Photo sent", "success:s-1-2")
        assert flashed_at("c-1-2") == [("success", "Rating saved")]
        shown = flashed_at()
        assert shown == [("info", "Signed out")]
        shown.append(("x", "changed by a caller"))
        assert flashed_at() == [("info", "Signed out")]  # asking again gives the same messages
        assert flashed_at("s-1-2") == [("success", "Photo sent")]
        assert flashed_at("c-9-9") == []


def test_the_session_fingerprint_is_flask_logins_own(app):
    """A browser signed in keeps its session while its address and user agent stay the same
    ("basic" session protection): the fingerprint read once is the one Flask-Login writes."""
    import flask_login.login_manager

    from app.core.extensions import login

    own = flask_login.login_manager._create_identifier  # the library's, as it imported it
    assert login._session_identifier_generator is contexts.session_identifier
    cases = [
        {},
        {"User-Agent": "Mozilla/5.0 (Linux; Android 9; itel A16)"},
        {"User-Agent": "Opera Mini/ٲ", "X-Forwarded-For": "203.0.113.9, 10.0.0.1"},
        {"X-Forwarded-For": " 198.51.100.4 "},
    ]
    seen = set()
    for headers in cases:
        with app.test_request_context("/", headers=headers, environ_base={"REMOTE_ADDR": "192.0.2.7"}):
            ours = contexts.session_identifier()
            assert ours == own() and ours == contexts.session_identifier()
            seen.add(ours)
    assert len(seen) == len(cases)  # each browser its own
