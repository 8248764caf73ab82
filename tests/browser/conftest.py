"""Browser tests: Playwright driving the machine's Chromium against a live server.

The live server serves the suite's session ``app`` (tests/conftest.py), so it uses the same real
PostgreSQL and Redis, and tables are emptied after every test as usual. Chromium is Debian's
``/usr/bin/chromium``: Playwright never downloads a browser. ``make test`` leaves this folder out
when that file is missing.

Fixtures: ``live_server`` (base URL), ``browser``, pages ``phone`` (360x640, JavaScript on),
``phone_nojs`` (360x640, JavaScript off), ``phone_any`` (both, one test each), ``desktop``
(1280x800), and ``screenshot(page, name)``, which saves ``docs/screenshots/<name>.png`` only when
``HOMETIME_SCREENSHOTS=1`` (the whole page, or with ``full_page=False`` only the screen).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
PHONE = {
    "viewport": {"width": 360, "height": 640},
    "is_mobile": True,
    "has_touch": True,
    "device_scale_factor": 2,
}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
# The two screens staff pages are checked at: a laptop, and a phone in portrait.
STAFF_SIZES = {
    "1280": DESKTOP,
    "390": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
}
TIMEOUT_MS = 15_000


@pytest.fixture(scope="session")
def live_server(app):
    """The session app served over HTTP on 127.0.0.1 and a free port, in a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """Chromium, once per test module (closed before the next module's tests run)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"{CHROMIUM} is missing: install Debian's chromium (make test leaves "
            "tests/browser out in that case)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _page(browser, live_server, **options):
    context = browser.new_context(base_url=live_server, locale="en-GB", **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    # What went wrong on the page, for tests to check: console errors (a CSP violation is one),
    # uncaught exceptions, and answers of 400 or more (the browser's own /favicon.ico probe aside).
    page.problems = []
    page.on(
        "console",
        lambda m: (
            m.type == "error"
            and not m.text.startswith("Failed to load resource")
            and page.problems.append(m.text)
        ),
    )
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.on(
        "response",
        lambda r: (
            r.status >= 400
            and not r.url.endswith("/favicon.ico")
            and page.problems.append(f"{r.status} {r.url}")
        ),
    )
    return context, page


@pytest.fixture()
def phone(browser, live_server):
    """A 360x640 phone page with JavaScript on."""
    context, page = _page(browser, live_server, **PHONE)
    yield page
    context.close()


@pytest.fixture()
def phone_nojs(browser, live_server):
    """A 360x640 phone page with JavaScript off, as on many parents' phones."""
    context, page = _page(browser, live_server, java_script_enabled=False, **PHONE)
    yield page
    context.close()


@pytest.fixture(params=["js-on", "js-off"])
def phone_any(request, browser, live_server):
    """A 360x640 phone page, once with JavaScript on and once with it off."""
    context, page = _page(browser, live_server, java_script_enabled=request.param == "js-on", **PHONE)
    page.js = request.param == "js-on"
    yield page
    context.close()


@pytest.fixture()
def desktop(browser, live_server):
    """A 1280x800 desktop page with JavaScript on."""
    context, page = _page(browser, live_server, **DESKTOP)
    yield page
    context.close()


def save_screenshot(page, name: str, *, full_page: bool = True) -> Path | None:
    """Save ``docs/screenshots/<name>.png`` when HOMETIME_SCREENSHOTS=1; otherwise do nothing.
    ``full_page=False`` keeps only the viewport, as the person sees it now."""
    if os.environ.get("HOMETIME_SCREENSHOTS") != "1":
        return None
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page, scale="css")
    return path


@pytest.fixture()
def screenshot():
    """``screenshot(page, name)``: see :func:`save_screenshot`."""
    return save_screenshot
