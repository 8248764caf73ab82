"""The teachers' forms. Length limits answer 422 with the form and a clear message."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import InputRequired, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.core.forms import FlaskForm
from app.learning.activities import KIND_LABELS, SUBJECTS, YEAR_GROUPS
from app.learning.classroom import AWARD_LABELS
from app.models import ActivityKind
from app.params import db_int


def options(pairs) -> list[SelectChoice]:
    """WTForms choices from (value, label) pairs."""
    return [SelectChoice(str(value), label) for value, label in pairs]


def year_label(group: str) -> str:
    """ "Reception" or "Year 3"."""
    return "Reception" if group == "R" else f"Year {group}"


class MultiCheckboxField(SelectMultipleField):
    """A list of checkboxes (several choices)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class at_most:  # lower case: used like WTForms' own validators, at_most(2000, "the note")
    """A Length check whose message says how long the text was (and a ``maxlength`` attribute)."""

    def __init__(self, limit: int, what: str = "this") -> None:
        self.limit, self.what = limit, what
        self.field_flags = {"maxlength": limit}

    def __call__(self, form, field) -> None:
        text = field.data or ""
        if len(text) > self.limit:
            raise ValidationError(
                f"Please keep {self.what} to {self.limit:,} characters or fewer (it has {len(text):,})."
            )


class ActivityForm(FlaskForm):
    """An activity of the library; kind-specific checks are in app.learning.activities."""

    kind = RadioField(
        "What kind of activity is it?",
        validators=[InputRequired("Please choose what kind of activity it is.")],
        choices=options((k.value, KIND_LABELS[k]) for k in ActivityKind),
    )
    title = StringField(
        "Title", validators=[InputRequired("Please give the activity a title."), at_most(120, "the title")]
    )
    instructions = TextAreaField(
        "Instructions for families",
        validators=[at_most(4000, "the instructions")],
        description="Plain text. Start a new line for each step.",
    )
    subject = SelectField("Subject", choices=options((s, s) for s in SUBJECTS))
    year_groups = MultiCheckboxField("Year groups", choices=options((g, year_label(g)) for g in YEAR_GROUPS))
    minutes = IntegerField(
        "Minutes (optional)",
        validators=[Optional(), NumberRange(1, 240, "Please give a number of minutes from 1 to 240.")],
    )
    url = StringField(
        "Video or game address",
        validators=[Optional(), at_most(500, "the address")],
        description="Videos: a YouTube or Vimeo link. Games: an https:// link. "
        "Not needed for printables and hands-on activities.",
    )
    file = FileField("PDF worksheet", description="Printables only: a PDF of up to 5 MB.")


class TopicForm(FlaskForm):
    """A topic's details; ``version`` is the one the form was loaded with."""

    version = HiddenField()
    title = StringField(
        "Title", validators=[InputRequired("Please give the topic a title."), at_most(120, "the title")]
    )
    week_start = DateField(
        "Week starting (a Monday)", validators=[InputRequired("Please choose the Monday the topic starts.")]
    )
    class_ids = MultiCheckboxField("Classes", coerce=int, validate_choice=False)
    year_group = SelectField("Or every class in a year group", choices=[], validate_choice=False)
    note = TextAreaField(
        "A short note to families (optional)",
        validators=[at_most(1000, "the note")],
        description="Up to 1,000 characters. Plain text.",
    )


class CopyForm(FlaskForm):
    """Copy a topic to a week and classes."""

    week_start = DateField(
        "Week starting (a Monday)", validators=[InputRequired("Please choose the Monday of the new week.")]
    )
    class_ids = MultiCheckboxField("For classes", coerce=int, validate_choice=False)


class PublishForm(FlaskForm):
    """Publish now, or at a time in the school's time zone."""

    version = HiddenField()
    when = RadioField(
        "When should families see it?",
        default="now",
        choices=options([("now", "Now"), ("later", "At a set time")]),
    )
    publish_at = DateTimeLocalField(
        "Publish at (school time)", format="%Y-%m-%dT%H:%M", validators=[Optional()]
    )


class AwardForm(FlaskForm):
    """An award for one pupil."""

    kind = SelectField("Award", choices=options((k.value, label) for k, label in AWARD_LABELS.items()))
    note = StringField(
        "A few words for the family (optional)", validators=[Optional(), at_most(200, "the note")]
    )


def version_of(form) -> int | None:
    """The version a form was loaded with, or None (always stale) when missing or garbled."""
    try:
        return db_int(form.version.data)
    except (TypeError, ValueError):
        return None
