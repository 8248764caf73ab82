"""Every family in their own language: the languages Hometime speaks and how a page picks one.

Flask-Babel does the work (catalogs in ``app/translations``, dates, numbers and plurals for the
locale). The page's language is, in order: the carer's own choice (``users.language``, already on
the signed-in user's row, so choosing costs no query), the choice a visitor made from the footer
before signing in (a ``lang`` cookie, strictly necessary: it only remembers what they asked for),
then the browser's ``Accept-Language``; English (UK) otherwise.

The school's MIS names a family's home language by a DfE code (``POL``, ``URD``, ``PNJ``...) or by
name ("Polish"); :func:`from_mis` turns either into one of ours, or ``None`` when we do not speak it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import cache, lru_cache
from typing import cast
from urllib.parse import urlsplit

from babel import Locale, support
from babel.dates import format_date, format_skeleton
from flask import Flask, current_app, has_request_context, redirect, request, url_for
from flask_babel import (
    Babel,
    Domain,
    LazyString,
    force_locale,
    format_time,
    get_locale,
    get_translations,
    to_user_timezone,
)
from flask_login import current_user
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup
from werkzeug.wrappers import Response

from app.core.application import escape_output
from app.core.contexts import app_globals, current_request, signed_in_user

COOKIE = "lang"
DEFAULT = "en_GB"


@dataclass(frozen=True)
class Language:
    code: str  # Babel's locale name, as the catalog folder is named
    native: str  # the language's own name, as its speakers look for it
    english: str  # for the office
    rtl: bool = False
    dfe: tuple[str, ...] = ()  # DfE "first language" codes that mean this language

    @property
    def tag(self) -> str:
        """The BCP 47 tag for ``lang=""``: en-GB, pa-Guru ..."""
        return {"en_GB": "en-GB", "pa": "pa-Guru"}.get(self.code, self.code.replace("_", "-"))

    @property
    def direction(self) -> str:
        return "rtl" if self.rtl else "ltr"


LANGUAGES: dict[str, Language] = {
    lang.code: lang
    for lang in (
        Language("en_GB", "English", "English", dfe=("ENG", "ENB")),
        Language("pl", "Polski", "Polish", dfe=("POL",)),
        Language("ro", "Română", "Romanian", dfe=("RMN", "RMNM", "RMNX")),
        Language("ur", "اردو", "Urdu", rtl=True, dfe=("URD",)),
        Language("pa", "ਪੰਜਾਬੀ", "Panjabi (Gurmukhi)", dfe=("PNJ", "PNJG", "PNJA", "PNJM", "PNJX")),
        Language("bn", "বাংলা", "Bengali", dfe=("BNG", "BNGA", "BNGC", "BNGS", "BNGX")),
        Language(
            "ar",
            "العربية",
            "Arabic",
            rtl=True,
            dfe=("ARA", "ARAA", "ARAE", "ARAG", "ARAI", "ARAM", "ARAS", "ARAY", "ARAX"),
        ),
        Language("so", "Soomaali", "Somali", dfe=("SOM",)),
        Language("pt", "Português", "Portuguese", dfe=("POR", "PORA", "PORB", "PORP", "PORX")),
        Language("es", "Español", "Spanish", dfe=("SPA",)),
        Language("uk", "Українська", "Ukrainian", dfe=("UKR",)),
    )
}


def language(code: str | None) -> Language:
    return LANGUAGES.get(code or "", LANGUAGES[DEFAULT])


def from_mis(value: str | None) -> str | None:
    """A DfE first-language code or a language's name (English or its own) -> our code, or None."""
    text = (value or "").strip()
    if not text:
        return None
    upper = text.upper()
    folded = text.casefold()
    for lang in LANGUAGES.values():
        if upper in lang.dfe or folded in {
            lang.english.casefold(),
            lang.native.casefold(),
            lang.code.casefold(),
        }:
            return lang.code
        if folded.split(" (")[0] == lang.english.split(" (")[0].casefold():
            return lang.code
    return None


def select_locale() -> str:
    if not has_request_context():
        return DEFAULT  # a job: messages choose their recipient's language themselves
    user = signed_in_user()
    user_language = getattr(user, "language", None) if user else None
    if user_language in LANGUAGES:
        return user_language
    here = current_request()
    chosen = here.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    # "en" from the browser means English (UK) here; a regional variant falls back to its base
    offered = [*LANGUAGES, "en"]
    best = here.accept_languages.best_match(offered)
    if best == "en" or best is None:
        return DEFAULT
    return best


def _page_locale() -> Locale:
    """:func:`select_locale`'s choice as Babel's object, one per language and process: Babel
    would parse the name into a new one on every request, whose words (month names, plural
    rules) are then looked up afresh."""
    return _locale(select_locale())


@cache
def _locale(code: str) -> Locale:
    return Locale.parse(code)


def joining_language(letter: str | None) -> str:
    """The language preselected on the join page: one already chosen from the footer, else the
    family's home language the school gave (the letter's), else the browser's."""
    chosen = request.cookies.get(COOKIE)
    if chosen in LANGUAGES:
        return chosen
    if letter in LANGUAGES:
        return letter
    return select_locale()


def current() -> Language:
    """The language being written in: the page's, or the recipient's inside :func:`in_language`.
    Remembered for the request while the locale stays the same object (a page asks some forty
    times; a language forced with :func:`in_language` is another object)."""
    here = app_globals()
    if here is None:  # outside an application context
        locale = get_locale()
        return language(str(locale) if locale is not None else DEFAULT)
    locale = getattr(here.__dict__.get("_flask_babel"), "babel_locale", None) or get_locale()
    hit = here.__dict__.get("_page_language")
    if hit is not None and hit[0] is locale:
        return hit[1]
    found = language(str(locale) if locale is not None else DEFAULT)
    here._page_language = (locale, found)
    return found


@contextmanager
def in_language(code: str | None) -> Iterator[Language]:
    """Write in one person's language (a message, a letter): their code, else English (UK).
    Works in a request and in a job alike."""
    lang = language(code)
    with force_locale(lang.code):
        yield lang


def safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no '//'): anything else goes home."""
    if not target:
        return url_for("site.index")
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return url_for("site.index")
    return target


def switch(code: str) -> Response:
    """Remember a language: on the carer's account when signed in, else in the ``lang`` cookie."""
    from app.core.transactions import transaction

    target = safe_next(request.args.get("next"))
    response = redirect(target, 303)
    if current_user.is_authenticated:
        with transaction():
            current_user.language = code
    else:
        response.set_cookie(
            COOKIE,
            code,
            max_age=365 * 24 * 3600,
            secure=current_app.config.get("SESSION_COOKIE_SECURE", False),
            httponly=True,
            samesite="Lax",
        )
    return response


# Styles that are not Babel's own (full, long, medium, short): CLDR skeletons, so each language
# puts the day, month and weekday in its own order ("4 December", "4 grudnia", "ਦਸੰਬਰ 4").
SKELETONS = {"day": "MMMMd", "weekday": "MMMMEEEEd", "month": "yMMMM"}


def long_date(value: date | datetime | str | None, style: str = "full") -> str:
    """A date as its reader writes it ("Friday 4 December 2026", "piątek, 4 grudnia 2026"; style
    "long" without the weekday, for a text message; "day" for "4 December", "weekday" for "Friday
    4 December", "month" for "December 2026"). ``value`` may be an ISO string, as message contexts
    carry dates, or a moment, shown as the day it is in the school's time zone."""
    if not value:
        return ""
    if isinstance(value, str):
        day = date.fromisoformat(value[:10])
    elif isinstance(value, datetime):
        day = to_user_timezone(value).date()
    else:
        day = value
    return _day_in_words(day, style, get_locale() or DEFAULT)


@lru_cache(maxsize=4096)
def _day_in_words(day: date, style: str, locale) -> str:
    """``long_date``'s words for a day, remembered per process: Babel works them out afresh on
    every call (about 20 µs), and a family's pages show the same few days again and again."""
    if style in SKELETONS:
        return format_skeleton(SKELETONS[style], day, locale=locale)
    return format_date(day, style, locale=locale)  # its words depend on its arguments alone


def clock_time(value: time | datetime | None) -> str:
    """A time of day as its reader writes it ("20:00"); a moment in the school's time zone."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_time(value, "short")
    return format_time(datetime.combine(date(2000, 1, 1), value), "short", rebase=False)


def as_written(text: str | None) -> Markup | str:
    """Words the school wrote, inside a sentence of the page's language: marked as English so a
    screen reader reads them as English (nothing to mark on an English page)."""
    if not text:
        return ""
    if current().code == DEFAULT:
        return text
    return Markup('<span lang="en-GB">{}</span>').format(text)


def translations(domain: Domain | None = None) -> support.NullTranslations:
    """The catalog of the language being written in (Flask-Babel's default domain, or
    ``domain``), as Flask-Babel finds it, remembered for the request while that language stays
    the same: each of Flask-Babel's own lookups reads several context locals and turns the locale
    into a string, and a parent's home page translates a few hundred words. A language forced
    with :func:`in_language` is another locale object, so it is looked up again, and so is the
    page's own when the forced one ends."""
    here = app_globals()  # one context-variable read, then plain attributes
    if here is None:  # outside an application context
        return domain.get_translations() if domain else get_translations()
    key = domain.domain[0] if domain else ""
    remembered = here.__dict__.setdefault("_page_translations", {})
    hit = remembered.get(key)
    babel = getattr(here, "_flask_babel", None)
    if hit is not None and hit[0] is getattr(babel, "babel_locale", None):
        return hit[1]
    found = domain.get_translations() if domain else get_translations()
    remembered[key] = (here._flask_babel.babel_locale, found)
    return found


def _gettext(string: str, **variables) -> str:
    """Flask-Babel's ``gettext``, looked up in the catalog remembered for the request
    (:func:`translations`)."""
    found = translations().ugettext(string)
    return found if not variables else found % variables


def lazy_gettext(string: str, **variables) -> LazyString:
    """Flask-Babel's ``lazy_gettext``: a string translated each time it is shown (a form's label
    or message, made once when the module loads), looked up through :func:`translations` rather
    than Flask-Babel's ``gettext``, which finds the domain, the locale and its catalog again for
    every word: a twelfth of a family's settings page, its labels and hints."""
    return LazyString(_gettext, string, **variables)


_LANGUAGE_LINK = Markup(
    '\n        <li><a href="{url}" lang="{tag}" hreflang="{tag}" rel="nofollow" hx-boost="false"{current}>'
    "{name}</a></li>"
)


def language_links(page_language: Language, here: str) -> Markup:
    """The footer's list of languages, each a link to choose it and come back to ``here``, the
    page's own marked current. Every page draws it (a dozen links, each built by the router): it
    is put together once per process for each page address and language."""
    return _language_links(request.script_root, page_language.code, here)


@lru_cache(maxsize=512)
def _language_links(script_root: str, code: str, here: str) -> Markup:
    return Markup("").join(
        _LANGUAGE_LINK.format(
            url=url_for("site.choose_language", code=lang.code, next=here),
            tag=lang.tag,
            current=Markup(' aria-current="true"') if lang.code == code else "",
            name=lang.native,
        )
        for lang in LANGUAGES.values()
    )


def markup_gettext(text: str, **values) -> Markup:
    """A template's ``_(text, **values)`` for Python that writes HTML: the translation is markup,
    each value is escaped into it. A translation whose only placeholders are ``%(name)s`` (all of
    them here) gets each value escaped once, as markupsafe's ``%`` escapes it, without its helper
    object for every value and every lookup; any other is formatted by markupsafe itself."""
    if values:
        found = translations().ugettext(text)
        if _names_only(found):
            return Markup(found % {name: escape_output(value) for name, value in values.items()})
        return Markup(found) % values
    return cast(Markup, _phrase(translations(), text, True))


_NAMED = re.compile(r"%\(\w+\)s|%%")


@lru_cache(maxsize=8192)
def _names_only(translation: str) -> bool:
    """Whether every ``%`` in ``translation`` starts a ``%(name)s`` or a ``%%``."""
    return "%" not in _NAMED.sub("", translation)


@pass_eval_context
def _template_gettext(eval_ctx: EvalContext, text: str, **values) -> str:
    """Jinja's newstyle ``gettext`` (``jinja2.ext._make_new_gettext``), with the page's catalog
    found by :func:`translations`."""
    if eval_ctx.autoescape:
        return markup_gettext(text, **values)
    if values:
        return translations().ugettext(text) % values
    return _phrase(translations(), text, False)


@lru_cache(maxsize=8192)
def _phrase(catalog: support.NullTranslations, text: str, autoescape: bool) -> str:
    found = catalog.ugettext(text)
    return (Markup(found) if autoescape else found) % {}  # "%%" in a catalog means "%"


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/London")
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", "translations")
    Babel(app, locale_selector=_page_locale)
    # The templates' _(), ngettext() and pgettext() (about 250 calls on a parent's home page)
    # find the translations once per request and language, not on every call.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    # The templates' ``_()`` and ``gettext()`` (a hundred calls on a family home): the same
    # words as the i18n extension's own (the translation, as markup where the page escapes, with
    # each value escaped into it), without its second call through the template's context, and
    # a phrase with no values put together once per process and catalog.
    app.jinja_env.globals["gettext"] = app.jinja_env.globals["_"] = _template_gettext
    app.jinja_env.filters["long_date"] = long_date
    app.jinja_env.filters["clock_time"] = clock_time
    app.jinja_env.filters["as_written"] = as_written
    app.jinja_env.globals["language_links"] = language_links

    @app.context_processor
    def page_language() -> dict:
        # a job renders emails and the export's pages outside any request: English (UK) there,
        # until messages are rendered per recipient
        in_request = has_request_context()
        lang = current() if in_request else LANGUAGES[DEFAULT]
        # the path alone: the query (a search, an address typed into a filter) is not echoed back
        asked = current_request() if in_request else None
        here = asked.path if asked is not None and asked.method == "GET" else "/"
        return {"page_language": lang, "language_next": here}
