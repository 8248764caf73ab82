"""Every form's base: Flask-WTF's ``FlaskForm``, with WTForms' own messages ("This field is
required.", "Not a valid choice.") in the page's language from catalogs read once per process;
and WTForms' attributes written faster (``html_params``, below).

Flask-WTF reads WTForms' catalog from disk again on every request that builds a form (it keeps it
on the request only), parsing the file and compiling its plural rule each time: about a twentieth
of a teacher's page. The catalogs do not change while the app runs, so each language's is read
once (``WTF_I18N_ENABLED = False`` keeps WTForms' messages in English, as Flask-WTF does).
"""

from __future__ import annotations

from functools import cache

import wtforms.widgets
import wtforms.widgets.core
from babel import support
from flask import current_app, has_request_context
from flask_babel import get_locale
from flask_wtf import FlaskForm as _FlaskForm
from markupsafe import Markup, escape
from wtforms.i18n import messages_path
from wtforms.widgets.core import clean_key


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


# --- WTForms' attributes, the same text written faster ----------------------------------------
#
# Every field, label and option WTForms draws writes its attributes with ``html_params``, which
# puts each ``name="value"`` pair together with ``Markup.format``: a string formatter that escapes
# each of its fields through Python's ``string.Formatter``. On a page with a form that was a
# quarter of the request (the activity editor: thirty-two calls, 0.67 of its 2.45 profiled
# seconds). This writes the same text with an f-string: the key and the value escaped as
# ``Markup.format`` escapes them, ``"`` in a value given as Markup written ``&quot;``, ``True`` as
# the bare key, ``False`` left out, keys sorted. WTForms (pinned at 3.3.2) calls it by four names,
# all four replaced; ``tests/core/test_forms.py`` compares it with WTForms' own.

_WTFORMS_HTML_PARAMS = wtforms.widgets.core.html_params


def html_params(**kwargs) -> Markup:
    """WTForms' ``html_params``: the same text, without ``Markup.format``."""
    written = []
    for key, value in sorted(kwargs.items()):
        if value is True:
            written.append(str(escape(clean_key(key))))
        elif value is not False:
            written.append(f'{escape(clean_key(key))}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(written))


wtforms.widgets.core.html_params = html_params  # the widgets' own calls, and Select's options
wtforms.widgets.html_params = html_params  # a label's (wtforms.fields.core calls widgets.html_params)
wtforms.widgets.core.Input.html_params = staticmethod(html_params)  # every <input>
wtforms.widgets.core.Button.html_params = staticmethod(html_params)
