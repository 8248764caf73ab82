"""Rectification (P24): the office corrects a child's or a parent's detail, recorded with who,
when and which field; bad input is refused with nothing changed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.dataprotection.rights import rectification
from app.dataprotection.rights.rectification import RectificationError, rectify
from app.models import ActivityLog, Pupil, RequestEvent, User
from app.models.inventory import INVENTORY
from tests import factories as f
from tests.privacy_data import access_request, two_families

pytestmark = pytest.mark.promise("P24")


@pytest.fixture()
def s(ctx):
    return two_families()


def _log():
    return db.session.execute(
        sa.select(ActivityLog.event, ActivityLog.user_id, ActivityLog.subject, ActivityLog.detail)
        .where(ActivityLog.event == "rectified")
        .order_by(ActivityLog.id)
    ).all()


def test_only_personal_fields_of_the_inventory_can_be_corrected():
    for table, columns in rectification.CORRECTABLE.items():
        for column in columns:
            assert column in INVENTORY[table].personal, f"{table}.{column}"


def test_a_correction_is_made_and_recorded_with_who_when_and_which_field(s):
    assert rectify(s.amir, "first_name", "  Amira ", s.office) is True
    assert rectify(s.amir, "upn", "b801200005001", s.office) is True
    assert rectify(s.amir, "class_id", "wrens", s.office) is True
    assert rectify(s.amir, "pupil_premium", "yes", s.office) is True
    assert rectify(s.aisha, "email", "Aisha.K@Family.Example", s.office) is True
    assert rectify(s.aisha, "mobile", "07700 900222", s.office) is True
    db.session.expire_all()
    amir, aisha = db.session.get(Pupil, s.amir.id), db.session.get(User, s.aisha.id)
    assert (amir.first_name, amir.upn, amir.class_id, amir.pupil_premium) == (
        "Amira",
        "B801200005001",
        s.wrens.id,
        True,
    )
    assert (aisha.email, aisha.mobile) == ("aisha.k@family.example", "+447700900222")
    pupil, user = f"pupil:{s.amir.id}", f"user:{s.aisha.id}"
    assert _log() == [
        ("rectified", s.office.id, pupil, "field=first_name"),
        ("rectified", s.office.id, pupil, "field=upn"),
        ("rectified", s.office.id, pupil, "field=class_id"),
        ("rectified", s.office.id, pupil, "field=pupil_premium"),
        ("rectified", s.office.id, user, "field=email"),
        ("rectified", s.office.id, user, "field=mobile"),
    ]
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ActivityLog)
            .where(ActivityLog.event == "rectified", ActivityLog.at.is_(None))
        )
        == 0
    )
    # The same value again: nothing to record.
    assert rectify(s.amir, "first_name", "Amira", s.office) is False
    assert len(_log()) == 6


def test_a_correction_under_a_request_is_in_its_trail(s):
    req = access_request(s, pupil=s.amir, kind="rectification")
    rectify(s.amir, "last_name", "Khan-Ali", s.office, request_id=req.id)
    notes = db.session.scalars(
        sa.select(RequestEvent.note).where(RequestEvent.request_id == req.id).order_by(RequestEvent.id)
    ).all()
    assert notes[-1] == "Corrected the child's last name."
    other = access_request(s, pupil=s.amir, kind="restriction")
    with pytest.raises(RectificationError) as refused:
        rectify(s.amir, "last_name", "Other", s.office, request_id=other.id)
    assert refused.value.field == "request_id"
    assert db.session.get(Pupil, s.amir.id).last_name == "Khan-Ali"


@pytest.mark.parametrize(
    "subject, column, value, message",
    [
        ("amir", "upn", "A12", "not a UPN"),
        ("amir", "upn", "m801200005000", None),  # unchanged: fine
        ("zara", "upn", "M801200005000", "already has this UPN"),
        ("amir", "first_name", "   ", "Give the first name"),
        ("amir", "year_group", "Year 42", "year group"),
        ("amir", "class_id", "Owls", "one of the school's classes"),  # Elm's class
        ("amir", "pupil_premium", "maybe", "yes or no"),
        ("amir", "source", "family", "Choose a detail"),
        ("aisha", "email", "not-an-address", "real email"),
        ("aisha", "email", "mo@family.example", "Another account"),
        ("aisha", "mobile", "12345", "mobile number"),
        ("aisha", "password_hash", "x", "Choose a detail"),
    ],
)
def test_bad_corrections_are_refused_with_nothing_changed(s, subject, column, value, message):
    row = getattr(s, subject)
    before = getattr(row, column, None)
    if message is None:
        assert rectify(row, column, value, s.office) is False
        return
    with pytest.raises(RectificationError, match=message) as refused:
        rectify(row, column, value, s.office)
    assert refused.value.status == 422
    db.session.expire_all()
    assert getattr(db.session.get(type(row), row.id), column, None) == before
    assert _log() == []


def test_another_schools_office_cannot_correct(s):
    with pytest.raises(RectificationError) as refused:
        rectify(s.zara, "first_name", "Z", s.elm_office)
    assert refused.value.status == 404
    with pytest.raises(RectificationError):
        rectify(s.mo, "email", "", s.office)  # her only way to be reached


def test_the_office_corrects_on_the_persons_page(s, client):
    f.login(client, s.office)
    page = client.get(f"/office/people/pupils/{s.amir.id}")
    assert page.status_code == 200 and "Correct a detail" in page.get_data(as_text=True)
    bad = client.post(f"/office/people/pupils/{s.amir.id}/correct", data={"c-field": "upn", "c-value": "A1"})
    assert bad.status_code == 422 and "not a UPN" in bad.get_data(as_text=True)
    assert 'aria-invalid="true"' in bad.get_data(as_text=True)
    good = client.post(
        f"/office/people/parents/{s.mo.id}/correct", data={"c-field": "name", "c-value": "Maureen Moore"}
    )
    assert good.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, s.mo.id).name == "Maureen Moore"
    f.login(client, s.elm_office)
    assert client.get(f"/office/people/parents/{s.mo.id}").status_code == 404
    assert (
        client.post(
            f"/office/people/pupils/{s.zara.id}/correct", data={"c-field": "first_name", "c-value": "X"}
        ).status_code
        == 404
    )
    f.login(client, s.teacher)
    assert client.get(f"/office/people/pupils/{s.amir.id}").status_code == 403
