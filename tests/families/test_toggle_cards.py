"""A family's settings cards drawn in Python (app/families/toggle_cards.py) are the text the
Jinja macro they replaced drew, byte for byte: on and off, with an error, a message or messages
flashed for the card, asking to confirm, in English and in Urdu. The macro is kept in
tests/fixtures/settings_macros as it was."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest
from markupsafe import Markup

from app.core.htmx import flash_at
from app.families import settings, toggle_cards

MACRO = Path(__file__).resolve().parents[1] / "fixtures" / "settings_macros" / "_settings.html"


class _Made(NamedTuple):
    name: str
    label: str
    hint: object


CARDS = [
    settings.BY_NAME["promo"],
    settings.BY_NAME["email"],
    _Made("x&y", "A <b> label", Markup("A <i>hint</i>")),
]


@pytest.mark.parametrize("language", ["en", "ur"])
@pytest.mark.parametrize("confirm", [False, True], ids=["asked once", "confirming"])
@pytest.mark.parametrize("message", [None, "Saved & <done>"], ids=["no message", "message"])
@pytest.mark.parametrize("error", [None, "Not saved: <why>"], ids=["no error", "error"])
@pytest.mark.parametrize("on", [True, False], ids=["on", "off"])
def test_each_card_is_drawn_as_the_macro_drew_it(app, on, error, message, confirm, language):
    with app.test_request_context("/family/settings", headers={"Accept-Language": language}):
        macro = app.jinja_env.from_string(MACRO.read_text()).make_module().toggle
        for card in CARDS:
            drawn = toggle_cards.toggle(card, on, error, message, confirm)
            assert drawn == macro(card, on, error, message, confirm), card.name
            assert drawn.startswith(f'<form id="t-{Markup.escape(card.name)}"') and drawn.endswith("</form>")


def test_messages_flashed_for_a_card_show_in_it_as_the_macro_showed_them(app):
    with app.test_request_context("/family/settings"):
        flash_at("Turned off & <saved>", "t-email")
        flash_at("For another card", "t-sms")
        macro = app.jinja_env.from_string(MACRO.read_text()).make_module().toggle
        drawn = toggle_cards.toggle(settings.BY_NAME["email"], False)
        assert drawn == macro(settings.BY_NAME["email"], False)
        assert "Turned off &amp; &lt;saved&gt;" in drawn and "another card" not in drawn


def test_the_settings_page_imports_the_python_function(app):
    with app.test_request_context("/"):
        module = app.jinja_env.get_template("parents/_settings.html").module
    assert module.toggle is toggle_cards.toggle
