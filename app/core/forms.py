"""Every form's base: Flask-WTF's ``FlaskForm``, with WTForms' own messages ("This field is
required.", "Not a valid choice.") in the page's language from catalogs read once per process.

Flask-WTF reads WTForms' catalog from disk again on every request that builds a form (it keeps it
on the request only), parsing the file and compiling its plural rule each time: about a twentieth
of a teacher's page. The catalogs do not change while the app runs, so each language's is read
once (``WTF_I18N_ENABLED = False`` keeps WTForms' messages in English, as Flask-WTF does).
"""

from __future__ import annotations

from functools import cache

from babel import support
from flask import current_app, has_request_context
from flask_babel import get_locale
from flask_wtf import FlaskForm as _FlaskForm
from wtforms.i18n import messages_path


@cache
def _catalog(locale: str) -> support.Translations | support.NullTranslations:
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class _Words:
    """WTForms' messages in the language of the page being drawn (English outside a request)."""

    @staticmethod
    def _here():
        locale = get_locale() if has_request_context() else None
        return _catalog(str(locale)) if locale is not None else None

    def gettext(self, string: str) -> str:
        found = self._here()
        return string if found is None else found.ugettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        found = self._here()
        if found is None:
            return singular if n == 1 else plural
        return found.ungettext(singular, plural, n)


WORDS = _Words()


class FlaskForm(_FlaskForm):
    class Meta(_FlaskForm.Meta):
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return WORDS
