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


def test_a_carers_copy_of_their_data_reads_in_their_language(client, ctx, run_jobs):
    """The readable page of the copy: headings, the kinds of record and Hometime's own words in
    Polish; what the records hold and the inventory's explanations stay English, marked so;
    data.json keeps its English words for the computer."""
    import html as htmllib
    import io
    import json
    import zipfile

    from app.dataprotection.exports import service as exports
    from app.dataprotection.exports.texts import NO_AUTOMATED_DECISIONS, SECTIONS
    from tests.html_check import untranslated
    from tests.privacy_data import access_request, two_families

    s = two_families()
    s.aisha.language = "pl"
    db.session.commit()
    req = access_request(s, pupil=s.amir)
    export = exports.start(req.id, s.office)
    assert run_jobs() == 0
    exports.release(export.id, s.office, remove=set())
    f.login(client, s.aisha)
    response = client.get(f"/privacy/exports/{export.id}/download")
    assert response.status_code == 200
    zf = zipfile.ZipFile(io.BytesIO(response.get_data()))
    page = zf.read("index.html").decode()
    assert '<html lang="pl" dir="ltr">' in page
    assert not untranslated(page), untranslated(page)
    text = htmllib.unescape(page)
    assert "No automated decisions" not in text and NO_AUTOMATED_DECISIONS not in text
    # the heading of "The child's school record" is Polish (the inventory's own words under it stay
    # English, marked lang="en-GB", and may use the same words)
    assert f"<h2>{SECTIONS['pupils'][0]}</h2>" not in text
    assert '<section id="pupils"><h2>Szkolne dane dziecka</h2>' in text
    data = json.loads(zf.read("data.json"))
    assert data["about"]["automated_decisions"] == NO_AUTOMATED_DECISIONS
    assert data["explanations"]["pupils"]["title"] == SECTIONS["pupils"][0]


def test_the_copy_of_their_data_reads_in_every_families_language(client, ctx, run_jobs):
    """Each of the ten languages: the copy's readable page carries the language and its direction,
    and no English is left outside what is marked as English (the records, the inventory)."""
    import io
    import zipfile

    from app.core.i18n import LANGUAGES
    from app.dataprotection.exports import service as exports
    from tests.html_check import untranslated
    from tests.privacy_data import access_request, two_families

    s = two_families()
    f.login(client, s.aisha)
    for code, lang in LANGUAGES.items():
        if code == "en_GB":
            continue
        s.aisha.language = code
        db.session.commit()
        req = access_request(s, pupil=s.amir)
        export = exports.start(req.id, s.office)
        assert run_jobs() == 0
        exports.release(export.id, s.office, remove=set())
        response = client.get(f"/privacy/exports/{export.id}/download")
        assert response.status_code == 200, code
        page = zipfile.ZipFile(io.BytesIO(response.get_data())).read("index.html").decode()
        assert f'<html lang="{lang.tag}" dir="{lang.direction}">' in page, code
        assert not untranslated(page), (code, untranslated(page))
        pr.transition(req.id, RequestState.COMPLETED, actor=s.office, note="Copy sent")
