"""A teacher builds and publishes a weekly topic and gives an award, in a real browser: at
1280 px and at 390 px, with JavaScript on and off."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import unquote

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.core.extensions import db
from app.demo import PASSWORD, seed
from app.models import Award, TopicStatus, WeeklyTopic
from tests.browser.conftest import STAFF_SIZES as SIZES
from tests.browser.conftest import _page
from tests.browser.helpers import settled, sign_in


@pytest.fixture(
    params=[("1280", True), ("1280", False), ("390", True), ("390", False)],
    ids=["1280-js", "1280-nojs", "390-js", "390-nojs"],
)
def teacher_page(request, browser, live_server):
    size, js = request.param
    context, page = _page(browser, live_server, java_script_enabled=js, **SIZES[size])
    page.js, page.width = js, int(size)
    yield page
    context.close()


def _sign_in(page) -> None:
    sign_in(page, "teacher@example.org", PASSWORD)
    page.wait_for_url("**/teach/")
    choice = page.get_by_role("button", name="Necessary cookies only")
    if choice.count():
        choice.first.click()
        expect(choice).to_have_count(0)


def _add(page, words: str, title: str) -> None:
    """Search the library and add the activity called ``title``. With JavaScript, wait for the
    answer to these words: the list of the previous search may hold the title too, and an "Add"
    clicked there races the search still on its way (whose answer, made after the add, then
    replaces the list)."""
    if page.js:
        settled(page)  # the planner may have just been swapped in: its search box listens from then on

        def answered(r):
            return "/search?" in r.url and f"q={words}" in unquote(r.url) and r.ok

        with page.expect_response(answered):
            page.locator("#q").fill(words)
    else:
        page.locator("#q").fill(words)
        page.get_by_role("button", name="Search", exact=True).click()
    row = page.locator("#results li", has_text=title)
    row.wait_for()
    row.get_by_role("button", name="Add").click()
    page.locator(".planner-items li", has_text=title).wait_for()
    if page.js:
        settled(page)  # the swapped-in planner listens only from then on


def _titles(page) -> list[str]:
    return page.locator(".planner-items li > span:first-child").all_inner_texts()


def test_a_teacher_builds_and_publishes_a_topic_and_gives_an_award(ctx, teacher_page, screenshot):
    page = teacher_page
    seed()
    monday = date.today() - timedelta(days=date.today().weekday()) + timedelta(days=7)
    _sign_in(page)

    page.get_by_role("link", name="Plan a new topic").click()
    page.get_by_label("Title").fill("Growing things")
    page.get_by_label("Week starting (a Monday)").fill(monday.isoformat())
    page.get_by_label("Year 1", exact=True).check()
    page.get_by_label("A short note to families (optional)").fill("Have fun!\nOne a day is plenty.")
    page.get_by_role("button", name="Create the topic").click()
    page.get_by_role("heading", name="Growing things").wait_for()

    _add(page, "sound hunt", "Sound hunt around the house")
    _add(page, "sink", "Sink or float?")
    _add(page, "steps", "Counting steps to the door")
    assert _titles(page) == ["Sound hunt around the house", "Sink or float?", "Counting steps to the door"]
    items = page.locator(".planner-items li > span:first-child")
    page.locator(".planner-items li", has_text="Counting steps").get_by_role("button", name="Up").click()
    expect(items).to_have_text(
        ["Sound hunt around the house", "Counting steps to the door", "Sink or float?"]
    )
    page.locator(".planner-items li", has_text="Sink or float").get_by_role("button", name="Remove").click()
    expect(items).to_have_text(["Sound hunt around the house", "Counting steps to the door"])
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    if page.js:
        screenshot(page, f"planner-{page.width}")

    page.get_by_role("link", name="Preview as a parent sees it").click()
    card = page.locator("article.topic")
    assert "Sound hunt around the house" in card.inner_text()
    page.get_by_role("link", name="Back to the planner").click()

    # "now or when?": the school's usual time (Monday 08:00) is proposed; this teacher wants now
    expect(page.get_by_label("At a set time")).to_be_checked()
    page.get_by_label("Now", exact=True).check()
    page.get_by_role("button", name="Publish", exact=True).click()
    expect(page.locator("#planner")).to_contain_text("Published on")
    db.session.expire_all()
    topic = db.session.scalar(sa.select(WeeklyTopic).where(WeeklyTopic.title == "Growing things"))
    assert topic.status is TopicStatus.PUBLISHED and topic.week_start == monday
    assert [i.activity.title for i in sorted(topic.items, key=lambda i: i.position)] == [
        "Sound hunt around the house",
        "Counting steps to the door",
    ]

    # an award for the first pupil of the class, from the class view
    page.goto("/teach/")
    page.get_by_role("link", name="Year 1", exact=True).click()
    first_row = page.locator("tr[id^='pupil-']").first
    name = first_row.locator("th").inner_text()
    first_row.get_by_role("link", name=f"Give an award to {name}").click()
    page.get_by_label(f"Award for {name}").select_option(label="Great effort")
    page.get_by_role("button", name="Give the award").click()
    expect(page.get_by_role("status").filter(has_text="Great effort given to")).to_be_visible()
    db.session.expire_all()
    award = db.session.scalar(sa.select(Award).order_by(Award.id.desc()).limit(1))
    assert award is not None and award.kind.value == "great_effort"
    assert page.problems == []  # no CSP violation, no script error, no failed request
