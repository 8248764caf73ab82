"""UK mobile numbers: the one check used at sign-in, sign-up, in settings, rectification and
roster imports, so a number accepted in one place is accepted everywhere and stored the same way
(E.164, ``+447…``).

Accepted: what people type or spreadsheets hold (spaces, dashes, dots, brackets, ``+44``,
``+44 (0)``, ``0044``, ``44``, ``07…``, or ``7…`` when a spreadsheet dropped the leading zero),
when ``phonenumbers`` says it is a valid mobile in the +44 plan (GB, Guernsey, Jersey, Isle of
Man), and Ofcom's drama range 07700 900000–900999, which ``phonenumbers`` calls invalid but the
demo and tests use because it is nobody's. Refused: landlines, pagers, personal numbers, other
countries, wrong lengths, letters (``phonenumbers`` would read them as a keypad), extensions.
"""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from flask_babel import LazyString
from wtforms.validators import ValidationError

from app.core.i18n import lazy_gettext

MESSAGE = lazy_gettext("Enter a UK mobile number, like 07700 900123.")
_MAX_LENGTH = 40  # longer than any way of writing a number; forms stop at 20
_SEPARATORS = re.compile(r"[\s().\-\u2010-\u2015]")
_UK_SHAPE = re.compile(r"(?:\+44|0044|44)?0?(7[0-9]{9})", re.ASCII)
_DRAMA = re.compile(r"7700900[0-9]{3}", re.ASCII)  # Ofcom: 07700 900000–900999, for fiction


# GB's own mobile ranges, straight from phonenumbers' metadata: most numbers are settled here
# without building a PhoneNumber (a 9,000-contact roster checks one per contact).
def _gb_mobile_pattern() -> re.Pattern[str]:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("GB")
    pattern = metadata.mobile.national_number_pattern if metadata and metadata.mobile else None
    if pattern is None:
        raise RuntimeError("the phonenumbers package has no pattern for GB mobiles")
    return re.compile(pattern)


_GB_MOBILE = _gb_mobile_pattern()
_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def _ascii_digits(text: str) -> str:
    """Digits typed on another script's keypad (e.g. ٠٧٧٠٠) as 0–9; everything else as is."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def uk_mobile_e164(value: str | None) -> str | None:
    """``value`` as an E.164 UK mobile number (``+447…``), or None when it is not one."""
    if not value or len(value) > _MAX_LENGTH:
        return None
    shape = _UK_SHAPE.fullmatch(_SEPARATORS.sub("", _ascii_digits(value)))
    if shape is None:
        return None
    national = shape.group(1)
    if _GB_MOBILE.fullmatch(national) or _DRAMA.fullmatch(national):
        return "+44" + national
    number = phonenumbers.PhoneNumber(country_code=44, national_number=int(national))
    if phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in _MOBILE_TYPES:
        return "+44" + national  # a Crown Dependency's mobile (Guernsey, Jersey, Isle of Man)
    return None


def stripped(value):
    """WTForms filter for a mobile field: without surrounding spaces, so a field of spaces is
    empty to ``Optional()`` (and is saved as no number, not as spaces)."""
    return value.strip() if isinstance(value, str) else value


class UKMobile:
    """WTForms validator: the field must be a UK mobile (:func:`uk_mobile_e164`); on success the
    field's data becomes the E.164 form. Put ``Optional()`` or ``DataRequired()`` before it, and
    :func:`stripped` in the field's filters."""

    def __init__(self, message: str | LazyString = MESSAGE):
        self.message = message

    def __call__(self, form, field) -> None:
        found = uk_mobile_e164(field.data)
        if found is None:
            raise ValidationError(str(self.message))
        field.data = found
