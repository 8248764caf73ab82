"""The office's privacy desk through its pages: logging a request with the day it arrived, every
step with its audit trail, refusals that change nothing, trust-level DPO scope (P12) and the
dashboard's query budget."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.dataprotection.requests import deadlines, intake
from app.dataprotection.requests import workflow as pr
from app.models import (
    ActivityLog,
    PrivacyRequest,
    RequestChannel,
    RequestEvent,
    RequestKind,
    RequestState,
    Role,
)
from tests import factories as f
from tests.queries import statements

S = RequestState


@pytest.fixture()
def school(ctx):
    oak = f.oak_family()
    return oak | {
        "office": f.staff(oak["org"], Role.OFFICE, name="Olive Office"),
        "today": pr.local_today(oak["org"]),
    }


def _log(client, today, days_ago, **kw):
    data = {
        "kind": "access",
        "channel": "letter",
        "requester_name": "Lettie Writer",
        "requester_email": "lettie@family.example",
        "received_on": (today - timedelta(days=days_ago)).isoformat(),
        "details": "A copy",
    }
    data.update(kw)
    return client.post("/office/requests/new", data=data)


def _state(req_id):
    db.session.expire_all()
    req = db.session.get(PrivacyRequest, req_id)
    events = db.session.scalar(
        sa.select(sa.func.count()).select_from(RequestEvent).where(RequestEvent.request_id == req_id)
    )
    return req.state, req.due_on, req.paused_days, req.extension_months, events


@pytest.mark.promise("P27")
def test_the_office_logs_a_letter_and_the_clock_starts_the_day_it_arrived(client, school):
    f.login(client, school["office"])
    form = client.get("/office/requests/new").get_data(as_text=True)
    assert "Ada Smith" in form and school["today"].isoformat() in form
    response = _log(client, school["today"], 10)
    assert response.status_code == 303
    req = db.session.scalar(sa.select(PrivacyRequest))
    arrived = school["today"] - timedelta(days=10)
    assert (req.received_on, req.channel) == (arrived, RequestChannel.LETTER)
    assert req.due_on == deadlines.due_date(arrived)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert arrived.strftime("%A %-d %B %Y") in page  # the clock's start
    assert req.due_on.strftime("%A %-d %B %Y") in page
    assert deadlines.describe_due(req.due_on, school["today"]) in page
    assert "Logged by the office (letter)." in page and "Olive Office" in page


@pytest.mark.promise("P28")
def test_a_request_on_behalf_of_a_child_shows_it(client, school):
    f.login(client, school["office"])
    _log(client, school["today"], 0, pupil_id=str(school["child"].id))
    req = db.session.scalar(sa.select(PrivacyRequest))
    assert (req.on_behalf_of, req.subject_pupil_id) == ("child", school["child"].id)
    page = client.get(f"/office/requests/{req.id}").get_data(as_text=True)
    assert "on behalf of their child <strong>Ada Smith</strong>" in page


def test_logging_refuses_bad_input_with_the_form(client, school):
    f.login(client, school["office"])
    future = _log(client, school["today"], -1)
    assert future.status_code == 422
    assert "cannot be in the future" in future.get_data(as_text=True)
    nameless = _log(client, school["today"], 0, requester_name="")
    assert nameless.status_code == 422
    assert "Give the requester&#39;s name." in nameless.get_data(as_text=True)
    assert _log(client, school["today"], 0, received_on="yesterday").status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PrivacyRequest)) == 0


def _step(client, req_id, to, **data):
    return client.post(f"/office/requests/{req_id}/step", data={"to": to, **data})


@pytest.mark.promise("P27")
def test_every_step_through_the_pages_with_its_audit_trail(client, school):
    f.login(client, school["office"])
    today = school["today"]
    _log(client, today, 6)
    req_id = db.session.scalar(sa.select(PrivacyRequest.id))
    page = client.get(f"/office/requests/{req_id}").get_data(as_text=True)
    assert "Check identity first" in page and "Complete" not in page

    assert _step(client, req_id, "identity_check", note="Asked for ID").status_code == 303
    checked = today - timedelta(days=4)
    assert _step(client, req_id, "in_progress", on=checked.isoformat()).status_code == 303
    assert _state(req_id)[1] == deadlines.due_date(checked)
    paused_on = today - timedelta(days=3)
    assert _step(client, req_id, "paused", on=paused_on.isoformat(), note="Which photos?").status_code == 303
    assert _step(client, req_id, "in_progress", on=today.isoformat()).status_code == 303
    state, due, paused, _, _ = _state(req_id)
    assert (state, paused) == (S.IN_PROGRESS, 3)
    assert due == deadlines.due_date(checked, paused_days=3)
    assert (
        client.post(
            f"/office/requests/{req_id}/extend", data={"months": "1", "reason": "Many photos to review"}
        ).status_code
        == 303
    )
    assert _state(req_id)[3] == 1
    assert _step(client, req_id, "completed", note="Sent by post").status_code == 303
    assert _state(req_id)[0] is S.COMPLETED

    page = client.get(f"/office/requests/{req_id}").get_data(as_text=True)
    trail = page[page.index('id="trail"') :]
    for text in (
        "Received → Checking identity",
        "Asked for ID",
        "Checking identity → In progress",
        "In progress → Paused for clarification",
        "Which photos?",
        "Paused for clarification → In progress",
        "Extended by 1 month: Many photos to review",
        "In progress → Completed",
        "Sent by post",
    ):
        assert text in trail, text
    assert trail.count("Olive Office") == 7
    assert "Next steps" not in page  # nothing more to do


@pytest.mark.parametrize("to", ["completed", "paused", "identity_check", "nonsense"])
def test_a_step_out_of_order_shows_the_message_with_409_and_changes_nothing(client, school, to):
    f.login(client, school["office"])
    _log(client, school["today"], 2)
    req_id = db.session.scalar(sa.select(PrivacyRequest.id))
    _step(client, req_id, "in_progress")
    before = _state(req_id)
    if to == "identity_check":
        response = _step(client, req_id, to)
        assert response.status_code == 409
        assert "A request that is in progress cannot be checking identity now." in response.get_data(
            as_text=True
        )
    elif to == "nonsense":
        assert _step(client, req_id, to).status_code == 422
    else:
        _step(client, req_id, "completed")
        response = _step(client, req_id, to)
        assert response.status_code == 409
        assert "A request that is completed cannot be" in response.get_data(as_text=True)
        before = (S.COMPLETED, *before[1:4], before[4] + 1)
    assert _state(req_id) == before


def test_refusing_needs_a_reason(client, school):
    f.login(client, school["office"])
    _log(client, school["today"], 1)
    req_id = db.session.scalar(sa.select(PrivacyRequest.id))
    before = _state(req_id)
    response = _step(client, req_id, "refused", note="  ")
    assert response.status_code == 422
    assert "Give the reason for refusing" in response.get_data(as_text=True)
    assert _state(req_id) == before
    assert _step(client, req_id, "refused", note="Manifestly unfounded").status_code == 303
    assert _state(req_id)[0] is S.REFUSED


@pytest.mark.promise("P27")
def test_no_extension_once_the_first_deadline_has_passed(client, school):
    f.login(client, school["office"])
    _log(client, school["today"], 40)
    req_id = db.session.scalar(sa.select(PrivacyRequest.id))
    _step(client, req_id, "in_progress")
    page = client.get(f"/office/requests/{req_id}").get_data(as_text=True)
    assert "it can no longer be extended" in page
    before = _state(req_id)
    response = client.post(f"/office/requests/{req_id}/extend", data={"months": "2", "reason": "Complex"})
    assert response.status_code == 409
    assert "The first deadline has passed" in response.get_data(as_text=True)
    assert _state(req_id) == before
    bad = client.post(f"/office/requests/{req_id}/extend", data={"months": "3", "reason": "x"})
    assert bad.status_code == 422 and _state(req_id) == before


@pytest.fixture()
def trust(ctx):
    group = f.trust(name="Forest Trust")
    oak, elm = (
        f.school(name="Oak Primary", trust_id=group.id),
        f.school(name="Elm Primary", trust_id=group.id),
    )
    elsewhere = f.school(name="Lone School")
    requests = {}
    for org in (oak, elm, elsewhere):
        office = f.staff(org, Role.OFFICE)
        requests[org.name] = intake.log_request(
            office,
            org.id,
            kind="erasure",
            channel="phone",
            requester_name=f"Caller {org.name}",
            requester_email=f"caller@{org.id}.example",
            received_on=pr.local_today(org),
        )
    return {
        "oak": oak,
        "elm": elm,
        "requests": requests,
        "dpo": f.staff(None, Role.DPO, trust_id=group.id, name="Trust DPO"),
        "oak_office": f.staff(oak, Role.OFFICE),
        "teacher": f.staff(oak, Role.TEACHER),
    }


@pytest.mark.promise("P12")
def test_a_trust_dpo_sees_every_school_of_the_trust_and_an_office_only_its_own(client, trust):
    reqs = trust["requests"]
    f.login(client, trust["dpo"])
    desk = client.get("/office/requests").get_data(as_text=True)
    assert "Caller Oak Primary" in desk and "Caller Elm Primary" in desk
    assert "Caller Lone School" not in desk
    assert client.get(f"/office/requests/{reqs['Elm Primary'].id}").status_code == 200
    assert client.get(f"/office/requests/{reqs['Lone School'].id}").status_code == 404
    assert _step(client, reqs["Elm Primary"].id, "in_progress").status_code == 303

    f.login(client, trust["oak_office"])
    desk = client.get("/office/requests").get_data(as_text=True)
    assert "Caller Oak Primary" in desk and "Caller Elm Primary" not in desk
    elm_id = reqs["Elm Primary"].id
    before = _state(elm_id)
    assert client.get(f"/office/requests/{elm_id}").status_code == 404
    assert _step(client, elm_id, "completed").status_code == 404
    assert (
        client.post(f"/office/requests/{elm_id}/extend", data={"months": "1", "reason": "x"}).status_code
        == 404
    )
    assert _state(elm_id) == before

    f.login(client, trust["teacher"])
    assert client.get("/office/requests").status_code == 403


def add_requests(org, pupils, today, n=500):
    """``n`` open requests in every state, due from 40 days ago to 30 days ahead."""
    states = [S.RECEIVED, S.IDENTITY_CHECK, S.IN_PROGRESS, S.PAUSED]
    rows = []
    for i in range(n):
        state = states[i % 4]
        arrived = today - timedelta(days=i % 70)
        rows.append(
            PrivacyRequest(
                organisation_id=org.id,
                kind=list(RequestKind)[i % 7],
                state=state,
                channel=RequestChannel.PHONE,
                requester_name=f"Person {i}",
                requester_email=f"p{i}@family.example",
                subject_pupil_id=pupils[i % len(pupils)].id if i % 2 else None,
                on_behalf_of="child" if i % 2 else "self",
                details="",
                received_on=arrived,
                paused_days=0,
                paused_since=arrived if state is S.PAUSED else None,
                due_on=deadlines.due_date(arrived),
                extension_months=0,
            )
        )
    db.session.add_all(rows)
    db.session.commit()


def test_the_dashboard_with_500_requests_takes_at_most_10_queries(client, school):
    pupils = [f.pupil(school["cls"]) for _ in range(20)]
    add_requests(school["org"], pupils, school["today"])
    f.login(client, school["office"])
    client.get("/office/requests")  # warm-up (first-request work outside the budget)
    with statements() as queries:
        response = client.get("/office/requests")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Overdue (" in page and "Person 1" in page
    assert len(queries) <= 10, "\n".join(queries)


def test_a_public_request_reaches_the_desk_only_once_confirmed(client, school):
    req, token = intake.submit_public_request(
        school["org"].id,
        kind="access",
        requester_name="Former Parent",
        requester_email="former@family.example",
    )
    f.login(client, school["office"])
    assert "Former Parent" not in client.get("/office/requests").get_data(as_text=True)
    intake.confirm_public_request(token)
    desk = client.get("/office/requests").get_data(as_text=True)
    assert "Former Parent" in desk and f'/office/requests/{req.id}"' in desk


@pytest.mark.promise("P27")
def test_the_daily_reminder_is_scheduled_and_the_desk_is_reachable_from_the_rights_page(client, school):
    from app.dataprotection.requests.jobs import remind_office_of_due_requests
    from app.jobs.schedule import SCHEDULE

    assert any(
        func is remind_office_of_due_requests and cron.split()[2:] == ["*", "*", "*"]
        for func, cron, _ in SCHEDULE
    )
    f.login(client, school["office"])
    assert 'href="/office/requests"' in client.get("/privacy/").get_data(as_text=True)


def test_the_request_page_links_to_the_export_person_and_erasure_pages(client, school):
    f.login(client, school["office"])
    child = str(school["child"].id)
    _log(client, school["today"], 1, kind="erasure", pupil_id=child)
    _log(client, school["today"], 1, kind="access", pupil_id=child)
    erasure_id, access_id = db.session.scalars(sa.select(PrivacyRequest.id).order_by(PrivacyRequest.id)).all()

    page = client.get(f"/office/requests/{erasure_id}").get_data(as_text=True)
    preview = f"/office/people/pupils/{child}/erase"
    assert preview in page and f'href="/office/people/pupils/{child}"' in page
    assert client.get(preview).status_code == 200

    assert "Build the copy of the data" not in client.get(f"/office/requests/{access_id}").get_data(
        as_text=True
    )  # not in progress yet
    _step(client, access_id, "in_progress")
    page = client.get(f"/office/requests/{access_id}").get_data(as_text=True)
    assert f'action="/office/requests/{access_id}/export"' in page
    assert client.post(f"/office/requests/{access_id}/export").status_code == 303
    assert "Export E" in client.get(f"/office/requests/{access_id}").get_data(as_text=True)


@pytest.mark.promise("P15")
def test_viewing_a_request_is_logged_with_its_school(client, school):
    f.login(client, school["office"])
    _log(client, school["today"], 0)
    req = db.session.scalar(sa.select(PrivacyRequest))
    assert client.get(f"/office/requests/{req.id}").status_code == 200
    logged = db.session.execute(
        sa.select(ActivityLog.user_id, ActivityLog.organisation_id).where(
            ActivityLog.event == "privacy_request.viewed", ActivityLog.subject == f"request:{req.id}"
        )
    ).all()
    assert logged == [(school["office"].id, school["org"].id)]  # kept for this school's period
