"""Password sign-in, sessions, signing out (here and everywhere), fresh sign-in and bad input."""

from __future__ import annotations

import re
import time

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.models import ActivityLog, Role, UserStatus
from tests import factories as f

GENERIC = b"The email address or password is not right"


def sign_in(client, email, password=f.PASSWORD, **extra):
    return client.post("/auth/signin", data={"email": email, "password": password, **extra})


def passwordless_parent(**kw):
    user = f.parent(**kw)
    user.password_hash = None
    db.session.commit()
    return user


def events(user=None):
    query = sa.select(ActivityLog.event).order_by(ActivityLog.id)
    if user is not None:
        query = query.where(ActivityLog.user_id == user.id)
    return list(db.session.scalars(query))


def test_signin_page_has_the_contract_form(client):
    page = client.get("/auth/signin")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert re.search(r'<form method="post" action="/auth/signin"', html)
    assert 'name="email"' in html and 'name="password"' in html
    assert ">Sign in</button>" in html
    assert "Email me a sign-in link" in html and "Text me a code" in html
    # labels tied to inputs, hints tied by aria-describedby
    assert '<label for="email">' in html and 'aria-describedby="password-hint"' in html


def test_parent_lands_on_family_page_and_staff_on_classes(client):
    org = f.school()
    parent = f.parent()
    teacher = f.staff(org, Role.TEACHER)
    r = sign_in(client, parent.email.upper(), remember="y")
    assert r.status_code == 303 and r.headers["Location"] == "/family/"
    assert client.get("/family/").status_code == 200
    client.post("/auth/signout")
    r = sign_in(client, teacher.email)
    assert r.status_code == 303 and r.headers["Location"] == "/teach/"
    assert client.get("/teach/").status_code == 200
    db.session.refresh(teacher)
    assert teacher.last_login_at is not None and teacher.last_active_at is not None


def test_wrong_password_and_unknown_email_get_the_same_answer(client):
    parent = f.parent()
    wrong = sign_in(client, parent.email, "not the password")
    unknown = sign_in(client, "nobody@family.example", "not the password")
    assert wrong.status_code == unknown.status_code == 422
    assert GENERIC in wrong.data and GENERIC in unknown.data

    # Apart from the typed address echoed back, the two pages say exactly the same thing.
    def main(r):
        text = r.get_data(as_text=True)
        return re.sub(r'value="[^"]*"', "", text[text.index("<main") : text.index("</main>")])

    assert main(wrong) == main(unknown)
    assert client.get("/family/").status_code == 302


def test_deactivated_and_erased_accounts_cannot_sign_in(client):
    closed = f.parent(status=UserStatus.DEACTIVATED)
    erased = f.parent(status=UserStatus.ERASED)
    for user in (closed, erased):
        r = sign_in(client, user.email)
        assert r.status_code == 422 and GENERIC in r.data
    assert client.get("/family/").status_code == 302


def test_signing_in_rotates_the_session(client):
    parent = f.parent()
    client.get("/auth/signin")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
        old_token = sess.get("csrf_token")
    assert old_token
    sign_in(client, parent.email)
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess.get("csrf_token") != old_token
        assert sess["_user_id"].startswith(f"{parent.id}:{parent.session_version}:")
        assert time.time() - sess["auth_at"] < 60
    client.get("/family/")
    with client.session_transaction() as sess:
        assert sess["csrf_token"] and sess["csrf_token"] != old_token


def test_sign_out_is_post_only_and_ends_the_session(client):
    parent = f.parent()
    sign_in(client, parent.email)
    assert client.get("/auth/signout").status_code == 405
    assert client.get("/family/").status_code == 200
    r = client.post("/auth/signout")
    assert r.status_code == 303 and r.headers["Location"] == "/auth/signin"
    assert client.get("/family/").status_code == 302


def test_keep_me_signed_in_survives_closing_the_browser(app, client):
    parent = f.parent()
    sign_in(client, parent.email, remember="y")
    assert client.get_cookie("remember_token") is not None
    client.delete_cookie("session")  # the browser was closed
    assert client.get("/family/").status_code == 200
    other = app.test_client()
    sign_in(other, parent.email)  # no box ticked
    assert other.get_cookie("remember_token") is None
    other.delete_cookie("session")
    assert other.get("/family/").status_code == 302


def test_sign_out_everywhere_ends_other_sessions_and_remember_cookies(app, client):
    parent = f.parent()
    phone = app.test_client()
    sign_in(phone, parent.email, remember="y")
    laptop = app.test_client()
    sign_in(laptop, parent.email)
    sign_in(client, parent.email)
    r = client.post("/auth/signout-everywhere")
    assert r.status_code == 303
    assert client.get("/family/").status_code == 200  # this one carries on
    assert laptop.get("/family/").status_code == 302
    phone.delete_cookie("session")
    assert phone.get("/family/").status_code == 302  # the remember cookie is dead too
    db.session.refresh(parent)
    assert parent.session_version == 2


@pytest.mark.promise("P15")
def test_sign_in_events_go_to_the_activity_log(client):
    org = f.school()
    teacher = f.staff(org, Role.TEACHER)
    sign_in(client, teacher.email, "wrong password")
    sign_in(client, "nobody@school.example", "wrong password")
    sign_in(client, teacher.email)
    client.post("/auth/signout-everywhere")
    client.post("/auth/signout")
    assert events(teacher) == ["signin_failed", "signin", "signout_everywhere", "signout"]
    rows = db.session.scalars(sa.select(ActivityLog).order_by(ActivityLog.id)).all()
    unknown = [r for r in rows if r.user_id is None]
    assert unknown[0].event == "signin_failed" and "no such account" in unknown[0].detail
    assert all(r.ip == "127.0.0.1" for r in rows)
    assert rows[-1].organisation_id == org.id


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "x" * 300 + "@family.example", ""])
def test_malformed_or_overlong_email_is_a_422_with_the_form(client, email):
    r = sign_in(client, email, "whatever")
    assert r.status_code == 422
    html = r.get_data(as_text=True)
    assert 'id="email-error"' in html and 'aria-invalid="true"' in html
    assert '<form method="post" action="/auth/signin"' in html


def test_overlong_password_is_a_422(client):
    parent = f.parent()
    r = sign_in(client, parent.email, "p" * 5000)
    assert r.status_code == 422 and b"too long" in r.data


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/x",
        "/\\evil.example",
        "javascript:alert(1)",
        "http:/evil.example",
    ],
)
def test_next_never_redirects_off_site(client, target):
    parent = f.parent()
    r = sign_in(client, parent.email, next=target)
    assert r.status_code == 303 and r.headers["Location"] == "/family/"


def test_next_to_a_local_page_is_followed(client):
    f.school()
    parent = f.parent()
    page = client.get("/auth/signin?next=/family/children/1")
    assert b'value="/family/children/1"' in page.data
    r = sign_in(client, parent.email, next="/family/children/1")
    assert r.headers["Location"] == "/family/children/1"


def test_a_page_that_needs_signing_in_comes_back_after_it(client):
    parent = f.parent()
    r = client.get("/family/")
    assert r.status_code == 302 and "/auth/signin?next=" in r.headers["Location"]
    form = client.get(r.headers["Location"])
    assert b'value="/family/"' in form.data
    assert sign_in(client, parent.email, next="/family/").headers["Location"] == "/family/"


def test_wrong_csrf_token_gives_the_400_page(app, client):
    parent = f.parent()
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        page = client.get("/auth/signin")
        token = re.search(
            r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)
        ).group(1)
        bad = sign_in(client, parent.email, csrf_token="forged" + token[6:])
        assert bad.status_code == 400
        assert b"This form has expired" in bad.data
        assert client.get("/family/").status_code == 302
        good = sign_in(client, parent.email, csrf_token=token)
        assert good.status_code == 303
    finally:
        app.config["WTF_CSRF_ENABLED"] = False


def test_reauth_with_password_makes_the_sign_in_fresh(client):
    parent = f.parent()
    f.login(client, parent, fresh=False)
    page = client.get("/auth/reauth?next=/privacy/")
    assert page.status_code == 200 and b'value="/privacy/"' in page.data
    wrong = client.post("/auth/reauth", data={"password": "nope", "next": "/privacy/"})
    assert wrong.status_code == 422
    with client.session_transaction() as sess:
        assert sess["auth_at"] == 0
    r = client.post("/auth/reauth", data={"password": f.PASSWORD, "next": "/privacy/"})
    assert r.status_code == 303 and r.headers["Location"] == "/privacy/"
    with client.session_transaction() as sess:
        assert time.time() - sess["auth_at"] < 60
    assert "reauth" in events(parent)


def test_reauth_refuses_an_open_redirect(client):
    parent = f.parent()
    f.login(client, parent, fresh=False)
    r = client.post("/auth/reauth", data={"password": f.PASSWORD, "next": "https://evil.example"})
    assert r.status_code == 303 and r.headers["Location"] == "/family/"


def test_a_fresh_only_page_sends_a_stale_session_to_reauth(client):
    """Setting a first password is fresh-only for a parent who signs in with links."""
    parent = passwordless_parent()
    f.login(client, parent, fresh=False)
    r = client.get("/auth/password")
    assert r.status_code == 302 and r.headers["Location"] == "/auth/reauth?next=/auth/password"
    page = client.get(r.headers["Location"])
    assert b"Email me a sign-in link" in page.data and b'name="password"' not in page.data
    with client.session_transaction() as sess:
        sess["auth_at"] = time.time()
    assert client.get("/auth/password").status_code == 200


@pytest.mark.promise("P15")
def test_setting_and_changing_a_password(app, client):
    parent = passwordless_parent()
    f.login(client, parent)
    other = app.test_client()
    f.login(other, parent)
    r = client.post("/auth/password", data={"password": "short", "confirm": "short"})
    assert r.status_code == 422 and b"at least 10 characters" in r.data
    r = client.post(
        "/auth/password", data={"password": "a new long password", "confirm": "a new long password"}
    )
    assert r.status_code == 303
    assert client.get("/family/").status_code == 200
    assert other.get("/family/").status_code == 302  # other sessions end
    r = client.post(
        "/auth/password",
        data={"current": "wrong", "password": "another long one", "confirm": "another long one"},
    )
    assert r.status_code == 422 and b"not your current password" in r.data
    client.post("/auth/signout")
    assert sign_in(client, parent.email, "a new long password").status_code == 303
    r = client.post(
        "/auth/password",
        data={
            "current": "a new long password",
            "password": "another long one",
            "confirm": "another long one",
        },
    )
    assert r.status_code == 303
    assert events(parent) == ["password_set", "signin_failed", "signout", "signin", "password_changed"]


def test_sign_in_cookies_are_httponly_and_samesite_lax(client):
    parent = f.parent()
    r = sign_in(client, parent.email, remember="y")
    cookies = {c.split("=", 1)[0]: c for c in r.headers.getlist("Set-Cookie")}
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name], name
