"""A carer reads their own pages in their language: the home page, a child's page and the settings
in Polish; in Urdu the page also runs right to left. The home page keeps its budgets in Urdu
(bytes and SQL queries), whose words take more bytes than English."""

from __future__ import annotations

import html as htmllib
import re

from tests.learning.test_parents_home import (
    FIRST_LOAD_BUDGET,
    QUERY_BUDGET,
    REPEAT_BUDGET,
    _assets,
    _gz,
)
from tests.parents_data import family_in
from tests.queries import statements


def _text(response) -> str:
    plain = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", htmllib.unescape(plain))


def test_a_polish_carer_sees_home_child_and_settings_in_polish(client):
    fam = family_in(client, "pl")
    home = client.get("/family/")
    assert home.status_code == 200
    text = _text(home)
    assert '<html lang="pl" dir="ltr"' in home.get_data(as_text=True)
    for words in ("Twoje dzieci", "Jak się podobało (Ben)?", "Poprzednie tygodnie", "Ustawienia: wiadomości"):
        assert words in text, words
    assert "Your children" not in text and "How did Ben like it?" not in text
    # What the school wrote stays as written.
    assert "Count the stairs" in text

    child = _text(client.get(f"/family/children/{fam.ben.id}"))
    assert "Wyróżnienia: Ben" in child and "Usuń Ben z mojego konta" in child
    assert "Remove from my account" not in child

    settings = _text(client.get("/family/settings"))
    for words in (
        "Ustawienia",
        "Przypomnienia SMS",
        "Godziny ciszy",
        "Twoje dane",
        "Zapisz moje dane",
        "Imię i nazwisko",
    ):
        assert words in settings, words
    assert "Save my details" not in settings
    # The footer too.
    assert "Informacja o prywatności" in settings and "Twoje prawa do danych" in settings


def test_an_urdu_carer_gets_a_right_to_left_page_in_urdu(client):
    fam = family_in(client, "ur")
    home = client.get("/family/")
    html = home.get_data(as_text=True)
    assert '<html lang="ur" dir="rtl"' in html
    text = _text(home)
    assert "آپ کے بچے" in text  # Your children
    assert "%(name)s" not in text and "Ben کو کیسا لگا؟" in text
    settings = _text(client.get("/family/settings"))
    assert "ترتیبات" in settings and "میری تفصیلات محفوظ کریں" in settings
    child = _text(client.get(f"/family/children/{fam.ben.id}"))
    assert "Ben کے انعامات" in child


def test_the_home_page_in_urdu_keeps_its_byte_and_query_budgets(client):
    family_in(client, "ur")
    with statements() as seen:
        response = client.get("/family/")
    assert response.status_code == 200
    assert len(seen) <= QUERY_BUDGET, "\n\n".join(seen)
    html = response.data
    first_load = _gz(html) + sum(_gz(a) for a in _assets(client, html.decode()))
    assert first_load <= FIRST_LOAD_BUDGET, f"first load {first_load} bytes gzip"
    assert _gz(html) <= REPEAT_BUDGET, f"repeat visit {_gz(html)} bytes gzip"


def test_a_polish_carer_is_answered_in_polish_when_changing_a_setting(client):
    family_in(client, "pl")
    response = client.post("/family/settings/email", data={"on": "0"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "Wiadomości e-mail: wyłączone." in _text(response)


def test_a_polish_carer_is_thanked_in_polish_for_a_rating(client):
    from tests.parents_data import item_of

    fam = family_in(client, "pl")
    item = item_of(fam.numbers, fam.count)
    response = client.post(
        f"/family/children/{fam.ben.id}/items/{item.id}/rating",
        data={"rating": "5"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "Zapisane. Dziękujemy!" in _text(response) and "Super" in _text(response)


def test_no_english_is_left_on_a_polish_carers_pages(client):
    """Every page a carer reaches, in Polish: nothing but the school's own words (marked as
    English) is left in English."""
    from tests.html_check import untranslated

    fam = family_in(client, "pl")
    item = fam.numbers.items[0]
    pages = [
        "/family/",
        f"/family/children/{fam.ben.id}",
        f"/family/children/{fam.ben.id}/weeks",
        f"/family/children/{fam.ben.id}/items/{item.id}/send",
        f"/family/children/{fam.ben.id}/unlink",
        "/family/settings",
        "/family/account",
        "/family/account/close",
        "/privacy/",
        "/privacy/requests",
        "/privacy/requests/new",
        "/privacy/exports",
        "/privacy-notice",
        "/cookies",
        "/cookies/choice",
    ]
    left = {}
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        if found := untranslated(response.get_data(as_text=True)):
            left[path] = found
    assert not left, "\n".join(f"{path}: {text}" for path, texts in left.items() for text in texts)
