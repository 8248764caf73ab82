"""A parent joins from an invitation link or a letter's code, with explicit consent."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.families import invitations
from app.models import (
    ConsentPurpose,
    ConsentRecord,
    Invitation,
    InvitationStatus,
    User,
    UserStatus,
    utcnow,
)


@pytest.mark.promise("P01")
def test_join_page_shows_school_child_summary_and_an_unticked_consent(client, invited):
    page = client.get(f"/family/join/{invited['token']}").get_data(as_text=True)
    assert "Oak Primary" in page and "Milo" in page and "Plain words." in page
    assert 'href="/privacy-notice"' in page
    agree = re.search(r"<input[^>]*name=\"agree\"[^>]*>", page).group(0)
    assert "checked" not in agree
    for name in ("sms_reminders", "promo_photos", "news"):
        box = re.search(rf"<input[^>]*name=\"{name}\"[^>]*>", page).group(0)
        assert "checked" not in box


@pytest.mark.promise("P03")
def test_optional_fields_are_marked_and_a_missing_consent_is_explained(client, invited):
    page = client.get(f"/family/join/{invited['token']}").get_data(as_text=True)
    assert page.count("(optional") >= 4  # three choices and the mobile number
    r = client.post(f"/family/join/{invited['token']}", data={"signin": "email_link"})
    assert r.status_code == 422
    assert "We can&#39;t create your account without it" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsentRecord)) == 0
    assert db.session.get(User, invited["carer"].id).status is UserStatus.INVITED


@pytest.mark.promise("P01")
@pytest.mark.promise("P02")
@pytest.mark.promise("P09")
def test_joining_records_consent_with_notice_version_method_and_controller(client, invited):
    r = client.post(
        f"/family/join/{invited['token']}",
        data={"agree": "y", "news": "y", "signin": "password", "password": "a long enough password"},
    )
    assert r.status_code == 303 and r.headers["Location"].endswith("/family/")
    rows = db.session.scalars(sa.select(ConsentRecord).order_by(ConsentRecord.id)).all()
    by_purpose = {r.purpose: r for r in rows}
    service = by_purpose[ConsentPurpose.SERVICE]
    assert service.granted and service.notice.version == "3.0"
    assert service.method.value == "invitation" and service.organisation_id == invited["org"].id
    assert service.on_behalf_of == "themselves and their child"
    assert by_purpose[ConsentPurpose.NEWS].granted is True
    assert by_purpose[ConsentPurpose.PROMO_PHOTOS].granted is False
    assert by_purpose[ConsentPurpose.SMS_REMINDERS].granted is False
    carer = db.session.get(User, invited["carer"].id)
    assert carer.status is UserStatus.ACTIVE and carer.password_hash
    assert db.session.get(Invitation, invited["inv"].id).status is InvitationStatus.ACCEPTED
    home = client.get("/family/")
    assert home.status_code == 200 and "Milo" in home.get_data(as_text=True)


def test_text_sign_in_needs_a_valid_uk_mobile(client, invited):
    r = client.post(
        f"/family/join/{invited['token']}", data={"agree": "y", "signin": "sms_code", "mobile": "12345"}
    )
    assert r.status_code == 422 and "UK mobile number" in r.get_data(as_text=True)
    r = client.post(
        f"/family/join/{invited['token']}",
        data={"agree": "y", "signin": "sms_code", "mobile": "07911 123456"},
    )
    assert r.status_code == 303
    assert db.session.get(User, invited["carer"].id).mobile == "+447911123456"


def test_a_used_link_cannot_be_used_again(client, invited):
    client.post(f"/family/join/{invited['token']}", data={"agree": "y", "signin": "email_link"})
    client.post("/auth/signout")
    r = app_client_get(client, f"/family/join/{invited['token']}")
    assert r.status_code == 410 and "already been used" in r.get_data(as_text=True)


def app_client_get(client, url):
    client.delete_cookie("session")
    return client.get(url)


def test_expired_revoked_and_forged_links_explain_what_to_do(client, invited):
    inv = db.session.get(Invitation, invited["inv"].id)
    inv.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    r = client.get(f"/family/join/{invited['token']}")
    assert r.status_code == 410 and "ask the school office" in r.get_data(as_text=True)
    newer = invitations.create(invited["org"].id, invited["carer"])
    db.session.commit()
    assert db.session.get(Invitation, inv.id).status is InvitationStatus.REVOKED
    assert client.get(f"/family/join/{invitations.token_for(newer.id)}").status_code == 200
    r = client.get("/family/join/not-a-real-token")
    assert r.status_code == 404 and "don&#39;t recognise" in r.get_data(as_text=True)


def test_a_letter_code_leads_to_the_same_join_page(client, invited):
    r = client.post("/family/join", data={"code": invited["code"].lower().replace("-", " ")})
    assert r.status_code == 303
    assert r.headers["Location"].endswith(f"/family/join/{invited['token']}")


def test_guessing_codes_is_rate_limited(client, invited):
    statuses = [client.post("/family/join", data={"code": f"ZZZZ-ZZ{i:02d}"}).status_code for i in range(11)]
    assert statuses[:10] == [422] * 10  # the code box again, with the message
    assert statuses[10] == 429


def test_a_mistyped_letter_code_keeps_the_box_and_what_was_typed(client, invited):
    r = client.post("/family/join", data={"code": "ABCD-2346"})
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert "We don&#39;t recognise that invitation" in page or "We don't recognise that invitation" in page
    assert 'name="code"' in page and 'value="ABCD-2346"' in page and 'aria-invalid="true"' in page


def test_join_errors_are_in_plain_words(client, invited):
    r = client.post(
        f"/family/join/{invited['token']}", data={"agree": "y", "signin": "password", "password": "short"}
    )
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "at least 10 characters" in page
    assert "Field must be" not in page and "controller" not in page
