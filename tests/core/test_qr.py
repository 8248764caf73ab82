"""QR codes (app/core/qr.py) scan back to exactly what they were made of: long addresses, a
school's name in any script, an authenticator's otpauth address. Scanned from the SVG the pages
send (tests/qr_scan.py)."""

from __future__ import annotations

import re

import pyotp
import pytest

from app.core import qr
from tests.qr_scan import scan

TEXTS = [
    "https://hometime.example.org/family/join/" + "k" * 43,
    f"otpauth://totp/Hometime:zo%C3%AB.%C5%82ukasz%40example.org?secret={pyotp.random_base32()}&issuer=Hometime",
    "اسکول کی دعوت: حمزہ اور مریم",
    "Szkoła Podstawowa nr 5 – Łódź",
    "x",
]


@pytest.mark.parametrize("text", TEXTS)
def test_a_code_scans_back_to_its_text(text):
    assert scan(qr.svg(text)) == text
    assert scan(qr.data_uri(text, title="QR code")) == text


def test_the_drawing_has_a_title_and_is_sized_by_css_or_by_scale():
    drawn = qr.svg("https://example.org/", title="Scan <this> & 'join'")
    assert "<title>Scan &lt;this&gt; &amp; &#39;join&#39;</title>" in drawn
    assert "width=" not in drawn and "viewBox='0 0 " in drawn
    inline = qr.svg("https://example.org/", scale=4, xmlns=False)
    size = int(inline.split("viewBox='0 0 ")[1].split()[0])
    assert (
        inline.startswith(f"<svg width='{size * 4}' height='{size * 4}' viewBox=") and "xmlns" not in inline
    )


def test_a_damaged_code_does_not_scan():
    """The scanner is no pushover: with a third of the dark modules gone, nothing is read."""
    drawn = qr.svg(TEXTS[0])
    squares = re.findall(r"M[^Z]+Z", drawn.rsplit("<path d='", 1)[1])
    kept = "".join(square for i, square in enumerate(squares) if i % 3)
    damaged = drawn.rsplit("<path d='", 1)[0] + f"<path d='{kept}'/></svg>"
    assert scan(drawn) == TEXTS[0] and scan(damaged) is None


def test_a_data_uri_escapes_what_a_uri_must():
    uri = qr.data_uri("https://example.org/#top", title='50% "off" <now>')
    body = uri.removeprefix("data:image/svg+xml;charset=utf-8,")
    assert re.fullmatch(r'(?:[^%#<>"]|%[0-9A-F]{2})+', body)  # nothing a URI must escape left as it is
    assert scan(uri) == "https://example.org/#top"
    assert scan(qr.data_uri("x", title="Kod QR dla aplikacji — łódź")) == "x"


def test_the_path_is_the_one_zint_draws_for_codes_of_every_size():
    """The dark modules are written as zint's own SVG writer writes them (runs merged downwards
    into rectangles): compared with zint's path for texts from one character to the largest
    codes the app makes, and the drawing's size with zint's."""
    import random
    import string

    import zxingcpp

    drawn_by_zint = re.compile(r'<svg width="(\d+)" height="\1"[^>]*>.*<path d="([MZhv\d -]+)"/>', re.DOTALL)
    random.seed(7)
    texts = TEXTS + [
        "".join(random.choice(string.ascii_letters + string.digits + "/:?&=%.") for _ in range(n))
        for n in (1, 17, 40, 90, 150, 250, 400)
    ]
    for text in texts:
        code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode, ec_level="M")
        zint = drawn_by_zint.search(zxingcpp.write_barcode_to_svg(code, scale=1, add_quiet_zones=True))
        assert qr._path(code) == (zint.group(2), int(zint.group(1))), text
