"""Requests from people who gave no email address: a parent with only a mobile, a letter with
only a postal address. No address is made up for them (the column stays empty), the one open
request per person, subject and kind still holds for the parent (keyed by their account), and
nobody is ever emailed at, or shown, an address that does not exist."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.dataprotection.exports import service as exports
from app.dataprotection.requests import intake
from app.dataprotection.requests import workflow as pr
from app.models import (
    Channel,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    DeliveryStatus,
    NotificationDelivery,
    OutboxMessage,
    PrivacyRequest,
    RequestState,
    Role,
)
from tests import factories as f
from tests.privacy_data import in_progress

S = RequestState


@pytest.fixture()
def school(ctx):
    org = f.school(name="Oak Primary")
    cls = f.school_class(org)
    mum = f.parent(name="Mobile Mum", email=None, mobile="+447700900321", sms_notifications=True)
    db.session.add(
        ConsentRecord(
            user_id=mum.id, purpose=ConsentPurpose.SMS_REMINDERS, granted=True, method=ConsentMethod.WEB_FORM
        )
    )
    child = f.pupil(cls, mum, first_name="Ada", last_name="Smith")
    return {
        "org": org,
        "cls": cls,
        "mum": mum,
        "child": child,
        "office": f.staff(org, Role.OFFICE, name="Olive Office"),
        "today": pr.local_today(org),
    }


def _letter(s, **kw):
    kw.setdefault("kind", "access")
    return intake.log_request(
        s["office"],
        s["org"].id,
        channel="letter",
        requester_name=kw.pop("name", "Grandad Post"),
        requester_email=" ",
        received_on=s["today"] - timedelta(days=2),
        **kw,
    )


def _no_made_up_addresses():
    """Nothing was ever sent to a missing or made-up address, and none is stored."""
    sent = db.session.scalars(sa.select(OutboxMessage.to)).all()
    assert not [to for to in sent if not to or to.endswith(".invalid")]
    stored = db.session.scalars(sa.select(PrivacyRequest.requester_email)).all()
    assert not [e for e in stored if e is not None and (not e.strip() or "invalid" in e)]


# --- a parent with only a mobile -----------------------------------------------------------------


@pytest.mark.promise("P27")
def test_a_mobile_only_parent_stores_no_email_and_a_second_open_request_is_refused(school):
    mum, child = school["mum"], school["child"]
    own = intake.request_as_parent(mum, kind="access")
    about_child = intake.request_as_parent(mum, kind="access", pupil_id=child.id)
    assert (own.requester_email, own.requester_id) == (None, mum.id)
    assert about_child.requester_email is None
    for pupil_id in (None, child.id):  # about oneself (the check) and the child (the index too)
        with pytest.raises(pr.RequestError) as refused:
            intake.request_as_parent(mum, kind="access", pupil_id=pupil_id)
        assert refused.value.status == 409
        assert "already an open request of this kind" in refused.value.message
    assert intake.request_as_parent(mum, kind="erasure").requester_email is None  # another kind
    # Another parent with only a mobile is another person.
    dad = f.parent(name="Mobile Dad", email=None, mobile="+447700900322")
    f.pupil(school["cls"], dad)
    assert intake.request_as_parent(dad, kind="access").requester_id == dad.id

    pr.transition(own.id, S.WITHDRAWN, actor=mum, note="Sorted out at the gate")
    assert intake.request_as_parent(mum, kind="access").id != own.id
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(PrivacyRequest)
            .where(PrivacyRequest.requester_id == mum.id)
        )
        == 4
    )


def test_the_unique_index_keys_a_parent_without_email_by_their_account(school):
    req = intake.request_as_parent(school["mum"], kind="erasure", pupil_id=school["child"].id)
    with pytest.raises(pr.RequestError) as refused:
        with pr.transaction():  # a racing writer that skipped the check
            db.session.add(
                PrivacyRequest(
                    organisation_id=req.organisation_id,
                    kind=req.kind,
                    channel=req.channel,
                    requester_id=req.requester_id,
                    requester_name="x",
                    requester_email=None,
                    subject_pupil_id=req.subject_pupil_id,
                    received_on=req.received_on,
                )
            )
    assert "already an open request" in refused.value.message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PrivacyRequest)) == 1


def test_a_mobile_only_parent_is_told_by_text_and_nobody_is_emailed(school, run_jobs):
    mum, office = school["mum"], school["office"]
    req = intake.request_as_parent(mum, kind="rectification", details="My surname is wrong")
    in_progress(req.id, office)
    pr.transition(req.id, S.COMPLETED, actor=office, note="Corrected")
    assert run_jobs() == 0
    told = db.session.execute(
        sa.select(NotificationDelivery.template, NotificationDelivery.channel).where(
            NotificationDelivery.user_id == mum.id
        )
    ).all()
    # By text, through the notification service (sent now, or in the morning after quiet hours).
    assert set(told) == {("request_received", Channel.SMS), ("request_completed", Channel.SMS)}
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.channel == Channel.EMAIL)
        )
        == 0
    )
    _no_made_up_addresses()


@pytest.mark.promise("P27")
def test_replies_about_their_own_request_reach_people_who_turned_messages_off(school, run_jobs):
    """Like a sign-in code, a reply to someone's own request is not a notification they can
    switch off: by text for a parent with only a mobile (no SMS consent needed), by email for
    a parent who turned email notifications off. Other messages stay off."""
    from app.messaging.notify import notify

    mum = school["mum"]
    mum.sms_notifications = False
    dad = f.parent(name="Quiet Dad", email="dad@family.example", email_notifications=False)
    f.pupil(school["cls"], dad)
    db.session.commit()
    for parent in (mum, dad):
        intake.request_as_parent(parent, kind="access")
        notify("news", event_key=f"news:{parent.id}", user_ids=[parent.id], organisation_id=school["org"].id)
    db.session.commit()
    assert run_jobs() == 0
    rows = db.session.execute(
        sa.select(
            NotificationDelivery.user_id,
            NotificationDelivery.template,
            NotificationDelivery.channel,
            NotificationDelivery.status,
        )
    ).all()
    sent = {(u, t, c) for u, t, c, status in rows if status is not DeliveryStatus.SUPPRESSED}
    assert (mum.id, "request_received", Channel.SMS) in sent
    assert (dad.id, "request_received", Channel.EMAIL) in sent
    assert not [r for r in sent if r[1] == "news"], "other messages stay off"


def test_the_office_page_says_no_email_was_given(school, client):
    req = intake.request_as_parent(school["mum"], kind="access")
    letter = _letter(school, kind="erasure")
    f.login(client, school["office"])
    page = client.get(f"/office/requests/{req.id}").get_data(as_text=True)
    assert "Mobile Mum</strong> (no email given: told through their account)" in page
    page = client.get(f"/office/requests/{letter.id}").get_data(as_text=True)
    assert "Grandad Post</strong> (no email given: answer by post)" in page
    for request_id in (req.id, letter.id):
        page = client.get(f"/office/requests/{request_id}").get_data(as_text=True)
        assert "&lt;None&gt;" not in page and "invalid" not in page


# --- a letter with only a postal address ---------------------------------------------------------


def test_a_letter_without_email_stores_none_emails_nobody_and_is_not_deduplicated(school):
    first, second = _letter(school), _letter(school)  # two people nobody can tell apart
    assert (first.requester_email, first.requester_id) == (None, None)
    assert second.id != first.id and second.requester_email is None
    in_progress(first.id, school["office"])
    pr.transition(first.id, S.REFUSED, actor=school["office"], note="Not enough to go on")
    pr.transition(second.id, S.WITHDRAWN, actor=school["office"], note="They rang to stop it")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0
    _no_made_up_addresses()


@pytest.mark.promise("P22")
def test_exports_work_for_requests_without_an_email_address(school, client, run_jobs):
    office = school["office"]
    parent_req = intake.request_as_parent(school["mum"], kind="access")
    letter = _letter(school, name="Lettie Writer", details="LETTER-ONLY details")
    _letter(school, name="Someone Else", details="SOMEONE-ELSE details")
    assert exports.subject_for(parent_req).user_id == school["mum"].id
    assert exports.subject_for(letter).email is None
    zips = {}
    for req in (parent_req, letter):
        in_progress(req.id, office)
        export = exports.start(req.id, office)
        assert run_jobs() == 0
        f.login(client, office)
        response = client.get(f"/office/exports/{export.id}/download")
        assert response.status_code == 200, response.get_data(as_text=True)[:300]
        zips[req.id] = response.get_data()
    mine = json.loads(zipfile.ZipFile(io.BytesIO(zips[parent_req.id])).read("data.json"))
    assert mine["records"]["users"][0]["mobile"] == "+447700900321"
    assert [r["requester_email"] for r in mine["records"]["privacy_requests"]] == [None]
    theirs = zipfile.ZipFile(io.BytesIO(zips[letter.id]))
    records = json.loads(theirs.read("data.json"))["records"]
    assert [r["details"] for r in records["privacy_requests"]] == ["LETTER-ONLY details"]
    assert records["request_events"] and "users" not in records
    everything = b"".join(theirs.read(n) for n in theirs.namelist())
    assert b"SOMEONE-ELSE" not in everything and b".invalid" not in everything
