"""The starter library in the family's language.

The starter library (:mod:`app.learning.starter_library`) is written by us, not by a school, so
its titles and steps are translated, in their own gettext domain ``starter``
(``app/translations/<lang>/LC_MESSAGES/starter.po``). The words to translate are exactly each
starter activity's title and each line of its instructions, in the library's order.

A school's own words stay as written: a text is translated only when it is exactly a starter text
(a title, or instructions every line of which is a starter line) and the page's language has a
translation for all of it. A school that edited a starter activity sees its own words, shown as
English like everything else it writes.

``python -m app.learning.starter_words`` (run by ``make translations``) writes
``app/translations/starter.pot`` from the library.
"""

from __future__ import annotations

import sys
from functools import cache, lru_cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from flask import current_app
from flask_babel import Domain
from jinja2.filters import do_truncate
from markupsafe import Markup, escape

from app.core import i18n
from app.learning.starter_library import STARTER

DOMAIN = "starter"
TEMPLATE = Path(__file__).resolve().parents[1] / "translations" / f"{DOMAIN}.pot"

_domain = Domain(domain=DOMAIN)


def msgids() -> list[tuple[str, str]]:
    """Each starter title and instruction line once, in the library's order, with a note for the
    translator saying where it comes from."""
    seen: set[str] = set()
    found: list[tuple[str, str]] = []
    for item in STARTER:
        title = item["title"]
        parts = [(title, "title")]
        steps = item.get("instructions") or ""
        lines = steps.split("\n") if steps else []
        parts += [(line, f"{title}: step {n} of {len(lines)}") for n, line in enumerate(lines, 1)]
        for text, where in parts:
            if text and text not in seen:
                seen.add(text)
                found.append((text, where))
    return found


@cache
def _starter_texts() -> frozenset[str]:
    return frozenset(text for text, _where in msgids())


def _translated(text: str) -> str | None:
    if text not in _starter_texts():
        return None
    words = i18n.translations(_domain).ugettext(text)
    return words if words != text else None  # no translation in this language (or English)


def starter_words(text: str | None) -> str | None:
    """A starter title or starter instructions in the page's language, or None: for a school's own
    words, an edited starter text, English, or a language without the translation yet."""
    if not text or not text.strip():
        return None
    lines = [_translated(line) for line in text.strip().split("\n")]
    if any(line is None for line in lines):
        return None
    return "\n".join(line for line in lines if line is not None)


def lines(text: str | None) -> Markup:
    """Plain text with its line breaks shown: each line escaped, ``<br>`` between them."""
    return Markup("<br>").join(escape(line) for line in (text or "").split("\n"))


def school_words(text: str | None, page_language=None, note: bool = True, first_line: int = 0) -> Markup:
    """What the school wrote (a topic's note, an activity's title or steps), for a template: the
    starter library's own words in the page's language (:func:`starter_words`); anything else as
    written, marked as English so a screen reader pronounces it right, with a quiet note when the
    page is in another language (``note=False`` for a title). ``page_language``: the page's (an
    imported macro does not see the context); ``first_line``: only the first line, cut to that
    many characters (a summary). A function, not a macro: a family's home shows some thirty, so
    each is also remembered per process for its words and languages (the result depends on
    nothing else)."""
    noted = page_language.code if note and page_language else None
    return _school_words(text or "", i18n.current().code, noted, first_line)


@lru_cache(maxsize=1024)
def _school_words(text: str, reading: str, noted: str | None, first_line: int) -> Markup:
    """:func:`school_words` for a text, the language it is read in (whose catalogs translate it)
    and the page's language when a note is wanted."""
    translated = starter_words(text)
    shown = translated if translated is not None else text
    if first_line:
        shown = do_truncate(current_app.jinja_env, shown.strip().split("\n")[0], first_line)
    if translated is not None:
        return lines(shown)
    words = Markup('<span lang="en-GB">%s</span>') % lines(shown)
    if noted and noted != i18n.DEFAULT:
        said = Markup(i18n.translations().ugettext("written by the school in English"))
        words += Markup(' <small class="muted school-words" lang="%s">(%s)</small>') % (
            i18n.language(noted).tag,
            said,
        )
    return words


def write_template(path: Path = TEMPLATE) -> None:
    """Write the starter library's words to translate (``starter.pot``)."""
    catalog = Catalog(
        project="Hometime starter library",
        domain=DOMAIN,
        header_comment=(
            "# The starter library's words for families: each activity's title and each line of its\n"
            "# steps (app/learning/starter_library.py). Written by `make translations`: do not edit\n"
            "# this file; translate in app/translations/<lang>/LC_MESSAGES/starter.po."
        ),
    )
    for text, where in msgids():
        catalog.add(text, auto_comments=[where])
    with path.open("wb") as out:
        write_po(out, catalog, width=100, omit_header=False)


if __name__ == "__main__":
    write_template(Path(sys.argv[1]) if len(sys.argv) > 1 else TEMPLATE)
    print(f"wrote {TEMPLATE if len(sys.argv) == 1 else sys.argv[1]}")
