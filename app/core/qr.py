"""QR codes as SVG: the staff's authenticator enrolment and the families' printed invitations.

The code is made and drawn by zxing-cpp (its writer is libzint, in C), error correction M, with
the quiet zone of four modules the standard asks for. zint picks the mask by the standard's
penalty rules, as any encoder should; drawing one in C takes about a twentieth of the time it
took in pure Python, where trying the eight masks alone was half of the enrolment page.

zint's SVG is a document of its own (an XML declaration, a doctype, a fixed size in pixels and
"Zint Generated Symbol" as its description). Only its one path of dark modules, rectangles in
module units, is kept; the SVG around it is ours: a viewBox so that CSS sizes it, a title for
screen readers, single quotes so that it fits a ``data:`` URI with little escaping.
"""

from __future__ import annotations

import re
from urllib.parse import quote

import zxingcpp
from markupsafe import escape

_DRAWN = re.compile(r'<svg width="(\d+)" height="\1"[^>]*>.*<path d="([MZhv\d -]+)"/>', re.DOTALL)


def svg(text: str, *, title: str | None = None, scale: int | None = None, xmlns: bool = True) -> str:
    """``text`` as a QR code: an SVG in module units (a viewBox), ``scale`` pixels a module when
    given (else CSS sizes it), ``title`` read out by screen readers; ``xmlns`` False inside HTML."""
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
    found = _DRAWN.search(zxingcpp.write_barcode_to_svg(code, scale=1, add_quiet_zones=True))
    if found is None:  # zxing-cpp is pinned; a release that draws differently fails here, loudly
        raise RuntimeError("zxing-cpp drew a QR code in a form this module does not know")
    n, path = found.group(1), found.group(2)
    head = "<svg xmlns='http://www.w3.org/2000/svg'" if xmlns else "<svg"
    if scale is not None:
        head += f" width='{int(n) * scale}' height='{int(n) * scale}'"
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
