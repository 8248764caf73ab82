"""Password-less sign-in for families (email link, SMS code) and password reset by email."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.models import ActivityLog, Channel, LoginToken, OutboxMessage, Role, TokenPurpose, utcnow
from tests import factories as f

SENT = b"If that address belongs to an account, we've sent a link"


@pytest.fixture()
def client(working_client):
    """Links, codes and reset links are sent by a job: the worker runs it after each request."""
    return working_client


def outbox(channel=None):
    query = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if channel:
        query = query.where(OutboxMessage.channel == channel)
    return db.session.scalars(query).all()


def link_from(message, kind="link") -> str:
    return re.search(rf"https?://[^/\s]+(/auth/{kind}/[A-Za-z0-9_-]+)", message.text).group(1)


def request_link(client, email, **extra):
    return client.post("/auth/link", data={"email": email, **extra})


def events():
    return list(db.session.scalars(sa.select(ActivityLog.event).order_by(ActivityLog.id)))


# --- email link -------------------------------------------------------------------------------


@pytest.mark.promise("P15")
def test_email_link_signs_in_once(app, client):
    parent = f.parent()
    r = request_link(client, f"  {parent.email.upper()} ")
    assert r.status_code == 200 and SENT in r.data
    (message,) = outbox(Channel.EMAIL)
    assert message.to == parent.email and "sign-in link" in message.subject.lower()
    path = link_from(message)
    token = path.rsplit("/", 1)[1]
    stored = db.session.scalar(sa.select(LoginToken))
    assert stored.purpose is TokenPurpose.SIGNIN_LINK and token not in stored.token_hash
    assert timedelta(minutes=14) < stored.expires_at - utcnow() <= timedelta(minutes=15)

    # Opening the link (or a mail scanner fetching it) only shows a button.
    page = client.get(path)
    assert page.status_code == 200 and b"<button" in page.data
    assert client.get(path).status_code == 200
    assert client.get("/family/").status_code == 302

    r = client.post(path)
    assert r.status_code == 303 and r.headers["Location"] == "/family/"
    assert client.get("/family/").status_code == 200

    other = app.test_client()
    again = other.post(path)
    assert again.status_code == 400 and b"This link no longer works" in again.data
    assert other.get(path).status_code == 400
    assert other.get("/family/").status_code == 302
    assert events() == ["signin_link_sent", "signin", "signin_failed"]


def test_an_expired_link_fails(client):
    parent = f.parent()
    request_link(client, parent.email)
    path = link_from(outbox()[0])
    db.session.execute(sa.update(LoginToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.get(path).status_code == 400
    r = client.post(path)
    assert r.status_code == 400 and b"Email me a new link" in r.data
    assert client.get("/family/").status_code == 302


@pytest.mark.parametrize("forged", ["x" * 43, "A" * 300, "-"])
def test_a_forged_link_fails(client, forged):
    f.parent()
    r = client.post(f"/auth/link/{forged}")
    assert r.status_code == 400 and b"This link no longer works" in r.data
    assert client.get("/family/").status_code == 302


def test_unknown_or_staff_email_gets_the_same_answer_and_no_message(client):
    org = f.school()
    teacher = f.staff(org, Role.TEACHER)
    unknown = request_link(client, "nobody@family.example")
    staff = request_link(client, teacher.email)
    assert unknown.status_code == staff.status_code == 200
    assert SENT in unknown.data and SENT in staff.data
    assert outbox() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginToken)) == 0


def test_link_request_with_a_malformed_email_is_a_422(client):
    r = request_link(client, "not an email")
    assert r.status_code == 422 and b'id="email-error"' in r.data
    assert outbox() == []


def test_link_keeps_a_safe_next_and_drops_an_unsafe_one(client):
    parent = f.parent()
    request_link(client, parent.email, next="/family/children/7")
    request_link(client, parent.email, next="https://evil.example/")
    safe, unsafe = (link_from(m) for m in outbox())
    assert client.post(safe).headers["Location"] == "/family/children/7"
    assert client.post(unsafe).headers["Location"] == "/family/"


def test_link_sign_in_can_keep_me_signed_in(client):
    parent = f.parent()
    request_link(client, parent.email, remember="y")
    path = link_from(outbox()[0])
    assert b"checked" in client.get(path).data
    client.post(path, data={"remember": "y"})
    assert client.get_cookie("remember_token") is not None


def test_sign_in_page_button_sends_a_link_with_the_typed_email(client):
    parent = f.parent()
    r = client.post("/auth/link", data={"email": parent.email, "password": ""})
    assert r.status_code == 200
    assert len(outbox()) == 1


# --- SMS code ---------------------------------------------------------------------------------


def sms_code(index=-1) -> str:
    return re.search(r"\b(\d{6})\b", outbox(Channel.SMS)[index].text).group(1)


def test_sms_code_signs_in(client):
    parent = f.parent(mobile="+447700900123")
    r = client.post("/auth/code", data={"mobile": "07700 900123"})
    assert r.status_code == 303 and r.headers["Location"] == "/auth/code/check"
    (message,) = outbox(Channel.SMS)
    assert message.to == "+447700900123"
    page = client.get("/auth/code/check")
    assert b"we've texted a 6-digit code" in page.data
    r = client.post("/auth/code/check", data={"code": sms_code()})
    assert r.status_code == 303 and r.headers["Location"] == "/family/"
    assert client.get("/family/").status_code == 200
    assert db.session.get(type(parent), parent.id).last_login_at is not None


def test_five_wrong_codes_kill_it(client):
    f.parent(mobile="+447700900124")
    client.post("/auth/code", data={"mobile": "+44 7700 900124"})
    code = sms_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        r = client.post("/auth/code/check", data={"code": wrong})
        assert r.status_code == 422 and b"That code is not right" in r.data
    r = client.post("/auth/code/check", data={"code": code})
    assert r.status_code == 422
    assert client.get("/family/").status_code == 302
    token = db.session.scalar(sa.select(LoginToken))
    assert token.attempts == 5 and token.used_at is not None


def test_a_code_works_once_and_a_new_code_replaces_the_old(app, client):
    f.parent(mobile="+447700900125")
    client.post("/auth/code", data={"mobile": "07700900125"})
    first = sms_code()
    client.post("/auth/code", data={"mobile": "07700900125"})
    second = sms_code()
    if first != second:
        assert client.post("/auth/code/check", data={"code": first}).status_code == 422
    assert client.post("/auth/code/check", data={"code": second}).status_code == 303
    other = app.test_client()
    other.post("/auth/code", data={"mobile": "07700 900 999"})  # nobody's number
    with other.session_transaction() as sess:
        sess["code_mobile"] = "+447700900125"
    assert other.post("/auth/code/check", data={"code": second}).status_code == 422


def test_unknown_mobile_gets_the_same_answer_and_no_text(client):
    r = client.post("/auth/code", data={"mobile": "07700 900555"})
    assert r.status_code == 303 and r.headers["Location"] == "/auth/code/check"
    assert outbox() == []
    assert client.post("/auth/code/check", data={"code": "123456"}).status_code == 422


@pytest.mark.parametrize("mobile", ["12345", "020 7946 0000", "+33 6 12 34 56 78", "x" * 40, ""])
def test_malformed_or_non_uk_mobile_is_a_422(client, mobile):
    r = client.post("/auth/code", data={"mobile": mobile})
    assert r.status_code == 422 and b'id="mobile-error"' in r.data
    assert outbox() == []


@pytest.mark.parametrize("code", ["12345", "abcdef", "1" * 50])
def test_malformed_code_is_a_422(client, code):
    f.parent(mobile="+447700900126")
    client.post("/auth/code", data={"mobile": "07700900126"})
    r = client.post("/auth/code/check", data={"code": code})
    assert r.status_code == 422 and b'id="code-error"' in r.data
    assert db.session.scalar(sa.select(LoginToken.attempts)) == 0


def test_code_check_without_a_request_goes_back_to_the_start(client):
    assert client.get("/auth/code/check").headers["Location"] == "/auth/code"


def test_passwordless_parent_reauths_with_a_code(client):
    parent = f.parent(mobile="+447700900127")
    parent.password_hash = None
    db.session.commit()
    f.login(client, parent, fresh=False)
    r = client.post("/auth/reauth", data={"action": "sms", "next": "/privacy/"})
    assert r.headers["Location"] == "/auth/code/check"
    r = client.post("/auth/code/check", data={"code": sms_code()})
    assert r.status_code == 303 and r.headers["Location"] == "/privacy/"


def test_passwordless_parent_reauths_with_a_link(client):
    parent = f.parent()
    parent.password_hash = None
    db.session.commit()
    f.login(client, parent, fresh=False)
    r = client.post("/auth/reauth", data={"action": "link", "next": "/privacy/"})
    assert r.status_code == 200 and b"Check your email" in r.data
    assert client.post(link_from(outbox()[0])).headers["Location"] == "/privacy/"


# --- password reset ---------------------------------------------------------------------------


@pytest.mark.promise("P15")
def test_password_reset_by_email_link(app, client):
    org = f.school()
    teacher = f.staff(org, Role.TEACHER)
    elsewhere = app.test_client()
    f.login(elsewhere, teacher)
    r = client.post("/auth/reset", data={"email": teacher.email})
    assert r.status_code == 200 and b"If that address belongs to an account" in r.data
    path = link_from(outbox()[0], "reset")
    assert client.get(path).status_code == 200
    mismatch = client.post(path, data={"password": "a brand new password", "confirm": "other"})
    assert mismatch.status_code == 422 and b"not the same" in mismatch.data
    r = client.post(path, data={"password": "a brand new password", "confirm": "a brand new password"})
    assert r.status_code == 303 and r.headers["Location"] == "/auth/signin"
    assert elsewhere.get("/teach/").status_code == 302  # every session ended
    assert (
        client.post("/auth/signin", data={"email": teacher.email, "password": f.PASSWORD}).status_code == 422
    )
    assert (
        client.post(
            "/auth/signin", data={"email": teacher.email, "password": "a brand new password"}
        ).status_code
        == 303
    )
    reused = client.post(path, data={"password": "yet another password", "confirm": "yet another password"})
    assert reused.status_code == 400 and b"This link no longer works" in reused.data
    assert "password_reset" in events()


def test_password_reset_for_unknown_email_sends_nothing(client):
    r = client.post("/auth/reset", data={"email": "nobody@family.example"})
    assert r.status_code == 200 and b"If that address belongs to an account" in r.data
    assert outbox() == []


def test_expired_reset_link_fails(client):
    parent = f.parent()
    client.post("/auth/reset", data={"email": parent.email})
    path = link_from(outbox()[0], "reset")
    db.session.execute(sa.update(LoginToken).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    r = client.post(path, data={"password": "a brand new password", "confirm": "a brand new password"})
    assert r.status_code == 400
    db.session.refresh(parent)
    assert (
        client.post("/auth/signin", data={"email": parent.email, "password": f.PASSWORD}).status_code == 303
    )
