"""The roster import reads the MIS's home-language column, so a family hears from the school in
their own language from the first contact."""

from __future__ import annotations

import sqlalchemy as sa

from app.core.extensions import db
from app.families.roster_csv import read_roster, template_headings
from app.models import User
from tests import factories
from tests.factories import login
from tests.roster_helpers import csv_bytes, import_file, school_setup, upn

HEADINGS = [
    "UPN",
    "Legal Forename",
    "Legal Surname",
    "Reg Group",
    "First Language",
    "Contact1 Name",
    "Contact1 Email",
]


def _row(n: int, language: str, email: str) -> list[str]:
    return [upn(n), f"Child{n}", "Pupil", "Oak", language, f"Carer {n}", email]


def _language(email: str) -> str | None:
    return db.session.scalar(sa.select(User.language).where(User.email == email))


def test_carers_get_the_home_language_the_mis_exported(client):
    org, classes, office = school_setup("Oak")
    login(client, office)
    data = csv_bytes(
        [
            _row(1, "POL", "one@family.example"),
            _row(2, "Urdu", "two@family.example"),
            _row(3, "ENG", "three@family.example"),
            _row(4, "", "four@family.example"),
        ],
        HEADINGS,
    )
    import_file(client, data)
    assert _language("one@family.example") == "pl"
    assert _language("two@family.example") == "ur"
    assert _language("three@family.example") == "en_GB"
    assert _language("four@family.example") is None  # not known: the browser decides


def test_a_language_we_do_not_speak_is_said_plainly_and_the_family_gets_english(client):
    parsed = read_roster(csv_bytes([_row(1, "TUR", "one@family.example")], HEADINGS))
    assert parsed.problems == []
    assert any("does not speak these home languages yet" in n and "TUR" in n for n in parsed.notices)
    assert parsed.rows[0].home_language is None


def test_a_carer_own_choice_is_never_overridden_by_a_later_import(client):
    org, classes, office = school_setup("Oak")
    carer = factories.parent(email="own@family.example", language="es")
    factories.pupil(classes[0], carer, upn=upn(7), first_name="Child7", last_name="Pupil")
    login(client, office)
    import_file(client, csv_bytes([_row(7, "POL", "own@family.example")], HEADINGS))
    assert _language("own@family.example") == "es"


def test_the_template_offers_the_home_language_column():
    assert template_headings()[-1] == "Home language"


def test_an_invited_carer_without_a_language_gets_the_one_a_later_import_names(client):
    from app.models import UserStatus

    org, classes, office = school_setup("Oak")
    carer = factories.parent(email="later@family.example", name="Carer 8", status=UserStatus.INVITED)
    factories.pupil(classes[0], carer, upn=upn(8), first_name="Child8", last_name="Pupil")
    login(client, office)
    import_file(client, csv_bytes([_row(8, "SOM", "later@family.example")], HEADINGS))
    assert _language("later@family.example") == "so"
