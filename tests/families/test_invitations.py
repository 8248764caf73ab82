"""Inviting families and staff: messages through the notification service, on the school's behalf."""

import re

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.families import jobs as invite_jobs
from app.models import (
    Guardianship,
    Invitation,
    NotificationDelivery,
    OutboxMessage,
    Role,
    StaffMembership,
    User,
    UserKind,
    UserStatus,
)
from tests import factories as f


def _invited(name, email=None, mobile=None):
    user = User(kind=UserKind.PARENT, name=name, email=email, mobile=mobile, status=UserStatus.INVITED)
    db.session.add(user)
    db.session.commit()
    return user


@pytest.fixture()
def school(ctx):
    org = f.school(name="Ash Primary")
    cls = f.school_class(org)
    office = f.staff(org, Role.OFFICE)
    return {"org": org, "cls": cls, "office": office}


@pytest.mark.promise("P02")
def test_an_invitation_email_is_sent_on_behalf_of_the_school(client, school, run_jobs):
    carer = _invited("Ben Carer", "ben@family.example")
    f.pupil(school["cls"], carer)
    f.login(client, school["office"])
    assert client.post(f"/office/families/{carer.id}/invite", data={"channels": "email"}).status_code == 303
    assert run_jobs() == 0
    mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.to == "ben@family.example"))
    assert mail.subject == "Join Ash Primary on Hometime"
    assert "sent on behalf of Ash Primary" in mail.text
    link = re.search(r"http\S+/family/join/\S+", mail.text).group(0)
    client.post("/auth/signout")
    assert client.get(link.split("127.0.0.1:5000", 1)[-1]).status_code == 200


def test_invite_everyone_skips_no_contact_closed_and_joined_and_runs_once(client, school, run_jobs):
    waiting = [_invited(f"Carer {i}", f"c{i}@family.example") for i in range(3)]
    blocked = _invited("No Contact", "nc@family.example")
    closed = _invited("Closed", "closed@family.example")
    closed.status = UserStatus.DEACTIVATED
    joined = f.parent()
    db.session.commit()
    for carer in [*waiting, blocked, closed, joined]:
        f.pupil(school["cls"], carer)
    db.session.execute(
        sa.update(Guardianship).where(Guardianship.parent_id == blocked.id).values(no_contact=True)
    )
    db.session.commit()
    f.login(client, school["office"])
    client.post("/office/families/invite-all", data={"confirm": "yes"})
    assert run_jobs() == 0
    assert invite_jobs.progress(school["org"].id)["state"] == "finished"
    invited = set(db.session.scalars(sa.select(Invitation.user_id)))
    assert invited == {c.id for c in waiting}
    sent_to = set(db.session.scalars(sa.select(OutboxMessage.to)))
    assert sent_to == {c.email for c in waiting}
    page = client.get("/office/families").get_data(as_text=True)
    assert "Finished: 3 families invited." in page
    client.post("/office/families/invite-all", data={"confirm": "yes"})  # again: nobody new to invite
    assert run_jobs() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 3


def test_invite_everyone_asks_first_with_the_real_counts(client, school, run_jobs):
    by_mail = [_invited(f"Carer {i}", f"c{i}@family.example") for i in range(2)]
    by_text = _invited("Text Only", None)
    by_text.mobile = "+447700900123"
    db.session.commit()
    for carer in [*by_mail, by_text]:
        f.pupil(school["cls"], carer)
    f.login(client, school["office"])
    ask = client.post("/office/families/invite-all").get_data(as_text=True)
    assert "Invite 2 families by email and 1 by text?" in ask and "Nothing has been sent yet" in ask
    assert run_jobs() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0
    client.post("/office/families/invite-all", data={"confirm": "yes"})
    page = client.get("/office/families").get_data(as_text=True)
    assert "Inviting families: 0 of 3 done" in page and "0 of 0" not in page
    assert run_jobs() == 0
    polled = client.get("/office/families?poll=1", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "Finished: 3 families invited." in polled and "not invited" not in polled
    assert polled.count("sent, ") == 3


def test_progress_is_polled_with_htmx_while_running(client, school):
    f.login(client, school["office"])
    from app.core.redis_conn import get_redis

    get_redis().hset(
        invite_jobs.progress_key(school["org"].id), mapping={"state": "running", "total": 10, "done": 4}
    )
    r = client.get("/office/families?poll=1", headers={"HX-Request": "true"})
    body = r.get_data(as_text=True)
    assert "<html" not in body and "4 of 10 done" in body and 'hx-trigger="every 2s"' in body


def test_the_office_invites_a_teacher_who_joins_with_a_password(client, school, run_jobs):
    f.login(client, school["office"])
    r = client.post(
        "/office/staff", data={"name": "Tia Teach", "email": "Tia@Ash.example", "role": "teacher"}
    )
    assert r.status_code == 303
    assert run_jobs() == 0
    mail = db.session.scalar(sa.select(OutboxMessage).where(OutboxMessage.to == "tia@ash.example"))
    path = re.search(r"/office/staff/join/\S+", mail.text).group(0)
    client.post("/auth/signout")
    assert client.post(path, data={"password": "short"}).status_code == 422
    assert client.post(path, data={"password": "a good long password"}).status_code == 303
    tia = db.session.scalar(sa.select(User).where(User.email == "tia@ash.example"))
    assert tia.status is UserStatus.ACTIVE and tia.kind is UserKind.STAFF
    role = db.session.scalar(sa.select(StaffMembership.role).where(StaffMembership.user_id == tia.id))
    assert role is Role.TEACHER


def test_a_parent_address_cannot_be_invited_as_staff(client, school):
    f.pupil(school["cls"], f.parent(email="mum@family.example"))  # one of this school's families
    f.login(client, school["office"])
    r = client.post("/office/staff", data={"name": "Mum", "email": "mum@family.example", "role": "office"})
    assert r.status_code == 422 and "belongs to a parent" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0


def test_the_office_sees_which_invitations_could_not_be_delivered(client, school, run_jobs):
    from app.models import DeliveryStatus

    carer = _invited("Fay Fail", "fay@family.example")
    f.pupil(school["cls"], carer)
    f.login(client, school["office"])
    client.post(f"/office/families/{carer.id}/invite", data={"channels": "email"})
    db.session.execute(sa.update(NotificationDelivery).values(status=DeliveryStatus.FAILED))
    db.session.commit()
    page = client.get("/office/families").get_data(as_text=True)
    assert "<strong>failed</strong>: the message could not be delivered" in page
