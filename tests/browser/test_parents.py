"""A parent's week on a small phone, JavaScript on and off: sign in, choose cookies, rate, comment,
change a consent, send a photo carrying GPS data; then the class teacher sees the photo without
its location (P04, P06, P08, P16)."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from app.core.extensions import db
from app.models import ConsentPurpose, ConsentRecord, Contribution, Engagement
from tests.browser.helpers import sign_in
from tests.parents_data import family, has_gps, item_of, jpeg_with_gps

NO_SCROLL = "document.documentElement.scrollWidth"


def _noisy_jpeg_with_gps() -> bytes:
    """A phone-sized photo (well over 400 KB, so the phone's script shrinks it) with GPS EXIF."""
    base = Image.open(io.BytesIO(jpeg_with_gps(size=(2400, 1800))))
    exif = base.getexif()
    noise = Image.merge("RGB", [Image.effect_noise((2400, 1800), 60) for _ in range(3)])
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=92, exif=exif)
    data = out.getvalue()
    assert len(data) > 400 * 1024 and has_gps(data)
    return data


@pytest.mark.promise("P04")
@pytest.mark.promise("P06")
@pytest.mark.promise("P16")
def test_a_parent_rates_comments_consents_and_sends_a_photo_the_teacher_sees_clean(
    ctx, phone_any, browser, live_server, tmp_path, screenshot
):
    page = phone_any
    fam = family()
    item = item_of(fam.numbers, fam.count)
    card = f"#c-{fam.ben.id}-{item.id}"

    # Cookies first (P06): the banner is a plain form; choose necessary cookies only.
    page.goto("/auth/signin")
    page.locator("#cookie-banner").get_by_role("button", name="Necessary cookies only").click()
    page.get_by_text("Your cookie choice is saved").first.wait_for()

    sign_in(page, fam.parent.email)
    page.wait_for_url("**/family/")
    assert page.get_by_role("heading", name="Numbers all around").is_visible()
    assert page.evaluate(NO_SCROLL) <= 360, "the family home scrolls sideways at 360 px"
    assert page.locator("#cookie-banner").count() == 0  # the choice is remembered

    # Rate: one tap on a face.
    page.locator(card).get_by_role("button", name="Good", exact=True).click()
    page.locator(card).get_by_text("Done: 4 of 5").wait_for()
    if page.js:
        screenshot(page, "parent-rated-360")

    # Comment (with markup, shown as text), on the small sending page; back to the card after.
    sending = f"#s-{fam.ben.id}-{item.id}"
    page.locator(card).get_by_role("link", name=re.compile("Send a comment or photo")).click()
    page.locator("textarea[name='comment']").fill("We counted <b>14</b> stairs!")
    page.get_by_role("button", name="Send", exact=True).click()
    page.locator(sending).get_by_text("We counted <b>14</b> stairs!").wait_for()
    assert "/send" not in page.url

    # Change a consent: allow photos and comments to show what families do (P08).
    page.goto("/family/settings")
    promo = page.locator("#t-promo")
    promo.get_by_role("button", name=re.compile("Turn on")).click()
    page.locator("#t-promo").get_by_text(re.compile(r"families do: on$")).wait_for()
    assert page.evaluate(NO_SCROLL) <= 360, "the settings page scrolls sideways at 360 px"

    # A photo carrying GPS data, with its own opt-in ticked.
    page.goto("/family/")
    page.locator(card).get_by_role("link", name=re.compile("Send a comment or photo")).click()
    photo = tmp_path / "garden.jpg"
    photo.write_bytes(_noisy_jpeg_with_gps())
    page.wait_for_load_state()  # photo.js (deferred) listens by then, as it does by a person's pick
    page.locator("input[type='file']").set_input_files(str(photo))
    if page.js:  # the sending page loads in full, so the phone shrinks the photo (and drops
        # its EXIF) before it is sent
        page.wait_for_function(
            "s => document.querySelector(s).getAttribute('data-downscale-state') === 'done'",
            arg="input[type='file']",
        )
    page.get_by_label(re.compile("use this photo")).check()
    page.get_by_role("button", name="Send", exact=True).click()
    page.locator(sending).locator("img[src^='/family/photos/']").wait_for()
    assert page.problems == []

    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Engagement)) == 1
    photo_row = db.session.scalar(sa.select(Contribution).where(Contribution.photo_key.is_not(None)))
    assert photo_row.promo_opt_in is True
    assert (
        db.session.scalar(
            sa.select(ConsentRecord).where(ConsentRecord.purpose == ConsentPurpose.PROMO_PHOTOS)
        ).granted
        is True
    )

    # The class teacher sees the photo, without location data.
    teacher_context = browser.new_context(base_url=live_server, viewport={"width": 360, "height": 640})
    try:
        teacher = teacher_context.new_page()
        sign_in(teacher, fam.teacher.email)
        teacher.wait_for_url("**/teach/**")
        teacher.goto(f"/teach/classes/{fam.robins.id}")
        image = teacher.locator(f"img[src*='/contributions/{photo_row.id}/']")
        image.wait_for()
        assert "We counted <b>14</b> stairs!" in teacher.content().replace("&lt;", "<").replace("&gt;", ">")
        response = teacher.request.get(f"/teach/contributions/{photo_row.id}/photo")
        assert response.status == 200 and "private" in response.headers["cache-control"]
        data = response.body()
        assert data[:3] == b"\xff\xd8\xff" and not has_gps(data)
        with Image.open(io.BytesIO(data)) as im:
            assert not im.getexif() and max(im.size) <= 1600
    finally:
        teacher_context.close()
