"""Making data-protection requests through the pages: a parent (fresh sign-in, for themselves or
a linked child: P28), the public form with its emailed confirmation link, and the rights page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.dataprotection.requests import deadlines
from app.dataprotection.requests import workflow as pr
from app.models import LoginToken, OutboxMessage, PrivacyRequest, RequestEvent, RequestState, Role, utcnow
from tests import factories as f


@pytest.fixture()
def family(ctx):
    oak = f.oak_family()
    return oak | {
        "other_child": f.pupil(oak["cls"], f.parent(), first_name="Bob", last_name="Jones"),
        "today": pr.local_today(oak["org"]),
    }


def _count():
    return db.session.scalar(sa.select(sa.func.count()).select_from(PrivacyRequest))


def test_the_rights_page_explains_every_right_in_plain_words(client, family):
    page = client.get("/privacy/").get_data(as_text=True)
    for words in (
        "Get a copy of your data",
        "Have your data deleted",
        "Correct your data",
        "Limit how your data is used",
        "Object to how your data is used",
        "Take your data elsewhere",
        "Something else",
    ):
        assert words in page
    assert 'href="/privacy/ask"' in page  # a visitor is sent to the public form


@pytest.mark.promise("P28")
def test_a_request_needs_a_fresh_sign_in(client, family):
    f.login(client, family["mum"], fresh=False)
    response = client.get("/privacy/requests/new")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/reauth")
    response = client.post("/privacy/requests/new", data={"kind": "access", "about": "self"})
    assert response.status_code == 302 and "/auth/reauth" in response.headers["Location"]
    assert _count() == 0


def test_a_parent_with_children_at_two_schools_chooses_the_school_by_name(client, family):
    f.login(client, family["mum"])
    one_school = client.get("/privacy/requests/new").get_data(as_text=True)
    assert 'name="organisation_id"' not in one_school  # one school: nothing to choose

    ash = f.school(name="Ash Academy")
    f.pupil(f.school_class(ash), family["mum"], first_name="Cy", last_name="Smith")
    page = client.get("/privacy/requests/new").get_data(as_text=True)
    assert "Ada Smith" in page and "Cy Smith" in page and "Bob Jones" not in page
    schools = re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', page)
    assert schools == ["Ash Academy", "Oak Primary"]


@pytest.mark.promise("P28")
def test_a_parent_asks_about_their_child_and_sees_it_listed_with_its_deadline(client, family):
    f.login(client, family["mum"])
    form = client.get("/privacy/requests/new").get_data(as_text=True)
    assert "Ada Smith" in form and "Bob Jones" not in form

    response = client.post(
        "/privacy/requests/new",
        data={"kind": "access", "about": str(family["child"].id), "details": "Everything about Ada"},
    )
    assert response.status_code == 303
    req = db.session.scalar(sa.select(PrivacyRequest))
    assert (req.on_behalf_of, req.subject_pupil_id, req.requester_id, req.state) == (
        "child",
        family["child"].id,
        family["mum"].id,
        RequestState.RECEIVED,
    )
    due = deadlines.due_date(family["today"])
    assert req.due_on == due

    sent = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"R{req.id}" in sent and due.strftime("%-d %B %Y") in sent
    listing = client.get("/privacy/requests").get_data(as_text=True)
    assert "Get a copy of your data for Ada" in listing
    assert "Received" in listing and due.strftime("%-d %B %Y") in listing


@pytest.mark.promise("P12")
@pytest.mark.promise("P28")
def test_a_request_about_a_child_not_linked_is_404_and_nothing_is_created(client, family):
    f.login(client, family["mum"])
    response = client.post(
        "/privacy/requests/new", data={"kind": "erasure", "about": str(family["other_child"].id)}
    )
    assert response.status_code == 404
    assert _count() == 0


def test_a_second_open_request_of_the_same_kind_gets_a_clear_409(client, family):
    f.login(client, family["mum"])
    data = {"kind": "erasure", "about": "self"}
    assert client.post("/privacy/requests/new", data=data).status_code == 303
    response = client.post("/privacy/requests/new", data=data)
    assert response.status_code == 409
    assert "already an open request of this kind" in response.get_data(as_text=True)
    assert _count() == 1
    # another kind is a separate request
    assert client.post("/privacy/requests/new", data={"kind": "access", "about": "self"}).status_code == 303


def test_a_request_without_a_kind_is_refused_with_the_form(client, family):
    f.login(client, family["mum"])
    response = client.post("/privacy/requests/new", data={"about": "self"})
    assert response.status_code == 422
    assert "Choose what you would like." in response.get_data(as_text=True)
    assert _count() == 0


def test_staff_cannot_use_the_parent_form(client, family):
    f.login(client, f.staff(family["org"], Role.OFFICE))
    assert client.get("/privacy/requests/new").status_code == 403


def test_a_parent_withdraws_their_own_request(client, family):
    f.login(client, family["mum"])
    client.post("/privacy/requests/new", data={"kind": "objection", "about": "self"})
    req = db.session.scalar(sa.select(PrivacyRequest))
    stranger = f.parent()
    f.login(client, stranger)
    assert client.post(f"/privacy/requests/{req.id}/withdraw").status_code == 404
    f.login(client, family["mum"])
    assert client.post(f"/privacy/requests/{req.id}/withdraw").status_code == 303
    db.session.expire_all()
    assert db.session.get(PrivacyRequest, req.id).state is RequestState.WITHDRAWN
    assert "Withdrawn" in client.get("/privacy/requests").get_data(as_text=True)


# --- the public form ----------------------------------------------------------------------------


def _ask(client, org, **kw):
    data = {
        "organisation_id": str(org.id),
        "kind": "access",
        "on_behalf_of": "child",
        "requester_name": "Former Parent",
        "requester_email": "former@family.example",
        "details": "My son Tom left in July",
    }
    data.update(kw)
    return client.post("/privacy/ask", data=data)


def _link(address):
    message = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.to == address).order_by(OutboxMessage.id.desc())
    ).first()
    return re.search(r"/privacy/requests/confirm/[\w-]+", message.text).group(0)


@pytest.mark.promise("P27")
def test_the_public_form_counts_once_the_emailed_link_is_confirmed(client, family):
    assert "Oak Primary" in client.get("/privacy/ask").get_data(as_text=True)
    response = _ask(client, family["org"])
    assert response.status_code == 200 and "Check your email" in response.get_data(as_text=True)
    link = _link("former@family.example")
    req = db.session.scalar(sa.select(PrivacyRequest))
    assert req.confirmed_at is None and req.due_on is None

    # Following the link (or a mail scanner fetching it) only shows a button.
    page = client.get(link)
    assert page.status_code == 200 and "Send my request" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(PrivacyRequest, req.id).confirmed_at is None

    done = client.post(link)
    assert done.status_code == 200
    assert f"R{req.id}" in done.get_data(as_text=True)
    db.session.expire_all()
    req = db.session.get(PrivacyRequest, req.id)
    assert req.confirmed_at is not None and req.due_on == deadlines.due_date(family["today"])
    assert req.on_behalf_of == "child"

    again = client.get(link)
    assert again.status_code == 404 and "already been used" in again.get_data(as_text=True)
    assert client.post(link).status_code == 404


def test_forged_and_expired_links_get_a_clear_page(client, family):
    forged = client.get("/privacy/requests/confirm/not-a-real-token")
    assert forged.status_code == 404
    assert "This link does not work" in forged.get_data(as_text=True)
    assert client.post("/privacy/requests/confirm/not-a-real-token").status_code == 404

    _ask(client, family["org"])
    link = _link("former@family.example")
    db.session.execute(sa.update(LoginToken).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    expired = client.get(link)
    assert expired.status_code == 410 and "expired" in expired.get_data(as_text=True)
    assert client.post(link).status_code == 410
    db.session.expire_all()
    assert db.session.scalar(sa.select(PrivacyRequest)).confirmed_at is None


def test_the_public_form_checks_what_it_is_given(client, family):
    response = _ask(client, family["org"], requester_email="not-an-address", requester_name="")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Give your name" in page and "Give an email address like" in page
    assert _count() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_the_public_form_is_rate_limited_per_address(client, family, app, monkeypatch):
    monkeypatch.setitem(app.config, "PRIVACY_ASK_LIMIT", "3 per hour")
    codes = [
        _ask(client, family["org"], requester_email=f"p{i}@family.example").status_code for i in range(4)
    ]
    assert codes == [200, 200, 200, 429]
    assert _count() == 3
    assert client.get("/privacy/ask").status_code == 200  # reading the form is not limited


def test_confirming_records_the_event_in_the_trail(client, family):
    _ask(client, family["org"])
    client.post(_link("former@family.example"))
    notes = db.session.scalars(sa.select(RequestEvent.note).order_by(RequestEvent.id)).all()
    assert notes[-1] == "The requester confirmed their email."
