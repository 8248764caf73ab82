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


def test_attributes_are_written_as_wtforms_writes_them():
    """app/core/forms.html_params writes what WTForms' own writes, for every kind of value."""
    from markupsafe import Markup

    values = [
        "plain",
        'a "quoted" <b>&amp;</b>',
        Markup('<i class="x">ok</i>'),
        0,
        12,
        1.5,
        "",
        True,
        False,
        None,
    ]
    keys = ["id", "class_", "for_", "data_hx_get", "aria_describedby", "aria-invalid", "type", "x<y"]
    for i, value in enumerate(values):
        kwargs = {key: values[(i + n) % len(values)] for n, key in enumerate(keys)}
        assert forms.html_params(**kwargs) == forms._WTFORMS_HTML_PARAMS(**kwargs), kwargs
        assert forms.html_params(name="q", value=value) == forms._WTFORMS_HTML_PARAMS(name="q", value=value)
    assert forms.html_params() == forms._WTFORMS_HTML_PARAMS() == Markup("")


def _drawn(form) -> str:
    fields = "".join(f"{field(class_='x', aria_describedby='h')}{field.label}" for field in form)
    return fields + "".join(f"{option}{option.label}" for option in form.pick)


def test_every_widget_draws_with_the_faster_attributes(app):
    """Fields, labels, options and buttons: WTForms calls html_params by four names; each is the
    faster one, and a field drawn is the same text as WTForms' own would be."""
    import wtforms.widgets
    import wtforms.widgets.core
    from wtforms import BooleanField, PasswordField, RadioField, SelectField, SubmitField, TextAreaField
    from wtforms.fields.choices import SelectChoice as C
    from wtforms.validators import DataRequired

    assert wtforms.widgets.core.html_params is forms.html_params
    assert wtforms.widgets.html_params is forms.html_params
    assert wtforms.widgets.core.Input.html_params is forms.html_params
    assert wtforms.widgets.core.Button.html_params is forms.html_params

    class _All(FlaskForm):
        name = StringField('Name "in full"', validators=[DataRequired(), Length(max=40)])
        secret = PasswordField("Password")
        note = TextAreaField("Note")
        kind = SelectField("Kind", choices=[C("a", "A & B"), C("c", 'C "quoted"')])
        pick = RadioField("Pick", choices=[C("1", "One"), C("2", "Two")])
        agree = BooleanField("Agree")
        go = SubmitField("Go <now>")

    with app.test_request_context("/"):
        form = _All(
            formdata=MultiDict({"name": 'Zoë "Z" <b>', "kind": "c", "pick": "2", "agree": "y"}),
            meta={"csrf": False},
        )
        fast = _drawn(form)
        saved = (wtforms.widgets.core.html_params, wtforms.widgets.html_params)
        wtforms.widgets.core.html_params = wtforms.widgets.html_params = forms._WTFORMS_HTML_PARAMS
        wtforms.widgets.core.Input.html_params = staticmethod(forms._WTFORMS_HTML_PARAMS)
        wtforms.widgets.core.Button.html_params = staticmethod(forms._WTFORMS_HTML_PARAMS)
        try:
            own = _drawn(form)
        finally:
            wtforms.widgets.core.html_params, wtforms.widgets.html_params = saved
            wtforms.widgets.core.Input.html_params = staticmethod(forms.html_params)
            wtforms.widgets.core.Button.html_params = staticmethod(forms.html_params)
    assert fast == own
    assert 'value="Zoë &#34;Z&#34; &lt;b&gt;"' in fast and '<option selected value="c">' in fast
