"""Page weight, SQL queries and server time for every page the demo users can open.

- gzip bytes of the sign-in page, of each static asset, and of the sign-in page's first load
  (its HTML plus the CSS and scripts it references: what a parent's phone downloads first);
- for each demo sign-in (and for a visitor who is not signed in): every page reachable by
  following links from their home page, plus every page without URL parameters that answers
  200; for each, SQL queries per request and p50/p95 server time over 200 in-process requests,
  every person's pages asked in turn (``_measure``). Public pages are measured once, for the
  visitor;
- how quickly the machine ran Python meanwhile: a fixed piece of work timed in every round.
"""

from __future__ import annotations

import gzip
import statistics
import time
from collections import deque
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import sqlalchemy as sa

from app.core.assets import SCRIPT_ATTRIBUTES

AREA = "pages"
REQUESTS = 200
MAX_PAGES_PER_USER = 40
SIGNINS = ("office@example.org", "teacher@example.org", "parent@example.org")
# Budgets: a parent on slow mobile data (issue 5: first load <= 32 KB, repeat visit <= 6 KB);
# the teachers' issue: <= 10 SQL queries and p95 <= 50 ms for a page.
PAGE_GZIP_BUDGET = 6 * 1024
# The speed issue: every page's in-process p50 within 5 ms plus 0.3 ms per SQL query.
P50_FIXED_MS = 5.0
P50_PER_QUERY_MS = 0.3
FIRST_LOAD_BUDGET = 32 * 1024
ASSET_BUDGETS = {"app.css": 8 * 1024, "app.js": 4 * 1024, "htmx.min.js": 17 * 1024}
QUERY_BUDGET = 10
P95_BUDGET_MS = 50.0
# The machine's speed while the pages are timed: this many additions in a Python loop, each round.
REFERENCE_LOOP = 20_000
# GET links never followed: they end the session or hand out files rather than pages.
SKIP_WORDS = ("signout", "download", "unsubscribe", "export", "confirm")


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.assets: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        elif tag == "link" and attrs.get("rel") == "stylesheet" and attrs.get("href"):
            self.assets.append(attrs["href"])
        elif tag == "script":
            self.assets += [attrs[a] for a in SCRIPT_ATTRIBUTES if attrs.get(a)]


def _parse(html: bytes) -> _Links:
    parser = _Links()
    parser.feed(html.decode("utf-8", "replace"))
    return parser


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def p50_budget(queries: int) -> float:
    """The speed issue's goal for a page's in-process p50: 5 ms, plus 0.3 ms per SQL query."""
    return round(P50_FIXED_MS + P50_PER_QUERY_MS * queries, 1)


def _row(measure, value, unit, budget=None):
    return {"area": AREA, "measure": measure, "value": value, "unit": unit, "budget": budget}


def _client(app, email: str | None):
    from tests.factories import login

    client = app.test_client()
    if email:
        from app.core.extensions import db
        from app.models import User

        with app.app_context():
            user = db.session.scalar(sa.select(User).where(User.email == email))
            login(client, user)
    return client


def _endpoint(app, path: str) -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        endpoint, _ = adapter.match(path, method="GET")
    except Exception:  # noqa: BLE001 - not a route of ours (404, redirect, method)
        return None
    return endpoint


def _is_page(response) -> bool:
    return response.status_code == 200 and response.mimetype == "text/html"


def pages_for(app, client, *, skip_public: bool = False) -> list[tuple[str, str]]:
    """(path, endpoint) of each page this client can open: one URL per endpoint (public pages
    left out with ``skip_public``: they are measured for the visitor)."""
    seen: dict[str, str] = {}
    queue = deque(["/"])
    queue += [
        r.rule
        for r in app.url_map.iter_rules()
        if "GET" in r.methods and not r.arguments and r.endpoint not in ("static",)
    ]
    visited: set[str] = set()
    while queue and len(seen) < MAX_PAGES_PER_USER:
        path = queue.popleft()
        if path in visited:
            continue
        visited.add(path)
        response = client.get(path, follow_redirects=True)
        final = response.request.path
        endpoint = _endpoint(app, final)
        if not _is_page(response) or endpoint is None:
            continue
        public = getattr(app.view_functions[endpoint], "_access", "") == "public"
        if endpoint not in seen and not (skip_public and public):
            seen[endpoint] = final
        for href in _parse(response.data).links:
            url = urlsplit(urljoin("http://localhost" + final, href))
            if url.scheme not in ("http", "https") or url.netloc != "localhost":
                continue
            if any(word in url.path for word in SKIP_WORDS) or url.path.startswith("/a/"):
                continue
            target = _endpoint(app, url.path)
            if target and target not in seen and url.path not in visited:
                queue.append(url.path)
    return sorted(((path, endpoint) for endpoint, path in seen.items()), key=lambda p: p[0])


def _reference() -> float:
    """A fixed piece of pure-Python work (about a millisecond here), timed in ms: how quickly the
    machine runs Python at this moment, whatever the app does."""
    started = time.perf_counter()
    total = 0
    for i in range(REFERENCE_LOOP):
        total += i
    return (time.perf_counter() - started) * 1000


def _measure(app, asked: list[tuple[str, object, str]]) -> tuple[dict, list[float]]:
    """Per (person, path): (max SQL queries per request, p50 ms, p95 ms, non-200 answers) over
    REQUESTS requests each, every person's pages asked in turn (each round asks every page of
    every person once, each with that person's client); and the reference work's time in each
    round (``_reference``).

    A shared machine runs some stretches of a minute half as fast again as others, or slower.
    Asked one page after another, or one person's pages after another's, a page's figure said as
    much about the stretch it fell in as about the page: a slow half-minute put all of one
    person's pages over. Asked in turn, every page is timed across the same minutes, the whole
    run's, so the pages compare with each other and each page's p50 is its time on the machine
    as the run found it. The reference, timed in every round, says how quickly that was."""
    from app.core.extensions import db

    with app.app_context():
        engine = db.engine
    counter = {"n": 0}

    def count(*_args):
        counter["n"] += 1

    for _who, client, path in asked:
        client.get(path)  # warm-up: templates compiled, connections open
    keys = [(who, path) for who, _client, path in asked]
    times: dict[tuple[str, str], list[float]] = {key: [] for key in keys}
    queries: dict[tuple[str, str], list[int]] = {key: [] for key in keys}
    bad = dict.fromkeys(keys, 0)
    reference: list[float] = []
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        for i in range(REQUESTS):
            environ = {"REMOTE_ADDR": f"10.0.{i // 250}.{i % 250 + 1}"}
            reference.append(_reference())
            for who, client, path in asked:
                counter["n"] = 0
                started = time.perf_counter()
                response = client.get(path, environ_base=environ)
                times[who, path].append((time.perf_counter() - started) * 1000)
                queries[who, path].append(counter["n"])
                bad[who, path] += response.status_code != 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    measured = {}
    for key in keys:
        cuts = statistics.quantiles(times[key], n=100, method="inclusive")
        measured[key] = (max(queries[key]), statistics.median(times[key]), cuts[94], bad[key])
    return measured, reference


def speed_rows(reference: list[float]) -> list[dict]:
    """How quickly the machine ran while the pages were timed: the reference work's median, and
    its slowest tenth of rounds against its quickest tenth (1.0: the same speed throughout)."""
    cuts = statistics.quantiles(reference, n=10, method="inclusive")
    return [
        _row(
            "machine: reference Python work, p50 over the rounds",
            round(statistics.median(reference), 2),
            "ms",
        ),
        _row("machine: slowest tenth of rounds / quickest tenth", round(cuts[8] / cuts[0], 2), "x"),
    ]


def weight_rows(app) -> list[dict]:
    """gzip bytes of the sign-in page, its first load, and each static asset."""
    client = app.test_client()
    rows = []
    signin = client.get("/auth/signin")
    html = _gz(signin.data)
    rows.append(_row("sign-in page HTML, gzip", html, "bytes", PAGE_GZIP_BUDGET))
    first = html
    for src in _parse(signin.data).assets:
        first += _gz(client.get(urlsplit(src).path).data)
    rows.append(_row("sign-in page first load (HTML + CSS + JS), gzip", first, "bytes", FIRST_LOAD_BUDGET))
    names = app.extensions["assets"]["names"]
    for name, hashed in sorted(names.items()):
        body = client.get(f"/a/{hashed}").data
        rows.append(_row(f"static {name}, gzip", _gz(body), "bytes", ASSET_BUDGETS.get(name)))
    return rows


def run(app) -> list[dict]:
    """Seed the demo school and measure every page its users can open, everyone's in turn."""
    from app.demo import seed

    with app.app_context():
        seed()
    rows = weight_rows(app)
    asked: list[tuple[str, object, str]] = []
    for email in (None, *SIGNINS):
        who = email.split("@")[0] if email else "visitor"
        client = _client(app, email)
        paths = [path for path, _endpoint_name in pages_for(app, client, skip_public=email is not None)]
        asked += [(who, client, path) for path in paths]
    measured, reference = _measure(app, asked)
    for (who, path), (queries, p50, p95, bad) in measured.items():
        label = f"{who} GET {path}"
        if bad:
            rows.append(_row(f"{label}: answers other than 200", bad, "requests", 0))
        rows.append(_row(f"{label}: SQL queries per request (max)", queries, "queries", QUERY_BUDGET))
        rows.append(_row(f"{label}: server time p50", round(p50, 1), "ms", p50_budget(queries)))
        rows.append(_row(f"{label}: server time p95", round(p95, 1), "ms", P95_BUDGET_MS))
    return rows + speed_rows(reference)
