"""axe-core (WCAG 2.2 A and AA, target size included) on every page a parent can reach from the
home page by links, on a 360x640 phone with JavaScript on and off: 0 violations."""

from __future__ import annotations

from app.demo import PASSWORD, seed
from tests.browser.axe import crawl_with_axe
from tests.browser.helpers import sign_in


def test_every_page_a_parent_reaches_has_no_accessibility_violation(ctx, phone_any):
    seed()
    sign_in(phone_any, "parent@example.org", PASSWORD)
    found = crawl_with_axe(phone_any, "/family/", js=phone_any.js, skip=("/office", "/teach"))
    assert len(found) >= 10, sorted(found)
    bad = {path: v for path, v in found.items() if v}
    assert not bad, "\n".join(f"{path}:\n  " + "\n  ".join(v) for path, v in bad.items())


def _checked(page, js: bool, where: str) -> None:
    from tests.browser.axe import NoScriptTwin, axe_violations

    if js:
        found = axe_violations(page)
    else:
        twin = NoScriptTwin(page)
        found = twin.violations()
        twin.close()
    assert not found, f"{where}:\n" + "\n".join(found)


def test_every_join_page_has_no_accessibility_violation(invited, phone_any):
    page, js = phone_any, phone_any.js
    page.goto("/family/join")
    _checked(page, js, "the letter code page")
    page.get_by_label("Your code from the letter").fill("ABCD-2345")  # a code nobody was sent
    page.get_by_role("button", name="Continue").click()
    page.wait_for_load_state()
    assert page.get_by_label("Your code from the letter").input_value() == "ABCD-2345"
    _checked(page, js, "a wrong letter code")
    page.goto(f"/family/join/{invited['token']}")
    assert page.get_by_role("heading", name="Join Oak Primary on Hometime").is_visible()
    _checked(page, js, "the join form")
    page.get_by_role("button", name="Join", exact=True).click()  # nothing filled in
    page.wait_for_load_state()
    _checked(page, js, "the join form with its errors")
