"""Not one page of the demo fails: each demo person signs in and follows every link and every GET
form their pages offer, as a plain browser, as a boosted htmx navigation (``HX-Boosted``) and as
a partial htmx request (``HX-Request`` only), a bounded number of pages per person. No answer is a
server error, and every HTML answer passes the project's HTML checks (tests/html_check.py)."""

from __future__ import annotations

import re
import time
from collections import Counter, deque
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

import pyotp
import pytest

from tests.html_check import Page

PASSWORD = "hometime-demo"
PEOPLE = {"office": "office@example.org", "teacher": "teacher@example.org", "parent": "parent@example.org"}
MAX_PAGES = 300  # distinct URLs per person
MAX_PER_PATH = 4  # query-string variants of one path: the class view's weeks go on for ever
MODES = {
    "plain": {},
    "boosted": {"HX-Request": "true", "HX-Boosted": "true"},
    "partial": {"HX-Request": "true"},
}
# Not followed: signing out ends the crawl; downloads count as "downloaded" (state changes);
# hashed assets and static files are not pages.
# Signing out and switching language change the person's session or settings for every page
# after (the language switch is tested in tests/core/test_i18n.py); downloads are not pages.
SKIP = [re.compile(p) for p in (r"^/auth/signout", r"^/language/", r"/download$", r"^/a/", r"^/static/")]
TYPED = "bean"  # what the crawl types into a GET form's empty text fields (a second visit)


@pytest.fixture()
def demo(app, ctx, run_jobs):
    """The `flask demo` school on the test PostgreSQL, with its messages sent to the outbox."""
    from app.demo import seed

    assert seed()
    assert run_jobs() == 0
    return app


def enrol_two_step(app, email: str) -> str:
    """Set up two-step sign-in through the real pages, as staff must where it is required (in
    production); returns the authenticator secret."""
    client = app.test_client()
    client.post("/auth/signin", data={"email": email, "password": PASSWORD})
    page = client.get("/auth/mfa").get_data(as_text=True)
    secret = re.search(r'id="secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    assert client.post("/auth/mfa", data={"code": pyotp.TOTP(secret).now()}).status_code == 200
    return secret


def sign_in(app, email: str, secret: str | None = None):
    """Sign in through the real form, with the TOTP code when two-step sign-in is on; the client
    and the page the person lands on."""
    client = app.test_client()
    response = client.post("/auth/signin", data={"email": email, "password": PASSWORD})
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:300]
    if secret:
        assert urlsplit(response.headers["Location"]).path == "/auth/mfa/verify"
        code = pyotp.TOTP(secret).at(time.time() + 30)  # the enrolment used this time step's
        response = client.post("/auth/mfa/verify", data={"code": code})
        assert response.status_code in (302, 303)
    return client, urlsplit(response.headers["Location"]).path


def _local(base: str, link: str, hosts: set[str]) -> str | None:
    """``link`` (relative to ``base``) as a local path with its query, or None when it leaves the
    site, is not http, or should not be followed."""
    link = (link or "").strip()
    if not link or link.startswith(("#", "mailto:", "tel:", "data:", "javascript:")):
        return None
    parts = urlsplit(urljoin(base, link))
    if parts.scheme not in ("http", "https", "") or (parts.netloc and parts.netloc not in hosts):
        return None
    url = urlunsplit(("", "", parts.path or "/", parts.query, ""))
    return None if any(p.search(parts.path) for p in SKIP) else url


def _get_form_urls(form, base: str) -> list[str]:
    """The URLs a GET form submits to: as the page fills it, and with its empty text fields
    typed in."""
    fields, typed = [], []
    radios_done = set()
    for e in _descendants(form):
        name, kind = e.attrs.get("name"), e.attrs.get("type", "text").lower()
        if not name or "disabled" in e.attrs:
            continue
        if e.tag == "input" and kind in ("submit", "button", "reset", "image", "file"):
            continue
        if e.tag == "input" and kind in ("checkbox", "radio"):
            if "checked" in e.attrs and (kind == "checkbox" or name not in radios_done):
                fields.append((name, e.attrs.get("value", "on")))
                radios_done.add(name)
            continue
        if e.tag == "select":
            options = [o for o in _descendants(e) if o.tag == "option"]
            chosen = [o for o in options if "selected" in o.attrs] or options[:1]
            for o in chosen:
                fields.append((name, o.attrs.get("value", o.all_text().strip())))
            continue
        value = e.all_text() if e.tag == "textarea" else e.attrs.get("value", "")
        fields.append((name, value))
        if not value and kind in ("text", "search"):
            typed.append(name)
    action = form.attrs.get("action") or base
    urls = [_with_query(action, fields)]
    if typed:
        urls.append(_with_query(action, [(n, TYPED if n in typed and not v else v) for n, v in fields]))
    return urls


def _with_query(action: str, fields) -> str:
    parts = urlsplit(action)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(fields), ""))


def _descendants(element):
    for child in element.children:
        yield child
        yield from _descendants(child)


def links_of(page: Page, base: str, hosts: set[str]) -> list[str]:
    """Every URL a person (or htmx) could GET from this page: links, hx-get, images, GET forms."""
    found = []
    for e in page.elements:
        if e.tag == "a" and e.attrs.get("href"):
            found.append(e.attrs["href"])
        if e.tag == "img" and e.attrs.get("src"):
            found.append(e.attrs["src"])
        if e.attrs.get("hx-get"):  # fetched by htmx: the crawl also opens it the other two ways
            found.append(e.attrs["hx-get"])
        if e.tag == "form" and e.attrs.get("method", "get").lower() == "get":
            found.extend(_get_form_urls(e, base))
    return [url for url in (_local(base, link, hosts) for link in found) if url]


def html_problems(html: str, full: bool) -> list[str]:
    """The project's HTML checks: CSP-clean markup and labelled fields everywhere, and on full
    pages the accessible basics (lang, one h1, title, main navigation, main, footer)."""
    page = Page(html)
    problems = page.csp_violations() + [f"unlabelled {f}" for f in page.unlabelled_fields()]
    problems += page.unsized_images()
    if full:
        html_tag = page.find("html")
        if html_tag is None or html_tag.attrs.get("lang") != "en-GB":
            problems.append("no <html lang=en-GB>")
        if len(page.find_all("h1")) != 1:
            problems.append(f"{len(page.find_all('h1'))} h1 elements")
        title = page.find("title")
        if title is None or not title.text.strip():
            problems.append("no title")
        if page.find("nav", aria_label="Main") is None:
            problems.append("no main navigation")
        if page.find("main") is None or page.find("footer") is None:
            problems.append("no main or footer")
    return problems


def crawl(client, starts: list[str], hosts: set[str]):
    """Breadth-first over the site from ``starts``: (visited URLs, problems found)."""
    queue, seen, per_path = deque(starts), set(starts), Counter()
    problems: list[str] = []
    visited: list[str] = []
    while queue and len(visited) < MAX_PAGES:
        url = queue.popleft()
        visited.append(url)
        for mode, headers in MODES.items():
            where = f"GET {url} [{mode}]"
            try:
                response = client.get(url, headers=headers)
            except Exception as error:  # noqa: BLE001 - the test app raises what a server 500s
                problems.append(f"{where}: 500 ({type(error).__name__}: {error})")
                continue
            if response.status_code >= 500:
                problems.append(f"{where}: {response.status_code}")
                continue
            links = []
            if response.status_code in (301, 302, 303, 307, 308):
                links = [response.headers.get("Location", "")]
            elif response.headers.get("HX-Redirect"):
                links = [response.headers["HX-Redirect"]]
            elif response.mimetype == "text/html":
                html = response.get_data(as_text=True)
                full = "<html" in html[:500].lower()
                if mode != "partial" and not full:
                    problems.append(f"{where}: a fragment where a whole page was asked for")
                problems += [f"{where}: {p}" for p in html_problems(html, full)]
                if mode != "boosted":
                    links = links_of(Page(html), url, hosts)
            for link in links:
                link = _local(url, link, hosts)
                if link is None or link in seen:
                    continue
                path = urlsplit(link).path
                if urlsplit(link).query and per_path[path] >= MAX_PER_PATH:
                    continue
                per_path[path] += 1
                seen.add(link)
                queue.append(link)
    return visited, problems


# Where a person starts besides their landing page: staff read the demo's messages in the outbox
# (README), and the crawl follows the links in them (sign-in links, this week's topic, ...).
ALSO_START = {"office": ["/dev/outbox"], "teacher": ["/dev/outbox"], "parent": []}
# What each person's crawl must at least reach, so a crawl that stops early cannot pass.
MUST_REACH = {
    "office": ["/office/", "/office/requests", "/office/people", "/dev/outbox"],
    "teacher": [
        "/teach/",
        "/teach/library",
        "/teach/topics",
        r"/teach/classes/\d+$",
        r"/teach/topics/\d+/search",
        r"/teach/contributions/\d+/thumb",
    ],
    "parent": [
        "/family/",
        "/family/settings",
        r"/family/children/\d+$",
        r"/family/photos/\d+/thumb",
        "/privacy/",
    ],
}


@pytest.mark.parametrize("who", sorted(PEOPLE))
def test_every_page_a_demo_person_can_reach_works(demo, who, monkeypatch):
    secret = None
    if who != "parent":  # staff sign in with their authenticator, as production requires
        monkeypatch.setitem(demo.config, "REQUIRE_STAFF_MFA", True)
        secret = enrol_two_step(demo, PEOPLE[who])
    client, landing = sign_in(demo, PEOPLE[who], secret)
    hosts = {"localhost", urlsplit(demo.config["BASE_URL"]).netloc}
    visited, problems = crawl(client, [landing, *ALSO_START[who]], hosts)
    assert problems == []
    paths = {urlsplit(u).path for u in visited}
    for pattern in MUST_REACH[who]:
        assert any(re.fullmatch(pattern, p) for p in paths), f"never reached {pattern}"
    assert len(visited) >= 15
