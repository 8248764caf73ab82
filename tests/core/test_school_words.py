"""What the school writes stays as written: marked as English for screen readers, with a quiet
note in the page's language when the page is in another one."""

from __future__ import annotations

from flask import render_template_string

from app.core import i18n

TEMPLATE = "{{ school_words(note, page_language) }}"


def test_school_words_are_marked_english_with_a_note_in_the_pages_language(app):
    with app.test_request_context("/"), i18n.in_language("pl") as polish:
        html = render_template_string(TEMPLATE, note="Count the stairs\nthen hop <3", page_language=polish)
    assert html.startswith('<span lang="en-GB">Count the stairs<br>then hop &lt;3</span>')
    assert '<small class="muted school-words" lang="pl">(tekst szkoły po angielsku)</small>' in html


def test_no_note_when_the_page_is_in_english(app):
    with app.test_request_context("/"):
        html = render_template_string(
            TEMPLATE, note="Count the stairs", page_language=i18n.LANGUAGES["en_GB"]
        )
    assert html == '<span lang="en-GB">Count the stairs</span>'


def test_a_polish_carer_sees_the_schools_topic_note_marked_english_on_the_home_page(client):
    from tests.parents_data import family_in

    family_in(client, "pl")
    page = client.get("/family/").get_data(as_text=True)
    assert '<html lang="pl"' in page
    assert '<p class="topic-note"><span lang="en-GB">Have fun counting at home!</span>' in page
    assert "(tekst szkoły po angielsku)" in page


def test_the_same_words_follow_each_pages_language_however_often_they_are_drawn(app):
    """The words are put together once per process for each text and language: a Polish page,
    then an English one, then a Polish one again each get their own."""
    shown = []
    for code in ("pl", "en_GB", "pl", "uk"):
        with app.test_request_context("/"), i18n.in_language(code) as lang:
            shown.append(
                render_template_string(
                    "{{ school_words(title, page_language, note=False) }}|{{ school_words(note, page_language) }}",
                    title="Sound hunt around the house",
                    note="Count the stairs",
                    page_language=lang,
                )
            )
    polish, english, polish_again, ukrainian = shown
    assert polish == polish_again
    assert polish.startswith("Polowanie na głoski w domu|")
    assert "(tekst szkoły po angielsku)" in polish
    assert (
        english
        == '<span lang="en-GB">Sound hunt around the house</span>|<span lang="en-GB">Count the stairs</span>'
    )
    assert 'lang="uk"' in ukrainian and "Polowanie" not in ukrainian
