"""Compression negotiated by the app, cache rules by kind of response, headers trimmed on assets
and fragments (issue: speed under load). Headers only: timings live in bench/."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest

from app.models import Role
from tests import factories as f

YEAR = 31536000
PAGE_ONLY = ("Content-Security-Policy", "X-Frame-Options", "Permissions-Policy", "Cross-Origin-Opener-Policy")


def _asset_urls(client) -> list[str]:
    html = client.get("/", follow_redirects=True).get_data(as_text=True)
    urls = re.findall(r'"(/a/[^"]+)"', html)
    assert any(u.endswith(".css") for u in urls) and any(u.endswith(".js") for u in urls)
    return urls


def _family(client):
    org = f.school()
    school_class = f.school_class(org)
    carer = f.parent()
    child = f.pupil(school_class, carer)
    f.login(client, carer)
    return child, school_class


@pytest.mark.parametrize(
    ("accept", "encoding"), [("gzip", "gzip"), ("gzip, br", "br"), ("br;q=0, gzip", "gzip")]
)
def test_assets_are_sent_compressed_as_the_browser_accepts(client, ctx, accept, encoding):
    f.school()
    url = next(u for u in _asset_urls(client) if "/htmx.min." in u)
    plain = client.get(url).data
    response = client.get(url, headers={"Accept-Encoding": accept})
    assert response.headers["Content-Encoding"] == encoding
    assert "Accept-Encoding" in response.headers["Vary"]
    unpack = brotli.decompress if encoding == "br" else gzip.decompress
    assert unpack(response.data) == plain and len(response.data) < len(plain) / 2


def test_assets_do_not_vary_on_cookie_even_when_signed_in(client, ctx):
    _family(client)
    for url in _asset_urls(client):
        response = client.get(url, headers={"Accept-Encoding": "gzip, br"})
        assert response.status_code == 200, url
        assert "cookie" not in response.headers.get("Vary", "").lower(), url
        assert response.headers["Cache-Control"] == f"public, max-age={YEAR}, immutable", url
        assert "Set-Cookie" not in response.headers, url


def test_assets_carry_only_the_headers_a_file_needs(client, ctx):
    f.school()
    response = client.get(_asset_urls(client)[0])
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    for name in PAGE_ONLY:
        assert name not in response.headers, name


def test_a_signed_in_parent_home_is_compressed_and_never_stored(client, ctx):
    _family(client)
    plain = client.get("/family/")
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers  # not asked for
    response = client.get("/family/", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert response.headers["Content-Encoding"] == "br"
    token = re.compile(rb"[\w-]{20,}\.[\w-]+\.[\w-]+")  # the CSRF token: signed with the time
    assert token.sub(b"T", brotli.decompress(response.data)) == token.sub(b"T", plain.data)
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Accept-Encoding" in response.headers["Vary"]


def test_a_page_with_a_query_string_and_the_csrf_token_is_sent_plain(client, ctx):
    """BREACH: input reflected next to the CSRF token is never compressed (docs/security.md)."""
    _family(client)
    response = client.get("/family/?q=csrf_token", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 200 and 'name="csrf_token"' in response.get_data(as_text=True)
    assert "Content-Encoding" not in response.headers


def test_a_page_for_a_visitor_is_compressed_and_revalidated(client, ctx):
    f.school()
    response = client.get("/auth/signin", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Cache-Control"] == "private, no-cache"


def test_fragments_drop_page_only_headers_and_small_ones_go_plain(client, ctx):
    org = f.school()
    school_class = f.school_class(org)
    f.login(client, f.staff(org, Role.TEACHER, classes=[school_class]))
    response = client.get(f"/teach/classes/{school_class.id}", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    for name in PAGE_ONLY:
        assert name not in response.headers, name
    small = client.get("/healthz", headers={"Accept-Encoding": "gzip, br"})
    assert small.is_json and len(small.data) < 500 and "Content-Encoding" not in small.headers
    page = client.get(f"/teach/classes/{school_class.id}")
    for name in PAGE_ONLY:
        assert name in page.headers, name


def test_a_page_with_free_text_in_its_path_and_the_csrf_token_is_sent_plain(client, ctx):
    """BREACH: a ``<token>`` path segment may be echoed by the page next to the CSRF token."""
    f.school()
    response = client.get("/auth/link/not-a-real-token-" + "x" * 40, headers={"Accept-Encoding": "gzip, br"})
    assert 'name="csrf_token"' in response.get_data(as_text=True) or "X-CSRFToken" in response.get_data(
        as_text=True
    )
    assert "Content-Encoding" not in response.headers


def test_error_pages_are_never_compressed(client, ctx):
    _family(client)
    response = client.get("/family/children/999999", headers={"Accept-Encoding": "gzip, br"})
    assert response.status_code == 404 and "Content-Encoding" not in response.headers
