"""SMS text stays within two segments, GSM-7 aware, with no emoji surprises."""

from __future__ import annotations

import pytest

from app.messaging.sms_text import SmsTooLong, fit_sms, info, normalise

LINK = "https://hometime.example/family/"


def test_gsm7_and_ucs2_are_counted_as_phones_count_them():
    assert info("a" * 160) == info("a" * 160).__class__("GSM-7", 160, 1)
    assert info("a" * 161).segments == 2 and info("a" * 306).segments == 2
    assert info("a" * 307).segments == 3
    assert info("€" * 80).units == 160 and info("€" * 80).segments == 1  # extension: 2 each
    assert info("ł" * 70) == info("ł" * 70).__class__("UCS-2", 70, 1)
    assert info("ł" * 71).segments == 2 and info("ł" * 134).segments == 2


def test_typographic_punctuation_and_emoji_do_not_turn_a_text_into_ucs2():
    text = "Zara’s “Star of the week” award 🎉 – well done… 👍🏽"
    plain = normalise(text)
    assert plain == 'Zara\'s "Star of the week" award - well done...'
    assert info(plain).encoding == "GSM-7"
    assert info(text).encoding == "UCS-2"  # what would have happened


def test_names_and_words_stay_as_written_and_are_counted_as_ucs2():
    assert normalise("Zoë’s award") == "Zoë's award"  # not "Zoe": a name is spelt as the family spells it
    assert info(normalise("Zoë")).encoding == "UCS-2"
    bengali = "র\u200d্যাব"  # a joiner inside a Bengali word stays; one between emoji goes
    assert normalise(bengali) == bengali
    assert normalise("ok 👨\u200d👩\u200d👧") == "ok"
    for word in ("ਪੰਜਾਬੀ", "اُردُو", "বাংলা"):  # vowel signs and marks are letters here
        assert normalise(word) == word


def test_letters_gsm7_cannot_carry_are_kept():
    assert normalise("Łucja") == "Łucja"  # a Polish name stays right, as UCS-2
    assert info(fit_sms("Łucja's activities are ready")).encoding == "UCS-2"


def test_long_text_is_shortened_politely_keeping_the_link_whole():
    text = "This week's activities are about the seaside. " * 12 + LINK
    fitted = fit_sms(text)
    assert info(fitted).segments == 2
    assert fitted.endswith("... " + LINK)
    assert fitted.startswith("This week's activities are about the seaside.")
    body = fitted[: -len("... " + LINK)]
    assert not body.endswith(" ") and text.startswith(body)  # cut at a word boundary
    assert info(fit_sms(text, max_segments=1)).segments == 1


def test_long_ucs2_text_is_shortened_to_two_ucs2_segments():
    text = "Łucja " * 60 + LINK
    fitted = fit_sms(text)
    assert info(fitted).encoding == "UCS-2" and info(fitted).segments == 2
    assert fitted.endswith(LINK)


def test_a_link_too_long_for_any_text_is_refused_at_render():
    with pytest.raises(SmsTooLong):
        fit_sms("Hello " + "https://x.example/" + "a" * 400)


def test_short_text_is_unchanged():
    assert (
        fit_sms("Hill School: this week's activities are ready. " + LINK)
        == "Hill School: this week's activities are ready. " + LINK
    )
