"""QR codes as SVG: the staff's authenticator enrolment and the families' printed invitations.

The code is made by zxing-cpp (its encoder is libzint, in C), error correction M, with the quiet
zone of four modules the standard asks for. zint picks the mask by the standard's penalty rules,
as any encoder should; doing that in C takes about a twentieth of the time it took in pure
Python, where trying the eight masks alone was half of the enrolment page.

The drawing is one path of dark modules, rectangles in module units, inside an SVG of ours: a
viewBox so that CSS sizes it, a title for screen readers, single quotes so that it fits a
``data:`` URI with little escaping. The path is written here from the code's modules (``_path``)
as zint's own SVG writer writes it (each run of dark modules in a row, merged with the same run
in the rows below it): the same text, in two thirds of the time zint took to write its whole
document, which was then searched for the path. ``tests/core/test_qr.py`` compares the two for
codes of every size.
"""

from __future__ import annotations

import re
from typing import cast
from urllib.parse import quote

import zxingcpp
from markupsafe import escape

_DARK = re.compile(rb"\x00+")  # a run of dark modules in the code's image (0 dark, 255 light)


def _path(code) -> tuple[str, int]:
    """The code's dark modules as one SVG path of rectangles, and the drawing's size in modules
    (the quiet zone included): each run of dark modules in a row, from left to right and top to
    bottom, as tall as the rows below it that have the same run (those runs are then drawn), as
    zint's SVG writer draws them."""
    image = code.to_image(scale=1, add_quiet_zones=True)
    height, width = cast(tuple[int, int], memoryview(image).shape)  # rows of modules, one byte each
    rows: list[list[tuple[int, int]]] = [[] for _ in range(height)]
    for found in _DARK.finditer(bytes(image)):  # the quiet zone is light: no run crosses a row's end
        start, end = found.span()
        y, x = divmod(start, width)
        rows[y].append((x, end - start))
    left = [set(runs) for runs in rows]
    parts = []
    for y, runs in enumerate(rows):
        for run in runs:
            if run not in left[y]:
                continue  # drawn as part of a rectangle begun above
            tall = 1
            while y + tall < height and run in left[y + tall]:
                left[y + tall].discard(run)
                tall += 1
            x, wide = run
            parts.append(f"M{x} {y}h{wide}v{tall}h-{wide}Z")
    return "".join(parts), width


def svg(text: str, *, title: str | None = None, scale: int | None = None, xmlns: bool = True) -> str:
    """``text`` as a QR code: an SVG in module units (a viewBox), ``scale`` pixels a module when
    given (else CSS sizes it), ``title`` read out by screen readers; ``xmlns`` False inside HTML."""
    path, n = _path(zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M"))
    head = "<svg xmlns='http://www.w3.org/2000/svg'" if xmlns else "<svg"
    if scale is not None:
        head += f" width='{n * scale}' height='{n * scale}'"
    titled = f"<title>{escape(title)}</title>" if title else ""
    return (
        f"{head} viewBox='0 0 {n} {n}'>{titled}"
        f"<path fill='#fff' d='M0 0h{n}v{n}h-{n}z'/><path d='{path}'/></svg>"
    )


# What a data: URI must escape in an SVG of single-quoted attributes: the rest (the path's letters,
# digits, spaces and minus signs) goes as it is. Percent-encoding it character by character in
# Python (urllib's quote) took a fifth of the drawing's time, and ``str.translate`` with a table of
# replacements, which looks each character up in Python, about as long again as drawing the code:
# ``str.replace`` for each of the five characters runs in C (8 microseconds instead of 240).
_URI_ESCAPES = (("%", "%25"), ("#", "%23"), ("<", "%3C"), (">", "%3E"), ('"', "%22"))  # "%" first


def data_uri(text: str, *, title: str | None = None) -> str:
    """``text`` as a QR code in a ``data:`` URI, for an ``<img>``."""
    drawn = svg(text, title=title)
    if drawn.isascii():
        escaped = drawn
        for character, code in _URI_ESCAPES:
            escaped = escaped.replace(character, code)
    else:
        escaped = quote(drawn, safe=" :/='")
    return "data:image/svg+xml;charset=utf-8," + escaped
