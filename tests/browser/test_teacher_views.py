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
from tests.browser.helpers import settled, sign_in


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
        expect(choice).to_have_count(0)  # the choice is saved before the next page is asked for
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
        # one card per pupil (their row and their family's comments), as wide as the screen
        # allows; each cell names its activity
        card = page.locator(f"tbody:has(#{first.get_attribute('id')})").bounding_box()
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
    settled(page)  # the planner came in as a boosted swap: its search box listens from then on
    # The planner's library search finds it at once.
    search = page.get_by_role("searchbox").first
    search.fill("woodlouse")
    search.press("Enter")
    expect(page.locator("main")).to_contain_text("Already in this topic")
    assert page.problems == []


# --- families' comments in their pupil's card, hidden through the page's one shared form ---------


def _comment_for_the_last_pupil(text: str = "She showed real kindness to her little brother all week."):
    """A comment from the family of the last pupil of Year 1 (far down the page on a phone)."""
    from app.learning.topics import monday_of, school_today
    from app.models import Engagement, Pupil
    from tests import teaching as t

    year1 = db.session.scalar(sa.select(SchoolClass).where(SchoolClass.name == "Year 1"))
    week = monday_of(school_today(year1.organisation))
    topic = db.session.scalar(
        sa.select(WeeklyTopic)
        .join(WeeklyTopic.classes)
        .where(SchoolClass.id == year1.id, WeeklyTopic.week_start == week)
    )
    last = db.session.scalars(
        sa.select(Pupil)
        .where(Pupil.class_id == year1.id)
        .order_by(Pupil.last_name, Pupil.first_name, Pupil.id)
    ).all()[-1]
    item = sorted(topic.items, key=lambda i: i.position)[-1]
    assert db.session.scalar(sa.select(Engagement).where(Engagement.pupil_id == last.id)) is None
    return last, t.done(last, item, rating=4, comment=text)


def test_a_pupils_comments_sit_in_their_card_on_a_phone_and_under_their_row_when_wide(ctx, teacher):
    page = teacher
    seed()
    pupil, comment = _comment_for_the_last_pupil()
    _open_class(page)
    assert _page_width(page) <= page.width  # no page-level sideways scroll
    row = page.locator(f"#pupil-{pupil.id}")
    card = page.locator(f"tbody:has(#pupil-{pupil.id})")
    said = card.locator(f"#contribution-{comment.id}")
    expect(said).to_contain_text("real kindness to her little brother")
    assert page.locator("h2", has_text="From families").count() == 0  # no list under the grid
    if page.width == 390:
        card.evaluate("c => c.scrollIntoView({block: 'start'})")
        box, card_box, text = (
            said.bounding_box(),
            card.bounding_box(),
            said.locator(".comment").bounding_box(),
        )
        # inside the pupil's own card, in view, at (nearly) the full width of the screen
        assert card_box["y"] <= box["y"] and box["y"] + box["height"] <= card_box["y"] + card_box["height"]
        assert card_box["x"] <= box["x"] and box["x"] + box["width"] <= card_box["x"] + card_box["width"]
        assert 0 <= box["y"] and box["y"] + box["height"] <= 844
        assert text["width"] >= page.width - 80
        # one card per pupil: the name, the activities and the comment in one bordered box
        assert card.evaluate("c => getComputedStyle(c).borderTopStyle") == "solid"
        name = row.locator("th").bounding_box()
        assert card_box["y"] <= name["y"] < box["y"]
        # words wrap between words, never inside one ("kindne ss")
        lines = said.locator(".comment").evaluate(
            """b => { const r = document.createRange(); const t = b.textContent;
                      const i = t.indexOf('kindness'); const n = b.querySelector('br') ? null : b.firstChild;
                      r.setStart(n, i); r.setEnd(n, i + 8); return r.getClientRects().length }"""
        )
        assert lines == 1
    else:
        # the grid as before: a table whose cells line up under their activity's heading
        assert row.evaluate("r => getComputedStyle(r).display") == "table-row"
        heads = page.locator("thead th")
        cells = row.locator("td")
        for i in range(cells.count()):
            assert abs(cells.nth(i).bounding_box()["x"] - heads.nth(i + 1).bounding_box()["x"]) < 2
        assert row.bounding_box()["height"] < 90  # one line per pupil, the comment not squeezed into it
        # the comment in the row under the pupil's, readable inside the week's region
        region = page.get_by_role("region", name="Who has done this week's activities").bounding_box()
        said.scroll_into_view_if_needed()
        box = said.bounding_box()
        assert box["y"] >= row.bounding_box()["y"] + row.bounding_box()["height"] - 1
        assert region["x"] <= box["x"] and box["x"] + box["width"] <= region["x"] + region["width"] + 1
        assert said.locator(".comment").bounding_box()["width"] >= 200
    assert_no_axe_violations(page, f"class view with comments at {page.width}")
    assert page.problems == []


def test_hiding_a_comment_with_htmx_swaps_it_in_place(ctx, teacher):
    page = teacher
    seed()
    pupil, comment = _comment_for_the_last_pupil("Something unkind about another child")
    _open_class(page)
    said = page.locator(f"#contribution-{comment.id}")
    page.locator("table.class-grid").evaluate("t => { t.dataset.kept = 'yes' }")  # gone on a page load
    said.get_by_role("button", name="Hide from everyone else").click()
    expect(said.get_by_role("status")).to_contain_text("Hidden: only staff can see it now.")
    expect(said.get_by_role("button", name="Show it again")).to_be_focused()
    expect(said.locator("summary")).to_contain_text("Hidden from everyone else")
    assert page.locator("table.class-grid").get_attribute("data-kept") == "yes"  # swapped in place
    db.session.expire_all()
    from app.models import Contribution

    assert db.session.get(Contribution, comment.id).hidden_at is not None
    said.get_by_role("button", name="Show it again").click()
    expect(said.get_by_role("status")).to_contain_text("It is visible again.")
    expect(said.get_by_role("button", name="Hide from everyone else")).to_be_focused()
    db.session.expire_all()
    assert db.session.get(Contribution, comment.id).hidden_at is None
    assert_no_axe_violations(page, f"class view after hiding at {page.width}")
    assert page.problems == []


def test_hiding_a_comment_without_javascript_comes_back_to_it(ctx, teacher_nojs):
    page = teacher_nojs
    seed()
    pupil, comment = _comment_for_the_last_pupil("Something unkind about another child")
    _open_class(page)
    said = page.locator(f"#contribution-{comment.id}")
    said.get_by_role("button", name="Hide from everyone else").click()
    page.wait_for_url(f"**#contribution-{comment.id}")
    expect(said.get_by_role("status")).to_contain_text("Hidden: only staff can see it now.")
    expect(said.get_by_role("button", name="Show it again")).to_be_visible()
    db.session.expire_all()
    from app.models import Contribution

    assert db.session.get(Contribution, comment.id).hidden_at is not None
