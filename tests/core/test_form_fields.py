"""The form fields drawn in Python (app/core/form_fields.py) are the text the Jinja macros they
replaced drew, byte for byte: every kind of field, with and without a hint, errors (plain, as
markup, translated lazily), extra attributes, choices and a refusal, through the app's own Jinja
environment. The macros are kept in tests/fixtures/form_macros as they were."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    DateField,
    FileField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice as C
from wtforms.validators import DataRequired, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.core import form_fields
from app.core.forms import FlaskForm
from app.core.i18n import lazy_gettext

MACROS = Path(__file__).resolve().parents[1] / "fixtures" / "form_macros"


class _Checks(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class _Everything(FlaskForm):
    name = StringField("Your name & <title>", validators=[DataRequired()], description="As on the letter")
    email = StringField("Email", validators=[Optional()])
    secret = PasswordField("Password", validators=[DataRequired()])
    note = TextAreaField("Note", description=Markup("Up to <b>200</b> characters"))
    when = DateField("Week beginning", validators=[Optional()])
    minutes = IntegerField("Minutes", validators=[Optional()])
    kind = SelectField("Kind", choices=[C("video", "Video"), C("game", "Game & fun")])
    pick = RadioField("Pick one", choices=[C("a", "A <one>"), C("b", "B")], validators=[DataRequired()])
    optional_pick = RadioField("Maybe", choices=[C("x", "X"), C("y", "Y")], validators=[Optional()])
    groups = _Checks("Year groups", choices=[C("R", "Reception"), C("1", "Year 1")], description="Tick any")
    agree = BooleanField("I agree", validators=[DataRequired()])
    upload = FileField("A file")


def _forms(app, data: dict | None):
    """The form empty, and sent with ``data`` and validated (its errors), with extra errors of
    every kind added to some fields and to the form itself."""
    empty = _Everything(formdata=None, meta={"csrf": False}, data={"when": date(2026, 12, 7)})
    sent = _Everything(formdata=MultiDict(data or {}), meta={"csrf": False})
    sent.validate()
    sent.name.errors = [
        *sent.name.errors,
        Markup("Not <i>this</i> one"),
        lazy_gettext("Please check the form:"),
    ]
    sent.email.errors = ["Bad & wrong <address>"]
    sent.groups.errors = ["Tick one"]
    sent.form_errors.append("Something about the whole form")
    return empty, sent


# Each call: how a template calls the macro, from both files.
CALLS = [
    ("_forms.html", "input", "input(f.name)"),
    ("_forms.html", "input", 'input(f.name, hint="Your full name", autocomplete="name", maxlength=100)'),
    (
        "_forms.html",
        "input",
        'input(f.email, "Hint & <b>", "email", "email", "email", "other-id", placeholder="x")',
    ),
    ("_forms.html", "input", 'input(f.secret, type="password", extra_by="rules")'),
    ("_forms.html", "input", "input(f.note, hint=f.note.description, rows=3)"),
    ("_forms.html", "input", "input(f.when, inputmode='numeric')"),
    ("_forms.html", "input", "input(f.minutes)"),
    ("_forms.html", "input", "input(f.kind, hint='Choose')"),
    ("_forms.html", "input", "input(f.upload, accept='.pdf')"),
    ("_forms.html", "checkbox", "checkbox(f.agree)"),
    ("_forms.html", "checkbox", "checkbox(f.agree, hint='You can change your mind')"),
    ("_forms.html", "radios", "radios(f.pick)"),
    ("_forms.html", "radios", "radios(f.pick, hint='One of them')"),
    ("_forms.html", "radios", "radios(f.optional_pick)"),
    (
        "_forms.html",
        "radios",
        "radios(f.pick, hint='H', options=[('a', 'A & a', 'Hint <a>'), ('b', markup('<b>B</b>'), 'b')])",
    ),
    ("_forms.html", "radios", "radios(f.optional_pick, options=[('x', 'X', 'x'), ('z', 'Z', 'z')])"),
    ("_forms.html", "errors", "errors(f.name)"),
    ("_forms.html", "errors", "errors(f.email)"),
    ("_forms.html", "error_summary", "error_summary(f)"),
    ("_forms.html", "error_summary", "error_summary(f, 'Refused & <why>')"),
    ("_forms.html", "error_summary", "error_summary(problem=markup('A <b>problem</b>'))"),
    ("_forms.html", "error_summary", "error_summary()"),
    ("teachers_form.html", "field", "field(f.name)"),
    ("teachers_form.html", "field", "field(f.email)"),
    ("teachers_form.html", "field", "field(f.note)"),
    ("teachers_form.html", "field", "field(f.kind)"),
    ("teachers_form.html", "field", "field(f.minutes)"),
    ("teachers_form.html", "choices", "choices(f.groups)"),
    ("teachers_form.html", "choices", "choices(f.pick, legend='Choose & go')"),
    ("teachers_form.html", "choices", "choices(f.optional_pick)"),
    ("teachers_form.html", "summary", "summary(f)"),
    ("teachers_form.html", "summary", "summary(f, extra='And <this>')"),
]

SENT = [
    {},
    {
        "name": "Ada",
        "email": "ada@example.org",
        "pick": "b",
        "groups": ["R", "1"],
        "agree": "y",
        "kind": "game",
    },
    {"name": "", "pick": "nope", "minutes": "many", "when": "soon", "optional_pick": "x", "groups": ["9"]},
]


@pytest.mark.parametrize("data", SENT, ids=["nothing sent", "all good", "all wrong"])
@pytest.mark.parametrize(("source", "name", "call"), CALLS, ids=[c[2] for c in CALLS])
def test_each_field_is_drawn_as_the_macro_drew_it(app, source, name, call, data):
    env = app.jinja_env
    drawn = env.from_string("{{ " + call + " }}")
    with app.test_request_context("/"):
        macros = env.from_string((MACROS / source).read_text()).make_module()
        for form in _forms(app, data):
            expected = drawn.render(f=form, markup=Markup, **{name: getattr(macros, name)})
            assert drawn.render(f=form, markup=Markup, **{name: getattr(form_fields, name)}) == expected
            assert "<" in expected or name in ("error_summary", "summary", "errors")


def test_the_templates_import_the_python_functions(app):
    with app.test_request_context("/"):
        shared = app.jinja_env.get_template("_forms.html").module
        teachers = app.jinja_env.get_template("teachers/_form.html").module
    for name in ("input", "checkbox", "radios", "errors", "error_summary"):
        assert getattr(shared, name) is getattr(form_fields, name)
    for name in ("field", "choices", "summary"):
        assert getattr(teachers, name) is getattr(form_fields, name)


class _Disabled:
    field_flags = {"disabled": True}

    def __call__(self, form, field):
        return None


class _Options(FlaskForm):
    plain = RadioField("Plain", choices=[C("a", "A & a"), C("b", "")])
    needed = RadioField("Needed", choices=[C(1, "One"), C(2, "Two")], coerce=int, validators=[DataRequired()])
    styled = RadioField("Styled", choices=[C("x", "X")], render_kw={"class": "big", "data-x": '"quoted"'})
    shut = _Checks(
        "Shut",
        choices=[C("R", lazy_gettext("Reception")), C("1", Markup("<b>Year 1</b>"))],
        validators=[_Disabled()],
    )
    ticks = _Checks(
        "Ticks", choices=[C("R", "Reception"), C("1", "Year 1"), C("2", "Year 2")], validators=[Optional()]
    )


@pytest.mark.parametrize(
    "attrs",
    [None, {"aria_describedby": "x-hint x-error", "aria-invalid": "true"}, {"id": "mine", "checked": False}],
)
def test_options_are_written_as_wtforms_draws_each_option_field(app, attrs):
    """Radios and check boxes written from the choices (form_fields._options) are the text WTForms
    draws by building each option as a field: selected or not, required or disabled by a
    validator, the field's render_kw, attributes passed in, values that are not strings."""
    with app.test_request_context():
        sent = MultiDict([("needed", "2"), ("ticks", "R"), ("ticks", "2"), ("shut", "1")])
        for form in (
            _Options(formdata=None, meta={"csrf": False}),
            _Options(formdata=sent, meta={"csrf": False}),
        ):
            for field in form:
                wtforms_own = [(o.id, o(**(attrs or {})), o.label.text) for o in field]
                assert form_fields._options(field, attrs) == wtforms_own, field.name
        ticks = [str(drawn) for _, drawn, _ in form_fields._options(form.ticks)]
        assert ["checked" in tick for tick in ticks] == [True, False, True]
        assert all(" required" in str(drawn) for _, drawn, _ in form_fields._options(form.needed))
        assert all(" disabled" in str(drawn) for _, drawn, _ in form_fields._options(form.shut))
