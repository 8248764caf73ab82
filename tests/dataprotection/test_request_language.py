"""Every message about a data-protection request is in its requester's language: someone without
an account in the language of the page they asked from (kept on the request, so the office's
later answers are in it too), a carer in their own. Nothing in them is left in English but the
school's own words."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.core.extensions import db
from app.dataprotection.requests import intake
from app.dataprotection.requests import workflow as pr
from app.models import OutboxMessage, PrivacyRequest, RequestState, Role
from tests import factories as f
from tests.html_check import ENGLISH_MARKERS

SCHOOL = "Oak Primary"


def _english_left(text: str) -> list[str]:
    """Lines of a message with English words, leaving out the school's name, addresses and links."""
    found = []
    for line in text.splitlines():
        plain = re.sub(r"https?://\S+|<[^>]+>|\S+@\S+", " ", line.replace(SCHOOL, " "))
        words = {w.casefold().strip(".,:;()“”\"'") for w in plain.split()}
        if words & ENGLISH_MARKERS:
            found.append(line)
    return found


def _to(address: str) -> list[OutboxMessage]:
    return db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.to == address).order_by(OutboxMessage.id)
    ).all()


def test_a_request_from_the_public_form_is_answered_in_the_language_it_was_asked_in(client):
    org = f.school(name=SCHOOL)
    office = f.staff(org, Role.OFFICE)
    client.set_cookie("lang", "pl")
    page = client.get("/privacy/ask")
    assert page.status_code == 200 and '<html lang="pl"' in page.get_data(as_text=True)
    form = {
        "organisation_id": str(org.id),
        "kind": "access",
        "on_behalf_of": "child",
        "requester_name": "Ewa Nowak",
        "requester_email": "ewa@family.example",
    }
    sent = client.post("/privacy/ask", data=form)
    assert sent.status_code == 200
    assert "ewa@family.example" in sent.get_data(as_text=True)
    req = db.session.scalar(
        sa.select(PrivacyRequest).where(PrivacyRequest.requester_email == "ewa@family.example")
    )
    assert req.language == "pl"

    [confirm] = _to("ewa@family.example")
    assert confirm.subject and SCHOOL in confirm.subject
    assert not _english_left(confirm.subject + "\n" + confirm.text), confirm.text
    token = re.search(r"/privacy/requests/confirm/(\S+)", confirm.text).group(1)

    # The office answers later, from an English page: the requester still reads Polish.
    intake.confirm_public_request(token)
    pr.transition(req.id, RequestState.IN_PROGRESS, actor=office)
    pr.transition(req.id, RequestState.COMPLETED, actor=office, note="Sent by post.")
    received, completed = _to("ewa@family.example")[1:]
    for message in (received, completed):
        assert not _english_left(message.subject + "\n" + message.text.replace("Sent by post.", "")), (
            message.text
        )
    assert f"R{req.id}" in completed.text and "Sent by post." in completed.text


def test_a_carer_reads_the_answer_to_their_request_in_their_own_language(ctx, run_jobs):
    org = f.school(name=SCHOOL)
    office = f.staff(org, Role.OFFICE)
    carer = f.parent(name="Samina Akhtar", email="samina@family.example")
    carer.language = "ur"
    child = f.pupil(f.school_class(org), carer, first_name="Aisha")
    db.session.commit()
    req = intake.request_as_parent(carer, kind="rectification", pupil_id=child.id, details="Spelling")
    assert req.language == "ur"
    pr.transition(req.id, RequestState.IN_PROGRESS, actor=office)
    pr.extend(req.id, actor=office, months=1, reason="Complex")
    assert run_jobs() == 0
    messages = _to("samina@family.example")
    assert messages, "the carer was told"
    for message in messages:
        assert not _english_left((message.subject or "") + "\n" + message.text.replace("Complex", "")), (
            message.text
        )
        assert re.search("[\u0600-\u06ff]", message.text)  # written in Urdu's script
