"""WTForms' own messages (a length limit, a required field without a message of ours) come in
the page's language, from catalogs read once per process (app/core/forms.py)."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict
from wtforms import StringField
from wtforms.validators import Length

from app.core import forms
from app.core.forms import FlaskForm
from app.core.i18n import COOKIE


class _Short(FlaskForm):
    name = StringField("Name", validators=[Length(max=3)])


def _error(app, language: str) -> str:
    with app.test_request_context("/", headers={"Cookie": f"{COOKIE}={language}"}):
        form = _Short(formdata=MultiDict({"name": "Agnieszka"}), meta={"csrf": False})
        assert not form.validate()
        return form.name.errors[0]


def test_wtforms_messages_follow_the_page_language_each_time(app):
    assert _error(app, "pl") == "Wartość w polu nie może mieć więcej niż 3 znaki."
    assert _error(app, "en_GB") == "Field cannot be longer than 3 characters."
    assert _error(app, "pl") == "Wartość w polu nie może mieć więcej niż 3 znaki."


def test_each_language_s_catalog_is_read_once(app):
    forms._catalog.cache_clear()
    for _ in range(3):
        _error(app, "pl")
        _error(app, "en_GB")
    assert forms._catalog.cache_info().misses == 2
