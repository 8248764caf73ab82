"""UK mobile numbers: one check (app/core/phones.py) for sign-in, joining, settings,
rectification and roster imports, so a number accepted at one door is accepted at all of them,
stored the same way, and refused with the same words."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from werkzeug.datastructures import MultiDict
from wtforms import Form, StringField
from wtforms.validators import Optional

from app.core.extensions import db
from app.core.phones import MESSAGE as MESSAGE_LAZY
from app.core.phones import UKMobile, stripped, uk_mobile_e164
from app.dataprotection.rights.rectification import RectificationError, rectify
from app.families.roster_csv import read_roster
from app.models import Channel, OutboxMessage, User, UserStatus
from tests import factories as f
from tests.parents_data import family
from tests.privacy_data import two_families
from tests.roster_helpers import csv_bytes, template_row

MESSAGE = str(MESSAGE_LAZY)  # in English, as a page without a language choice shows it


@pytest.mark.parametrize(
    "typed, e164",
    [
        # Ofcom's drama range (the demo parent is +447700900001), written every way people write it
        ("07700 900001", "+447700900001"),
        ("07700900123", "+447700900123"),
        ("07700 900 123", "+447700900123"),
        ("07700-900-123", "+447700900123"),
        ("(07700) 900123", "+447700900123"),
        ("07700.900.123", "+447700900123"),
        ("+44 7700 900123", "+447700900123"),
        ("+447700900123", "+447700900123"),
        ("+44 (0)7700 900123", "+447700900123"),
        ("0044 7700 900123", "+447700900123"),
        ("44 7700 900123", "+447700900123"),
        ("7700900123", "+447700900123"),  # a spreadsheet dropped the leading zero
        ("07700 900000", "+447700900000"),  # both ends of the range
        ("07700 900999", "+447700900999"),
        ("  07700 900123 ", "+447700900123"),
        ("07700\u00a0900123", "+447700900123"),  # a non-breaking space pasted from a document
        ("07700\u2013900123", "+447700900123"),  # an en dash from a word processor
        ("٠٧٧٠٠ ٩٠٠١٢٣", "+447700900123"),  # typed on an Arabic keypad
        # real mobile ranges, as phonenumbers knows them
        ("07400 123456", "+447400123456"),
        ("07911 123456", "+447911123456"),
        ("+44 07400 123456", "+447400123456"),
        ("07624 123456", "+447624123456"),  # Isle of Man
        ("07797 123456", "+447797123456"),  # Jersey
    ],
)
def test_what_people_type_becomes_one_e164_number(typed, e164):
    assert uk_mobile_e164(typed) == e164


@pytest.mark.parametrize(
    "typed",
    [
        None,
        "",
        "   ",
        "020 7946 0000",  # London landline (drama range)
        "01632 960123",  # landline (drama range)
        "0113 496 0000",  # Leeds landline
        "0800 123 4567",  # freephone
        "07600 123456",  # pager
        "07000 123456",  # personal number, not a mobile
        "07700 901000",  # just outside the drama range, and not allocated
        "07700 90012",  # a digit short
        "07700 9001234",  # a digit too many
        "+7700900123",  # a plus but no country code
        "+33 6 12 34 56 78",  # a French mobile
        "+1 415 555 0100",
        "0800 FLOWERS",  # phonenumbers would read letters off a keypad
        "07700 9001AB",
        "07700 900123 ext 2",
        "07700/900123",
        "0" * 50,
    ],
)
def test_anything_else_is_refused(typed):
    assert uk_mobile_e164(typed) is None


class _Form(Form):
    mobile = StringField(validators=[Optional(), UKMobile()], filters=[stripped])


@pytest.mark.parametrize(
    "typed, data, errors",
    [
        ("07700 900123", "+447700900123", []),
        ("   ", "", []),
        ("01632 960123", "01632 960123", [MESSAGE]),
    ],
)
def test_the_form_validator_stores_e164_and_says_one_thing(typed, data, errors):
    form = _Form(MultiDict({"mobile": typed}))
    assert form.validate() is (not errors)
    assert (form.mobile.data, form.mobile.errors) == (data, errors)


# --- every door takes the drama range and refuses a landline in the same words -----------------

DRAMA = "07700 900042"


def test_sign_in_by_text_takes_a_drama_number(working_client):
    client = working_client  # the text is sent by a job
    f.parent(mobile="+447700900042")
    r = client.post("/auth/code", data={"mobile": "+44 (0)7700-900-042"})
    assert r.status_code == 303
    (text,) = db.session.scalars(sa.select(OutboxMessage).where(OutboxMessage.channel == Channel.SMS)).all()
    assert text.to == "+447700900042"


def test_joining_takes_a_drama_number(client, invited):
    carer, token = invited["carer"], invited["token"]
    r = client.post(
        f"/family/join/{token}", data={"agree": "y", "signin": "sms_code", "mobile": "0044 7700 900042"}
    )
    assert r.status_code == 303
    assert db.session.get(User, carer.id).mobile == "+447700900042"


def test_a_parent_corrects_their_mobile_to_a_drama_number_in_settings(client):
    fam = family()
    f.login(client, fam.parent)
    r = client.post(
        "/family/settings/details",
        data={"name": "Pat Parent", "email": "pat@family.example", "mobile": DRAMA},
    )
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, fam.parent.id).mobile == "+447700900042"
    # the settings page shows the saved number; sending it back unchanged is fine too
    r = client.post(
        "/family/settings/details",
        data={"name": "Pat Parent", "email": "pat@family.example", "mobile": "+447700900042"},
    )
    assert r.status_code == 303


def test_a_mobile_of_spaces_in_settings_means_no_mobile(client):
    fam = family()
    fam.parent.mobile = "+447700900042"
    db.session.commit()
    f.login(client, fam.parent)
    r = client.post(
        "/family/settings/details",
        data={"name": "Pat Parent", "email": "pat@family.example", "mobile": "   "},
    )
    assert r.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, fam.parent.id).mobile is None


def test_the_office_corrects_a_mobile_to_a_drama_number(ctx):
    s = two_families()
    assert rectify(s.aisha, "mobile", DRAMA, s.office) is True
    db.session.expire_all()
    assert db.session.get(User, s.aisha.id).mobile == "+447700900042"


def test_a_roster_takes_a_drama_number(ctx):
    parsed = read_roster(
        csv_bytes([template_row(1, "Oak", contacts=[("Grace Hopper", "", "7700900042", "Mother", "No")])])
    )
    assert parsed.problems == []
    assert parsed.rows[0].contacts[0].mobile == "+447700900042"


LANDLINE = "01632 960123"


def test_sign_in_by_text_refuses_a_landline_in_the_shared_words(client):
    r = client.post("/auth/code", data={"mobile": LANDLINE})
    assert r.status_code == 422 and MESSAGE in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_joining_refuses_a_landline_in_the_shared_words(client, invited):
    carer, token = invited["carer"], invited["token"]
    r = client.post(f"/family/join/{token}", data={"agree": "y", "signin": "sms_code", "mobile": LANDLINE})
    assert r.status_code == 422 and MESSAGE in r.get_data(as_text=True)
    assert db.session.get(User, carer.id).status is UserStatus.INVITED


def test_settings_refuse_a_landline_in_the_shared_words(client):
    fam = family()
    f.login(client, fam.parent)
    r = client.post(
        "/family/settings/details",
        data={"name": "Pat Parent", "email": "pat@family.example", "mobile": LANDLINE},
    )
    assert r.status_code == 422 and MESSAGE in r.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, fam.parent.id).mobile is None


def test_rectification_refuses_a_landline_in_the_shared_words(ctx):
    s = two_families()
    with pytest.raises(RectificationError) as refused:
        rectify(s.aisha, "mobile", LANDLINE, s.office)
    assert refused.value.message == MESSAGE and refused.value.status == 422
    db.session.expire_all()
    assert db.session.get(User, s.aisha.id).mobile == "+447700900111"
