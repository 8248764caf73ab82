"""Forms for parents and carers."""

from __future__ import annotations

from wtforms import BooleanField, PasswordField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.core.forms import FlaskForm
from app.core.i18n import LANGUAGES
from app.core.i18n import lazy_gettext as _l
from app.core.phones import UKMobile, stripped


class JoinCodeForm(FlaskForm):
    code = StringField(
        _l("Your code from the letter"),
        validators=[
            DataRequired(_l("Please type the code from your letter.")),
            Length(max=20, message=_l("That code is too long: it looks like ABCD-2345.")),
        ],
    )


class JoinForm(FlaskForm):
    # each language named in its own words, so its speakers find it whatever the page's language
    language = SelectField(
        _l("Language for Hometime's pages and messages"),
        choices=[SelectChoice(lang.code, lang.native) for lang in LANGUAGES.values()],
        validate_choice=False,  # anything else falls back to the preselected language (join_views)
    )
    agree = BooleanField(
        _l("I agree to Hometime holding my and my child's details as described in the privacy notice"),
        validators=[
            DataRequired(
                _l(
                    "Please tick to agree. We can't create your account without it; the school will "
                    "keep sending you letters instead."
                )
            )
        ],
    )
    sms_reminders = BooleanField(_l("Reminders by text message (optional)"))
    promo_photos = BooleanField(
        _l(
            "The school may use photos and comments I share to show what families do, when I say so (optional)"
        )
    )
    news = BooleanField(_l("Other news from the school and Hometime (optional)"))
    signin = RadioField(
        _l("How would you like to sign in?"),
        default="email_link",
        choices=[
            SelectChoice("email_link", _l("Email me a sign-in link each time")),
            SelectChoice("sms_code", _l("Text me a code each time")),
            SelectChoice("password", _l("Use a password")),
        ],
    )
    mobile = StringField(
        _l("Mobile (optional, for texts)"),
        validators=[Optional(), Length(max=20, message=_l("That number is too long.")), UKMobile()],
        filters=[stripped],
    )
    password = PasswordField(
        _l("Password (only if you chose one)"),
        validators=[
            Optional(),
            Length(
                min=10,
                max=200,
                message=_l("Please choose a password of at least 10 characters (and no more than 200)."),
            ),
        ],
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        needs_mobile = self.signin.data == "sms_code" or self.sms_reminders.data
        if needs_mobile and not self.mobile.data and not self.meta.existing_mobile:
            self.mobile.errors.append(str(_l("Please give a mobile number for text messages.")))
            ok = False
        if self.signin.data == "password" and not self.password.data:
            self.password.errors.append(str(_l("Please choose a password, or another way to sign in.")))
            ok = False
        return ok
