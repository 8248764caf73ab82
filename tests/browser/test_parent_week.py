"""A parent's week as a parent meets it, on a 360x640 phone with JavaScript on and off: this
week's first activity on the first screen under one compact strip of one-tap questions; answers
shown where the parent is; nothing final by accident; faces with words and 44 px targets."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

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


def _wait_in_view(page, selector, timeout=5000) -> None:
    """Wait until the element is wholly in the viewport (a swap may scroll it there a moment
    after the words appear); fails when it never gets there."""
    page.wait_for_function(
        """sel => { const e = document.querySelector(sel); if (!e) return false;
        const r = e.getBoundingClientRect();
        return r.top >= -1 && r.bottom <= window.innerHeight + 1 && r.height > 0; }""",
        arg=selector,
        timeout=timeout,
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
    faces = _box(page, f"{first} .faces")
    assert faces["y"] + faces["height"] <= HEIGHT, faces

    # Each question: one tap, and it is not asked again.
    strip.get_by_role("button", name="Yes, still right").click()
    page.get_by_text("Thank you for checking your details.").wait_for()
    assert _in_view(page, "#strip [role=status]")
    strip.get_by_role("button", name="Only needed").click()
    page.get_by_text("Your cookie choice is saved").wait_for()
    # the page is already /family/: wait for the answer itself before looking again
    with page.expect_response(lambda r: "/acknowledge" in r.url):
        strip.get_by_role("button", name="I've read it").click()
    page.wait_for_load_state()
    page.goto("/family/")
    assert page.locator("#strip").count() == 0
    assert page.locator("#cookie-banner").count() == 0
    db.session.expire_all()
    assert db.session.get(User, fam.parent.id).details_checked_at is not None
    assert page.problems == []


def test_settings_ask_the_cookie_question_in_the_same_compact_strip_and_answer_there(ctx, phone_any):
    page = phone_any
    fam = family()
    _major_notice(fam.org)
    sign_in(page, fam.parent.email)
    page.goto("/family/settings")
    strip = page.locator("#strip")
    assert strip.get_by_text("Cookies: only the ones we need?").is_visible()
    assert page.locator(".cookie-banner, #cookie-consent").count() == 0, "no full-size banner"
    # The strip is short: the page's own heading and first setting are still on the first screen.
    assert _box(page, "#strip")["height"] < 200
    assert _box(page, "h2")["y"] < HEIGHT
    strip.get_by_role("button", name="Only needed").click()
    saved = page.get_by_text("Your cookie choice is saved").first
    saved.wait_for()
    # the swap brings the answer into view a moment after it appears: wait up to 5 s for it
    assert saved.evaluate(
        """e => new Promise(done => {
          const until = Date.now() + 5000;
          const look = () => { const r = e.getBoundingClientRect();
            if (r.top >= -1 && r.bottom <= innerHeight + 1 && r.height > 0) done(true);
            else if (Date.now() > until) done(false); else requestAnimationFrame(look); };
          look(); })"""
    ), "the saved answer is not in view"
    # the page is already /family/settings: wait for the answer itself before looking again
    with page.expect_response(lambda r: "/acknowledge" in r.url):
        strip.get_by_role("button", name="I've read it").click()
    page.wait_for_load_state()
    page.goto("/family/settings")
    assert page.locator("#strip").count() == 0, "answered questions are not asked again"
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
    if page.js:  # once the swap has settled (htmx waits ~20 ms), focus is back on the face pressed
        expect(page.locator(card).get_by_role("button", name="Loved it", exact=True)).to_be_focused()
        assert page.evaluate("document.activeElement.textContent") == "Loved it"
        assert page.evaluate("document.activeElement.getAttribute('aria-pressed')") == "true"
    assert page.problems == []


def _tap_before_the_scripts(page, fam, item, scripts):
    """Open the home with htmx held back by ``scripts(route)``, wait until the page is drawn and
    the loader has asked for htmx, then tap "Loved it" on ``item``: the card's locator."""
    asked = []
    sign_in(page, fam.parent.email)
    page.route("**/a/htmx.min.*.js", lambda route: (asked.append(route), scripts(route)))
    page.goto("/family/")
    page.wait_for_function("() => performance.getEntriesByName('first-contentful-paint').length > 0")
    page.wait_for_function("() => document.readyState === 'complete'")
    for _ in range(100):  # the loader asks once the page is drawn
        if asked:
            break
        page.wait_for_timeout(50)
    assert asked, "htmx was never asked for"
    page.evaluate("window.samePage = true")  # a new page load would lose this
    card = page.locator(f"#c-{fam.ben.id}-{item.id}")
    card.get_by_role("button", name="Loved it", exact=True).click()
    return card, asked


def test_a_face_tapped_before_htmx_arrives_waits_for_it_and_answers_in_its_card(ctx, phone):
    """The page is drawn before htmx is asked for (a slow line shares its first round trips with
    nothing else): a carer who taps at once is not left with a plain page load."""
    page = phone
    fam = family()
    item = item_of(fam.numbers, fam.game)
    card, asked = _tap_before_the_scripts(page, fam, item, lambda route: None)  # not answered yet
    page.wait_for_timeout(300)
    assert card.get_by_text("Saved. Thank you!").count() == 0  # waiting for htmx, nothing sent
    asked[0].continue_()  # htmx arrives
    expect(card.get_by_text("Saved. Thank you!")).to_be_visible()
    assert page.evaluate("window.samePage") is True, "the tap loaded a new page"
    expect(card.get_by_role("button", name="Loved it", exact=True)).to_be_focused()
    assert card.get_by_role("button", name="Loved it", exact=True).get_attribute("aria-pressed") == "true"
    assert page.problems == []


def test_a_face_tapped_when_htmx_cannot_load_is_saved_by_a_plain_page_load(ctx, phone):
    page = phone
    fam = family()
    item = item_of(fam.numbers, fam.game)
    card, _ = _tap_before_the_scripts(page, fam, item, lambda route: route.abort())
    expect(card.get_by_text("Saved. Thank you!")).to_be_visible()
    assert page.evaluate("window.samePage") is None  # as with JavaScript off: the page came again
    assert card.get_by_role("button", name="Loved it", exact=True).get_attribute("aria-pressed") == "true"


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
    _wait_in_view(page, "#t-promo .banner strong")
    _wait_in_view(page, "#tb-promo")
    assert page.locator("#t-promo").get_by_text(re.compile("families do: on$")).is_visible()
    page.locator("#t-promo").get_by_role("button", name=re.compile("Yes, turn it off")).click()
    page.locator("#t-promo").get_by_text(re.compile("families do: off$")).wait_for()


def test_a_childs_awards_are_cards_on_the_first_screen_with_the_teachers_note(ctx, phone_any):
    page = phone_any
    fam = family()
    sign_in(page, fam.parent.email)
    page.goto(f"/family/children/{fam.ben.id}")
    card = page.locator("#awards .award-card").first
    assert card.is_visible()
    assert "Star of the week" in card.inner_text() or "★" in card.inner_text()
    assert "“Brilliant counting”" in card.inner_text()  # the teacher's note, in the card
    assert _box(page, "#awards .award-card")["y"] < HEIGHT, "the award is on the first screen"
    assert page.problems == []


def test_the_video_explains_its_cookies_and_back_returns_to_the_activity(ctx, phone_nojs):
    page = phone_nojs
    fam = family()
    item = item_of(fam.numbers, fam.plants)
    sign_in(page, fam.parent.email)
    page.goto("/family/")
    page.locator(f"#activity-{item.id}").get_by_role("link", name=re.compile("Play the video")).click()
    text = page.locator("main").inner_text()
    assert "stores small files (cookies)" in text and "remember your video settings" in text
    page.get_by_role("link", name="Back to the activity").click()
    page.wait_for_url(f"**/family/#activity-{item.id}")
    assert _in_view(page, f"#activity-{item.id} h3")


def _invited():
    from app.families import invitations
    from app.models import UserKind
    from tests import factories as f

    org = f.school(name="Oak Primary")
    cls = f.school_class(org, name="Year 2")
    carer = User(
        kind=UserKind.PARENT, name="Ada Carer", email="ada@family.example", status=UserStatus.INVITED
    )
    db.session.add(carer)
    db.session.commit()
    f.pupil(cls, carer, first_name="Milo")
    inv = invitations.create(org.id, carer)
    db.session.commit()
    return invitations.token_for(inv.id)


def test_joining_forgives_a_mistyped_code_and_a_short_password_and_fits_two_screens(ctx, phone_any):
    page = phone_any
    token = _invited()
    page.goto("/family/join")
    page.get_by_label("Your code from the letter").fill("ABCD-2346")
    page.get_by_role("button", name="Continue").click()
    page.get_by_text("We don't recognise that invitation").first.wait_for()
    box = page.get_by_label("Your code from the letter")
    assert box.input_value() == "ABCD-2346"  # the box is still there, with what was typed

    page.goto(f"/family/join/{token}")
    assert "controller" not in page.locator("main").inner_text()
    assert "at least 10 characters" in page.locator("main").inner_text().lower()  # said before typing
    join = page.get_by_role("button", name="Join")
    bottom = join.evaluate("e => e.getBoundingClientRect().bottom + window.scrollY")
    assert bottom <= 2 * HEIGHT, bottom  # the whole form, Join button and all, in two screens
    page.get_by_label(re.compile("I agree")).check()
    page.get_by_label("Use a password").check()
    page.get_by_label(re.compile(r"^Password")).fill("short")
    page.get_by_role("button", name="Join").click()
    page.locator(".error").first.wait_for()
    errors = page.locator("main").inner_text()
    assert "Please choose a password of at least 10 characters" in errors
    assert "Field must be" not in errors


def test_every_button_on_the_parent_pages_is_a_thumb_sized_target(ctx, phone):
    page = phone
    fam = family()
    _major_notice(fam.org)
    sign_in(page, fam.parent.email)
    for path in ("/family/", "/family/settings", f"/family/children/{fam.ben.id}", "/family/account"):
        page.goto(path)
        small = page.evaluate(
            """() => [...document.querySelectorAll('main button, main .button, main input[type=file]')]
                .filter(e => e.offsetParent !== null)
                .map(e => [e.textContent.trim() || e.name, e.getBoundingClientRect()])
                .filter(([, r]) => r.width < 44 || r.height < 44)
                .map(([t, r]) => `${t} ${Math.round(r.width)}x${Math.round(r.height)}`)"""
        )
        assert small == [], (path, small)
