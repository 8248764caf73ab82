"""Cookie choice (P06): necessary cookies only until the person chooses, a banner that works
without JavaScript, every cookie listed, and the choice changeable at any time."""

from __future__ import annotations

import re
from html import unescape
from http.cookies import SimpleCookie

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.models import ConsentPurpose, ConsentRecord
from app.views import COOKIES
from tests import factories as f
from tests.html_check import Page
from tests.parents_data import family

HX = {"HX-Request": "true"}
NECESSARY = {str(c["name"]) for c in COOKIES if str(c["category"]) == "necessary"}


def _set_cookies(response) -> dict[str, str]:
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        cookie = SimpleCookie()
        cookie.load(header)
        for name, morsel in cookie.items():
            found[name] = morsel.value
    return found


def _banner(response):
    page = Page(response.get_data(as_text=True))
    return next((e for e in page.elements if e.attrs.get("id") == "cookie-banner"), None)


@pytest.mark.promise("P06")
def test_a_visitor_gets_only_necessary_cookies_and_a_banner_until_they_choose(client):
    for url in ("/", "/auth/signin", "/cookies", "/privacy-notice"):
        response = client.get(url)
        assert set(_set_cookies(response)) <= NECESSARY, url
        assert _banner(response) is not None, url
    banner = _banner(client.get("/"))
    forms = [e for e in banner.children if e.tag == "form"]
    assert forms and forms[0].attrs["method"] == "post" and forms[0].attrs["action"] == "/cookies/choice"
    r = client.post("/cookies/choice", data={"choice": "necessary", "next": "/auth/signin"})
    assert r.status_code == 303 and r.headers["Location"] == "/auth/signin"
    assert _set_cookies(r)["cookie_choice"] == "p0f0"
    assert _banner(client.get("/auth/signin")) is None  # chosen: no more banner
    assert "cookie_choice" in NECESSARY  # the cookie that remembers it is listed


@pytest.mark.promise("P06")
def test_every_cookie_is_listed_with_category_and_lifetime_and_the_choice_is_there(client):
    page = client.get("/cookies")
    text = unescape(page.get_data(as_text=True))
    for cookie in COOKIES:
        assert all(str(cookie[key]) in text for key in ("name", "category", "lifetime"))  # English here
    client.post("/cookies/choice", data={"choice": "all"})
    again = unescape(client.get("/cookies").get_data(as_text=True))
    # Changeable at any time: the form stays on the cookies page, showing the current choice.
    assert 'name="functional" value="y" checked' in again
    r = client.post("/cookies/choice", data={"choice": "custom", "performance": "y"})
    assert _set_cookies(r)["cookie_choice"] == "p1f0"


@pytest.mark.promise("P06")
@pytest.mark.promise("P08")
def test_a_signed_in_choice_is_recorded_as_consents_and_changes_are_appended(client):
    fam = family()
    f.login(client, fam.parent)
    assert _banner(client.get("/family/")) is not None
    r = client.post("/cookies/choice", data={"choice": "all", "next": "/family/"}, headers=HX)
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "saved" in body
    assert 'id="cookie-banner"' in body and "<html" not in body  # replaces only the banner
    assert _banner(client.get("/family/")) is None
    client.post("/cookies/choice", data={"choice": "custom", "functional": "y"})
    rows = db.session.scalars(sa.select(ConsentRecord).order_by(ConsentRecord.id)).all()
    assert [(r.purpose, r.granted) for r in rows] == [
        (ConsentPurpose.COOKIES_PERFORMANCE, True),
        (ConsentPurpose.COOKIES_FUNCTIONAL, True),
        (ConsentPurpose.COOKIES_PERFORMANCE, False),
    ]
    text = re.sub(r"<[^>]+>", "", unescape(client.get("/family/settings").get_data(as_text=True)))
    assert "(performance cookies): off" in text and "(functional cookies): on" in text


@pytest.mark.promise("P06")
def test_video_players_need_functional_cookies_first(client):
    fam = family()
    f.login(client, fam.parent)
    url = f"/teach/activities/{fam.plants.id}/video?next=/family/"
    before = client.get(url).get_data(as_text=True)
    assert "<iframe" not in before and "youtube-nocookie" not in before
    client.post("/cookies/choice", data={"choice": "necessary"})
    assert "<iframe" not in client.get(url).get_data(as_text=True)
    client.post("/family/settings/functional", data={"on": "1"})
    assert "youtube-nocookie.com/embed/" in client.get(url).get_data(as_text=True)
    client.post("/cookies/choice", data={"choice": "necessary"})
    assert "<iframe" not in client.get(url).get_data(as_text=True)


def test_a_choice_that_is_none_of_ours_is_a_422_and_next_cannot_leave_the_site(client):
    r = client.post("/cookies/choice", data={"choice": "everything"})
    assert r.status_code == 422 and "Please choose" in r.get_data(as_text=True)
    r = client.post("/cookies/choice", data={"choice": "necessary", "next": "//evil.example/x"})
    assert r.status_code == 303 and r.headers["Location"] == "/cookies"
    assert client.get("/cookies/choice").status_code == 200
