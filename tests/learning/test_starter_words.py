"""The starter library in the family's language: a starter activity's title and steps, exactly as
the library wrote them, are shown in the page's language; once a school edits them they are its
own words, shown as written (English, marked lang="en-GB", with the quiet note)."""

from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from app.core.extensions import db
from app.learning.starter_library import STARTER, seed_starter_library
from app.learning.starter_words import starter_words
from app.models import Activity, TopicActivity
from tests import factories as f
from tests.parents_data import family

TRANSLATED = sorted(
    p.parents[1].name
    for p in (Path(__file__).resolve().parents[2] / "app" / "translations").glob("*/LC_MESSAGES/starter.po")
)

SOUND_HUNT = next(s for s in STARTER if s["title"] == "Sound hunt around the house")
STEPS = next(s for s in STARTER if s["title"] == "Counting steps to the door")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", html)))


def _on_this_week(fam, **activity) -> Activity:
    row = Activity(organisation_id=fam.org.id, **activity)
    db.session.add(row)
    db.session.flush()
    fam.numbers.items.append(TopicActivity(activity_id=row.id, position=len(fam.numbers.items)))
    db.session.commit()
    return row


def test_a_polish_carer_reads_a_starter_activity_in_polish(client):
    fam = family()
    fam.parent.language = "pl"
    db.session.commit()
    _on_this_week(fam, **SOUND_HUNT)
    f.login(client, fam.parent)

    html = client.get("/family/").get_data(as_text=True)
    text = _text(html)
    assert "<h3>Polowanie na głoski w domu</h3>" in html  # in the page's language: no lang="en-GB"
    for step in (
        "Wybierz jedną głoskę, której dziecko uczy się w tym tygodniu, na przykład „s”.",
        "Mówcie każde słowo powoli, przeciągając pierwszą głoskę: „ssss-ock”.",
        "Policzcie, ile rzeczy znaleźliście. Czy jutro znajdziecie jeszcze jedną?",
    ):
        assert step in text, step
    assert "Sound hunt" not in text and "Say each word slowly" not in text
    # its steps carry no "written by the school" note and no English marking...
    steps = html[html.index("<h3>Polowanie") :].split("</li>")[0]
    assert 'lang="en-GB"' not in steps and "tekst szkoły po angielsku" not in steps
    # ...while the school's own activity on the same page still does
    assert '<h3><span lang="en-GB">Count the stairs</span></h3>' in html
    assert "(tekst szkoły po angielsku)" in text


def test_an_edited_starter_activity_stays_in_the_schools_english(client):
    fam = family()
    fam.parent.language = "pl"
    db.session.commit()
    edited = dict(STEPS, instructions=STEPS["instructions"].replace("the door", "the kitchen door"))
    _on_this_week(fam, **edited)
    _on_this_week(fam, **dict(SOUND_HUNT, title="Sound hunt in the garden"))
    f.login(client, fam.parent)

    html = client.get("/family/").get_data(as_text=True)
    text = _text(html)
    # a title the school renamed is its own: English, marked as such
    assert '<h3><span lang="en-GB">Sound hunt in the garden</span></h3>' in html
    # steps the school changed are its own, all of them, even the lines it left alone
    assert '<span lang="en-GB">Stand at one end of a room and guess how many steps' in html
    assert "Count the steps out loud together as you walk." in text
    assert "Idąc, liczcie razem kroki na głos." not in text
    # the unchanged title is still the library's, in Polish
    assert "<h3>Liczenie kroków do drzwi</h3>" in html


def test_an_english_page_shows_the_starter_library_as_written(client):
    fam = family()
    _on_this_week(fam, **SOUND_HUNT)
    f.login(client, fam.parent)
    html = client.get("/family/").get_data(as_text=True)
    assert '<h3><span lang="en-GB">Sound hunt around the house</span></h3>' in html
    assert "written by the school in English" not in html


@pytest.mark.parametrize("code", TRANSLATED)
def test_every_activity_copied_from_the_starter_library_is_translated(app, ctx, code):
    """The library as a school gets it (copied into its own library, read back from the
    database): every title and every set of steps comes out in the language, not in English."""
    org = f.school(name="Ash Primary")
    assert seed_starter_library(org.id) == len(STARTER)
    copied = db.session.scalars(sa.select(Activity).where(Activity.organisation_id == org.id)).all()
    with app.test_request_context("/"), force_locale(code):
        for activity in copied:
            for words in (activity.title, activity.instructions):
                shown = starter_words(words)
                assert shown and shown != words, f"{code}: {words!r}"
                assert shown.count("\n") == words.count("\n")


def test_only_the_librarys_exact_words_are_translated(app):
    title, steps = SOUND_HUNT["title"], SOUND_HUNT["instructions"]
    with app.test_request_context("/"), force_locale("pl"):
        assert starter_words(title) == "Polowanie na głoski w domu"
        assert starter_words(steps.split("\n")[0]) is not None  # one line of it is the library's
        assert starter_words(steps + "\nBring a bag.") is None  # a line the school added
        assert starter_words(title + "!") is None
        assert starter_words("Count the stairs") is None
        assert starter_words("") is None and starter_words(None) is None
    with app.test_request_context("/"), force_locale("en_GB"):
        assert starter_words(title) is None  # English: nothing to translate, shown as written
