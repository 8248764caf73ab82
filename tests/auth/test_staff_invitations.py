"""Staff invitations grant nothing until accepted (P12): as an attacker would try it, through
the pages and the outbox."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.models import Invitation, InvitationStatus, OutboxMessage, Role, StaffMembership, User
from tests import factories as f


def _enrol(client, user) -> str:
    """The holder turns on two-step sign-in through the pages; returns the TOTP secret."""
    f.login(client, user)
    page = client.get("/auth/mfa").get_data(as_text=True)
    secret = re.search(r'<code class="secret" id="secret">([A-Z2-7 ]+)</code>', page).group(1)
    secret = secret.replace(" ", "")
    assert client.post("/auth/mfa", data={"code": pyotp.TOTP(secret).now()}).status_code == 200
    client.post("/auth/signout")
    return secret


def _roles(user, org) -> set[Role]:
    return set(
        db.session.scalars(
            sa.select(StaffMembership.role).where(
                StaffMembership.user_id == user.id, StaffMembership.organisation_id == org.id
            )
        )
    )


def _invite(client, office, email, role, run_jobs) -> str:
    """School office sends the invitation; the link's path, read from the dev outbox table."""
    f.login(client, office)
    r = client.post("/office/staff", data={"name": "Someone", "email": email, "role": role})
    assert r.status_code == 303
    assert run_jobs() == 0
    client.post("/auth/signout")
    mail = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.to == email).order_by(OutboxMessage.id.desc())
    ).first()
    return re.search(r"/office/staff/join/[\w-]+", mail.text).group(0)


@pytest.fixture()
def two_schools(ctx):
    ash, birch = f.school(name="Ash Primary"), f.school(name="Birch Primary")
    tess = f.staff(ash, Role.TEACHER, email="tess@ash.example", name="Tess Teach")
    return {"ash": ash, "birch": birch, "tess": tess, "birch_office": f.staff(birch, Role.OFFICE)}


@pytest.mark.promise("P12")
def test_an_invitation_to_another_schools_teacher_takes_nothing_over(client, two_schools, run_jobs):
    s = two_schools
    tess = s["tess"]
    secret = _enrol(client, tess)
    password_before = db.session.scalar(sa.select(User.password_hash).where(User.id == tess.id))
    path = _invite(client, s["birch_office"], "tess@ash.example", "office", run_jobs)
    assert _roles(tess, s["birch"]) == set()  # sending grants nothing

    # Signed out, with the link from the outbox: asked to sign in, never to choose a password.
    r = client.get(path)
    assert r.status_code == 303 and r.headers["Location"].startswith("/auth/signin?next=")
    r = client.post(path, data={"password": "the attacker's new password"})
    assert r.status_code == 303 and "/auth/signin" in r.headers["Location"]
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.password_hash).where(User.id == tess.id)) == password_before
    assert client.get("/teach/").status_code == 302  # not signed in
    assert _roles(tess, s["birch"]) == set()

    # Birch's office, signed in, opening the link: not theirs to answer.
    f.login(client, s["birch_office"])
    assert client.post(path, data={"answer": "accept"}).status_code == 403
    assert _roles(tess, s["birch"]) == set() and _roles(s["birch_office"], s["birch"]) == {Role.OFFICE}
    client.post("/auth/signout")

    # The holder signs in with password and TOTP, lands back on the invitation and accepts.
    r = client.post("/auth/signin", data={"email": "tess@ash.example", "password": f.PASSWORD, "next": path})
    assert r.headers["Location"] == "/auth/mfa/verify"
    r = client.post("/auth/mfa/verify", data={"code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert r.status_code == 303 and r.headers["Location"] == path
    page = client.get(path)
    assert page.status_code == 200
    assert "Birch Primary invites you as a member of the school office" in page.get_data(as_text=True)
    assert _roles(tess, s["birch"]) == set()
    assert client.post(path, data={"answer": "accept"}).status_code == 303
    assert _roles(tess, s["birch"]) == {Role.OFFICE}
    assert _roles(tess, s["ash"]) == {Role.TEACHER}
    assert db.session.scalar(sa.select(User.password_hash).where(User.id == tess.id)) == password_before
    # Used once: the link is spent.
    assert client.get(path).status_code == 410


@pytest.mark.promise("P12")
def test_the_holder_can_decline_and_nothing_is_granted(client, two_schools, run_jobs):
    s = two_schools
    _enrol(client, s["tess"])
    path = _invite(client, s["birch_office"], "tess@ash.example", "teacher", run_jobs)
    f.login(client, s["tess"])
    assert client.post(path, data={"answer": "decline"}).status_code == 303
    assert _roles(s["tess"], s["birch"]) == set()
    status = db.session.scalar(
        sa.select(Invitation.status).where(Invitation.organisation_id == s["birch"].id)
    )
    assert status is InvitationStatus.REVOKED
    assert client.post(path, data={"answer": "accept"}).status_code == 410
    assert _roles(s["tess"], s["birch"]) == set()


@pytest.mark.promise("P12")
def test_accepting_needs_two_step_sign_in_on_the_account(client, two_schools, run_jobs):
    s = two_schools  # Tess has a password but never set up two-step sign-in
    path = _invite(client, s["birch_office"], "tess@ash.example", "office", run_jobs)
    f.login(client, s["tess"])
    page = client.get(path)
    assert page.status_code == 409 and "set up two-step sign-in" in page.get_data(as_text=True)
    assert client.post(path, data={"answer": "accept"}).status_code == 409
    assert _roles(s["tess"], s["birch"]) == set()


@pytest.mark.promise("P12")
def test_a_new_member_of_staff_gets_the_role_only_on_joining(client, two_schools, run_jobs):
    s = two_schools
    path = _invite(client, s["birch_office"], "new@birch.example", "teacher", run_jobs)
    new = db.session.scalar(sa.select(User).where(User.email == "new@birch.example"))
    assert _roles(new, s["birch"]) == set()
    f.login(client, s["birch_office"])
    page = client.get("/office/staff").get_data(as_text=True)
    assert "Invitations not answered yet" in page and "new@birch.example" in page
    client.post("/auth/signout")
    assert client.post(path, data={"password": "a good long password"}).status_code == 303
    assert _roles(new, s["birch"]) == {Role.TEACHER}
    # The link cannot be used again to choose another password.
    client.post("/auth/signout")
    before = db.session.scalar(sa.select(User.password_hash).where(User.id == new.id))
    assert client.post(path, data={"password": "another long password"}).status_code == 410
    db.session.expire_all()
    assert db.session.scalar(sa.select(User.password_hash).where(User.id == new.id)) == before


@pytest.mark.promise("P12")
def test_a_second_schools_invitation_to_a_joined_account_needs_sign_in(client, two_schools, run_jobs):
    """Ash invites a new address and the person joins; Birch's later link to the same address
    is a request to that (now active) account, not a way to choose its password."""
    s = two_schools
    ash_office = f.staff(s["ash"], Role.OFFICE)
    ash_path = _invite(client, ash_office, "kim@ash.example", "teacher", run_jobs)
    birch_path = _invite(client, s["birch_office"], "kim@ash.example", "office", run_jobs)
    assert client.post(ash_path, data={"password": "kim's long password"}).status_code == 303
    client.post("/auth/signout")
    r = client.post(birch_path, data={"password": "someone else's password"})
    assert r.status_code == 303 and "/auth/signin" in r.headers["Location"]
    kim = db.session.scalar(sa.select(User).where(User.email == "kim@ash.example"))
    assert _roles(kim, s["birch"]) == set() and _roles(kim, s["ash"]) == {Role.TEACHER}


def test_a_parent_of_another_school_is_refused_without_saying_so(client, two_schools):
    parent = f.parent(email="pat@family.example")
    f.pupil(f.school_class(s := two_schools["ash"]), parent)
    assert s.id != two_schools["birch"].id
    f.login(client, two_schools["birch_office"])
    r = client.post("/office/staff", data={"name": "Pat", "email": "pat@family.example", "role": "teacher"})
    text = r.get_data(as_text=True)
    assert r.status_code == 422 and "cannot be used for a staff account" in text
    assert "parent" not in text.split("<main", 1)[1].split("</main>", 1)[0].lower()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0
    assert parent.kind.value == "parent"


@pytest.mark.promise("P12")
def test_a_family_invitation_to_an_account_in_use_takes_nothing_over(client, two_schools, run_jobs):
    """Birch invites a carer who already uses Hometime with Ash: the link (or a letter's code)
    never sets a password or mobile on that account, nor signs anyone in as it."""
    s = two_schools
    carer = f.parent(email="cara@family.example", mobile="+447700900555")
    f.pupil(f.school_class(s["ash"]), carer)
    f.pupil(f.school_class(s["birch"]), carer)
    before = (carer.password_hash, carer.mobile)
    f.login(client, s["birch_office"])
    assert client.post(f"/office/families/{carer.id}/invite", data={"channels": "email"}).status_code == 303
    assert run_jobs() == 0
    client.post("/auth/signout")
    mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.to == "cara@family.example"))
    path = re.search(r"/family/join/[\w-]+", mail.text).group(0)
    r = client.get(path)
    assert r.status_code == 303 and r.headers["Location"].startswith("/auth/signin?next=")
    r = client.post(
        path,
        data={
            "agree": "y",
            "signin": "password",
            "mobile": "07700900999",
            "password": "the attacker's password",
        },
    )
    assert r.status_code == 303 and "/auth/signin" in r.headers["Location"]
    assert client.get("/family/").status_code == 302  # nobody signed in
    db.session.expire_all()
    assert (carer.password_hash, carer.mobile) == before
    # The carer, signed in their own way, joins Birch; their sign-in stays as it was.
    f.login(client, carer)
    page = client.get(path).get_data(as_text=True)
    assert "You already use Hometime" in page and 'name="password"' not in page
    assert client.post(path, data={"agree": "y", "password": "ignored password"}).status_code == 303
    db.session.expire_all()
    assert (carer.password_hash, carer.mobile) == before
    assert (
        db.session.scalar(sa.select(Invitation.status).where(Invitation.user_id == carer.id))
        is InvitationStatus.ACCEPTED
    )
