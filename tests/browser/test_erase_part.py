"""Erasure as asked (P23), in a real browser at 1280x800 and 390x844: opened from a carer's
request to delete photos, the office chooses "Only the photos", sees what goes, and the request
is already chosen; the child stays on the carer's account."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.core.extensions import db
from tests.browser.conftest import STAFF_SIZES as SIZES
from tests.browser.conftest import _page
from tests.browser.helpers import sign_in
from tests.privacy_data import access_request, two_families

WIDE = "document.documentElement.scrollWidth"


@pytest.mark.promise("P23")
@pytest.mark.parametrize("size", SIZES)
def test_the_office_erases_only_the_photos_under_the_request(ctx, browser, live_server, size):
    from app.models import Pupil

    s = two_families()
    req_id = access_request(s, pupil=s.amir, kind="erasure").id
    office_email, amir_id = s.office.email, s.amir.id
    db.session.remove()

    context, page = _page(browser, live_server, **SIZES[size])
    try:
        sign_in(page, office_email)
        page.goto(f"/office/requests/{req_id}")
        page.get_by_role("link", name="Preview what erasure deletes, anonymises and keeps").click()
        page.get_by_role("link", name="Only the photos").click()
        main = page.locator("main")
        expect(main).to_contain_text("2 photos deleted")
        assert page.get_by_label("Under which request").input_value() == str(req_id)
        assert page.evaluate(WIDE) <= int(size)
        page.get_by_label("I have checked the preview").check()
        page.get_by_role("button", name="Erase now").click()
        expect(page.locator(".flashes")).to_contain_text("2 photos deleted")
        assert "Amir" in main.inner_text()  # back on the child's page: the child is still there
        assert page.problems == []
    finally:
        context.close()
    db.session.expire_all()
    assert db.session.get(Pupil, amir_id).erased_at is None
