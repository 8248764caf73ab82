"""Forms for parents and carers."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from app.core.phones import UKMobile, stripped


class JoinCodeForm(FlaskForm):
    code = StringField(
        "Your code from the letter",
        validators=[
            DataRequired("Please type the code from your letter."),
            Length(max=20, message="That code is too long: it looks like ABCD-2345."),
        ],
    )


class JoinForm(FlaskForm):
    agree = BooleanField(
        "I agree to Hometime holding my and my child's details as described in the privacy notice",
        validators=[
            DataRequired(
                "Please tick to agree. We can't create your account without it; the school will "
                "keep sending you letters instead."
            )
        ],
    )
    sms_reminders = BooleanField("Reminders by text message (optional)")
    promo_photos = BooleanField(
        "The school may use photos and comments I share to show what families do, when I say so (optional)"
    )
    news = BooleanField("Other news from the school and Hometime (optional)")
    signin = RadioField(
        "How would you like to sign in?",
        default="email_link",
        choices=[
            SelectChoice("email_link", "Email me a sign-in link each time"),
            SelectChoice("sms_code", "Text me a code each time"),
            SelectChoice("password", "Use a password"),
        ],
    )
    mobile = StringField(
        "Mobile (optional, for texts)",
        validators=[Optional(), Length(max=20, message="That number is too long."), UKMobile()],
        filters=[stripped],
    )
    password = PasswordField(
        "Password (only if you chose one)",
        validators=[
            Optional(),
            Length(
                min=10,
                max=200,
                message="Please choose a password of at least 10 characters (and no more than 200).",
            ),
        ],
    )

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        needs_mobile = self.signin.data == "sms_code" or self.sms_reminders.data
        if needs_mobile and not self.mobile.data and not self.meta.existing_mobile:
            self.mobile.errors.append("Please give a mobile number for text messages.")
            ok = False
        if self.signin.data == "password" and not self.password.data:
            self.password.errors.append("Please choose a password, or another way to sign in.")
            ok = False
        return ok
