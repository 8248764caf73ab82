"""Every family-facing word is translated in every language: a catalog with a word missing, left
fuzzy, or with its placeholders changed fails here (the page or message would show English, or
break when the word is filled in). The words are read from the code and templates themselves, so
a newly marked word fails the test until `make translations` has merged it and it is translated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from app.core.i18n import DEFAULT, LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATIONS = ROOT / "app" / "translations"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
GLOSSARY = ("topic", "activity", "award", "carer", "privacy notice")
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "lazy_gettext": None,
    "_l": None,
    "N_": None,
}


@pytest.fixture(scope="module")
def marked() -> set[str]:
    """The words marked for translation in the code and templates now (as `make translations`)."""
    with open(ROOT / "babel.cfg") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, str(ROOT / "babel.cfg"))
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _catalog(code: str):
    path = TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"
    assert path.exists(), f"no catalog for {code}: run `pybabel init -l {code}` then `make translations`"
    with open(path, "rb") as fh:
        return read_po(fh, locale=code)


@pytest.mark.parametrize("code", [c for c in LANGUAGES if c != DEFAULT])
def test_every_marked_word_is_translated_with_its_placeholders(code, marked):
    catalog = _catalog(code)
    ids = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    assert not (marked - ids.keys()), f"{code}: not in the catalog yet (run `make translations`)"
    problems = []
    for msgid, message in ids.items():
        if msgid not in marked:
            continue  # obsolete: `make translations` drops it
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        if not all(s.strip() for s in strings):
            problems.append(f"missing: {msgid!r}")
        wanted = set(PLACEHOLDER.findall(msgid))
        if isinstance(message.id, tuple):
            # A plural's forms may name the count or say it in words ("once"); nothing else differs.
            allowed = wanted | set(PLACEHOLDER.findall(message.id[1]))
            wanted -= {"num"}
        else:
            allowed = wanted
        for s in strings:
            found = set(PLACEHOLDER.findall(s))
            if s and not (wanted <= found <= allowed):
                problems.append(f"placeholders differ: {msgid!r} -> {s!r}")
    assert problems == []


@pytest.mark.parametrize("code", [c for c in LANGUAGES if c != DEFAULT])
def test_each_catalog_carries_the_glossary_of_the_products_words(code):
    header = _catalog(code).header_comment
    for word in GLOSSARY:
        assert re.search(rf"^#\s+{word} -> \S", header, re.MULTILINE), f"{code}: no glossary entry for {word}"


def test_the_compiled_catalogs_are_what_pages_use(app):
    """The suite compiled the .mo files (tests/conftest.py), so a fresh clone reads Polish."""
    from flask_babel import force_locale, gettext

    with app.test_request_context("/"), force_locale("pl"):
        assert gettext("Sign in") == "Zaloguj się"


# --- The starter library (app/learning/starter_words.py): its own domain, starter.po -----------


def test_the_starter_template_holds_the_starter_librarys_words_in_order():
    """starter.pot is the library's titles and lines, in order: editing the library without
    `make translations` fails here (the new words would reach no translator)."""
    from app.learning.starter_words import TEMPLATE, msgids

    with open(TEMPLATE, "rb") as fh:
        template = [m.id for m in read_po(fh) if m.id]
    assert template == [text for text, _where in msgids()], "run `make translations`"


@pytest.mark.parametrize("code", [c for c in LANGUAGES if c != DEFAULT])
def test_every_starter_word_is_translated(code):
    """Each language on its own: a language without its starter.po yet fails by name."""
    from app.learning.starter_words import msgids

    name = LANGUAGES[code].english
    path = TRANSLATIONS / code / "LC_MESSAGES" / "starter.po"
    assert path.exists(), (
        f"no starter library catalog for {name} ({code}) yet: `pybabel init -D starter -i "
        f"app/translations/starter.pot -d app/translations -l {code}`, translate, `make translations`"
    )
    with open(path, "rb") as fh:
        catalog = read_po(fh, locale=code)
    wanted = [text for text, _where in msgids()]
    have = {m.id: m for m in catalog if m.id}
    assert not [w for w in wanted if w not in have], f"{name}: not in starter.po yet (`make translations`)"
    problems = [f"fuzzy: {w!r}" for w in wanted if have[w].fuzzy]
    problems += [f"missing: {w!r}" for w in wanted if not str(have[w].string or "").strip()]
    assert problems == [], name
