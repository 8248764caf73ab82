"""Restriction and objection (P25): documented, and with real effect until lifted: the person is
left out of messages, reports and promotional use."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.dataprotection.rights import restriction
from app.dataprotection.rights.restriction import (
    RestrictionError,
    parent_reportable,
    promotable_contributions,
    reportable_pupils,
    set_flag,
)
from app.learning import classroom
from app.messaging.notify import notify
from app.models import (
    ActivityLog,
    AwardKind,
    Contribution,
    DeliveryStatus,
    NotificationDelivery,
    Pupil,
    RequestEvent,
    User,
    utcnow,
)
from tests import factories as f
from tests.privacy_data import access_request, two_families

pytestmark = pytest.mark.promise("P25")


@pytest.fixture()
def s(ctx):
    found = two_families()
    for item in (found.amir_photo, found.zara_photo):
        item.promo_opt_in = True
    db.session.commit()
    return found


def _events():
    return db.session.execute(
        sa.select(ActivityLog.event, ActivityLog.user_id, ActivityLog.subject)
        .where(ActivityLog.event.in_(set(restriction.EVENTS.values())))
        .order_by(ActivityLog.id)
    ).all()


def _promotable(s):
    return set(db.session.scalars(promotable_contributions(s.org.id).with_only_columns(Contribution.id)))


def _reportable(s):
    return {p.first_name for p in db.session.scalars(reportable_pupils(s.org.id))}


def _delivery(user_id, event_key):
    return db.session.execute(
        sa.select(NotificationDelivery.status, NotificationDelivery.reason).where(
            NotificationDelivery.user_id == user_id, NotificationDelivery.event_key == event_key
        )
    ).first()


def test_a_restricted_child_is_left_out_of_messages_reports_and_publishing_until_lifted(s):
    assert _promotable(s) == {s.amir_photo.id, s.zara_photo.id}
    assert {"Amir", "Zara"} <= _reportable(s)
    assert set_flag(s.amir, "restriction", True, s.office, note="Parent asked by phone") is True
    assert set_flag(s.amir, "restriction", True, s.office) is False  # already: nothing recorded
    db.session.expire_all()
    assert db.session.get(Pupil, s.amir.id).restricted_at is not None
    # Messages about him are not sent (the delivery row says why).
    classroom.give_award(db.session.get(Pupil, s.amir.id), AwardKind.STAR_OF_THE_WEEK, s.teacher)
    award_key = db.session.scalar(
        sa.select(NotificationDelivery.event_key).where(NotificationDelivery.user_id == s.aisha.id)
    )
    assert _delivery(s.aisha.id, award_key) == (DeliveryStatus.SUPPRESSED, "pupil restricted (P25)")
    # Reports and publishing leave him out.
    assert "Amir" not in _reportable(s) and "Zara" in _reportable(s)
    assert _promotable(s) == {s.zara_photo.id}
    # Lifted: back in.
    assert set_flag(s.amir, "restriction", False, s.office) is True
    assert "Amir" in _reportable(s) and s.amir_photo.id in _promotable(s)
    assert _events() == [
        ("restricted", s.office.id, f"pupil:{s.amir.id}"),
        ("restriction_lifted", s.office.id, f"pupil:{s.amir.id}"),
    ]


def test_an_objecting_parent_gets_no_messages_and_their_items_are_not_published(s):
    assert set_flag(s.mo, "objection", True, s.office) is True
    notify(
        "topic_published",
        event_key="topic:test",
        user_ids=[s.mo.id, s.aisha.id],
        organisation_id=s.org.id,
        context={"topic_id": 1},
    )
    db.session.commit()
    assert _delivery(s.mo.id, "topic:test") == (DeliveryStatus.SUPPRESSED, "objected (P25)")
    assert _delivery(s.aisha.id, "topic:test")[0] is not DeliveryStatus.SUPPRESSED
    assert _promotable(s) == {s.amir_photo.id}
    names = set(
        db.session.scalars(
            sa.select(User.name).where(parent_reportable(), User.id.in_([s.mo.id, s.aisha.id]))
        )
    )
    assert names == {"Aisha Khan"}
    set_flag(s.mo, "objection", False, s.office)
    assert _promotable(s) == {s.amir_photo.id, s.zara_photo.id}


def test_never_use_again_withdrawn_and_hidden_items_are_never_promotable(s):
    s.amir_photo.never_use_again = True
    s.zara_photo.promo_withdrawn_at = utcnow()
    db.session.commit()
    assert _promotable(s) == set()


def test_a_restriction_under_a_request_is_in_its_trail(s):
    req = access_request(s, pupil=None, kind="restriction")
    with pytest.raises(RestrictionError):
        set_flag(s.aisha, "restriction", True, s.office, request_id=999999)
    with pytest.raises(RestrictionError):
        set_flag(s.aisha, "objection", True, s.office, request_id=req.id)  # wrong kind
    assert db.session.get(User, s.aisha.id).objected_at is None
    set_flag(s.aisha, "restriction", True, s.office, request_id=req.id, note="Disputes accuracy")
    note = db.session.scalars(
        sa.select(RequestEvent.note).where(RequestEvent.request_id == req.id).order_by(RequestEvent.id.desc())
    ).first()
    assert note == "Restriction set on the parent's account: Disputes accuracy"


def test_bad_changes_are_refused(s):
    with pytest.raises(RestrictionError):
        set_flag(s.amir, "objection", True, s.office)  # a child's record is restricted instead
    with pytest.raises(RestrictionError) as refused:
        set_flag(s.zara, "restriction", True, s.elm_office)
    assert refused.value.status == 404
    with pytest.raises(RestrictionError):
        set_flag(s.teacher, "restriction", True, s.office)
    assert db.session.get(Pupil, s.zara.id).restricted_at is None
    assert _events() == []


def test_the_office_restricts_and_lifts_on_the_persons_page(s, client):
    f.login(client, s.office)
    done = client.post(
        f"/office/people/parents/{s.mo.id}/flag",
        data={"f-kind": "objection", "f-action": "set", "f-note": "By letter"},
    )
    assert done.status_code == 303
    page = client.get(f"/office/people/parents/{s.mo.id}").get_data(as_text=True)
    assert "Objected since" in page
    bad = client.post(
        f"/office/people/pupils/{s.zara.id}/flag", data={"f-kind": "objection", "f-action": "set"}
    )
    assert bad.status_code == 422
    listing = client.get("/office/people?q=moore").get_data(as_text=True)
    assert "Mo Moore" in listing and "objected" in listing and "Amir" not in listing
    f.login(client, s.elm_office)
    assert (
        client.post(
            f"/office/people/parents/{s.mo.id}/flag", data={"f-kind": "objection", "f-action": "lift"}
        ).status_code
        == 404
    )
    db.session.expire_all()
    assert db.session.get(User, s.mo.id).objected_at is not None
