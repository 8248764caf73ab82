"""axe-core in the page a person sees: the copy of axe-core that axe-playwright-python ships, so the
suite needs no npm and no network. Every WCAG 2.x A/AA rule runs, target size (2.5.8) included."""

from __future__ import annotations

import re

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Error as PlaywrightError

_AXE = Axe()
_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]},
}


def axe_violations(page) -> list[str]:
    """One line per violated rule: its id, what it asks, and up to five offending elements."""
    response = _AXE.run(page, options=_OPTIONS).response
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:5])
        for v in response["violations"]
    ]


def assert_no_axe_violations(page, where: str = "") -> None:
    found = axe_violations(page)
    assert not found, f"axe-core on {where or page.url}:\n" + "\n".join(found)


# Links a crawl never follows: signing out, state-changing switches, files, the developer outbox.
NOT_FOLLOWED = ("/auth/signout", "/auth/logout", "/language/", "/dev/", "/static/", "/a/")


class NoScriptTwin:
    """axe-core is a script, and a page with JavaScript off runs none (Playwright's evaluate waits
    for ever). The twin is a page with JavaScript on and the same cookies that is served, at the
    same address, exactly the markup the JavaScript-off page shows: scripts left out and what
    <noscript> holds shown. axe checks that, with the real stylesheet."""

    def __init__(self, page):
        self.page = page
        self.context = page.context.browser.new_context(
            base_url="/".join(page.url.split("/", 3)[:3]),
            storage_state=page.context.storage_state(),
            viewport=page.viewport_size,
        )
        self.twin = self.context.new_page()

    def violations(self) -> list[str]:
        html = _SCRIPT.sub("", self.page.content())
        html = _NOSCRIPT.sub("", html)
        url = self.page.url
        self.twin.route(url, lambda route: route.fulfill(body=html, content_type="text/html; charset=utf-8"))
        self.twin.goto(url)
        self.twin.unroute(url)
        return axe_violations(self.twin)

    def close(self) -> None:
        self.context.close()


_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S | re.I)
_NOSCRIPT = re.compile(r"</?noscript\b[^>]*>", re.I)


def crawl_with_axe(
    page, start: str, *, js: bool = True, limit: int = 80, skip: tuple[str, ...] = ()
) -> dict[str, list[str]]:
    """Visit ``start`` and every same-site page reachable from it by links (GET, HTML), as the
    person signed in to ``page`` sees them, and run axe-core on each (``js=False``: ``page`` has
    JavaScript off; axe checks what it shows through a :class:`NoScriptTwin`). Returns each
    path's violations (an empty list where there are none)."""
    from urllib.parse import urljoin, urlsplit

    base = urlsplit(page.url if page.url.startswith("http") else "http://x/")
    seen: dict[str, list[str]] = {}
    queue = [start]
    twin: NoScriptTwin | None = None
    while queue and len(seen) < limit:
        path = queue.pop(0)
        if path in seen:
            continue
        try:
            response = page.goto(path)
        except PlaywrightError as error:  # a file sent as an attachment: a download, not a page
            if "Download is starting" not in str(error):
                raise
            seen[path] = []
            continue
        if response is None or "text/html" not in response.headers.get("content-type", ""):
            seen[path] = []
            continue
        if js:
            seen[path] = axe_violations(page)
        else:
            twin = twin or NoScriptTwin(page)
            seen[path] = twin.violations()
        base = urlsplit(page.url)
        for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
            url = urlsplit(urljoin(page.url, href))
            if url.netloc != base.netloc or url.scheme not in ("http", "https"):
                continue
            target = url.path + (f"?{url.query}" if url.query else "")
            if any(url.path.startswith(p) for p in NOT_FOLLOWED + skip):
                continue
            if target not in seen and target not in queue:
                queue.append(target)
    if twin is not None:
        twin.close()
    return seen
