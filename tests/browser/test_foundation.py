"""The foundation in a real browser: a small phone, JavaScript on and off."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.authz import linked_pupils
from app.core.extensions import db
from app.demo import PASSWORD, seed
from app.models import User

NO_SCROLL = "document.documentElement.scrollWidth"


def _seed():
    seed()
    parent = db.session.scalar(sa.select(User).where(User.email == "parent@example.org"))
    return [child.display_name for child in db.session.scalars(linked_pupils(parent))]


@pytest.mark.promise("P11")
def test_front_page_fits_a_small_phone_and_has_skip_link_and_privacy_contact(ctx, phone_any):
    page = phone_any
    _seed()
    page.goto("/")
    assert page.get_by_role("heading", level=1).is_visible()
    assert page.evaluate(NO_SCROLL) <= 360, "the front page scrolls sideways at 360 px"

    # The first Tab reaches the skip link; following it puts focus on the main content.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    assert skip.evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    page.wait_for_function("document.activeElement && document.activeElement.id === 'main'")

    # P11: the school's privacy contact and how to complain to the ICO, one tap away.
    footer = page.locator("footer")
    assert footer.get_by_role("link", name="dpo@example.org").is_visible()
    assert "Dana Price" in footer.inner_text()
    assert footer.get_by_role("link", name="Privacy notice").is_visible()
    ico = footer.get_by_role("link", name="complain to the ICO")
    assert ico.is_visible() and ico.get_attribute("href").startswith("https://ico.org.uk/")
    assert page.problems == []


def test_parent_signs_in_sees_both_children_and_signs_out(ctx, phone_any, screenshot):
    page = phone_any
    children = _seed()
    assert len(children) == 2

    page.goto("/auth/signin")
    assert page.evaluate(NO_SCROLL) <= 360
    if page.js:
        screenshot(page, "signin-360")
    form = page.locator("form[action='/auth/signin'][method='post']")
    assert form.count() == 1, "the sign-in page has no form posting to /auth/signin"
    form.locator("input[name='email']").fill("parent@example.org")
    form.locator("input[name='password']").fill(PASSWORD)
    form.get_by_role("button", name="Sign in", exact=True).click()

    page.wait_for_url("**/family/")
    assert page.get_by_text("My children").first.is_visible()
    for name in children:
        assert page.get_by_text(name).first.is_visible(), name
    assert page.evaluate(NO_SCROLL) <= 360, "the parent home scrolls sideways at 360 px"
    faces = page.locator(".activity .faces").first.bounding_box()
    assert faces["y"] + faces["height"] <= 640, "the first activity's rating is not on the first screen"
    if page.js:
        screenshot(page, "parent-home-360")

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: "/family/" not in url)
    assert page.get_by_role("link", name="Sign in").first.is_visible()
    page.goto("/family/")
    assert "/auth/signin" in page.url  # signed out: the family page asks for a sign-in again
    assert page.problems == []
