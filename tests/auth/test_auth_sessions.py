"""Signing out ends that sign-in on the server: a copied session or remember-me cookie no longer
works, while the same person's other phones and computers stay signed in."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.core.extensions import db
from app.dataprotection.retention import rules as retention
from app.models import UserSession, utcnow
from tests import factories as f
from tests.auth.test_auth_signin import events, sign_in


def copy_cookies(app, source, names):
    """A new browser holding copies of ``source``'s cookies ``names`` (as a thief would)."""
    thief = app.test_client()
    for name in names:
        cookie = source.get_cookie(name)
        assert cookie is not None, name
        thief.set_cookie(name, cookie.value)
    return thief


def live_sign_ins(user) -> int:
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
    )


def test_copied_session_and_remember_cookies_stop_working_after_signing_out(app, client):
    parent = f.parent()
    sign_in(client, parent.email, remember="y")
    tablet = app.test_client()
    sign_in(tablet, parent.email, remember="y")
    assert live_sign_ins(parent) == 2
    session_copy = copy_cookies(app, client, ["session"])
    remember_copy = copy_cookies(app, client, ["remember_token"])
    assert session_copy.get("/family/").status_code == 200  # the copies work while signed in
    assert remember_copy.get("/family/").status_code == 200

    r = client.post("/auth/signout")
    assert r.status_code == 303

    assert client.get("/family/").status_code == 302
    for replay in (
        copy_cookies(app, session_copy, ["session"]),
        copy_cookies(app, remember_copy, ["remember_token"]),
    ):
        r = replay.get("/family/")
        assert r.status_code == 302 and r.headers["Location"].startswith("/auth/signin")
    assert tablet.get("/family/").status_code == 200  # the other device stays signed in
    tablet.delete_cookie("session")
    assert tablet.get("/family/").status_code == 200  # ... and so does its remember cookie
    assert live_sign_ins(parent) == 1
    assert events(parent) == ["signin", "signin", "signout"]  # P15 still logs it


def test_sign_out_everywhere_ends_every_other_sign_in_on_the_server(app, client):
    parent = f.parent()
    phone = app.test_client()
    sign_in(phone, parent.email, remember="y")
    sign_in(client, parent.email)
    client.post("/auth/signout-everywhere")
    assert live_sign_ins(parent) == 1
    assert client.get("/family/").status_code == 200
    assert phone.get("/family/").status_code == 302


def test_an_id_without_a_sign_in_record_is_not_signed_in(client):
    parent = f.parent()
    known = f"{parent.id}:{parent.session_version}"
    for forged in (known, f"{known}:", f"{known}:made-up", "99999999999999:1:x"):
        with client.session_transaction() as sess:
            sess["_user_id"] = forged
        assert client.get("/family/").status_code == 302, forged


def test_retention_deletes_ended_and_long_unused_sign_ins(app, ctx, client):
    parent = f.parent()
    sign_in(client, parent.email)
    other = app.test_client()
    sign_in(other, parent.email)
    client.post("/auth/signout")
    idle = app.test_client()
    sign_in(idle, parent.email)
    newest = db.session.scalar(sa.select(sa.func.max(UserSession.id)))
    db.session.execute(
        sa.update(UserSession)
        .where(UserSession.id == newest)
        .values(last_seen_at=utcnow() - timedelta(days=91))
    )
    db.session.commit()
    rule = next(r for r in retention.RULES if r.name == "purge_sign_ins")
    assert retention.run_rule(rule, utcnow()) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(UserSession)) == 1
    assert other.get("/family/").status_code == 200
    assert idle.get("/family/").status_code == 302
