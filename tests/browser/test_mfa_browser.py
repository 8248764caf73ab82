"""A teacher setting up two-step sign-in at a computer, to scan the code with their phone: the QR
code is on screen, and the picture the browser draws scans (with zxing-cpp's reader, as an
authenticator app would) to the same secret as the text under it."""

from __future__ import annotations

import io

import pyotp
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from app.demo import PASSWORD, seed
from tests.browser.helpers import sign_in


def test_the_qr_code_on_screen_scans_to_the_secret_shown(ctx, desktop):
    seed()
    sign_in(desktop, "teacher@example.org", PASSWORD)
    desktop.goto("/auth/mfa")
    image = desktop.get_by_role("img", name="QR code to add Hometime to your authenticator app")
    expect(image).to_be_in_viewport()
    box = image.bounding_box()
    assert box is not None and box["width"] >= 150 and box["width"] == box["height"]

    drawn = Image.open(io.BytesIO(image.screenshot()))
    found = zxingcpp.read_barcode(drawn, formats=zxingcpp.BarcodeFormat.QRCode)
    assert found is not None and found.valid
    scanned = pyotp.parse_uri(found.text)
    shown = desktop.locator("#secret").inner_text().replace(" ", "")
    assert scanned.secret == shown and scanned.issuer == "Hometime" and scanned.name == "teacher@example.org"
