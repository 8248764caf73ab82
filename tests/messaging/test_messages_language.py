"""Each family reads its messages in its own language: the carer's choice, or the home language
the school's roster gave before they joined. A text in a script GSM-7 cannot carry is counted as
UCS-2, and a printed letter is in the family's language with one English line for the office."""

from __future__ import annotations

import re
from datetime import time

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.messaging.sms_text import info
from app.models import Channel, OutboxMessage, Role, User, UserKind, UserStatus
from tests import factories as f
from tests.notify_data import sms_consent


def _invited(name, email, mobile, language):
    user = User(
        kind=UserKind.PARENT,
        name=name,
        email=email,
        mobile=mobile,
        status=UserStatus.INVITED,
        language=language,  # as the roster import sets it from the MIS's home-language column
        sms_notifications=True,
        quiet_from=time(0, 0),  # no quiet hours: the text goes now, whatever the time of the run
        quiet_until=time(0, 0),
    )
    db.session.add(user)
    db.session.commit()
    sms_consent(user)
    return user


def _sent(to):
    return db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.to == to).order_by(OutboxMessage.id)
    ).all()


@pytest.fixture()
def school(ctx):
    org = f.school(name="Ash Primary")
    cls = f.school_class(org)
    return {"org": org, "cls": cls, "office": f.staff(org, Role.OFFICE)}


def test_each_carer_gets_the_invitation_in_their_own_language(client, school, run_jobs):
    polish = _invited("Ewa Nowak", "ewa@family.example", "+447700900101", "pl")
    urdu = _invited("Samina Akhtar", "samina@family.example", "+447700900102", "ur")
    english = _invited("Jo Smith", "jo@family.example", "+447700900103", None)
    for carer in (polish, urdu, english):
        f.pupil(school["cls"], carer)
    f.login(client, school["office"])
    for carer in (polish, urdu, english):
        assert (
            client.post(f"/office/families/{carer.id}/invite", data={"channels": "email"}).status_code == 303
        )
    assert run_jobs() == 0

    (mail,) = [m for m in _sent("ewa@family.example") if m.channel is Channel.EMAIL]
    assert mail.subject == "Dołącz do Ash Primary w Hometime"
    assert "Dzień dobry, Ewa Nowak," in mail.text and "/family/join/" in mail.text
    assert "Ta wiadomość jest wysyłana w imieniu: Ash Primary" in mail.text  # on the school's behalf
    (text,) = [m for m in _sent("+447700900101") if m.channel is Channel.SMS]
    assert text.text.startswith("Ash Primary zaprasza do Hometime: http")

    (mail,) = [m for m in _sent("samina@family.example") if m.channel is Channel.EMAIL]
    assert mail.subject == "Hometime پر Ash Primary میں شامل ہوں"
    assert "السلام علیکم Samina Akhtar" in mail.text
    (text,) = [m for m in _sent("+447700900102") if m.channel is Channel.SMS]
    assert "کی دعوت" in text.text
    sms = info(text.text)
    assert sms.encoding == "UCS-2" and sms.segments == 2  # Urdu costs UCS-2 segments, and fits two

    (mail,) = [m for m in _sent("jo@family.example") if m.channel is Channel.EMAIL]
    assert mail.subject == "Join Ash Primary on Hometime" and "Hello Jo Smith," in mail.text
    (text,) = [m for m in _sent("+447700900103") if m.channel is Channel.SMS]
    assert info(text.text).encoding == "GSM-7"

    # The office sees what the texts cost: Urdu's took two segments, English's one.
    texts = [m for n in ("+447700900101", "+447700900102", "+447700900103") for m in _sent(n)]
    segments = [info(m.text).segments for m in texts]
    costs = re.sub(r"<[^>]+>|\s+", " ", client.get("/office/deliveries").get_data(as_text=True))
    longer = sum(n > 1 for n in segments)
    assert (
        f"3 texts sent, taking {sum(segments)} SMS segments ({longer} of them needed more than one)"
        in re.sub(r"\s+", " ", costs)
    )


def test_a_sign_in_link_is_written_in_the_carers_language(working_client, ctx):
    f.parent(email="ewa@family.example", language="pl")
    r = working_client.post("/auth/link", data={"email": "ewa@family.example"})
    assert r.status_code in (200, 303)
    (mail,) = _sent("ewa@family.example")
    assert mail.subject == "Twój link do logowania w Hometime"
    assert 'lang="pl"' in mail.html and "Zaloguj się do Hometime" in mail.html


def test_a_letter_prints_in_the_familys_language_with_a_line_for_the_office(client, school):
    carer = _invited("Ewa Nowak", None, None, "pl")
    f.pupil(school["cls"], carer, first_name="Łucja")
    arabic = _invited("Omar Haddad", None, None, "ar")
    f.pupil(school["cls"], arabic, first_name="Lina")
    f.login(client, school["office"])
    page = client.post("/office/families/letters").get_data(as_text=True)
    polish, arabic_letter = sorted(re.findall(r'<article class="letter".*?</article>', page, re.S), key=len)[
        :2
    ]
    letters = {"pl": next(x for x in (polish, arabic_letter) if 'lang="pl"' in x)}
    letters["ar"] = next(x for x in (polish, arabic_letter) if 'lang="ar"' in x)
    assert "Dołącz do Ash Primary w Hometime" in letters["pl"] and "Dzień dobry, Ewa Nowak," in letters["pl"]
    assert (
        'lang="en-GB"' in letters["pl"]
        and "For the office: letter in Polish for Ewa Nowak (Łucja)" in letters["pl"]
    )
    assert 'dir="rtl"' in letters["ar"] and "انضم إلى Ash Primary على Hometime" in letters["ar"]
    assert re.search(r'<p class="code">[A-Z0-9-]+</p>', letters["ar"])  # the code itself, as typed


def test_the_join_page_preselects_the_letters_language_and_stores_the_choice(client, invited):
    carer, token = invited["carer"], invited["token"]
    carer.language = "pl"  # the roster's home language
    db.session.commit()
    page = client.get(f"/family/join/{token}").get_data(as_text=True)
    assert '<html lang="pl"' in page and "Język stron i wiadomości Hometime" in page
    assert '<option selected value="pl">Polski</option>' in page
    r = client.post(f"/family/join/{token}", data={"agree": "y", "signin": "email_link", "language": "uk"})
    assert r.status_code == 303
    assert db.session.get(User, carer.id).language == "uk"


def test_without_a_letters_language_the_browser_decides(client, invited):
    page = client.get(
        f"/family/join/{invited['token']}", headers={"Accept-Language": "ur-PK,ur;q=0.9"}
    ).get_data(as_text=True)
    assert '<html lang="ur" dir="rtl"' in page
    assert '<option selected value="ur">اردو</option>' in page
