"""Every family in their own language: how a page picks its language, and the footer's switch."""

from __future__ import annotations

import re

import pytest

from app.core import i18n
from app.core.extensions import db
from app.models import User
from tests import factories as f


def _html_tag(response) -> str:
    return re.search(r"<html[^>]*>", response.get_data(as_text=True)).group(0)


def test_a_visitor_sees_the_language_their_browser_asks_for(client):
    assert 'lang="en-GB" dir="ltr"' in _html_tag(client.get("/auth/signin"))
    polish = client.get("/auth/signin", headers={"Accept-Language": "pl-PL,pl;q=0.9,en;q=0.5"})
    assert 'lang="pl" dir="ltr"' in _html_tag(polish)
    urdu = client.get("/auth/signin", headers={"Accept-Language": "ur-PK"})
    assert 'lang="ur" dir="rtl"' in _html_tag(urdu)
    # a language we do not speak, and English from elsewhere, give English (UK)
    assert 'lang="en-GB"' in _html_tag(client.get("/", headers={"Accept-Language": "fr-FR, en-US;q=0.8"}))


def test_every_page_footer_lists_each_language_in_its_own_name(client):
    page = client.get("/cookies").get_data(as_text=True)
    for lang in i18n.LANGUAGES.values():
        link = re.search(rf'<a href="/language/{lang.code}\?next=/cookies"[^>]*>([^<]+)</a>', page)
        assert link and link.group(1) == lang.native, lang.code
    assert len(i18n.LANGUAGES) >= 11 and {"pl", "ro", "ur", "pa", "bn", "ar", "so", "pt", "es", "uk"} <= set(
        i18n.LANGUAGES
    )


def test_the_footer_marks_the_pages_own_language_and_comes_back_to_each_page(client):
    """The footer's list is put together once per page address and language: each page and
    language still gets its own (the current language marked, the link back to that page)."""

    def current(path, accept):
        page = client.get(path, headers={"Accept-Language": accept}).get_data(as_text=True)
        marked = re.findall(r'<a href="/language/(\w+)\?next=([^"]+)"[^>]*aria-current="true"', page)
        backs = set(re.findall(r'<a href="/language/\w+\?next=([^"]+)"', page))
        return marked, backs

    assert current("/cookies", "pl") == ([("pl", "/cookies")], {"/cookies"})
    assert current("/cookies", "en-GB") == ([("en_GB", "/cookies")], {"/cookies"})
    assert current("/auth/signin", "pl") == ([("pl", "/auth/signin")], {"/auth/signin"})
    assert current("/cookies", "pl") == ([("pl", "/cookies")], {"/cookies"})


def test_a_visitor_choice_beats_the_browser_and_is_kept_in_a_necessary_cookie(client):
    r = client.get("/language/ar?next=/cookies", headers={"Accept-Language": "pl"})
    assert r.status_code == 303 and r.headers["Location"] == "/cookies"
    assert "lang=ar" in r.headers["Set-Cookie"] and "HttpOnly" in r.headers["Set-Cookie"]
    page = client.get("/cookies", headers={"Accept-Language": "pl"})
    assert 'lang="ar" dir="rtl"' in _html_tag(page)
    assert ">lang<" in page.get_data(as_text=True)  # listed on the cookie page


def test_a_signed_in_carer_choice_is_stored_on_their_account(client, ctx):
    fam = f.oak_family()
    parent = fam["mum"]
    f.login(client, parent)
    r = client.get("/language/pl?next=/family/", headers={"Accept-Language": "en-GB"})
    assert r.status_code == 303 and r.headers["Location"] == "/family/"
    assert "Set-Cookie" not in r.headers or "lang=" not in r.headers.get("Set-Cookie", "")
    db.session.expire_all()
    assert db.session.get(User, parent.id).language == "pl"
    assert 'lang="pl"' in _html_tag(client.get("/family/", headers={"Accept-Language": "ur"}))


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "\\\\evil", "cookies"])
def test_the_switch_never_sends_anyone_off_site(client, target):
    r = client.get("/language/es", query_string={"next": target})
    assert r.status_code == 303 and r.headers["Location"] == "/"


def test_an_unknown_language_is_not_found(client):
    assert client.get("/language/xx").status_code == 404
    assert client.get("/language/en_GB").status_code == 303


@pytest.mark.parametrize(
    ("mis", "ours"),
    [
        ("POL", "pl"),
        ("Polish", "pl"),
        ("URD", "ur"),
        ("PNJG", "pa"),
        ("Panjabi", "pa"),
        ("BNG", "bn"),
        ("SOM", "so"),
        ("ARA", "ar"),
        ("RMN", "ro"),
        ("POR", "pt"),
        ("spa", "es"),
        ("UKR", "uk"),
        ("ENG", "en_GB"),
        ("Українська", "uk"),
        ("XYZ", None),
        ("", None),
        (None, None),
    ],
)
def test_the_mis_home_language_column_maps_to_our_languages(mis, ours):
    assert i18n.from_mis(mis) == ours


def test_a_lazy_string_is_translated_each_time_it_is_shown(app):
    """A form's label or message (``i18n.lazy_gettext``), made once when its module loads, is
    shown in the language of each page that shows it, with its values put in; outside a request,
    in English, as Flask-Babel's own."""
    from flask_babel import lazy_gettext as babel_lazy

    name = i18n.lazy_gettext("Your name")
    rule = i18n.lazy_gettext("Use at least %(n)s characters (and no more than 200).", n=12)
    pages = [
        ("pl", "Imię i nazwisko", "Użyj co najmniej 12 znaków (i nie więcej niż 200)."),
        ("en_GB", "Your name", "Use at least 12 characters (and no more than 200)."),
        ("pl", "Imię i nazwisko", "Użyj co najmniej 12 znaków (i nie więcej niż 200)."),
    ]
    for language, label, message in pages:
        with app.test_request_context("/", headers={"Cookie": f"{i18n.COOKIE}={language}"}):
            assert (str(name), str(rule)) == (label, message)
            assert str(name) == str(babel_lazy("Your name"))  # as Flask-Babel's own
    assert str(name) == "Your name"


def test_values_are_escaped_into_every_translation_as_markupsafe_escapes_them(app):
    """``markup_gettext`` (the templates' ``_()`` with values) formats a translation whose
    placeholders are all ``%(name)s`` itself: every such message of every language comes out as
    markupsafe's own ``%`` writes it, a value a family typed shown as text."""
    from markupsafe import Markup

    typed = "<script>&\"'"
    checked = 0
    for lang in i18n.LANGUAGES.values():
        with app.test_request_context("/", headers={"Cookie": f"{i18n.COOKIE}={lang.code}"}):
            catalog = i18n.translations()
            for key in list(getattr(catalog, "_catalog", {})):
                if not isinstance(key, str) or "%(" not in key:
                    continue
                names = set(re.findall(r"%\((\w+)\)s", key))
                found = catalog.ugettext(key)
                if not names or set(re.findall(r"%\((\w+)\)", found)) - names:
                    continue
                values = {
                    name: typed if n % 2 else Markup("<b>kept</b>") for n, name in enumerate(sorted(names))
                }
                ours = i18n.markup_gettext(key, **values)
                assert ours == Markup(found) % values and isinstance(ours, Markup), (lang.code, key)
                assert "<script>" not in ours
                checked += 1
    assert checked > 100
