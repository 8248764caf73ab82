"""Forms of the privacy desk: the breach log (P29) and privacy-notice versions (P07). The checks
that matter are in the services (app/compliance/breaches/service.py, notices.py); their refusals are put
on the field they name."""

from __future__ import annotations

from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice as C
from wtforms.validators import Length, Optional

from app.core.forms import FlaskForm

LONG = dict(validators=[Optional(), Length(max=8000, message="Please keep it under 8,000 characters.")])


class BreachForm(FlaskForm):
    organisation_id = SelectField("School", coerce=int, validate_choice=False, validators=[Optional()])
    title = StringField("A short title", validators=[Length(max=160)])
    aware_at = StringField("When the school became aware")
    what_happened = TextAreaField("What happened", **LONG)
    data_categories = TextAreaField("What kinds of personal data (optional at first)", **LONG)
    people_affected = StringField(
        "Roughly how many people (optional)", validators=[Optional(), Length(max=12)]
    )
    records_affected = StringField(
        "Roughly how many records (optional)", validators=[Optional(), Length(max=12)]
    )
    consequences = TextAreaField("Likely consequences for the people affected (optional)", **LONG)
    measures = TextAreaField("Measures taken or planned (optional)", **LONG)


class DecisionForm(FlaskForm):
    decision = RadioField(
        "Was it reported to the ICO?",
        choices=[
            C("reported", "Yes, reported to the ICO"),
            C("not_reported", "No, it does not need reporting"),
        ],
        validate_choice=False,
    )
    reported_at = StringField("When it was reported")
    decision_reason = TextAreaField("Reason (required when it is not reported)", **LONG)
    late_reason = TextAreaField("Reason for the delay (required when reported after 72 hours)", **LONG)


class FamiliesToldForm(FlaskForm):
    families_told_at = StringField("When the families were told")


class NoticeForm(FlaskForm):
    organisation_id = SelectField("School", coerce=int, validate_choice=False, validators=[Optional()])
    version = StringField("Version", validators=[Length(max=20)])
    summary = TextAreaField("What changed, in plain words", **LONG)
    body = TextAreaField("The full notice", validators=[Optional(), Length(max=100_000)])
    major = BooleanField("This is a major change: everyone must read and acknowledge it")
