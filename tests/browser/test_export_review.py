"""Nothing of a family's data is released unseen (P22), in a real browser at 1280x800 and 390x844:
the office reads the copy as the family will, blanks out another child's name with the reason,
and only then releases it; who checked it and when shows on the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.core.extensions import db
from tests.browser.conftest import STAFF_SIZES as SIZES
from tests.browser.conftest import _page
from tests.browser.helpers import sign_in
from tests.privacy_data import access_request, two_families

WIDE = "document.documentElement.scrollWidth"


@pytest.mark.promise("P22")
@pytest.mark.parametrize("size", SIZES)
def test_the_office_reads_redacts_with_a_reason_and_releases(ctx, browser, live_server, run_jobs, size):
    from app.dataprotection.exports import service as exports

    s = two_families()
    req = access_request(s, pupil=s.amir)
    export_id = exports.start(req.id, s.office).id
    assert run_jobs() == 0
    office_email, office_name = s.office.email, s.office.name
    db.session.remove()

    context, page = _page(browser, live_server, **SIZES[size])
    try:
        sign_in(page, office_email)
        page.goto(f"/office/exports/{export_id}")
        main = page.locator("main")
        expect(main).to_contain_text("Check before release")
        assert page.evaluate(WIDE) <= int(size), "the review page scrolls sideways"

        # The copy as the family will see it, in its own tab: the comment is in it as sent.
        with page.context.expect_page() as opened:
            page.get_by_role("link", name="Read the copy as the family will see it").click()
        copy = opened.value
        copy.wait_for_load_state()
        assert "Amir counted 14 stairs with Zara at the park!" in copy.locator("body").inner_text()
        assert "Totp secret" not in copy.content() and "record(s)" not in copy.content()
        copy.close()

        comment = page.locator("fieldset", has_text="Amir counted 14 stairs")
        comment.get_by_label("Blank out the other children's names").check()
        comment.get_by_label("Why, if you blank it out or leave it out").select_option("other_person")
        page.get_by_role("button", name="Release the copy to the requester").click()
        # The browser's own check: the "I have read the copy" box is required.
        assert "/release" not in page.url
        page.get_by_label("I have read the copy").check()
        page.get_by_role("button", name="Release the copy to the requester").click()
        expect(page.locator(".flashes")).to_contain_text("The copy is being made again with your changes")
        assert run_jobs() == 0
        page.reload()
        text = main.inner_text()
        assert "Released to the requester" in text
        assert f"Checked by {office_name}" in text and "1 names blanked out" in text
        assert page.evaluate(WIDE) <= int(size)

        page.goto(f"/office/exports/{export_id}/preview/")
        body = page.locator("body").inner_text()
        assert "Amir counted 14 stairs with [name removed] at the park!" in body
        assert "Zara at the park" not in body
        assert page.problems == []
    finally:
        context.close()
