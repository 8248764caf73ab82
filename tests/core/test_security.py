"""Security headers, HTTPS in production (P16: in transit), cookies, caching of pages and assets."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest

from app.models import Role
from tests import factories as f
from tests.conftest import Client

STATIC = Path(__file__).resolve().parents[2] / "static"
YEAR = 31536000


def _asset_url(client, name: str) -> str:
    html = client.get("/").get_data(as_text=True)
    stem, ext = name.rsplit(".", 1)
    match = re.search(rf'(/a/{re.escape(stem)}\.[0-9a-f]{{10}}\.{ext})"', html)
    assert match, f"the layout does not link {name} under a hashed name"
    return match.group(1)


def _csp(response) -> dict[str, str]:
    parts = [p.strip() for p in response.headers["Content-Security-Policy"].split(";")]
    return {p.split(" ", 1)[0]: p.split(" ", 1)[1] if " " in p else "" for p in parts if p}


def _assert_common_headers(response):
    h = response.headers
    csp = _csp(response)
    assert csp["default-src"] == "'self'"
    # scripts from our own origin, plus the layout's one inline loader, allowed by its hash only
    assert re.fullmatch(r"'self' 'sha256-[A-Za-z0-9+/]{43}='", csp["script-src"])
    assert csp["style-src"] == "'self'"
    assert csp["frame-ancestors"] == "'none'" and csp["object-src"] == "'none'"
    assert "unsafe-inline" not in h["Content-Security-Policy"]
    assert "unsafe-eval" not in h["Content-Security-Policy"]
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] in ("same-origin", "no-referrer", "strict-origin")
    assert h["X-Frame-Options"] == "DENY"
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert f"{feature}=()" in h["Permissions-Policy"]


@pytest.mark.parametrize("kind", ["page", "error page"])
def test_every_page_carries_the_security_headers(client, ctx, kind):
    f.school()
    url = {"page": "/", "error page": "/no-such-page"}[kind]
    response = client.get(url)
    assert response.status_code == (404 if kind == "error page" else 200)
    _assert_common_headers(response)
    assert "Strict-Transport-Security" not in response.headers  # only in production


def test_signed_in_pages_are_never_stored_by_any_cache(client, ctx):
    org = f.school()
    school_class = f.school_class(org)
    teacher = f.staff(org, Role.TEACHER, classes=[school_class])
    f.login(client, teacher)
    for url in ("/teach/", f"/teach/classes/{school_class.id}", "/teach/classes/999999"):
        response = client.get(url)
        assert response.headers["Cache-Control"] == "private, no-store", url


def test_anonymous_pages_are_not_shared_between_visitors(client, ctx):
    f.school()
    cache = client.get("/").headers["Cache-Control"]
    assert "private" in cache and "public" not in cache


def test_the_one_inline_script_is_the_one_the_policy_allows_by_its_hash(client, ctx):
    f.school()
    response = client.get("/")
    scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", response.get_data(as_text=True), re.S)
    assert len(scripts) == 1  # the loader: app.js and htmx come from our origin once it runs
    attributes, body = scripts[0]
    assert not re.search(r"(?<![-\w])src=", attributes)
    digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
    assert _csp(response)["script-src"] == f"'self' 'sha256-{digest}'"


def test_session_cookie_is_httponly_and_samesite_lax(client, ctx):
    f.school()
    cookie = client.get("/auth/signin").headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http in development and tests


@pytest.mark.parametrize("name", ["app.css", "app.js", "htmx.min.js"])
def test_assets_have_content_hashed_names_and_a_year_long_immutable_cache(client, ctx, name):
    url = _asset_url(client, name)
    response = client.get(url)
    content = (STATIC / name).read_bytes()
    assert response.status_code == 200
    assert response.data == content
    assert url.split(".")[-2] == hashlib.sha256(content).hexdigest()[:10]
    assert response.headers["Cache-Control"] == f"public, max-age={YEAR}, immutable"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


@pytest.mark.parametrize(
    "url", ["/a/app.0000000000.css", "/a/app.css", "/a/../app/config.py", "/a/htmx.min.js"]
)
def test_unknown_asset_names_answer_404(client, ctx, url):
    response = client.get(url)
    assert response.status_code == 404
    assert "immutable" not in response.headers.get("Cache-Control", "")


# --- production (P16: encrypted in transit) ------------------------------------------------------


@pytest.fixture(scope="module")
def production(app):
    """A production-configured app on the suite's PostgreSQL and Redis."""
    from app import create_app
    from app.core.extensions import db

    prod = create_app(
        {
            "ENV_NAME": "production",
            "SECRET_KEY": "production-test-secret",
            "ENCRYPTION_KEYS": app.config["ENCRYPTION_KEYS"],
            "REDIS_URL": app.config["REDIS_URL"],
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "STORAGE_DIR": app.config["STORAGE_DIR"],
        }
    )
    prod.test_client_class = Client
    yield prod
    with prod.app_context():
        db.engine.dispose()


@pytest.mark.promise("P16")
@pytest.mark.parametrize("method", ["GET", "POST"])
def test_production_redirects_plain_http_to_https(production, method):
    response = production.test_client().open(
        "/privacy-notice?x=1", method=method, base_url="http://hometime.example"
    )
    assert response.status_code == 308  # keeps the method: a form is not silently turned into GET
    assert response.headers["Location"] == "https://hometime.example/privacy-notice?x=1"


@pytest.mark.promise("P16")
def test_production_sends_hsts_over_https(production, ctx):
    f.school()
    response = production.test_client().get("/", base_url="https://hometime.example")
    assert response.status_code == 200
    hsts = response.headers["Strict-Transport-Security"]
    assert int(re.search(r"max-age=(\d+)", hsts).group(1)) >= YEAR
    assert "includeSubDomains" in hsts
    _assert_common_headers(response)


@pytest.mark.promise("P16")
def test_production_trusts_the_proxy_that_terminates_tls(production, ctx):
    f.school()
    client = production.test_client()
    response = client.get("/", base_url="http://hometime.example", headers={"X-Forwarded-Proto": "https"})
    assert response.status_code == 200
    assert "Strict-Transport-Security" in response.headers


@pytest.mark.promise("P16")
def test_production_cookies_are_secure(production, ctx):
    f.school()
    cookie = production.test_client().get("/auth/signin", base_url="https://localhost").headers["Set-Cookie"]
    assert cookie.startswith("session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert production.config["REMEMBER_COOKIE_SECURE"] is True


@pytest.mark.promise("P16")
def test_production_signed_in_pages_are_not_cached(production, ctx):
    org = f.school()
    parent = f.parent()
    f.pupil(f.school_class(org), parent)
    client = production.test_client()
    f.login(client, parent)
    response = client.get("/family/", base_url="https://localhost")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"


def test_production_health_check_answers_over_plain_http(production, ctx):
    response = production.test_client().get("/healthz", base_url="http://10.0.0.5")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "db": "ok", "redis": "ok"}


def _form_token(page) -> str:
    return re.search(r'name="csrf_token"[^>]*? value="([^"]+)"', page.get_data(as_text=True)).group(1)


def test_a_session_cookie_past_its_lifetime_is_refused_though_it_was_accepted_before(
    app, client, ctx, monkeypatch
):
    """The process remembers cookies it has opened; their age is still checked on every page."""
    import time

    parent = f.parent()
    f.login(client, parent)
    assert client.get("/family/").status_code == 200
    assert client.get("/family/").status_code == 200  # opened from what the process remembers
    later = time.time() + app.permanent_session_lifetime.total_seconds() + 60
    monkeypatch.setattr(time, "time", lambda: later)
    response = client.get("/family/")
    assert response.status_code == 302 and "/auth/signin" in response.headers["Location"]


def test_a_changed_session_cookie_is_refused_and_the_real_one_still_works(client, ctx):
    parent = f.parent()
    f.login(client, parent)
    assert client.get("/family/").status_code == 200
    real = client.get_cookie("session").value
    payload, stamp, signature = real.rsplit(".", 2)
    forged = f"{payload}.{stamp}.{'A' if signature[0] != 'A' else 'B'}{signature[1:]}"
    client.set_cookie("session", forged)
    assert client.get("/family/").status_code == 302
    client.set_cookie("session", real)
    assert client.get("/family/").status_code == 200


def test_a_form_token_from_an_earlier_sign_in_is_refused_after_the_next(app, client, ctx):
    """A session's pages reuse its signed token; signing in again starts a new session, whose
    pages carry a new token, and the old one is refused."""
    parent = f.parent()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        f.login(client, parent)
        first = _form_token(client.get("/family/"))
        assert _form_token(client.get("/family/")) == first  # the same session, the same token
        assert client.post("/auth/signout", data={"csrf_token": first}).status_code in (302, 303)
        form = _form_token(client.get("/auth/signin"))
        signed_in = client.post(
            "/auth/signin", data={"email": parent.email, "password": f.PASSWORD, "csrf_token": form}
        )
        assert signed_in.status_code == 303
        second = _form_token(client.get("/family/"))
        assert second not in (first, form)
        stale = client.post("/auth/signout", data={"csrf_token": first})
        assert stale.status_code == 400 and b"This form has expired" in stale.data
        assert client.get("/family/").status_code == 200  # still signed in
        assert client.post("/auth/signout", data={"csrf_token": second}).status_code in (302, 303)
        assert client.get("/family/").status_code == 302
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
