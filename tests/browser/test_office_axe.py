"""axe-core (WCAG 2.2 A/AA, target size included) on the office's and the privacy desk's pages,
signed in as the demo's office person, at 1280x800 and at 390x844."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.demo import PASSWORD, seed
from app.models import Pupil, SchoolClass
from tests.browser.axe import axe_violations
from tests.browser.conftest import STAFF_SIZES as SIZES
from tests.browser.conftest import _page
from tests.browser.helpers import sign_in

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


@pytest.mark.parametrize("size", list(SIZES))
def test_publishing_a_notice_version_previews_and_asks_first(ctx, browser, live_server, size):
    seed()
    context, page = _page(browser, live_server, **SIZES[size])
    try:
        sign_in(page, "office@example.org", PASSWORD)
        page.goto("/office/notices")
        main = page.locator("main")
        assert "No version has been published" not in main.inner_text()
        assert "version 1.0 (Hometime's own notice" in main.inner_text()
        page.get_by_label("Version").fill("2.0")
        page.get_by_label("What changed, in plain words").fill("We now keep photos for one year.")
        page.get_by_role("button", name="Preview before publishing").click()
        page.get_by_role("heading", name="Check version 2.0 before publishing").wait_for()
        assert "We now keep photos for one year." in page.locator("main").inner_text()
        problems = axe_violations(page)
        assert not problems, problems
        page.get_by_role("button", name="Publish version 2.0 and tell").click()
        page.get_by_text("Version 2.0 is published").wait_for()
        assert "version 2.0, published" in page.locator("main").inner_text()
    finally:
        context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_every_page_the_office_reaches_by_links_has_no_axe_violations(
    ctx, browser, live_server, run_jobs, size
):
    """Beyond the fixed list: every office and privacy-desk page reachable by links, with a
    request in progress and its copy waiting for review (request, export review and preview,
    a person's pages, the copy's own page)."""
    from app.dataprotection.exports import service as exports
    from tests import factories as f
    from tests.browser.axe import crawl_with_axe
    from tests.privacy_data import access_request, two_families

    s = two_families()
    exports.start(access_request(s, pupil=s.amir).id, s.office)
    assert run_jobs() == 0
    email = s.office.email
    db.session.remove()
    context, page = _page(browser, live_server, **SIZES[size])
    try:
        sign_in(page, email, f.PASSWORD)
        found = crawl_with_axe(page, "/office/", limit=150, skip=("/family", "/teach"))
        reached = " ".join(found)
        for kind in ("/office/requests/", "/office/exports/", "/preview/", "/office/people/"):
            assert kind in reached, f"the crawl never reached {kind}: {sorted(found)}"
        bad = {path: v for path, v in found.items() if v}
        assert not bad, "\n".join(f"{path}:\n  " + "\n  ".join(v) for path, v in bad.items())
    finally:
        context.close()


SPLIT_WORDS = """els => els.flatMap(el => {
  const split = [], walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (const m of node.data.matchAll(/[^\\s\\-\\/]+/g)) {
      const range = document.createRange();
      range.setStart(node, m.index);
      range.setEnd(node, m.index + m[0].length);
      const tops = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.top)));
      if (tops.size > 1) split.push(m[0]);
    }
  }
  return split;
})"""


@pytest.mark.parametrize("size", list(SIZES))
def test_invite_everyone_asks_first_and_no_heading_breaks_inside_a_word(ctx, browser, live_server, size):
    seed()
    context, page = _page(browser, live_server, **SIZES[size])
    try:
        sign_in(page, "office@example.org", PASSWORD)
        page.goto("/office/families")
        assert page.eval_on_selector_all("main h1, main h2, main h3, main th", SPLIT_WORDS) == []
        page.get_by_role("button", name="Invite everyone not yet joined").click()
        page.get_by_role("heading", level=1, name=re.compile(r"^Invite \d+ famil.* by email.*\?$")).wait_for()
        assert page.get_by_role("button", name="Yes, invite").is_visible()
        assert page.eval_on_selector_all("main h1, main h2, main h3, main th", SPLIT_WORDS) == []
        assert not axe_violations(page)
    finally:
        context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_importing_one_class_compares_only_that_class(ctx, browser, live_server, size):
    from tests.roster_helpers import csv_bytes, template_row

    seed()

    def pupils_of(name: str) -> list:
        return db.session.scalars(
            sa.select(Pupil)
            .join(SchoolClass, SchoolClass.id == Pupil.class_id)
            .where(SchoolClass.name == name)
        ).all()

    year3, year1_count = pupils_of("Year 3"), len(pupils_of("Year 1"))
    assert year3 and year1_count
    csv = csv_bytes([template_row(900 + i, "Year 3", first=f"New{i}", year="3") for i in range(2)])
    context, page = _page(browser, live_server, **SIZES[size])
    try:
        sign_in(page, "office@example.org", PASSWORD)
        page.goto("/office/roster")
        page.set_input_files(
            "input[type=file]", files=[{"name": "year3.csv", "mimeType": "text/csv", "buffer": csv}]
        )
        page.get_by_role("button", name="Preview the import").click()
        page.get_by_role("heading", name=re.compile(r"^In Hometime but not in this file")).wait_for()
        main = page.locator("main").inner_text()
        assert "Compared with the class in this file only: Year 3" in main
        heading = page.get_by_role(
            "heading", name=re.compile(r"^In Hometime but not in this file")
        ).inner_text()
        assert heading.endswith(f"({len(year3)})"), "only Year 3's pupils can be missing, not Year 1's"
        assert not axe_violations(page)
    finally:
        context.close()


@pytest.mark.parametrize("size", list(SIZES))
def test_the_import_result_the_printed_letters_and_the_outbox_have_no_axe_violations(
    ctx, browser, live_server, run_jobs, size
):
    """The staff pages no link reaches: the roster import's result (after a POST and its
    redirect), the printed invitation letters (the answer to a POST) and the outbox."""
    from tests.roster_helpers import csv_bytes, template_row

    seed()
    csv = csv_bytes(
        [
            template_row(
                950,
                "Year 3",
                first="Nia",
                last="Brook",
                year="3",
                contacts=[("Rae Brook", "", "07911 123456", "Mother", "No")],
            )
        ]
    )
    context, page = _page(browser, live_server, **SIZES[size])
    width = SIZES[size]["viewport"]["width"]
    try:
        sign_in(page, "office@example.org", PASSWORD)
        found = {}

        def check(where: str) -> None:
            assert page.evaluate("document.documentElement.scrollWidth") <= width, where
            problems = axe_violations(page)
            if problems:
                found[where] = problems

        page.goto("/office/roster")
        page.set_input_files(
            "input[type=file]", files=[{"name": "year3.csv", "mimeType": "text/csv", "buffer": csv}]
        )
        page.get_by_role("button", name="Preview the import").click()
        page.get_by_role("button", name=re.compile(r"^Import 1 pupil")).click()
        page.wait_for_url(re.compile(r"/office/roster/result/"))
        page.get_by_role("heading", name="Import finished").wait_for()
        assert page.get_by_role("row", name=re.compile(r"^Pupils 1 ")).is_visible()
        check("roster import result")

        page.goto("/office/families")
        page.get_by_role("checkbox", name="Print a letter for Rae Brook").check()
        page.get_by_role("button", name="Print invitation letters").click()
        page.get_by_role("heading", name="Invitation letters (1)").wait_for()
        assert "Rae Brook" in page.locator("main").inner_text()
        check("printed letters")

        assert run_jobs() == 0  # the demo's messages reach the outbox
        page.goto("/dev/outbox")
        page.get_by_role("heading", name="Outbox").wait_for()
        assert page.locator("article.outbox-message").count() > 0
        check("outbox")
        assert not found, "\n".join(f"{p}:\n  " + "\n  ".join(v) for p, v in found.items())
    finally:
        context.close()
