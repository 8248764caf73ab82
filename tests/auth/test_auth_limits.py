"""Rate limits on sign-in paths: per account (whatever the IP) and per IP (whatever the account)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.models import ActivityLog, OutboxMessage
from tests import factories as f


def from_ip(ip: str) -> dict:
    return {"environ_base": {"REMOTE_ADDR": ip}}


def test_password_guessing_at_one_account_is_stopped_from_any_ip(client):
    parent = f.parent()
    for n in range(10):
        r = client.post(
            "/auth/signin",
            data={"email": parent.email, "password": f"guess {n}"},
            **from_ip(f"10.0.0.{n + 1}"),
        )
        assert r.status_code == 422
    # The 11th try, from yet another address, and even with the right password, is refused.
    r = client.post(
        "/auth/signin", data={"email": parent.email.upper(), "password": f.PASSWORD}, **from_ip("10.0.1.1")
    )
    assert r.status_code == 429
    assert b"Too many tries" in r.data and r.headers["Retry-After"]
    assert client.get("/family/").status_code == 302
    # Someone else is not affected.
    other = f.parent()
    r = client.post(
        "/auth/signin", data={"email": other.email, "password": f.PASSWORD}, **from_ip("10.0.1.2")
    )
    assert r.status_code == 303


def test_one_ip_trying_many_accounts_is_stopped(app, client):
    for n in range(60):
        r = client.post("/auth/link", data={"email": f"guess{n}@family.example"})
        assert r.status_code == 200, n
    r = client.post("/auth/signin", data={"email": "guess99@family.example", "password": "x"})
    assert r.status_code == 429  # the budget is shared by every sign-in path
    parent = f.parent()
    r = app.test_client().post(
        "/auth/signin", data={"email": parent.email, "password": f.PASSWORD}, **from_ip("192.0.2.7")
    )
    assert r.status_code == 303


def test_sign_in_page_itself_is_not_counted(client):
    for _ in range(70):
        assert client.get("/auth/signin").status_code == 200


@pytest.mark.parametrize(
    "path,field,value",
    [
        ("/auth/link", "email", "mum@family.example"),
        ("/auth/code", "mobile", "07700 900321"),
        ("/auth/reset", "email", "mum@family.example"),
    ],
)
def test_messages_to_one_account_are_limited(working_client, path, field, value):
    client = working_client  # the messages are sent by a job
    f.parent(email="mum@family.example", mobile="+447700900321")
    for n in range(5):
        r = client.post(path, data={field: value}, **from_ip(f"10.1.0.{n + 1}"))
        assert r.status_code in (200, 303)
    r = client.post(path, data={field: value}, **from_ip("10.1.0.99"))
    assert r.status_code == 429
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 5


def test_code_guessing_is_limited_per_mobile(client):
    f.parent(mobile="+447700900322")
    client.post("/auth/code", data={"mobile": "07700900322"})
    statuses = [client.post("/auth/code/check", data={"code": "000000"}).status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429


@pytest.mark.promise("P15")
def test_throttling_is_logged(client):
    parent = f.parent()
    for _ in range(11):
        client.post("/auth/signin", data={"email": parent.email, "password": "guess"})
    rows = db.session.scalars(sa.select(ActivityLog).where(ActivityLog.event == "signin_throttled")).all()
    assert len(rows) == 1 and rows[0].detail == "auth.signin"
