"""What a teacher sees of the class view, the pupil page and the planner at 1280×800 and 390×844
(JavaScript on; the award's plain form also with it off), and axe-core on every teacher page."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.core.extensions import db
from app.demo import PASSWORD, seed
from app.models import Award, SchoolClass, WeeklyTopic
from tests.browser.axe import assert_no_axe_violations
from tests.browser.conftest import STAFF_SIZES as SIZES
from tests.browser.conftest import _page
from tests.browser.helpers import sign_in


@pytest.fixture(params=["1280", "390"])
def teacher(request, browser, live_server):
    context, page = _page(browser, live_server, **SIZES[request.param])
    page.width = int(request.param)
    yield page
    context.close()


@pytest.fixture(params=["1280", "390"])
def teacher_nojs(request, browser, live_server):
    context, page = _page(browser, live_server, java_script_enabled=False, **SIZES[request.param])
    page.width = int(request.param)
    yield page
    context.close()


def _open_class(page) -> None:
    seed()
    sign_in(page, "teacher@example.org", PASSWORD)
    choice = page.get_by_role("button", name="Necessary cookies only")
    if choice.count():
        choice.first.click()
    year1 = db.session.scalar(sa.select(SchoolClass).where(SchoolClass.name == "Year 1"))
    page.goto(f"/teach/classes/{year1.id}")


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_class_view_reads_on_any_screen(ctx, teacher):
    page = teacher
    _open_class(page)
    assert _page_width(page) <= page.width  # no page-level sideways scroll
    region = page.get_by_role("region", name="Who has done this week's activities")
    expect(region).to_be_visible()
    first = page.locator("tr[id^='pupil-']").first
    name = first.locator("th")
    if page.width == 1280:
        # the week scrolls inside its own region (focusable), the names stay put
        region.focus()
        expect(region).to_be_focused()
        before = name.bounding_box()["x"]
        region.evaluate("r => { r.scrollLeft = r.scrollWidth }")
        box, award = region.bounding_box(), page.get_by_role("columnheader", name="Award")
        award_box = award.bounding_box()
        assert award_box["x"] + award_box["width"] <= box["x"] + box["width"] + 1
        assert abs(name.bounding_box()["x"] - before) < 2
        last = page.locator("thead th").nth(-2).bounding_box()
        assert last["x"] >= box["x"] and last["x"] + last["width"] <= box["x"] + box["width"] + 1
    else:
        # one card per pupil, as wide as the screen allows; each cell names its activity
        card = first.bounding_box()
        assert card["width"] >= page.width - 48
        label = first.locator("td").first.evaluate("td => getComputedStyle(td, '::before').content")
        assert label.startswith('"1. ')
        expect(first.locator("td").first).to_contain_text(
            "Done" if "y" in (first.locator("td").first.get_attribute("class") or "") else "Not yet"
        )
        for comment in page.locator(".comment").all():
            assert comment.bounding_box()["width"] >= page.width - 80
    assert_no_axe_violations(page, f"class view at {page.width}")
    assert page.problems == []


def test_an_award_in_place_with_htmx_keeps_focus_in_the_row(ctx, teacher):
    page = teacher
    _open_class(page)
    first = page.locator("tr[id^='pupil-']").first
    name = first.locator("th").inner_text()
    first.get_by_role("link", name=f"Give an award to {name}").click()
    select = page.get_by_label(f"Award for {name}")
    expect(select).to_be_focused()
    box = page.locator(f"#{first.get_attribute('id')} form").bounding_box()
    assert box["width"] > 0 and box["x"] >= 0
    select.select_option(label="Kind helper")
    page.get_by_role("button", name="Give the award").click()
    status = first.get_by_role("status")
    expect(status).to_contain_text("Kind helper given to")
    expect(first.get_by_role("link", name=f"Give another award to {name}")).to_be_focused()
    expect(first).to_contain_text("This week:")
    assert_no_axe_violations(page, f"class view after an award at {page.width}")
    assert page.problems == []


def test_an_award_without_javascript_comes_back_to_the_pupils_row(ctx, teacher_nojs):
    page = teacher_nojs
    _open_class(page)
    first = page.locator("tr[id^='pupil-']").first
    row_id, name = first.get_attribute("id"), first.locator("th").inner_text()
    first.get_by_role("link", name=f"Give an award to {name}").click()
    page.get_by_label(f"Award for {name}").select_option(label="Great effort")
    page.get_by_role("button", name="Give the award").click()
    assert page.url.endswith(f"#{row_id}")
    expect(page.locator(f"#{row_id}").get_by_role("status")).to_contain_text("Great effort given to")
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Award)) >= 1


def test_the_pupil_page_planner_forms_and_library_have_no_axe_violations(ctx, teacher):
    page = teacher
    _open_class(page)
    first = page.locator("tr[id^='pupil-']").first
    first.locator("th a").click()
    page.get_by_role("heading", level=2).first.wait_for()
    expect(page.locator("main")).to_contain_text("Week beginning")
    assert _page_width(page) <= page.width
    assert_no_axe_violations(page, f"pupil page at {page.width}")
    topic = db.session.scalar(sa.select(WeeklyTopic).order_by(WeeklyTopic.id))
    page.goto(f"/teach/topics/{topic.id}")
    page.get_by_role("heading", name="Publish").wait_for()
    assert_no_axe_violations(page, f"planner at {page.width}")
    page.get_by_role("link", name="Create a new activity for this topic").click()
    page.get_by_role("heading", name="Add an activity").wait_for()
    assert_no_axe_violations(page, f"activity form at {page.width}")
    page.goto("/teach/library")
    assert_no_axe_violations(page, f"library at {page.width}")
    assert _page_width(page) <= page.width
    assert page.problems == []


def test_an_activity_made_inside_the_planner_comes_back_added_to_the_topic(ctx, teacher):
    from datetime import timedelta

    from tests import teaching as t

    page = teacher
    _open_class(page)
    year1 = db.session.scalar(sa.select(SchoolClass).where(SchoolClass.name == "Year 1"))
    draft = t.topic(
        year1.organisation, [year1], week=t.next_monday() + timedelta(weeks=3), title="Minibeasts"
    )
    page.goto(f"/teach/topics/{draft.id}")
    page.get_by_role("link", name="Create a new activity for this topic").click()
    page.get_by_role("heading", name="Add an activity").wait_for()
    page.get_by_label("Hands-on").check()
    page.get_by_label("Title").fill("Count the legs on a woodlouse")
    page.get_by_label("Instructions for families").fill("Find a woodlouse.\nCount its legs together.")
    page.get_by_role("button", name="Save").first.click()
    # Back in the planner, with the new activity in the topic and the message where the list is.
    page.get_by_text("and added it to “Minibeasts”").wait_for()
    assert f"/teach/topics/{draft.id}" in page.url
    items = page.locator("ol.planner-items")
    expect(items).to_contain_text("Count the legs on a woodlouse")
    # The planner's library search finds it at once.
    search = page.get_by_role("searchbox").first
    search.fill("woodlouse")
    search.press("Enter")
    expect(page.locator("main")).to_contain_text("Already in this topic")
    assert page.problems == []
