"""The addresses ``url_for`` remembers (``Hometime.url_for``, app/core/application.py) are the ones the router would build:
for the path the app is mounted at, with the values asked for, and nothing remembered that
should not be."""

from __future__ import annotations

import re

from flask import url_for

from tests import factories as f
from tests.parents_data import family


def _links(html: str) -> list[str]:
    """The page's links, form addresses, stylesheet and scripts."""
    return re.findall(r'(?:href|action|src)="(/[^"]*)"', html)


def test_the_family_home_links_follow_the_path_the_app_is_mounted_at(client):
    fam = family()
    f.login(client, fam.parent)
    at_root = client.get("/family/").get_data(as_text=True)
    mounted = client.get("/family/", base_url="https://localhost/oak").get_data(as_text=True)
    again = client.get("/family/").get_data(as_text=True)

    root_links = _links(at_root)
    rate = [link for link in root_links if link.endswith("/rating")]
    assert len(rate) >= 3, "the home shows a rating form for each activity"
    assert f"/family/children/{fam.ben.id}/items/" in " ".join(rate)
    assert all(link.startswith("/oak/") for link in _links(mounted))
    assert [link.replace("/oak/", "/") for link in _links(mounted)] == root_links
    assert _links(again) == root_links


def test_remembered_addresses_are_the_routers_own(app):
    with app.test_request_context("/"):
        first = url_for("parents.child", pupil_id=7)
        assert first == url_for("parents.child", pupil_id=7) == "/family/children/7"
        assert url_for("parents.child", pupil_id=8) == "/family/children/8"
        # values the rule does not name go in the query, each address with its own
        assert url_for("auth.signin", next="/family/") == "/auth/signin?next=/family/"
        assert url_for("auth.signin", next="/teach/") == "/auth/signin?next=/teach/"
        # asked for with an anchor, a scheme or a host: built in full, never taken from memory
        assert url_for("parents.child", pupil_id=7, _anchor="awards") == "/family/children/7#awards"
        assert url_for("parents.child", pupil_id=7, _external=True) == "http://localhost/family/children/7"
    with app.test_request_context("/", base_url="https://school.example/mounted"):
        assert url_for("parents.child", pupil_id=7) == "/mounted/family/children/7"


def test_long_values_are_not_remembered(app):
    long_next = "/family/" + "x" * 500
    with app.test_request_context("/"):
        before = len(app._built)
        assert url_for("auth.signin", next=long_next).endswith("x" * 500)
        assert len(app._built) == before
        url_for("auth.signin", next="/family/children/1234567")
        assert len(app._built) == before + 1
