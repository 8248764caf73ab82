"""/dev/outbox shows a member of staff only their own school's messages (P12): what was sent on
behalf of their schools, and the sign-in links and codes of people who are their schools' alone."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.models import Channel, OutboxMessage, Role
from tests import factories as f


@pytest.fixture()
def schools(ctx):
    ash, birch = f.school(name="Ash Primary"), f.school(name="Birch Primary")
    ash_class, birch_class = f.school_class(ash), f.school_class(birch)
    ash_only = f.parent(email="ash.only@family.example", name="Ash Only")
    both = f.parent(email="both@family.example", name="Both Schools")
    f.pupil(ash_class, ash_only)
    f.pupil(ash_class, both)
    f.pupil(birch_class, both)
    return {
        "ash": ash,
        "birch": birch,
        "ash_only": ash_only,
        "both": both,
        "ash_office": f.staff(ash, Role.OFFICE),
        "ash_teacher": f.staff(ash, Role.TEACHER),
        "birch_office": f.staff(birch, Role.OFFICE),
    }


def _shown(client, query: str = "") -> str:
    page = client.get("/dev/outbox" + query)
    assert page.status_code == 200
    return page.get_data(as_text=True).split("<h1>Outbox</h1>", 1)[1].split("</form>", 1)[1]


@pytest.mark.promise("P12")
def test_staff_see_only_their_own_schools_messages(client, schools, run_jobs):
    s = schools
    f.login(client, s["birch_office"])  # Birch invites a new teacher (sent on Birch's behalf)
    assert (
        client.post(
            "/office/staff", data={"name": "Nia New", "email": "nia@birch.example", "role": "teacher"}
        ).status_code
        == 303
    )
    f.login(client, s["ash_office"])  # Ash invites a member of staff (on Ash's behalf)
    assert (
        client.post(
            "/office/staff", data={"name": "Al Ash", "email": "al@ash.example", "role": "office"}
        ).status_code
        == 303
    )
    assert run_jobs() == 0
    client.post("/auth/signout")
    for email in ("ash.only@family.example", "both@family.example"):  # sign-in links: no school
        assert client.post("/auth/link", data={"email": email}).status_code == 200
    assert run_jobs() == 0  # the links are sent by a job, whether or not the account exists
    by_school = dict(db.session.execute(sa.select(OutboxMessage.to, OutboxMessage.organisation_id)).all())
    assert by_school == {
        "nia@birch.example": s["birch"].id,
        "al@ash.example": s["ash"].id,
        "ash.only@family.example": None,
        "both@family.example": None,
    }

    for who in ("ash_office", "ash_teacher"):
        f.login(client, s[who])
        page = _shown(client)
        assert "al@ash.example" in page and "ash.only@family.example" in page
        # Birch's message, and the sign-in link of a parent who is Birch's family too.
        assert "nia@birch.example" not in page and "both@family.example" not in page
        assert "nia@birch.example" not in _shown(client, "?to=nia@birch.example")

    f.login(client, s["birch_office"])
    page = _shown(client)
    assert "nia@birch.example" in page
    for other in ("al@ash.example", "ash.only@family.example", "both@family.example"):
        assert other not in page
        assert other not in _shown(client, f"?to={other}")


@pytest.mark.promise("P12")
def test_codes_sent_by_text_show_only_to_the_schools_the_number_belongs_to(client, schools):
    """A sign-in code by text is sent on behalf of no school: staff see it when the mobile number
    is that of a family only of their school, by the number as by the email address."""
    s = schools
    s["ash_only"].mobile, s["both"].mobile = "+447700900201", "+447700900202"
    texts = {"+447700900201": "Your Hometime code is 111111", "+447700900202": "Your Hometime code is 222222"}
    for number, text in texts.items():
        db.session.add(OutboxMessage(channel=Channel.SMS, to=number, text=text, organisation_id=None))
    db.session.commit()
    f.login(client, s["ash_office"])
    page = _shown(client)
    assert "111111" in page and "+447700900201" in page
    assert "222222" not in page  # a number of a family at Birch too
    f.login(client, s["birch_office"])
    page = _shown(client)
    assert "111111" not in page and "222222" not in page


@pytest.mark.promise("P12")
def test_parents_and_visitors_see_no_outbox(client, schools):
    assert client.get("/dev/outbox").status_code in (302, 401)
    f.login(client, schools["ash_only"])
    assert client.get("/dev/outbox").status_code == 403


def test_each_text_shows_what_it_costs_in_segments(client, schools):
    for text in (
        "Ash Primary: this week's activities are ready.",
        "Ash Primary کی دعوت، Hometime: " + "x" * 60,
    ):
        db.session.add(
            OutboxMessage(
                channel=Channel.SMS, to="+447700900111", text=text, organisation_id=schools["ash"].id
            )
        )
    db.session.commit()
    f.login(client, schools["ash_office"])
    shown = _shown(client)
    assert "1 segment (GSM-7, 46 characters)" in shown
    assert "2 segments (UCS-2, 91 characters)" in shown
