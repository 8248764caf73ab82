"""Sign-in forms. Field lengths are bounded so an overlong value is a 422, never a 500."""

from __future__ import annotations

from flask_babel import LazyString, gettext
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from app.core.forms import FlaskForm
from app.core.i18n import lazy_gettext as _l
from app.core.phones import UKMobile

EMAIL = [
    DataRequired(_l("Enter your email address.")),
    Length(max=254, message=_l("That email address is too long.")),
    Email(_l("Enter an email address like name@example.com.")),
]
PASSWORD_MIN = 10


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _password(label: str | LazyString | None = None):
    return PasswordField(
        label or _l("Password"),
        validators=[
            DataRequired(_l("Enter your password.")),
            Length(max=200, message=_l("That password is too long (200 characters at most).")),
        ],
    )


def _new_password(label: str | LazyString | None = None):
    return PasswordField(
        label or _l("New password"),
        validators=[
            DataRequired(_l("Choose a password.")),
            Length(
                min=PASSWORD_MIN,
                max=200,
                message=_l("Use at least %(n)s characters (and no more than 200).", n=PASSWORD_MIN),
            ),
        ],
    )


class _Next(FlaskForm):
    next = HiddenField(validators=[Length(max=500)])


class SignInForm(_Next):
    email = StringField(_l("Email address"), validators=EMAIL, filters=[_strip])
    password = _password()
    remember = BooleanField(_l("Keep me signed in on this device"))


class LinkRequestForm(_Next):
    email = StringField(_l("Email address"), validators=EMAIL, filters=[_strip])
    remember = BooleanField(_l("Keep me signed in on this device"))


class LinkUseForm(FlaskForm):
    remember = BooleanField(_l("Keep me signed in on this device"))


class CodeRequestForm(_Next):
    mobile = StringField(
        _l("Mobile phone number"),
        validators=[
            DataRequired(_l("Enter your mobile phone number.")),
            Length(max=20, message=_l("That phone number is too long.")),
            UKMobile(),
        ],
        filters=[_strip],
    )


class CodeCheckForm(FlaskForm):
    code = StringField(
        _l("Code from the text message"),
        validators=[
            DataRequired(_l("Enter the 6-digit code from the text message.")),
            Length(max=12, message=_l("The code has 6 digits.")),
        ],
    )
    remember = BooleanField(_l("Keep me signed in on this device"))

    def validate_code(self, field):
        digits = "".join(field.data.split())
        if not (digits.isdigit() and len(digits) == 6):
            raise ValidationError(gettext("The code has 6 digits, like 123456."))
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
            Length(max=12, message=_l("The code has 6 digits.")),
        ],
    )


class PasswordCheckForm(FlaskForm):
    password = _password("Your current password")


class ReauthForm(_Next):
    password = _password()


class ResetRequestForm(FlaskForm):
    email = StringField(_l("Email address"), validators=EMAIL, filters=[_strip])


class NewPasswordForm(FlaskForm):
    password = _new_password()
    confirm = PasswordField(
        _l("Type the new password again"),
        validators=[
            DataRequired(_l("Type the new password again.")),
            EqualTo("password", message=_l("The two passwords are not the same.")),
        ],
    )


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        "Your current password", validators=[Length(max=200, message="That password is too long.")]
    )
