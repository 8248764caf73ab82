"""Scan a QR code drawn as SVG, as a phone's camera would: the page's SVG (an ``<img>``'s
``data:`` URI or an inline ``<svg>``) is painted onto a bitmap with Pillow and read by
zxing-cpp's reader. A code that a reader cannot find or decode gives None."""

from __future__ import annotations

import html
import re
from urllib.parse import unquote

import zxingcpp
from PIL import Image, ImageDraw

PIXELS_PER_MODULE = 6


def scan(drawn: str) -> str | None:
    """The text of the QR code in ``drawn``: an SVG document, or a ``data:image/svg+xml`` URI
    (HTML-escaped as it stands in a page, or not)."""
    svg = html.unescape(drawn)
    if svg.startswith("data:"):
        svg = unquote(svg.split(",", 1)[1])
    box = re.search(r"viewBox=['\"]0 0 (\d+) (\d+)['\"]", svg)
    width, height = int(box.group(1)) * PIXELS_PER_MODULE, int(box.group(2)) * PIXELS_PER_MODULE
    image = Image.new("L", (width, height), 255)  # the white background path and quiet zone
    draw = ImageDraw.Draw(image)
    dark = [p for p in re.findall(r"<path([^>]*)/>", svg) if "fill='#fff'" not in p]
    for x, y, w, h in re.findall(r"M(\d+) (\d+)h(\d+)v(\d+)h-\3Z", " ".join(dark)):
        x, y, w, h = (int(v) * PIXELS_PER_MODULE for v in (x, y, w, h))
        draw.rectangle((x, y, x + w - 1, y + h - 1), fill=0)
    found = zxingcpp.read_barcode(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return found.text if found and found.valid else None
