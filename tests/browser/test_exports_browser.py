"""An access request's copy of the data in a real browser (P22): the office makes, checks and
releases it at 1280 px; the parent downloads it on a 390 px phone after signing in."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

from app.core.extensions import db
from tests.browser.axe import assert_no_axe_violations
from tests.browser.helpers import sign_in
from tests.privacy_data import access_request, two_families

NO_SCROLL = "document.documentElement.scrollWidth"


@pytest.mark.promise("P22")
def test_the_office_releases_a_copy_and_the_parent_downloads_it_on_a_phone(
    ctx, browser, live_server, desktop, run_jobs, screenshot
):
    s = two_families()
    req_id = access_request(s, pupil=s.amir).id
    office_email, parent_email = s.office.email, s.aisha.email
    db.session.remove()

    office = desktop
    sign_in(office, office_email)
    office.goto("/office/exports")
    office.get_by_role("button", name="Make the copy").click()
    office.wait_for_url("**/office/exports/*")
    assert run_jobs() == 0
    office.reload()
    assert office.get_by_role("heading", name="Check before release").is_visible()
    assert "Names found: Zara" in office.inner_text("main")
    screenshot(office, "office-export-review-1280")
    office.get_by_label("Leave it out of the copy").first.check()
    office.get_by_label("I have read the copy").check()
    office.get_by_role("button", name="Release the copy to the requester").click()
    office.get_by_text("The copy is being made again").wait_for()
    assert run_jobs() == 0
    office.reload()
    assert "Released to the requester" in office.inner_text("main")
    assert office.problems == []

    context = browser.new_context(
        base_url=live_server,
        locale="en-GB",
        accept_downloads=True,
        viewport={"width": 390, "height": 800},
        is_mobile=True,
        has_touch=True,
    )
    phone = context.new_page()
    try:
        sign_in(phone, parent_email)
        phone.goto("/privacy/exports")
        assert phone.evaluate(NO_SCROLL) <= 390
        screenshot(phone, "parent-exports-390")
        # First the one readable page: it opens in the browser and reads at phone width.
        phone.get_by_role("link", name="Open the copy").click()
        phone.wait_for_url(lambda url: url.endswith("/copy/"))
        assert phone.get_by_role("heading", level=1).inner_text().startswith("The data")
        assert phone.evaluate(NO_SCROLL) <= 390
        assert_no_axe_violations(phone, "the copy's readable page")
        screenshot(phone, "parent-export-page-390")
        phone.go_back()
        with phone.expect_download() as got:
            phone.get_by_role("link", name="Download everything as a zip file").click()
        data = open(got.value.path(), "rb").read()
        zf = zipfile.ZipFile(io.BytesIO(data))
        records = json.loads(zf.read("data.json"))["records"]
        assert [p["first_name"] for p in records["pupils"]] == ["Amir"]
        assert "index.html" in zf.namelist() and f"R{req_id}" in zf.read("index.html").decode()
    finally:
        context.close()


@pytest.mark.promise("P22")
def test_the_copy_opens_first_as_one_readable_page_on_a_small_phone(ctx, phone_any, run_jobs):
    from app.dataprotection.exports import service as exports

    s = two_families()
    export = exports.start(access_request(s, pupil=s.zara).id, s.office)
    assert run_jobs() == 0
    exports.release(export.id, s.office)
    assert run_jobs() == 0
    email = s.mo.email
    db.session.remove()

    page = phone_any
    sign_in(page, email)
    page.goto("/privacy/exports")
    opened = page.get_by_role("link", name="Open the copy")
    zipped = page.get_by_role("link", name="Download everything as a zip file")
    assert opened.bounding_box()["y"] < zipped.bounding_box()["y"], "the page first, the zip second"
    opened.click()
    page.wait_for_url(lambda url: url.endswith("/copy/"))
    assert page.get_by_role("heading", level=1).inner_text() == "The data Oak Primary holds about your child"
    assert page.evaluate(NO_SCROLL) <= 360
    photo = page.locator("img[src^='data:image/']").first
    photo.scroll_into_view_if_needed()
    assert photo.is_visible() and photo.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.problems == []  # nothing blocked by its policy, nothing missing
