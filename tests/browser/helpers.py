"""What browser tests do again and again."""

from __future__ import annotations

from tests.factories import PASSWORD


def sign_in(page, email: str, password: str = PASSWORD) -> None:
    """Sign in through the real form and wait until the sign-in page is left behind."""
    page.goto("/auth/signin")
    form = page.locator("form[action='/auth/signin'][method='post']")
    form.locator("input[name='email']").fill(email)
    form.locator("input[name='password']").fill(password)
    form.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(lambda url: "/auth/signin" not in url)


def settled(page) -> None:
    """Wait until htmx is there and has finished with what it swapped in. A page loaded in full
    asks for htmx only once it has been drawn (app/core/boot.js), and new content is in the page
    (and visible) a moment before htmx wires up its own attributes (``hx-get``, ``hx-trigger``):
    that happens when it settles, about 20 ms later, and removes the ``htmx-added`` class. A
    person does not type that fast; a test does, and what it typed before then would start no
    request (htmx, arriving, finds the words already typed and no new ``input`` to answer)."""
    from playwright.sync_api import expect

    page.wait_for_function("() => window.htmx !== undefined")
    expect(page.locator(".htmx-added")).to_have_count(0)
