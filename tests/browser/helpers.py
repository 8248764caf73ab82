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
