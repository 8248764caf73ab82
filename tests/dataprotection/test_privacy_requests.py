"""Data-protection requests: intake (P28), the workflow on the clock (P27), its audit trail, the
office's desk and the daily reminder through a real RQ worker."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.dataprotection.requests import deadlines, intake
from app.dataprotection.requests import workflow as pr
from app.dataprotection.requests.dashboard import desk
from app.messaging import notify as notifications
from app.models import (
    LoginToken,
    NotificationDelivery,
    OutboxMessage,
    PrivacyRequest,
    RequestEvent,
    RequestState,
    Role,
    utcnow,
)
from tests import factories as f
from tests.dataprotection.test_deadlines import PAUSE_CASES
from tests.queries import statements

S = RequestState


@pytest.fixture()
def school(ctx):
    org = f.school()
    cls = f.school_class(org)
    mum = f.parent()
    child = f.pupil(cls, mum)
    return {
        "org": org,
        "cls": cls,
        "office": f.staff(org, Role.OFFICE),
        "mum": mum,
        "child": child,
        "today": pr.local_today(org),
    }


def _events(req_id):
    return db.session.execute(
        sa.select(RequestEvent.from_state, RequestEvent.to_state, RequestEvent.actor_id, RequestEvent.note)
        .where(RequestEvent.request_id == req_id)
        .order_by(RequestEvent.id)
    ).all()


def _snapshot(req_id):
    db.session.expire_all()
    req = db.session.get(PrivacyRequest, req_id)
    return (
        req.state,
        req.due_on,
        req.paused_days,
        req.paused_since,
        req.extension_months,
        req.identity_checked_on,
        len(_events(req_id)),
    )


def _told(user_id, template):
    return db.session.scalar(
        sa.select(sa.func.count())
        .select_from(NotificationDelivery)
        .where(NotificationDelivery.user_id == user_id, NotificationDelivery.template == template)
    )


def _emails_to(address):
    return db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.to == address).order_by(OutboxMessage.id)
    ).all()


def _phone_request(s, days_ago, **kw):
    kw.setdefault("requester_email", f"caller{days_ago}@family.example")
    return intake.log_request(
        s["office"],
        s["org"].id,
        kind=kw.pop("kind", "access"),
        channel="phone",
        requester_name="A Caller",
        received_on=s["today"] - timedelta(days=days_ago),
        **kw,
    )


# --- intake -------------------------------------------------------------------------------------


@pytest.mark.promise("P28")
def test_a_parent_asks_about_their_linked_child_and_the_record_says_so(school):
    req = intake.request_as_parent(
        school["mum"], kind="access", pupil_id=school["child"].id, details="Everything you hold about my son"
    )
    assert (req.on_behalf_of, req.subject_pupil_id, req.requester_id) == (
        "child",
        school["child"].id,
        school["mum"].id,
    )
    assert req.organisation_id == school["org"].id
    assert req.due_on == deadlines.due_date(school["today"])
    assert _events(req.id) == [(None, "received", school["mum"].id, "Made online by the requester.")]
    assert _told(school["mum"].id, "request_received") == 1

    own = intake.request_as_parent(school["mum"], kind="access")
    assert (own.on_behalf_of, own.subject_pupil_id) == ("self", None)


@pytest.mark.promise("P28")
def test_a_parent_cannot_ask_about_a_child_not_linked_to_them(school):
    other_child = f.pupil(school["cls"], f.parent())
    with pytest.raises(pr.RequestError) as refused:
        intake.request_as_parent(school["mum"], kind="erasure", pupil_id=other_child.id)
    assert refused.value.status == 404
    assert "linked to your account" in refused.value.message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PrivacyRequest)) == 0


@pytest.mark.promise("P27")
def test_the_office_logs_a_phone_request_with_the_day_it_arrived(school):
    req = _phone_request(school, 3)
    start = school["today"] - timedelta(days=3)
    assert (req.received_on, req.due_on, req.channel.value) == (start, deadlines.due_date(start), "phone")
    assert _events(req.id)[0][1:3] == ("received", school["office"].id)
    # The caller has no account, so they are told by email at the address they gave.
    [email] = _emails_to("caller3@family.example")
    assert school["org"].name in email.subject
    assert f"R{req.id}" in email.text

    with pytest.raises(pr.RequestError) as future:
        _phone_request(school, -1, requester_email="later@family.example")
    assert future.value.status == 422


def test_a_letter_without_an_email_address_can_be_logged(school):
    req = intake.log_request(
        school["office"],
        school["org"].id,
        kind="rectification",
        channel="letter",
        requester_name="Grandad",
        requester_email=" ",
        received_on=school["today"] - timedelta(days=1),
    )
    assert req.requester_id is None and req.due_on is not None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_only_the_office_logs_requests(school):
    teacher = f.staff(school["org"], Role.TEACHER, classes=[school["cls"]])
    with pytest.raises(pr.RequestError) as refused:
        intake.log_request(
            teacher,
            school["org"].id,
            kind="access",
            channel="letter",
            requester_name="X",
            requester_email="x@family.example",
            received_on=school["today"],
        )
    assert refused.value.status == 403


# --- one open request per person, subject and kind ------------------------------------------


@pytest.mark.promise("P27")
def test_a_second_open_request_of_the_same_kind_is_refused_until_the_first_closes(school):
    mum, child = school["mum"], school["child"]
    first_self = intake.request_as_parent(mum, kind="access")
    first_child = intake.request_as_parent(mum, kind="access", pupil_id=child.id)
    for pupil_id in (None, child.id):  # about oneself (a NULL subject) and about the child
        with pytest.raises(pr.RequestError) as refused:
            intake.request_as_parent(mum, kind="access", pupil_id=pupil_id)
        assert refused.value.status == 409
        assert "already an open request" in refused.value.message
    # The office typing in the same person's letter is refused too (case of the email ignored).
    with pytest.raises(pr.RequestError):
        intake.log_request(
            school["office"],
            school["org"].id,
            kind="access",
            channel="letter",
            requester_name=mum.name,
            requester_email=mum.email.upper(),
            received_on=school["today"],
        )
    assert intake.request_as_parent(mum, kind="erasure").kind.value == "erasure"  # another kind

    pr.transition(first_self.id, S.WITHDRAWN, actor=mum, note="Sorted out by phone")
    again = intake.request_as_parent(mum, kind="access")
    assert again.id != first_self.id
    assert db.session.get(PrivacyRequest, first_child.id).state is S.RECEIVED


def test_the_unique_index_backs_the_check_up(school):
    req = intake.request_as_parent(school["mum"], kind="access", pupil_id=school["child"].id)
    with pytest.raises(pr.RequestError) as refused:
        with pr.transaction():  # a racing writer that skipped the check
            db.session.add(
                PrivacyRequest(
                    organisation_id=req.organisation_id,
                    kind=req.kind,
                    channel=req.channel,
                    requester_name="x",
                    requester_email=req.requester_email,
                    subject_pupil_id=req.subject_pupil_id,
                    received_on=req.received_on,
                )
            )
    assert "already an open request" in refused.value.message
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PrivacyRequest)) == 1


# --- the workflow and its audit trail ----------------------------------------------------------


@pytest.mark.promise("P27")
def test_the_whole_workflow_with_identity_check_and_pause(school):
    office, today = school["office"], school["today"]
    req = intake.log_request(
        office,
        school["org"].id,
        kind="access",
        channel="letter",
        requester_name=school["mum"].name,
        requester_email=school["mum"].email,
        received_on=today - timedelta(days=20),
        pupil_id=school["child"].id,
    )
    assert req.requester_id == school["mum"].id  # matched to the account by email
    assert req.on_behalf_of == "child"

    pr.transition(req.id, S.IDENTITY_CHECK, actor=office, note="Asked for ID")
    checked = today - timedelta(days=15)
    req = pr.transition(req.id, S.IN_PROGRESS, actor=office, on=checked)
    assert req.identity_checked_on == checked
    assert req.due_on == deadlines.due_date(checked)  # the clock starts at the check

    paused = today - timedelta(days=10)
    pr.transition(req.id, "paused", actor=office, on=paused, note="Which years?")
    resumed = today - timedelta(days=4)
    req = pr.transition(req.id, "in_progress", actor=office, on=resumed, note="Answer came")
    assert req.paused_days == 6 and req.paused_since is None
    assert req.due_on == deadlines.due_date(checked, paused_days=6)
    assert req.due_on > deadlines.due_date(checked)

    req = pr.transition(req.id, S.COMPLETED, actor=office, note="Sent the export")
    assert req.state is S.COMPLETED and req.closed_at is not None
    assert [(e[0], e[1], e[2]) for e in _events(req.id)] == [
        (None, "received", office.id),
        ("received", "identity_check", office.id),
        ("identity_check", "in_progress", office.id),
        ("in_progress", "paused", office.id),
        ("paused", "in_progress", office.id),
        ("in_progress", "completed", office.id),
    ]
    assert _told(school["mum"].id, "request_received") == 1
    assert _told(school["mum"].id, "request_completed") == 1


@pytest.mark.parametrize(
    "path,to",
    [
        ((), S.COMPLETED),  # received → completed skips the work
        ((), S.PAUSED),  # only work in progress can be paused
        ((S.IN_PROGRESS, S.PAUSED), S.COMPLETED),  # resume first
        ((S.IN_PROGRESS,), S.IDENTITY_CHECK),  # no going back to the identity check
        ((S.IN_PROGRESS, S.COMPLETED), S.IN_PROGRESS),  # a closed request stays closed
        ((S.WITHDRAWN,), S.REFUSED),
    ],
)
def test_out_of_order_changes_are_refused_with_nothing_changed(school, path, to):
    req = _phone_request(school, 2)
    for step in path:
        pr.transition(req.id, step, actor=school["office"], note="ok")
    before = _snapshot(req.id)
    with pytest.raises(pr.RequestError) as refused:
        pr.transition(req.id, to, actor=school["office"], note="try")
    assert refused.value.status == 409
    assert "cannot be" in refused.value.message
    assert _snapshot(req.id) == before


def test_refusing_needs_a_reason_and_tells_the_requester(school):
    req = intake.request_as_parent(school["mum"], kind="erasure")
    before = _snapshot(req.id)
    with pytest.raises(pr.RequestError) as refused:
        pr.transition(req.id, S.REFUSED, actor=school["office"], note="  ")
    assert refused.value.status == 422 and _snapshot(req.id) == before
    req = pr.transition(
        req.id, S.REFUSED, actor=school["office"], note="We must keep attendance records by law"
    )
    assert req.outcome == "We must keep attendance records by law"
    assert _told(school["mum"].id, "request_refused") == 1


def test_dates_in_the_future_or_before_arrival_are_refused(school):
    req = _phone_request(school, 5)
    pr.transition(req.id, S.IN_PROGRESS, actor=school["office"])
    for day in (school["today"] + timedelta(days=1), school["today"] - timedelta(days=6)):
        with pytest.raises(pr.RequestError) as refused:
            pr.transition(req.id, S.PAUSED, actor=school["office"], on=day)
        assert refused.value.status == 422
    assert db.session.get(PrivacyRequest, req.id).state is S.IN_PROGRESS


def test_who_may_change_a_request(school):
    req = intake.request_as_parent(school["mum"], kind="access")
    for stranger in (f.parent(), f.staff(school["org"], Role.TEACHER), f.staff(f.school(), Role.OFFICE)):
        with pytest.raises(pr.RequestError) as refused:
            pr.transition(req.id, S.WITHDRAWN, actor=stranger)
        assert refused.value.status == 403
    with pytest.raises(pr.RequestError):
        pr.transition(req.id, S.IN_PROGRESS, actor=school["mum"])  # only the office works on it
    assert pr.transition(req.id, S.WITHDRAWN, actor=school["mum"]).state is S.WITHDRAWN


# --- extensions --------------------------------------------------------------------------------


@pytest.mark.promise("P27")
def test_an_extension_needs_a_reason_and_is_two_months_at_most(school):
    office = school["office"]
    req = intake.request_as_parent(school["mum"], kind="access", pupil_id=school["child"].id)
    before = _snapshot(req.id)
    with pytest.raises(pr.RequestError) as early:
        pr.extend(req.id, actor=office, months=1, reason="Complex")  # not started yet
    assert early.value.status == 409 and _snapshot(req.id) == before
    pr.transition(req.id, S.IN_PROGRESS, actor=office)
    before = _snapshot(req.id)
    for months, reason in ((1, ""), (3, "Complex"), (0, "Complex")):
        with pytest.raises(pr.RequestError) as refused:
            pr.extend(req.id, actor=office, months=months, reason=reason)
        assert refused.value.status == 422
        assert _snapshot(req.id) == before

    req = pr.extend(req.id, actor=office, months=1, reason="Three years of photos to review")
    start = school["today"]
    assert req.due_on == deadlines.due_date(start, extension_months=1)
    req = pr.extend(req.id, actor=office, months=1, reason="Other children appear in them")
    assert req.due_on == deadlines.due_date(start, extension_months=2)
    assert req.extension_months == 2
    with pytest.raises(pr.RequestError):
        pr.extend(req.id, actor=office, months=1, reason="Still more")
    notes = [e[3] for e in _events(req.id)]
    assert notes[-2:] == [
        "Extended by 1 month: Three years of photos to review",
        "Extended by 1 month: Other children appear in them",
    ]
    assert _told(school["mum"].id, "request_extended") == 2


@pytest.mark.promise("P27")
def test_no_extension_once_the_first_deadline_has_passed(school):
    req = _phone_request(school, 45)  # due about two weeks ago
    pr.transition(req.id, S.IN_PROGRESS, actor=school["office"])
    before = _snapshot(req.id)
    with pytest.raises(pr.RequestError) as refused:
        pr.extend(req.id, actor=school["office"], months=2, reason="Complex")
    assert "deadline has passed" in refused.value.message
    assert _snapshot(req.id) == before
    assert not _emails_to("caller45@family.example")[1:]  # only the acknowledgement


@pytest.mark.promise("P27")
@pytest.mark.parametrize(
    "start,paused_on,resumed_on,due,why",
    [
        (start, paused_on, resumed_on, due, why)
        for start, paused_on, resumed_on, months, due, why in PAUSE_CASES
        if months == 0
    ],
)
def test_a_pause_around_a_weekend_moves_the_requests_deadline_by_its_days(
    school, start, paused_on, resumed_on, due, why
):
    office = school["office"]
    req = intake.log_request(
        office,
        school["org"].id,
        kind="access",
        channel="phone",
        requester_name="A Caller",
        requester_email="caller@family.example",
        received_on=start,
    )
    req = pr.transition(req.id, S.IN_PROGRESS, actor=office)
    assert req.due_on == deadlines.due_date(start)
    req = pr.transition(req.id, S.PAUSED, actor=office, on=paused_on, note="Which years?")
    assert req.paused_since == paused_on
    req = pr.transition(req.id, S.IN_PROGRESS, actor=office, on=resumed_on, note="Answered")
    assert req.paused_days == (resumed_on - paused_on).days
    assert req.due_on == due, why


@pytest.mark.promise("P27")
def test_a_pause_cannot_start_before_the_clock_did(school):
    office, today = school["office"], school["today"]
    req = intake.log_request(
        office,
        school["org"].id,
        kind="access",
        channel="letter",
        requester_name="A Writer",
        requester_email="writer@family.example",
        received_on=today - timedelta(days=20),
    )
    pr.transition(req.id, S.IDENTITY_CHECK, actor=office, note="Asked for ID")
    checked = today - timedelta(days=10)
    req = pr.transition(req.id, S.IN_PROGRESS, actor=office, on=checked)
    before = _snapshot(req.id)
    with pytest.raises(pr.RequestError) as refused:
        pr.transition(req.id, S.PAUSED, actor=office, on=checked - timedelta(days=5))
    assert refused.value.status == 422 and refused.value.field == "on"
    assert "before the clock started" in refused.value.message
    assert _snapshot(req.id) == before
    req = pr.transition(req.id, S.PAUSED, actor=office, on=checked)  # the day itself is fine
    assert req.paused_since == checked


def test_a_running_pause_keeps_the_extension_possible(school):
    req = _phone_request(school, 40)
    start = school["today"] - timedelta(days=40)
    pr.transition(req.id, S.IN_PROGRESS, actor=school["office"])
    # Paused 35 days ago (5 days after arrival) and still waiting for the requester's answer.
    pr.transition(req.id, S.PAUSED, actor=school["office"], on=start + timedelta(days=5))
    req = pr.extend(req.id, actor=school["office"], months=1, reason="Complex")
    # The running pause is added when the request resumes.
    assert req.due_on == deadlines.due_date(start, extension_months=1)
    [_, extended] = _emails_to("caller40@family.example")
    assert "Complex" in extended.text


# --- the public form -----------------------------------------------------------------------------


def test_a_public_request_counts_once_the_email_is_confirmed(school):
    req, token = intake.submit_public_request(
        school["org"].id,
        kind="access",
        requester_name="Former Parent",
        requester_email="Former@Family.example",
        details="My data from 2024",
    )
    assert req.confirmed_at is None and req.due_on is None
    [confirm] = _emails_to("former@family.example")
    assert f"/privacy/requests/confirm/{token}" in confirm.text
    assert desk([school["org"].id], school["today"] + timedelta(days=40)).overdue == []
    with pytest.raises(pr.RequestError):
        pr.transition(req.id, S.IN_PROGRESS, actor=school["office"])

    for bad in ("forged", token[:-2] + "xx", ""):
        with pytest.raises(pr.RequestError) as refused:
            intake.confirm_public_request(bad)
        assert refused.value.status == 404
    req = intake.confirm_public_request(token)
    assert req.confirmed_at is not None and req.received_on == school["today"]
    assert req.due_on == deadlines.due_date(school["today"])
    assert len(_emails_to("former@family.example")) == 2  # the link, then the acknowledgement
    with pytest.raises(pr.RequestError) as reused:
        intake.confirm_public_request(token)
    assert reused.value.status == 404


def test_an_expired_confirmation_link_is_refused_and_a_new_form_replaces_it(school):
    old, token = intake.submit_public_request(
        school["org"].id, kind="erasure", requester_name="P", requester_email="p@family.example"
    )
    db.session.execute(sa.update(LoginToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    with pytest.raises(pr.RequestError) as expired:
        intake.confirm_public_request(token)
    assert expired.value.status == 410
    assert db.session.get(PrivacyRequest, old.id).confirmed_at is None
    new, token2 = intake.submit_public_request(
        school["org"].id, kind="erasure", requester_name="P", requester_email="p@family.example"
    )
    assert db.session.get(PrivacyRequest, old.id) is None
    assert intake.confirm_public_request(token2).id == new.id


# --- the office's desk and the daily reminder ------------------------------------------------


@pytest.mark.promise("P27")
def test_the_desk_shows_overdue_due_this_week_and_paused_in_one_query(school):
    overdue = _phone_request(school, 40)
    soon = _phone_request(school, 25)
    _phone_request(school, 0)  # due in about a month: not listed
    paused = _phone_request(school, 10)
    pr.transition(paused.id, S.IN_PROGRESS, actor=school["office"])
    pr.transition(paused.id, S.PAUSED, actor=school["office"], note="Which child?")
    elsewhere = f.school()
    intake.log_request(
        f.staff(elsewhere, Role.OFFICE),
        elsewhere.id,
        kind="access",
        channel="email",
        requester_name="Z",
        requester_email="z@family.example",
        received_on=school["today"] - timedelta(days=40),
    )
    org_id = school["org"].id
    db.session.expire_all()

    with statements() as seen:
        found = desk([org_id], school["today"])
        shown = (
            [r.request.id for r in found.overdue],
            [r.request.id for r in found.due_soon],
            [r.request.id for r in found.paused],
            [r.status for r in found.overdue],
        )
    assert len(seen) == 1, seen
    assert shown[:3] == ([overdue.id], [soon.id], [paused.id])
    assert shown[3][0].startswith("Overdue by ")
    assert 0 <= found.due_soon[0].days_left <= 7


@pytest.mark.promise("P27")
def test_the_daily_reminder_reaches_the_office_through_the_worker(school, run_jobs):
    from app.core.jobs import enqueue_now
    from app.dataprotection.requests.jobs import remind_office_of_due_requests

    org = school["org"]
    org.trust_id = f.trust().id
    db.session.commit()
    dpo = f.staff(org, Role.DPO)
    trust_dpo = f.staff(None, Role.DPO, trust_id=org.trust_id)
    other_trust_dpo = f.staff(None, Role.DPO, trust_id=f.trust().id)
    teacher = f.staff(org, Role.TEACHER, classes=[school["cls"]])
    overdue, soon = _phone_request(school, 40), _phone_request(school, 25)
    quiet = f.school()  # nothing due there: nobody is told
    quiet_office = f.staff(quiet, Role.OFFICE)
    db.session.commit()

    day = school["today"].isoformat()
    job = enqueue_now(remind_office_of_due_requests, day, job_id=f"privacy-reminder-{day}")
    run_jobs()
    assert job.get_status(refresh=True) == "finished"
    rows = db.session.execute(
        sa.select(NotificationDelivery.user_id, NotificationDelivery.context).where(
            NotificationDelivery.template == "request_due_reminder"
        )
    ).all()
    assert sorted(r.user_id for r in rows) == sorted([school["office"].id, dpo.id, trust_dpo.id])
    assert {teacher.id, other_trust_dpo.id, quiet_office.id}.isdisjoint(r.user_id for r in rows)
    context = rows[0].context
    assert (context["overdue"], context["due_soon"]) == (1, 1)
    assert context["request_ids"] == [overdue.id, soon.id]

    enqueue_now(remind_office_of_due_requests, day)  # run twice the same day: no second message
    run_jobs()
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(NotificationDelivery)
            .where(NotificationDelivery.template == "request_due_reminder")
        )
        == 3
    )
    message = notifications.render_message(
        "request_due_reminder", user=school["office"], organisation=org, **context
    )
    assert "1 overdue" in message.subject and f"R{overdue.id}" in message.text
