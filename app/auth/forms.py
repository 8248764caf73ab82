"""Sign-in forms. Field lengths are bounded so an overlong value is a 422, never a 500."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from app.core.phones import UKMobile

EMAIL = [
    DataRequired("Enter your email address."),
    Length(max=254, message="That email address is too long."),
    Email("Enter an email address like name@example.com."),
]
PASSWORD_MIN = 10


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _password(label="Password"):
    return PasswordField(
        label,
        validators=[
            DataRequired("Enter your password."),
            Length(max=200, message="That password is too long (200 characters at most)."),
        ],
    )


def _new_password(label="New password"):
    return PasswordField(
        label,
        validators=[
            DataRequired("Choose a password."),
            Length(
                min=PASSWORD_MIN,
                max=200,
                message=f"Use at least {PASSWORD_MIN} characters (and no more than 200).",
            ),
        ],
    )


class _Next(FlaskForm):
    next = HiddenField(validators=[Length(max=500)])


class SignInForm(_Next):
    email = StringField("Email address", validators=EMAIL, filters=[_strip])
    password = _password()
    remember = BooleanField("Keep me signed in on this device")


class LinkRequestForm(_Next):
    email = StringField("Email address", validators=EMAIL, filters=[_strip])
    remember = BooleanField("Keep me signed in on this device")


class LinkUseForm(FlaskForm):
    remember = BooleanField("Keep me signed in on this device")


class CodeRequestForm(_Next):
    mobile = StringField(
        "Mobile phone number",
        validators=[
            DataRequired("Enter your mobile phone number."),
            Length(max=20, message="That phone number is too long."),
            UKMobile(),
        ],
        filters=[_strip],
    )


class CodeCheckForm(FlaskForm):
    code = StringField(
        "Code from the text message",
        validators=[
            DataRequired("Enter the 6-digit code from the text message."),
            Length(max=12, message="The code has 6 digits."),
        ],
    )
    remember = BooleanField("Keep me signed in on this device")

    def validate_code(self, field):
        digits = "".join(field.data.split())
        if not (digits.isdigit() and len(digits) == 6):
            raise ValidationError("The code has 6 digits, like 123456.")
        field.data = digits


class MfaCodeForm(FlaskForm):
    code = StringField(
        "Code",
        validators=[
            DataRequired("Enter the code from your authenticator app, or a recovery code."),
            Length(max=32, message="That code is too long."),
        ],
    )


class MfaEnrolForm(FlaskForm):
    code = StringField(
        "6-digit code from the app",
        validators=[
            DataRequired("Enter the 6-digit code your authenticator app shows."),
            Length(max=12, message="The code has 6 digits."),
        ],
    )


class PasswordCheckForm(FlaskForm):
    password = _password("Your current password")


class ReauthForm(_Next):
    password = _password()


class ResetRequestForm(FlaskForm):
    email = StringField("Email address", validators=EMAIL, filters=[_strip])


class NewPasswordForm(FlaskForm):
    password = _new_password()
    confirm = PasswordField(
        "Type the new password again",
        validators=[
            DataRequired("Type the new password again."),
            EqualTo("password", message="The two passwords are not the same."),
        ],
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        "Your current password", validators=[Length(max=200, message="That password is too long.")]
    )
