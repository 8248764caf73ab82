"""axe-core (WCAG 2.2 A/AA, target size included) on the office's and the privacy desk's pages,
signed in as the demo's office person, at 1280x800 and at 390x844."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.demo import PASSWORD, seed
from app.models import Pupil
from tests.browser.axe import axe_violations
from tests.browser.conftest import _page
from tests.browser.helpers import sign_in

SIZES = {
    "1280": {"viewport": {"width": 1280, "height": 800}},
    "390": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
PAGES = [
    "/office/",
    "/office/families",
    "/office/people",
    "/office/roster",
    "/office/staff",
    "/office/breaches",
    "/office/breaches/new",
    "/office/notices",
    "/office/requests",
    "/office/requests/new",
    "/office/exports",
    "/office/retention",
    "/office/register",
    "/office/deliveries",
]


@pytest.mark.parametrize("size", list(SIZES))
def test_office_and_privacy_desk_pages_have_no_axe_violations(ctx, browser, live_server, size):
    seed()
    pupil = db.session.scalar(sa.select(Pupil).order_by(Pupil.id).limit(1))
    pages = [*PAGES, f"/office/people/pupils/{pupil.id}", f"/office/people/pupils/{pupil.id}/erase"]
    context, page = _page(browser, live_server, **SIZES[size])
    try:
        sign_in(page, "office@example.org", PASSWORD)
        found = {}
        for path in pages:
            response = page.goto(path)
            assert response is not None and response.status == 200, path
            problems = axe_violations(page)
            if problems:
                found[path] = problems
        assert not found, "\n".join(f"{p}:\n  " + "\n  ".join(v) for p, v in found.items())
    finally:
        context.close()
