"""A carer's settings: every consent change appended with the notice version (P08), withdrawing
the promotion consent everywhere at once, quiet hours, and correcting their own details (P10,
P24)."""

from __future__ import annotations

import re
from datetime import time
from html import unescape

import pytest
import sqlalchemy as sa

from app.core import consent
from app.core.extensions import db
from app.models import (
    ActivityLog,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    Contribution,
    PrivacyNotice,
    User,
    utcnow,
)
from tests import factories as f
from tests.html_check import Page
from tests.parents_data import family, family_in, item_of

HX = {"HX-Request": "true"}


def _records(user, purpose=None):
    query = sa.select(ConsentRecord).where(ConsentRecord.user_id == user.id)
    if purpose:
        query = query.where(ConsentRecord.purpose == purpose)
    return db.session.scalars(query.order_by(ConsentRecord.id)).all()


def _notice(org=None, version="2.0"):
    row = PrivacyNotice(
        organisation_id=org.id if org else None,
        version=version,
        summary="Plain words.",
        body="The notice.",
        published_at=utcnow(),
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_the_settings_page_has_a_real_form_for_every_setting(client):
    fam = family()
    f.login(client, fam.parent)
    r = client.get("/family/settings")
    assert r.status_code == 200
    page = Page(r.get_data(as_text=True))
    actions = {
        e.attrs["action"].partition("#")[0]
        for e in page.elements
        if e.tag == "form" and e.attrs.get("method") == "post"
    }
    for name in ("email", "sms", "digest", "promo", "news", "performance", "functional"):
        assert f"/family/settings/{name}" in actions, name
    assert {"/family/settings/quiet-hours", "/family/settings/details"} <= actions


@pytest.mark.promise("P08")
@pytest.mark.parametrize(
    "name,purpose",
    [
        ("promo", ConsentPurpose.PROMO_PHOTOS),
        ("news", ConsentPurpose.NEWS),
        ("performance", ConsentPurpose.COOKIES_PERFORMANCE),
        ("functional", ConsentPurpose.COOKIES_FUNCTIONAL),
    ],
)
def test_each_consent_can_be_given_and_withdrawn_and_both_are_kept(client, name, purpose):
    fam = family()
    notice = _notice(fam.org, "3.1")
    f.login(client, fam.parent)
    assert client.post(f"/family/settings/{name}", data={"on": "1"}).status_code == 303
    r = client.post(f"/family/settings/{name}", data={"on": "0", "confirm": "yes"}, headers=HX)
    assert r.status_code == 200 and 'id="toggles"' in r.get_data(as_text=True)
    assert "<html" not in r.get_data(as_text=True)  # only the list of settings
    records = _records(fam.parent, purpose)
    assert [r.granted for r in records] == [True, False]
    assert all(
        r.notice_id == notice.id and r.method is ConsentMethod.WEB_FORM and r.organisation_id == fam.org.id
        for r in records
    )
    assert consent.has_consent(fam.parent.id, purpose) is False


@pytest.mark.promise("P08")
def test_withdrawing_the_promotion_consent_takes_every_photo_and_comment_out_at_once(client):
    fam = family()
    f.login(client, fam.parent)
    client.post("/family/settings/promo", data={"on": "1"})
    item = item_of(fam.numbers, fam.count)
    client.post(
        f"/family/children/{fam.ben.id}/items/{item.id}/send",
        data={"comment": "Share me", "comment_promo": "y"},
    )
    other = item_of(fam.nature, fam.leaves)
    client.post(
        f"/family/children/{fam.cara.id}/items/{other.id}/send",
        data={"comment": "Share me too", "comment_promo": "y"},
    )
    assert all(c.promo_opt_in for c in db.session.scalars(sa.select(Contribution)))
    # the first tap only asks, saying what will happen
    asked = client.post("/family/settings/promo", data={"on": "0"})
    assert asked.status_code == 303 and asked.headers["Location"].endswith("?confirm=promo#t-promo")
    question = client.get(asked.headers["Location"]).get_data(as_text=True)
    assert "Turn this off?" in question and "taken out of" in question and "90 days" in question
    db.session.expire_all()
    assert all(c.promo_opt_in for c in db.session.scalars(sa.select(Contribution)))
    answered = client.post("/family/settings/promo", data={"on": "0", "confirm": "yes"})
    assert answered.headers["Location"].endswith("/family/settings#t-promo")
    page = client.get(answered.headers["Location"]).get_data(as_text=True)
    card = page[page.index('id="t-promo"') :]
    assert 'role="status"' in card[: card.index("</form>")]  # the answer is in the card
    db.session.expire_all()
    rows = db.session.scalars(sa.select(Contribution)).all()
    assert len(rows) == 2
    assert all(not c.promo_opt_in and c.promo_withdrawn_at is not None for c in rows)
    # ... and the per-item opt-in is no longer offered.
    form = client.get(f"/family/children/{fam.ben.id}/items/{item.id}/send")
    assert 'name="comment_promo"' not in form.get_data(as_text=True)


def test_text_reminders_need_a_mobile_and_record_the_consent(client):
    fam = family()
    f.login(client, fam.parent)
    r = client.post("/family/settings/sms", data={"on": "1"}, headers=HX)
    assert r.status_code == 422 and "add your mobile" in r.get_data(as_text=True)
    assert _records(fam.parent, ConsentPurpose.SMS_REMINDERS) == []
    user = db.session.get(User, fam.parent.id)
    user.mobile = "+447700900123"
    db.session.commit()
    assert client.post("/family/settings/sms", data={"on": "1"}).status_code == 303
    db.session.expire_all()
    assert db.session.get(User, fam.parent.id).sms_notifications is True
    assert [r.granted for r in _records(fam.parent, ConsentPurpose.SMS_REMINDERS)] == [True]


def test_email_and_digest_preferences_are_saved(client):
    fam = family()
    f.login(client, fam.parent)
    client.post("/family/settings/digest", data={"on": "1"})
    client.post("/family/settings/email", data={"on": "0"})
    db.session.expire_all()
    user = db.session.get(User, fam.parent.id)
    assert user.weekly_digest is True and user.email_notifications is False
    page = client.get("/family/settings").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", "", unescape(page))
    assert "One weekly email instead of each message: on" in text
    assert "Email messages: off" in text


def test_unknown_settings_and_values_are_refused(client):
    fam = family()
    f.login(client, fam.parent)
    assert client.post("/family/settings/bogus", data={"on": "1"}).status_code == 404
    assert client.post("/family/settings/news", data={"on": "maybe"}).status_code == 422
    assert _records(fam.parent) == []


def test_quiet_hours_can_be_set_refused_when_odd_and_reset(client):
    fam = family()
    f.login(client, fam.parent)
    r = client.post("/family/settings/quiet-hours", data={"quiet_from": "21:30", "quiet_until": "07:15"})
    assert r.status_code == 303
    db.session.expire_all()
    user = db.session.get(User, fam.parent.id)
    assert (user.quiet_from, user.quiet_until) == (time(21, 30), time(7, 15))
    r = client.post("/family/settings/quiet-hours", data={"quiet_from": "21:30"}, headers=HX)
    assert r.status_code == 422 and "both times" in r.get_data(as_text=True)
    r = client.post("/family/settings/quiet-hours", data={"quiet_from": "25:00", "quiet_until": "07:00"})
    assert r.status_code == 422
    client.post("/family/settings/quiet-hours", data={"usual": "1"})
    db.session.expire_all()
    assert db.session.get(User, fam.parent.id).quiet_from is None


@pytest.mark.promise("P10")
@pytest.mark.promise("P24")
def test_a_parent_corrects_their_details_and_the_correction_is_recorded(client):
    fam = family()
    f.login(client, fam.parent)
    r = client.post(
        "/family/settings/details",
        data={"name": "Patricia Parent", "email": "  Patricia@Family.Example ", "mobile": "07911 123456"},
    )
    assert r.status_code == 303 and r.headers["Location"].endswith("#details")
    db.session.expire_all()
    user = db.session.get(User, fam.parent.id)
    assert (user.name, user.email, user.mobile) == (
        "Patricia Parent",
        "patricia@family.example",
        "+447911123456",
    )
    assert user.details_checked_at is not None
    logs = db.session.scalars(sa.select(ActivityLog).where(ActivityLog.event == "details_corrected")).all()
    assert sorted(log.detail for log in logs) == ["email", "mobile", "name"]
    for log in logs:  # the field, never the values
        assert "Patricia" not in (log.detail or "") + (log.subject or "")
        assert "07911" not in (log.detail or "") and log.user_id == fam.parent.id


@pytest.mark.promise("P10")
def test_the_home_page_reminds_a_parent_to_check_their_details(client):
    fam = family()
    f.login(client, fam.parent)
    assert "Check your details" in client.get("/family/").get_data(as_text=True)
    client.post("/family/settings/details", data={"name": "Pat Parent", "email": "pat@family.example"})
    assert "Check your details" not in client.get("/family/").get_data(as_text=True)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ActivityLog)
            .where(ActivityLog.event == "details_corrected")
        )
        == 0
    )  # nothing changed: only "checked"


@pytest.mark.parametrize(
    "data,field,words",
    [
        ({"name": "", "email": "pat@family.example"}, "name", "enter your name"),
        ({"name": "Pat", "email": "not-an-email"}, "email", "like name@example.com"),
        ({"name": "Pat", "email": "pat@family.example", "mobile": "01632 960000"}, "mobile", "UK mobile"),
        ({"name": "Pat", "email": "", "mobile": ""}, "email", "email address or a mobile"),
    ],
)
def test_bad_details_are_a_422_with_the_message_at_the_field(client, data, field, words):
    fam = family()
    f.login(client, fam.parent)
    r = client.post("/family/settings/details", data=data, headers=HX)
    text = r.get_data(as_text=True)
    assert r.status_code == 422 and words in text and f'id="{field}-error"' in text
    db.session.expire_all()
    assert db.session.get(User, fam.parent.id).name == "Pat Parent"


def test_an_email_used_by_another_account_is_a_clear_422(client):
    fam = family()
    f.login(client, fam.parent)
    r = client.post(
        "/family/settings/details", data={"name": "Pat Parent", "email": fam.teacher.email.upper()}
    )
    text = unescape(r.get_data(as_text=True))
    assert r.status_code == 422 and "already used by another Hometime account" in text
    db.session.expire_all()
    assert db.session.get(User, fam.parent.id).email == "pat@family.example"


def test_removing_the_mobile_turns_text_reminders_off_with_a_record(client):
    fam = family()
    user = db.session.get(User, fam.parent.id)
    user.mobile = "+447700900123"
    db.session.commit()
    f.login(client, fam.parent)
    client.post("/family/settings/sms", data={"on": "1"})
    client.post(
        "/family/settings/details", data={"name": "Pat Parent", "email": "pat@family.example", "mobile": ""}
    )
    db.session.expire_all()
    user = db.session.get(User, fam.parent.id)
    assert user.mobile is None and user.sms_notifications is False
    assert [r.granted for r in _records(fam.parent, ConsentPurpose.SMS_REMINDERS)] == [True, False]


def test_saved_quiet_hours_are_told_as_the_carer_writes_the_time(client):
    family_in(client, "ar")
    page = client.get("/family/settings").get_data(as_text=True)
    assert "8:00 م" in page and "8:00 ص" in page, "the usual hours, 20:00 to 08:00, as Arabic writes them"
    r = client.post(
        "/family/settings/quiet-hours", data={"quiet_from": "21:30", "quiet_until": "07:15"}, headers=HX
    )
    assert r.status_code == 200
    said = re.search(r'role="status"[^>]*>([^<]*)<', r.get_data(as_text=True)).group(1)
    assert "9:30 م" in said and "7:15 ص" in said, f"a twelve-hour clock with the Arabic marks: {said}"


def test_a_mistyped_quiet_hour_is_answered_in_plain_words(client):
    fam = family()
    f.login(client, fam.parent)
    r = client.post("/family/settings/quiet-hours", data={"quiet_from": "25:99", "quiet_until": "08:00"})
    page = r.get_data(as_text=True)
    assert r.status_code == 422 and "Please enter a time like 20:00." in page
    assert "Not a valid time value" not in page
