"""Forms of the family pages: rating, sending a comment or photo, settings, own details.

The rating and sending forms are drawn by hand (app/learning/controls.py and
templates/parents/_controls.html: each card needs its own field ids); these classes only parse
and validate.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from flask_babel import gettext as _
from flask_wtf.file import FileField
from wtforms import BooleanField, EmailField, StringField, TelField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.core.forms import FlaskForm
from app.core.i18n import lazy_gettext as _l
from app.core.phones import UKMobile, stripped


class RatingForm(FlaskForm):
    rating = StringField()


class SendForm(FlaskForm):
    comment = TextAreaField()
    comment_promo = BooleanField()
    photo = FileField()
    photo_promo = BooleanField()


class ToggleForm(FlaskForm):
    on = StringField()

    def wanted(self) -> bool | None:
        """True to turn on, False to turn off, None when the value is not one of ours."""
        return {"1": True, "0": False}.get((self.on.data or "").strip())


class PlainTimeField(TimeField):
    """A time, with a plain-words message instead of WTForms' "Not a valid time value"."""

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_("Please enter a time like 20:00.")) from None


class QuietHoursForm(FlaskForm):
    quiet_from = PlainTimeField(_l("From"), validators=[Optional()], render_kw={"autocomplete": "off"})
    quiet_until = PlainTimeField(_l("Until"), validators=[Optional()], render_kw={"autocomplete": "off"})
    usual = StringField()  # the "use the usual hours" button's value


class DetailsForm(FlaskForm):
    name = StringField(
        _l("Your name"),
        validators=[
            DataRequired(_l("Please enter your name.")),
            Length(max=120, message=_l("Please keep your name under 120 characters.")),
        ],
    )
    email = EmailField(
        _l("Email address (optional if you give a mobile)"),
        validators=[Optional(), Length(max=254, message=_l("That email address is too long."))],
    )
    mobile = TelField(
        _l("UK mobile number (optional)"),
        validators=[Optional(), Length(max=20, message=_l("That number is too long.")), UKMobile()],
        filters=[stripped],
    )

    def validate_email(self, field):
        try:
            field.data = validate_email(field.data.strip(), check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            raise ValidationError(_("Please enter an email address like name@example.com.")) from None
