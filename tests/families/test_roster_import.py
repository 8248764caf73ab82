"""Roster import: row problems, all or nothing, re-imports, pupils not in the file, who may."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.families import roster
from app.families.roster_csv import read_roster
from app.models import (
    ActivityLog,
    Guardianship,
    Pupil,
    RemovedBy,
    Role,
    Source,
    StaffMembership,
    User,
    UserStatus,
    utcnow,
)
from tests import factories
from tests.factories import login
from tests.roster_helpers import (
    counts,
    csv_bytes,
    import_file,
    school_setup,
    template_row,
    upload,
    upload_id,
    upn,
)

GRACE = ("Grace Hopper", "grace@family.example", "07700 900001", "Mother", "No")


def _problems(html: str) -> list[tuple[str, str]]:
    """(row, column) of each problem listed on the preview page."""
    return re.findall(r"<tr><td>(\d+)</td><td>([^<]+)</td><td>", html)


def test_every_row_problem_is_listed_with_its_row_and_nothing_is_imported(client):
    org, _, office = school_setup("Oak")
    factories.staff(org, Role.TEACHER, email="teacher@school.example")
    login(client, office)
    rows = [
        template_row(1, "Oak"),  # row 2: fine
        template_row(2, "Oak", contacts=[("Al", "al@", "", "", "")]),  # bad email
        template_row(3, "Oak", contacts=[("Bo", "", "01632 960123", "", "")]),  # landline
        template_row(1, "Oak", first="Again"),  # duplicate UPN
        template_row(5, "Maple"),  # unknown class
        template_row(6, "Oak", first=" "),  # missing name
        template_row(7, "Oak", year="Year 15"),  # bad year group
        ["A801200005001"] + template_row(8, "Oak")[1:],  # check letter
        ["12345"] + template_row(9, "Oak")[1:],  # not a UPN
        template_row(10, "Oak", contacts=[("T", "TEACHER@school.example", "", "", "")]),  # staff
        template_row(11, "Oak", pp="Maybe"),  # PP not yes/no
        template_row(12, "Oak", contacts=[("", "x@family.example", "", "", "")]),  # no name
    ]
    page = upload(client, csv_bytes(rows))
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert _problems(html) == [
        ("3", "Contact 1 email"),
        ("4", "Contact 1 mobile"),
        ("5", "UPN"),
        ("7", "First name"),
        ("8", "Year group"),
        ("9", "UPN"),
        ("10", "UPN"),
        ("12", "Pupil Premium"),
        ("13", "Contact 1 name"),
        ("6", "Class"),
        ("11", "Contact 1 email"),
    ]
    assert "“al@” is not a valid email address" in html
    assert "“01632 960123” is not a UK mobile number" in html
    assert f"UPN {upn(1)} is also on row 2" in html
    assert "There is no class called “Maple”" in html
    assert "wrong check letter" in html and "“12345” is not a UPN" in html
    assert "belongs to a member of staff" in html
    assert "Nothing was imported" in html
    assert 'action="/office/roster/confirm"' not in html  # no way to confirm a file with problems
    assert counts() == (0, 0, 0)


def test_one_bad_row_at_the_end_leaves_the_database_unchanged(client):
    org, _, office = school_setup("Oak")
    login(client, office)
    import_file(
        client,
        csv_bytes(
            [
                template_row(
                    n,
                    "Oak",
                    contacts=[GRACE if n == 1 else (f"Carer {n}", f"c{n}@family.example", "", "", "")],
                )
                for n in range(1, 4)
            ]
        ),
    )
    before = counts()
    rows = [template_row(n, "Oak", first=f"Renamed{n}") for n in range(1, 50)]
    rows.append(template_row(50, "Oak", contacts=[("Bad", "bad@@family", "", "", "")]))
    page = upload(client, csv_bytes(rows))
    assert page.status_code == 422
    assert _problems(page.get_data(as_text=True)) == [("51", "Contact 1 email")]
    assert counts() == before
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(Pupil).where(Pupil.first_name.like("Renamed%"))
        )
        == 0
    )


def test_records_changed_between_preview_and_confirm_means_nothing_is_imported(client):
    org, (oak,), office = school_setup("Oak")
    login(client, office)
    page = upload(client, csv_bytes([template_row(n, "Oak") for n in range(1, 6)]))
    assert page.status_code == 200
    oak.name = "Oak Class"  # renamed by a colleague meanwhile
    db.session.commit()
    done = client.post("/office/roster/confirm", data={"upload": upload_id(page.get_data(True))})
    assert done.status_code == 422
    assert "The school's records changed since the preview" in done.get_data(as_text=True)
    assert counts() == (0, 0, 0)


def test_reimporting_the_same_file_changes_nothing_and_a_changed_name_updates(client):
    org, _, office = school_setup("Oak", "Ash")
    login(client, office)
    sibling = ("Pat Jones", "pat@family.example", "07700 900010", "Mother", "")
    chris = ("Chris Jones", "", "07700900011", "Father", "")
    rows = [
        template_row(1, "Oak", last="Jones", contacts=[sibling, chris]),
        template_row(2, "Ash", last="Jones", contacts=[sibling]),
        template_row(3, "Ash", contacts=[("Lee Smith", "", "", "Carer", "")]),
    ]
    import_file(client, csv_bytes(rows))
    first = counts()
    assert first == (3, 3, 4)  # Pat is one account linked to both children

    again = import_file(client, csv_bytes(rows)).get_data(as_text=True)
    assert counts() == first
    assert re.search(r"Pupils</th><td>0</td><td>0</td><td>3</td>", again)
    assert re.search(r"Parents and carers</th><td>0</td><td>0</td><td>3</td>", again)

    rows[0][1] = "Renamed"
    rows[1][6] = "Patricia Jones"  # Pat's name, on both of her children's rows
    rows[0][6] = "Patricia Jones"
    rows[2][6 + 2] = "07700 900099"  # Lee gets a mobile
    changed = import_file(client, csv_bytes(rows)).get_data(as_text=True)
    assert counts() == first
    assert re.search(r"Pupils</th><td>0</td><td>1</td><td>2</td>", changed)
    assert re.search(r"Parents and carers</th><td>0</td><td>2</td><td>1</td>", changed)
    assert db.session.scalar(sa.select(Pupil.first_name).where(Pupil.upn == upn(1))) == "Renamed"
    pat = db.session.scalar(sa.select(User).where(User.email == "pat@family.example"))
    assert pat.name == "Patricia Jones"
    lee = db.session.scalar(sa.select(User).where(User.name == "Lee Smith"))
    assert lee.mobile == "+447700900099"


def test_contacts_are_matched_by_email_then_mobile_within_the_pupil(client):
    org, _, office = school_setup("Oak")
    login(client, office)
    rows = [template_row(1, "Oak", contacts=[("Sam Roe", "", "07700 900020", "Father", "")])]
    import_file(client, csv_bytes(rows))
    sam_id = db.session.scalar(sa.select(User.id).where(User.name == "Sam Roe"))
    rows[0][7] = "sam@family.example"  # the school now has Sam's email too
    import_file(client, csv_bytes(rows))
    assert counts() == (1, 1, 1)
    sam = db.session.get(User, sam_id)
    assert (sam.email, sam.mobile) == ("sam@family.example", "+447700900020")


def test_a_parent_who_joined_keeps_their_own_details_and_is_not_duplicated(client):
    org, (oak,), office = school_setup("Oak")
    joined = factories.parent(email="kim@family.example", name="Kim Chosen", mobile="+447700900030")
    child = factories.pupil(oak, joined, upn=upn(1), first_name="Ada", last_name="Lee")
    login(client, office)
    preview = upload(
        client,
        csv_bytes(
            [
                template_row(
                    1,
                    "Oak",
                    first="Ada",
                    last="Lee",
                    contacts=[("Kim MIS-Name", "KIM@family.example", "07700 900031", "Mother", "")],
                )
            ]
        ),
    )
    html = preview.get_data(as_text=True)
    assert "1 parent or carer has joined Hometime, so they keep the name, email and mobile" in html
    assert re.search(r"Parents and carers</th><td>0</td><td>1</td><td>0</td>", html)
    client.post("/office/roster/confirm", data={"upload": upload_id(html)})
    db.session.expire_all()
    assert (joined.name, joined.mobile) == ("Kim Chosen", "+447700900030")
    assert [link.parent_id for link in child.links] == [joined.id]
    assert child.links[0].relationship_label == "Mother"


def test_an_email_known_from_another_school_links_the_same_account(client):
    other_org, (other_class,), _ = school_setup("Elm")
    carer = factories.parent(email="ann@family.example", status=UserStatus.INVITED)
    factories.pupil(other_class, carer)
    org, _, office = school_setup("Oak")
    login(client, office)
    import_file(
        client,
        csv_bytes(
            [template_row(1, "Oak", contacts=[("Ann Parent", "ann@family.example", "", "Mother", "")])]
        ),
    )
    pupil = db.session.scalar(sa.select(Pupil).where(Pupil.organisation_id == org.id))
    assert [link.parent_id for link in pupil.links] == [carer.id]
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.email == "ann@family.example")
        )
        == 1
    )


def test_closed_accounts_and_links_a_parent_removed_are_not_linked_again(client):
    org, (oak,), office = school_setup("Oak")
    closed = factories.parent(email="closed@family.example", status=UserStatus.DEACTIVATED)
    unlinked = factories.parent(email="left@family.example")
    child = factories.pupil(oak, unlinked, upn=upn(1))
    link = child.links[0]
    link.removed_at, link.removed_by = utcnow(), RemovedBy.PARENT
    db.session.commit()
    login(client, office)
    rows = [
        template_row(1, "Oak", contacts=[("Left", "left@family.example", "", "", "")]),
        template_row(2, "Oak", contacts=[("Closed", "closed@family.example", "", "", "")]),
    ]
    page = import_file(client, csv_bytes(rows))
    assert page.status_code == 200
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Guardianship)
            .where(Guardianship.parent_id.in_([closed.id, unlinked.id]), Guardianship.removed_at.is_(None))
        )
        == 0
    )


def test_pupils_missing_from_a_new_import_are_listed_and_not_removed(client):
    org, _, office = school_setup("Oak")
    login(client, office)
    import_file(client, csv_bytes([template_row(n, "Oak", first=f"Kid{n}") for n in (1, 2, 3)]))
    preview = upload(client, csv_bytes([template_row(1, "Oak", first="Kid1")]))
    html = preview.get_data(as_text=True)
    assert "In Hometime but not in this file (2)" in html
    assert "Kid2 Pupil" in html and "Kid3 Pupil" in html
    done = client.post("/office/roster/confirm", data={"upload": upload_id(html)})
    assert done.status_code == 303
    assert (
        db.session.scalar(sa.select(sa.func.count()).select_from(Pupil).where(Pupil.removed_at.is_(None)))
        == 3
    )


def test_the_result_page_lists_missing_pupils_with_a_way_to_remove_them(client):
    org, _, office = school_setup("Oak")
    login(client, office)
    import_file(client, csv_bytes([template_row(n, "Oak", first=f"Kid{n}") for n in (1, 2)]))
    result = import_file(client, csv_bytes([template_row(1, "Oak", first="Kid1")]))
    html = result.get_data(as_text=True)
    kid2 = db.session.scalar(sa.select(Pupil).where(Pupil.first_name == "Kid2"))
    assert "In Hometime but not in this file (1)" in html
    assert f'action="/office/pupils/{kid2.id}/remove"' in html
    assert kid2.removed_at is None


def test_a_pupil_removed_earlier_who_is_in_the_file_again_is_restored(client):
    org, (oak,), office = school_setup("Oak")
    gone = factories.pupil(oak, upn=upn(1), first_name="Back")
    gone.removed_at = utcnow()
    db.session.commit()
    login(client, office)
    preview = upload(client, csv_bytes([template_row(1, "Oak", first="Back")]))
    assert "1 pupil was removed earlier" in preview.get_data(as_text=True)
    client.post("/office/roster/confirm", data={"upload": upload_id(preview.get_data(True))})
    db.session.expire_all()
    assert gone.removed_at is None


@pytest.mark.promise("P02")
def test_imported_pupils_and_links_are_recorded_as_supplied_by_the_school(client):
    org, (oak,), office = school_setup("Oak")
    family_child = factories.pupil(oak, upn=upn(2), source=Source.FAMILY)
    login(client, office)
    import_file(
        client,
        csv_bytes(
            [
                template_row(1, "Oak", contacts=[GRACE]),
                template_row(
                    2, "Oak", first=family_child.first_name, last=family_child.last_name, contacts=[GRACE]
                ),
            ]
        ),
    )
    sources = db.session.execute(sa.select(Pupil.source)).scalars().all()
    assert sources == [Source.SCHOOL, Source.SCHOOL]
    assert set(db.session.scalars(sa.select(Guardianship.source))) == {Source.SCHOOL}


def test_the_import_is_in_the_activity_log_without_personal_data(client):
    org, _, office = school_setup("Oak")
    login(client, office)
    import_file(client, csv_bytes([template_row(1, "Oak", first="Ada", contacts=[GRACE])]))
    entry = db.session.scalar(sa.select(ActivityLog).where(ActivityLog.event == "roster_import"))
    assert (entry.user_id, entry.organisation_id) == (office.id, org.id)
    assert entry.detail.startswith("pupils new=1 updated=0")
    assert not any(s in entry.detail for s in ("Ada", "Grace", "grace@", "7700", upn(1)))


@pytest.mark.promise("P12")
def test_another_schools_office_cannot_confirm_this_schools_upload(client, app):
    org, _, office = school_setup("Oak")
    other_org, _, other_office = school_setup("Oak")
    colleague = factories.staff(org, Role.OFFICE)
    login(client, office)
    token = upload_id(upload(client, csv_bytes([template_row(1, "Oak")])).get_data(True))
    for intruder in (other_office, colleague):
        other = app.test_client()
        login(other, intruder)
        refused = other.post("/office/roster/confirm", data={"upload": token})
        assert refused.status_code == 404
        assert "find that upload. Uploads are kept for one hour" in refused.get_data(as_text=True)
    assert counts() == (0, 0, 0)
    # The uploader still can, once; a second confirm finds nothing.
    assert client.post("/office/roster/confirm", data={"upload": token}).status_code == 303
    assert client.post("/office/roster/confirm", data={"upload": token}).status_code == 404
    assert db.session.scalar(sa.select(Pupil.organisation_id)) == org.id


@pytest.mark.promise("P12")
def test_a_result_page_belongs_to_its_school_and_user(client, app):
    org, _, office = school_setup("Oak")
    other_org, _, other_office = school_setup("Oak")
    login(client, office)
    preview = upload(client, csv_bytes([template_row(1, "Oak")]))
    done = client.post("/office/roster/confirm", data={"upload": upload_id(preview.get_data(True))})
    other = app.test_client()
    login(other, other_office)
    assert other.get(done.headers["Location"]).status_code == 404
    assert client.get(done.headers["Location"]).status_code == 200


@pytest.mark.promise("P12")
def test_teachers_and_parents_cannot_use_the_roster_pages(client):
    org, (oak,), office = school_setup("Oak")
    teacher = factories.staff(org, Role.TEACHER, classes=[oak])
    for user in (teacher, factories.parent()):
        login(client, user)
        assert client.get("/office/roster").status_code == 403
        assert client.get("/office/roster/template.csv").status_code == 403
        assert upload(client, csv_bytes([template_row(1, "Oak")])).status_code == 403
        assert client.post("/office/roster/confirm", data={"upload": "x" * 32}).status_code == 403
    assert counts()[0] == 0


def test_the_upload_is_kept_in_redis_for_an_hour_not_in_the_cookie(client, app):
    from app.core.redis_conn import get_redis

    org, _, office = school_setup("Oak")
    login(client, office)
    page = upload(client, csv_bytes([template_row(1, "Oak", first="Secretname")]))
    token = upload_id(page.get_data(True))
    keys = get_redis(app).keys(f"hometime:roster:upload:{org.id}:{office.id}:{token}")
    assert len(keys) == 1
    assert 3500 < get_redis(app).ttl(keys[0]) <= 3600
    assert b"Secretname" not in get_redis(app).get(keys[0])  # encrypted at rest
    cookie = client.get_cookie("session")
    assert cookie is None or "Secretname" not in cookie.value


def test_confirm_with_csrf_on_needs_the_token(client, app, monkeypatch):
    org, _, office = school_setup("Oak")
    login(client, office)
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    page = client.get("/office/roster")
    assert 'name="csrf_token"' in page.get_data(as_text=True)
    refused = upload(client, csv_bytes([template_row(1, "Oak")]))
    assert refused.status_code == 400
    too_big = upload(client, b"UPN\r\n" + b"x" * (13 * 1024 * 1024))
    assert too_big.status_code == 413 and "larger than 10 MB" in too_big.get_data(as_text=True)
    assert counts() == (0, 0, 0)


def test_service_plan_counts_match_what_confirm_writes(ctx):
    org, _, office = school_setup("Oak")
    parsed = read_roster(
        csv_bytes(
            [
                template_row(n, "Oak", contacts=[(f"Carer {n}", f"c{n}@family.example", "", "", "")])
                for n in range(1, 11)
            ]
        )
    )
    plan = roster.build_plan(parsed, org.id)
    assert (plan.summary.pupils_new, plan.summary.contacts_new) == (10, 10)
    done = roster.confirm_import(parsed, org.id, office)
    assert done.ok and counts() == (10, 10, 10)
    # Each child is linked to their own carer (ids of the bulk inserts matched up correctly).
    pairs = db.session.execute(
        sa.select(Pupil.upn, User.name, User.created_at, Pupil.created_at)
        .join(Guardianship, Guardianship.pupil_id == Pupil.id)
        .join(User, User.id == Guardianship.parent_id)
    ).all()
    assert sorted((p.upn, p.name) for p in pairs) == sorted((upn(n), f"Carer {n}") for n in range(1, 11))
    assert all(p[2] is not None and p[3] is not None for p in pairs)  # model defaults applied
    again = roster.build_plan(parsed, org.id)
    assert (again.summary.pupils_unchanged, again.summary.contacts_unchanged) == (10, 10)
    assert not (
        again.pupil_inserts
        or again.pupil_updates
        or again.user_inserts
        or again.user_updates
        or again.link_inserts
        or again.link_updates
    )


@pytest.mark.promise("P12")
def test_an_office_role_at_another_school_does_not_open_this_schools_import(client):
    teaching_at, (oak,), _ = school_setup("Oak")
    office_at, _, _ = school_setup("Oak")
    both = factories.staff(teaching_at, Role.TEACHER, classes=[oak])
    db.session.add(StaffMembership(user_id=both.id, organisation_id=office_at.id, role=Role.OFFICE))
    db.session.commit()
    login(client, both)  # teaches at the first school, office at the second
    import_file(client, csv_bytes([template_row(1, "Oak")]))
    schools = db.session.scalars(sa.select(Pupil.organisation_id)).all()
    assert schools == [office_at.id]  # imported where they are office, never where they teach


def test_one_email_given_for_two_different_people_is_a_problem(client):
    org, _, office = school_setup("Oak")
    login(client, office)
    rows = [
        template_row(1, "Oak", contacts=[("Jo Smith", "jo@family.example", "", "", "")]),
        template_row(2, "Oak", contacts=[("Jo Smith", "jo@family.example", "", "", "")]),
        template_row(3, "Oak", contacts=[("Alex Brown", "JO@family.example", "", "", "")]),
        template_row(
            4,
            "Oak",
            contacts=[
                ("Sam Lee", "sam@family.example", "", "", ""),
                ("Sam Lee", "sam@family.example", "", "", ""),
            ],
        ),
    ]
    page = upload(client, csv_bytes(rows))
    assert page.status_code == 422
    html = page.get_data(as_text=True)
    assert _problems(html) == [("5", "Contacts"), ("4", "Contact 1 email")]
    assert "jo@family.example is given with a different name or mobile on row 2" in html
    assert counts() == (0, 0, 0)


def test_a_file_of_one_class_compares_only_that_class(client):
    org, _, office = school_setup("Oak", "Ash")
    login(client, office)
    import_file(
        client,
        csv_bytes(
            [template_row(n, "Oak", first=f"Oak{n}") for n in (1, 2)]
            + [template_row(n, "Ash", first=f"Ash{n}") for n in (3, 4)]
        ),
    )
    preview = upload(client, csv_bytes([template_row(1, "Oak", first="Oak1")]))
    html = preview.get_data(as_text=True)
    assert "In Hometime but not in this file (1)" in html
    assert "Compared with the class in this file only: Oak" in html
    assert "Oak2 Pupil" in html and "Ash3 Pupil" not in html and "Ash4 Pupil" not in html
    result = import_file(client, csv_bytes([template_row(1, "Oak", first="Oak1")]))
    html = result.get_data(as_text=True)
    assert "In Hometime but not in this file (1)" in html and "Ash3 Pupil" not in html
    assert "Compared with the class in this file only: Oak" in html
