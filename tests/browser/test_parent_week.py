"""A parent's week as a parent meets it, on a 360x640 phone with JavaScript on and off: this
week's first activity on the first screen under one compact strip of one-tap questions; answers
shown where the parent is; nothing final by accident; faces with words and 44 px targets."""

from __future__ import annotations

import re

import pytest

from app.core.extensions import db
from app.models import PrivacyNotice, User, UserStatus, utcnow
from tests.browser.helpers import sign_in
from tests.factories import PASSWORD
from tests.parents_data import family, item_of

HEIGHT = 640


def _box(page, selector):
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not shown"
    return box


def _in_view(page, selector) -> bool:
    """Whether the element is wholly inside the viewport as the page is scrolled now."""
    return page.locator(selector).first.evaluate(
        "e => { const r = e.getBoundingClientRect();"
        " return r.top >= -1 && r.bottom <= window.innerHeight + 1 && r.height > 0; }"
    )


def _major_notice(org):
    row = PrivacyNotice(
        organisation_id=org.id,
        version="2.0",
        summary="We now keep photos for one year, not two.",
        body="The notice.",
        major=True,
        published_at=utcnow(),
    )
    db.session.add(row)
    db.session.commit()
    return row


def test_the_first_screen_shows_the_first_activity_and_each_question_is_answered_in_one_tap(ctx, phone_any):
    page = phone_any
    fam = family()
    _major_notice(fam.org)
    item = item_of(fam.numbers, fam.count)
    sign_in(page, fam.parent.email)
    page.goto("/family/")
    strip = page.locator("#strip")
    for question in ("changed its privacy notice", "Cookies:", "still right?"):
        assert strip.get_by_text(re.compile(re.escape(question))).is_visible(), question
    # The first activity and its faces are on the first screen, banners and all.
    first = f"#activity-{item.id}"
    assert page.locator(".activity").first.get_attribute("id") == f"activity-{item.id}"
    page.screenshot(path="/tmp/home.png")
    faces = _box(page, f"{first} .faces")
    assert faces["y"] + faces["height"] <= HEIGHT, faces

    # Each question: one tap, and it is not asked again.
    strip.get_by_role("button", name="Yes, still right").click()
    page.get_by_text("Thank you for checking your details.").wait_for()
    assert _in_view(page, "#strip [role=status]")
    strip.get_by_role("button", name="Only needed").click()
    page.get_by_text("Your cookie choice is saved").wait_for()
    strip.get_by_role("button", name="I've read it").click()
    page.wait_for_url("**/family/")
    page.goto("/family/")
    assert page.locator("#strip").count() == 0
    assert page.locator("#cookie-banner").count() == 0
    db.session.expire_all()
    assert db.session.get(User, fam.parent.id).details_checked_at is not None
    assert page.problems == []


def test_a_rating_answers_in_its_card_with_words_and_focus_stays_on_the_face(ctx, phone_any):
    page = phone_any
    fam = family()
    item = item_of(fam.numbers, fam.game)  # the third activity: well below the first screen
    sign_in(page, fam.parent.email)
    page.goto("/family/")
    card = f"#c-{fam.ben.id}-{item.id}"
    # The faces carry their words, and every one is a thumb-sized target.
    words = page.locator(f"{card} button.face").all_inner_texts()
    assert [w.strip() for w in words] == ["Loved it", "Good", "OK", "So-so", "Not for us"]
    for button in page.locator(f"{card} button.face").all():
        box = button.bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44, box
    face = page.locator(card).get_by_role("button", name="Loved it", exact=True)
    face.focus()
    page.keyboard.press("Enter")
    page.locator(card).get_by_text("Saved. Thank you!").wait_for()
    assert _in_view(page, f"{card} [role=status]"), "the answer is not where the parent is"
    assert page.locator(card).get_by_text("Done: 5 of 5").is_visible()
    if page.js:  # after the swap, focus is back on the face that was pressed
        assert page.evaluate("document.activeElement.textContent") == "Loved it"
        assert page.evaluate("document.activeElement.getAttribute('aria-pressed')") == "true"
    assert page.problems == []


def test_a_sent_comment_is_confirmed_in_its_card_in_view(ctx, phone_any):
    page = phone_any
    fam = family()
    item = item_of(fam.numbers, fam.game)
    sign_in(page, fam.parent.email)
    page.goto("/family/")
    sending = f"#s-{fam.ben.id}-{item.id}"
    link = page.locator(sending).get_by_role("link", name=re.compile("Send a comment or photo"))
    box = link.bounding_box()
    assert box["height"] >= 44
    link.click()
    photo = page.locator("input[type=file]")
    assert photo.bounding_box()["height"] >= 44  # the photo button is a real, big button
    page.locator("textarea[name='comment']").fill("We played twice")
    page.get_by_role("button", name="Send", exact=True).click()
    page.locator(sending).get_by_text("Thank you!").wait_for()
    assert _in_view(page, f"{sending} [role=status]"), "the thank-you is not where the parent is"
    assert page.locator("#messages [role=status]").count() == 0  # not at the top of the page


def test_a_mistyped_email_in_your_details_shows_the_error_in_view_with_focus(ctx, phone_any):
    page = phone_any
    fam = family()
    sign_in(page, fam.parent.email)
    page.goto("/family/settings")
    page.get_by_label(re.compile("Email address")).fill("pat@@family")
    page.get_by_role("button", name="Save my details").click()
    summary = page.locator("#details .error")
    summary.wait_for()
    assert "email address like name@example.com" in summary.inner_text()
    page.wait_for_function("document.activeElement && document.activeElement.classList.contains('error')")
    assert _in_view(page, "#details .error")


def test_a_setting_answers_in_its_own_card(ctx, phone_any):
    page = phone_any
    fam = family()
    sign_in(page, fam.parent.email)
    page.goto("/family/settings")
    news = page.locator("#t-news")
    news.get_by_role("button", name=re.compile("Turn on")).click()
    page.locator("#t-news [role=status]").wait_for()
    assert _in_view(page, "#t-news [role=status]")
    if page.js:
        assert "Turn off" in page.evaluate("document.activeElement.textContent")


@pytest.mark.promise("P17")
def test_closing_an_account_says_what_happens_asks_and_needs_the_password_again(ctx, app, phone_any):
    page = phone_any
    fam = family()
    sign_in(page, fam.parent.email)
    page.goto("/family/account")
    app.config["FRESH_SIGNIN_MINUTES"] = 0  # as if the parent signed in long ago
    try:
        page.get_by_role("link", name=re.compile("Close my account")).click()
        page.get_by_role("heading", name="Confirm it's you").wait_for()
    finally:
        app.config["FRESH_SIGNIN_MINUTES"] = 15
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Carry on").click()
    page.get_by_role("heading", name="Close your account?").wait_for()
    text = page.locator("main").inner_text()
    assert "90 days later" in text and "signed out at once" in text
    db.session.expire_all()
    assert db.session.get(User, fam.parent.id).status is UserStatus.ACTIVE  # nothing yet
    page.get_by_role("button", name="Yes, close my account").click()
    page.get_by_role("heading", name="Your account is closed").wait_for()
    db.session.expire_all()
    assert db.session.get(User, fam.parent.id).status is UserStatus.DEACTIVATED


def test_removing_a_child_says_what_happens_and_asks_first(ctx, phone_any):
    page = phone_any
    fam = family()
    sign_in(page, fam.parent.email)
    page.goto(f"/family/children/{fam.ben.id}")
    # the awards are cards near the top, with the teacher's note and the date
    award = page.locator(".award-card").first
    assert "Brilliant counting" in award.inner_text() and _box(page, ".award-card")["y"] < HEIGHT
    page.get_by_role("link", name=re.compile("Remove Ben from my account")).click()
    page.get_by_role("heading", name="Remove Ben from your account?").wait_for()
    assert "90 days" in page.locator("main").inner_text()
    page.get_by_role("link", name="No, keep Ben").click()
    page.wait_for_url(f"**/family/children/{fam.ben.id}")
    page.get_by_role("link", name=re.compile("Remove Ben from my account")).click()
    page.get_by_role("button", name="Yes, remove Ben").click()
    page.get_by_text("Ben is no longer linked to your account.").wait_for()


@pytest.mark.promise("P08")
def test_withdrawing_photo_consent_asks_first_and_says_what_happens(ctx, phone_any):
    page = phone_any
    fam = family()
    sign_in(page, fam.parent.email)
    page.goto("/family/settings")
    page.locator("#t-promo").get_by_role("button", name=re.compile("Turn on")).click()
    page.locator("#t-promo").get_by_text(re.compile("families do: on$")).wait_for()
    page.locator("#t-promo").get_by_role("button", name=re.compile("Turn off")).click()
    question = page.locator("#t-promo").get_by_text("Turn this off?")
    question.wait_for()
    assert _in_view(page, "#t-promo .banner strong"), page.locator("#t-promo .banner").bounding_box()
    assert _in_view(page, "#tb-promo")
    assert page.locator("#t-promo").get_by_text(re.compile("families do: on$")).is_visible()
    page.locator("#t-promo").get_by_role("button", name=re.compile("Yes, turn it off")).click()
    page.locator("#t-promo").get_by_text(re.compile("families do: off$")).wait_for()
