"""SMS text that fits: GSM-7 aware segment counting, polite truncation, no emoji surprises.

A text message is one segment of 160 GSM-7 characters (153 each when split), but a single
character outside GSM-7 (an emoji, a curly quote, "ë") turns the whole message into UCS-2: 70
characters (67 each when split). Parents pay per segment on some tariffs, so :func:`fit_sms`
first replaces typographic punctuation with plain equivalents and drops emoji (neither changes
what the message says), keeps every letter as written (a Polish "ł", an Urdu or Bengali word
with its marks: that message is UCS-2 and is counted so), and then keeps the message within
``max_segments`` (two by default), shortening the words before a trailing link rather than the
link itself.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡"
    "ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENDED = set("^{}\\[~]|€\f")  # each costs two septets (escape + character)

_PLAIN = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201a": "'",
    "\u201b": "'",
    "\u2032": "'",
    "`": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
    "\u2033": '"',
    "\u00ab": '"',
    "\u00bb": '"',
    "\u2013": "-",
    "\u2014": "-",
    "\u2012": "-",
    "\u2010": "-",
    "\u2011": "-",
    "\u2212": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u2007": " ",
    "\u202f": " ",
    "\t": " ",
    "\u2022": "-",
    "\u00b7": "-",
    "\u200b": "",
    "\ufe0f": "",
    "\ufe0e": "",
}
_URL = re.compile(r"\s*(https?://\S+)\s*$")
ELLIPSIS = "..."
# a zero-width joiner between emoji (a family, a skin tone), not one inside a word
_EMOJI_JOINER = re.compile("\u200d(?=[\ufe0e\ufe0f]?[\U00010000-\U0010ffff\u2600-\u27bf])")


class SmsTooLong(ValueError):
    """The message cannot be made to fit, even by shortening its words (e.g. the link is too long)."""


@dataclass(frozen=True)
class SmsInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def is_gsm(text: str) -> bool:
    return all(ch in GSM_BASIC or ch in GSM_EXTENDED for ch in text)


def info(text: str) -> SmsInfo:
    """How a text would be encoded and how many segments it costs."""
    if is_gsm(text):
        units = sum(2 if ch in GSM_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, multi, encoding = 70, 67, "UCS-2"
    segments = 1 if units <= single else -(-units // multi)
    return SmsInfo(encoding, units, max(segments, 1))


def _emoji(ch: str) -> bool:
    return unicodedata.category(ch) in ("So", "Cs", "Co", "Cn") or ord(ch) > 0xFFFF


def _char(ch: str) -> str:
    if ch in GSM_BASIC or ch in GSM_EXTENDED:
        return ch
    if ch in _PLAIN:
        return _PLAIN[ch]
    if _emoji(ch):
        return ""  # emoji and pictographs: they would silently halve the message's capacity
    return ch  # a letter or mark GSM-7 cannot carry ("ł", "ë", Urdu, Bengali...): kept, as UCS-2


def normalise(text: str) -> str:
    """Plain punctuation, no emoji, single spaces; every letter as written. A zero-width joiner
    stays (Bengali and Urdu spelling needs it) unless it joined emoji."""
    text = _EMOJI_JOINER.sub("", text)
    text = "".join(_char(ch) for ch in text)
    text = re.sub(r"[ ]{2,}", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return text.strip()


def _limit(text: str, max_segments: int) -> int:
    gsm = is_gsm(text)
    single, multi = (160, 153) if gsm else (70, 67)
    return single if max_segments == 1 else multi * max_segments


def _units(text: str) -> int:
    return info(text).units


def fit_sms(text: str, max_segments: int = 2) -> str:
    """Return ``text`` made SMS-friendly and no longer than ``max_segments`` segments.

    Too long: the words are cut at a word boundary and "..." added, keeping a trailing link whole.
    Raises :class:`SmsTooLong` if even that cannot fit."""
    text = normalise(text)
    if info(text).segments <= max_segments:
        return text
    limit = _limit(text, max_segments)
    match = _URL.search(text)
    link = match.group(1) if match else ""
    body = text[: match.start()] if match else text
    tail = f"{ELLIPSIS} {link}" if link else ELLIPSIS
    room = limit - _units(tail)
    if room < 20:
        raise SmsTooLong(f"an SMS cannot hold this link and some words ({_units(tail)} units)")
    body = body[: room + 1]
    while body and _units(body) > room:
        cut = body.rstrip()[:-1]
        space = cut.rfind(" ")
        body = cut[:space] if space > room // 2 else cut
    result = body.rstrip(" ,;:-.") + tail
    if info(result).segments > max_segments:  # pragma: no cover - arithmetic guard
        raise SmsTooLong("could not shorten the message enough")
    return result
