"""The office's families pages, removals (P18) and closing an account (P17)."""

import re

import pytest

from app.core.extensions import db
from app.families import invitations
from app.models import Role, User, UserKind, UserStatus
from tests import factories as f
from tests.html_check import without_tokens
from tests.qr_scan import scan


@pytest.fixture()
def school(ctx):
    org = f.school(name="Elm Primary")
    cls = f.school_class(org, name="Year 4")
    office = f.staff(org, Role.OFFICE)
    teacher = f.staff(org, Role.TEACHER, classes=[cls])
    joined = f.parent(name="Jo Joined")
    paper = User(kind=UserKind.PARENT, name="Pat Paper", status=UserStatus.INVITED)
    emailed = User(
        kind=UserKind.PARENT, name="Em Email", email="em@family.example", status=UserStatus.INVITED
    )
    db.session.add_all([paper, emailed])
    db.session.commit()
    kid = f.pupil(cls, joined, paper, first_name="Kit")
    other = f.pupil(cls, emailed, first_name="Lou")
    return {
        "org": org,
        "cls": cls,
        "office": office,
        "teacher": teacher,
        "joined": joined,
        "paper": paper,
        "emailed": emailed,
        "kid": kid,
        "other": other,
    }


def test_office_sees_who_has_not_joined_and_the_join_rate(client, school):
    f.login(client, school["office"])
    page = client.get("/office/families").get_data(as_text=True)
    assert "Pat Paper" in page and "Em Email" in page and "Jo Joined" not in page
    assert re.search(r"<td>Year 4</td><td>2</td><td>1</td><td>50%</td>", page)


def test_letters_give_each_family_a_page_with_a_working_code_and_qr(client, school):
    f.login(client, school["office"])
    page = client.post("/office/families/letters").get_data(as_text=True)
    assert page.count('class="letter"') == 1  # only the carer without an email address
    assert "Dear Pat Paper" in page and "Kit" in page and "<svg" in page
    code = re.search(r'<p class="code">([A-Z0-9-]+)</p>', page).group(1)
    inv = invitations.find_by_code(code)
    assert inv.user_id == school["paper"].id and inv.channels == "letter"
    # The letter's QR code takes the family's phone to the same invitation as the code.
    scanned = scan(re.search(r'<div class="qr">(<svg.*?</svg>)</div>', page, re.DOTALL).group(1))
    assert scanned == invitations.join_url(inv.id)


def test_cancelling_an_invitation_kills_its_link(client, school):
    inv = invitations.create(school["org"].id, school["emailed"])
    db.session.commit()
    token = invitations.token_for(inv.id)
    f.login(client, school["office"])
    assert client.post(f"/office/invitations/{inv.id}/revoke").status_code == 303
    client.post("/auth/signout")
    r = client.get(f"/family/join/{token}")
    assert r.status_code == 410


@pytest.mark.promise("P12")
def test_office_of_another_school_and_teachers_cannot_touch_these_families(client, school):
    other = f.school()
    other_office = f.staff(other, Role.OFFICE)
    f.login(client, other_office)
    assert client.post(f"/office/families/{school['emailed'].id}/invite").status_code == 404
    assert client.post(f"/office/pupils/{school['kid'].id}/remove").status_code == 404
    assert "Em Email" not in client.get("/office/families").get_data(as_text=True)
    f.login(client, school["teacher"])
    assert client.get("/office/families").status_code == 403


@pytest.mark.promise("P18")
def test_removing_a_child_keeps_it_visible_to_the_parent_and_prompts_the_office(client, school):
    f.login(client, school["office"])
    page = client.post(f"/office/pupils/{school['kid'].id}/remove").get_data(as_text=True)
    assert "Please tell the parents" in page
    f.login(client, school["teacher"])
    class_page = without_tokens(client.get(f"/teach/classes/{school['cls'].id}").get_data(as_text=True))
    assert "Lou" in class_page and "Kit" not in class_page
    f.login(client, school["joined"])
    child = client.get(f"/family/children/{school['kid'].id}")
    text = child.get_data(as_text=True)
    assert child.status_code == 200
    assert "has removed Kit from Hometime" in text and "close your account" in text


@pytest.mark.promise("P17")
def test_closing_an_account_deactivates_it_at_once_and_signs_out_everywhere(client, app, school):
    other_phone = app.test_client()
    f.login(other_phone, school["joined"])
    f.login(client, school["joined"])
    confirm = client.get("/family/account/close").get_data(as_text=True)
    assert "Close your account?" in confirm and "90 days later" in confirm
    r = client.post("/family/account/close", data={"confirm": "yes"})
    assert r.status_code == 200 and "Your account is closed" in r.get_data(as_text=True)
    user = db.session.get(User, school["joined"].id)
    assert user.status is UserStatus.DEACTIVATED and user.deactivated_at is not None
    assert client.get("/family/").status_code == 302
    assert other_phone.get("/family/").status_code == 302  # the other phone is signed out too


def test_a_parent_can_remove_their_own_link_to_a_child(client, school):
    f.login(client, school["joined"])
    confirm = client.get(f"/family/children/{school['kid'].id}/unlink").get_data(as_text=True)
    assert "Remove Kit from your account?" in confirm and "90 days" in confirm
    assert (
        client.post(f"/family/children/{school['kid'].id}/unlink", data={"confirm": "yes"}).status_code == 303
    )
    assert client.get(f"/family/children/{school['kid'].id}").status_code == 404
    assert "Kit" not in without_tokens(client.get("/family/").get_data(as_text=True))


@pytest.mark.promise("P12")
def test_teacher_at_one_school_who_is_office_at_another_acts_as_office_only_there(client, school):
    other = f.school(name="Other Primary")
    f.school_class(other)
    both = f.staff(school["org"], Role.TEACHER, classes=[school["cls"]])
    from app.models import StaffMembership

    db.session.add(StaffMembership(user_id=both.id, organisation_id=other.id, role=Role.OFFICE))
    db.session.commit()
    f.login(client, both)
    page = client.get("/office/families").get_data(as_text=True)
    assert "Families at Other Primary" in page
    assert "Em Email" not in page and "Pat Paper" not in page  # Elm's families stay hidden
    assert client.post(f"/office/pupils/{school['kid'].id}/remove").status_code == 404


def test_the_office_home_links_every_office_page(client, school):
    f.login(client, school["office"])
    page = client.get("/office/").get_data(as_text=True)
    for href in ("/office/roster", "/office/families", "/office/staff", "/office/retention"):
        assert f'href="{href}"' in page
    assert "Pupils per class" in page


@pytest.mark.promise("P12")
def test_office_pages_never_open_records_of_a_school_where_the_person_only_teaches(client, school):
    other = f.school(name="Other Primary")
    both = f.staff(school["org"], Role.TEACHER, classes=[school["cls"]])
    from app.models import StaffMembership

    db.session.add(StaffMembership(user_id=both.id, organisation_id=other.id, role=Role.OFFICE))
    db.session.commit()
    f.login(client, both)
    assert "Kit Test" not in client.get("/office/people?q=Kit").get_data(as_text=True)
    assert client.get(f"/office/people/pupils/{school['kid'].id}").status_code == 404
    both_at_elm = f.staff(school["org"], Role.OFFICE)
    f.login(client, both_at_elm)  # control: the school's own office does see the child
    assert "Kit Test" in client.get("/office/people?q=Kit").get_data(as_text=True)


@pytest.mark.promise("P25")
def test_a_restricted_child_is_left_out_of_the_join_rate_report(client, school):
    from app.models import Pupil, utcnow

    db.session.get(Pupil, school["kid"].id).restricted_at = utcnow()
    db.session.commit()
    f.login(client, school["office"])
    page = client.get("/office/families").get_data(as_text=True)
    assert re.search(r"<td>Year 4</td><td>1</td><td>0</td><td>0%</td>", page)


@pytest.mark.promise("P17")
def test_closing_an_account_asks_first_and_needs_a_fresh_sign_in(client, school):
    f.login(client, school["joined"], fresh=False)
    r = client.get("/family/account/close")
    assert r.status_code == 302 and "/auth/reauth" in r.headers["Location"]
    r = client.post("/family/account/close", data={"confirm": "yes"})
    assert r.status_code == 302 and "/auth/reauth" in r.headers["Location"]
    assert db.session.get(User, school["joined"].id).status is not UserStatus.DEACTIVATED
    f.login(client, school["joined"])
    r = client.post("/family/account/close")  # no confirmation: back to the question
    assert r.status_code == 303 and r.headers["Location"].endswith("/family/account/close")
    db.session.expire_all()
    assert db.session.get(User, school["joined"].id).status is not UserStatus.DEACTIVATED


def test_removing_a_child_without_the_confirmation_changes_nothing(client, school):
    f.login(client, school["joined"])
    r = client.post(f"/family/children/{school['kid'].id}/unlink")
    assert r.status_code == 303 and r.headers["Location"].endswith(f"/children/{school['kid'].id}/unlink")
    assert client.get(f"/family/children/{school['kid'].id}").status_code == 200
