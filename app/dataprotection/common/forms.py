"""Forms for data-protection requests: a parent's, the public form's and the office's log."""

from __future__ import annotations

from wtforms import DateField, EmailField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice as C
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional

from app.core.forms import FlaskForm
from app.core.i18n import lazy_gettext as _l
from app.models import RequestKind

KIND_CHOICES = [C(k.value, k.value) for k in RequestKind]  # labels come from requests.family_views.RIGHTS
# What the office reads when it logs a request: the right in plain words, the law's name after.
KIND_WORDS = {
    "access": "A copy of their data (access)",
    "erasure": "Delete their data (erasure)",
    "rectification": "Correct their data (rectification)",
    "restriction": "Limit the use of their data (restriction)",
    "objection": "Stop a use of their data (objection)",
    "portability": "Their data to take elsewhere (portability)",
    "other": "Something else",
}
DETAILS = dict(
    validators=[Optional(), Length(max=4000, message=_l("Please keep it under 4,000 characters."))]
)


def apply_error(form: FlaskForm, error) -> bool:
    """Put a service refusal (``message``, ``field``) on the form field it names; False when
    it names no field of this form (the page then shows it at the top)."""
    name = getattr(error, "field", None)
    if name and name in form:
        form[name].errors = list(form[name].errors or []) + [error.message]
        return True
    return False


class ParentRequestForm(FlaskForm):
    kind = RadioField(
        _l("What would you like?"),
        choices=KIND_CHOICES,
        validators=[InputRequired(_l("Choose what you would like."))],
    )
    # "self" or a linked child's id; checked by the service (another family's child: 404)
    about = RadioField(
        _l("Who is it about?"),
        validate_choice=False,
        validators=[InputRequired(_l("Choose who the request is about."))],
    )
    organisation_id = SelectField(
        _l("Which school is it for?"), coerce=int, validate_choice=False, validators=[Optional()]
    )
    details = TextAreaField(_l("Anything the school should know (optional)"), **DETAILS)


class PublicRequestForm(FlaskForm):
    organisation_id = SelectField(
        _l("Which school is it for?"), coerce=int, validators=[InputRequired(_l("Choose the school."))]
    )
    kind = RadioField(
        _l("What would you like?"),
        choices=KIND_CHOICES,
        validators=[InputRequired(_l("Choose what you would like."))],
    )
    on_behalf_of = RadioField(
        _l("Who is it about?"),
        choices=[C("self", _l("Me")), C("child", _l("My child"))],
        validators=[InputRequired(_l("Choose who the request is about."))],
    )
    requester_name = StringField(
        _l("Your full name"),
        validators=[
            DataRequired(_l("Give your name, so the school can find your records.")),
            Length(max=120),
        ],
    )
    requester_email = EmailField(
        _l("Your email address"),
        validators=[
            DataRequired(_l("Give your email address: we send the confirmation link there.")),
            Email(_l("Give an email address like name@example.com.")),
            Length(max=254),
        ],
    )
    details = TextAreaField(_l("Anything the school should know (optional)"), **DETAILS)


class OfficeRequestForm(FlaskForm):
    organisation_id = SelectField("School", coerce=int, validate_choice=False, validators=[Optional()])
    kind = SelectField(
        "Kind of request",
        choices=[C(k.value, KIND_WORDS[k.value]) for k in RequestKind],
        validators=[InputRequired("Choose the kind of request.")],
    )
    channel = SelectField(
        "How it arrived",
        choices=[
            C("phone", "Phone call"),
            C("letter", "Letter"),
            C("email", "Email"),
            C("in_person", "In person"),
        ],
        validators=[InputRequired("Choose how it arrived.")],
    )
    received_on = DateField(
        "The day it arrived", validators=[InputRequired("Give the day it arrived, like 2026-03-05.")]
    )
    requester_name = StringField(
        "Requester's name", validators=[DataRequired("Give the requester's name."), Length(max=120)]
    )
    requester_email = StringField("Requester's email (optional)", validators=[Optional(), Length(max=254)])
    pupil_id = SelectField(
        "About a child (optional)",
        coerce=lambda v: int(v) if v else None,
        validate_choice=False,
        validators=[Optional()],
    )
    details = TextAreaField("What they asked for", **DETAILS)
