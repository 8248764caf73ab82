"""Every page, for every kind of visitor: CSP-clean markup, the privacy footer (P11), the basics of
accessibility, and a stylesheet that reads well on a 360 px phone."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.models import Role
from tests import factories as f
from tests.html_check import Page

ROOT = Path(__file__).resolve().parents[2]
ROLES = ["anonymous", "parent", "teacher", "office", "dpo"]
# Routes that are not pages (a health probe answering JSON, Flask's unhashed static files).
NOT_PAGES = {"static", "site.health"}


@pytest.fixture()
def people(ctx):
    school = f.school(name="Oak Primary", dpo_email="dpo@oak.example", dpo_name="Dee Oak")
    other = f.school(name="Elm Primary", dpo_email="dpo@elm.example", dpo_name="Eli Elm")
    year1, year3 = f.school_class(school, name="Year 1"), f.school_class(school, name="Year 3")
    f.school_class(other, name="Elm Year 2")
    parent = f.parent()
    f.pupil(year1, parent)
    return {
        "school": school,
        "other": other,
        "parent": parent,
        "teacher": f.staff(school, Role.TEACHER, classes=[year1, year3]),
        "office": f.staff(school, Role.OFFICE),
        "dpo": f.staff(school, Role.DPO),
    }


def _page_urls(app) -> list[str]:
    urls = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_PAGES or "GET" not in rule.methods or rule.arguments:
            continue
        urls.append(rule.rule)
    return sorted(set(urls)) + ["/no-such-page"]


def _visit(client, people, role: str):
    if role != "anonymous":
        f.login(client, people[role])
    for url in _page_urls(client.application):
        response = client.get(url)
        if response.mimetype == "text/html" and response.status_code not in (301, 302, 303):
            yield url, response


@pytest.mark.parametrize("role", ROLES)
def test_no_page_has_inline_script_or_style(client, people, role):
    problems = {
        url: Page(r.get_data(as_text=True)).csp_violations() for url, r in _visit(client, people, role)
    }
    assert {url: found for url, found in problems.items() if found} == {}
    assert problems, "no pages were visited"


@pytest.mark.promise("P11")
@pytest.mark.parametrize("role", ROLES)
def test_every_page_has_the_privacy_footer(client, people, role):
    expected = "dpo@oak.example" if role != "anonymous" else None
    for url, response in _visit(client, people, role):
        page = Page(response.get_data(as_text=True))
        footer = page.find("footer")
        assert footer is not None, url
        links = {a.attrs.get("href") for a in page.find_all("a") if footer in list(a.ancestors())}
        assert "/privacy-notice" in links, url
        assert "https://ico.org.uk/make-a-complaint/" in links, url
        assert "Complain to the ICO" in footer.all_text(), url
        if expected:
            assert f"mailto:{expected}" in links, url
            assert "dpo@elm.example" not in footer.all_text(), url


@pytest.mark.parametrize("role", ROLES)
def test_every_page_has_the_accessible_basics(client, people, role):
    for url, response in _visit(client, people, role):
        page = Page(response.get_data(as_text=True))
        assert page.find("html").attrs.get("lang") == "en-GB", url
        assert len(page.find_all("h1")) == 1, f"{url}: one h1 per page"
        assert page.find("title").text.strip(), url
        assert page.find("nav", aria_label="Main") is not None, url
        assert page.find("main") is not None and page.find("footer") is not None, url
        assert page.unlabelled_fields() == [], url
        assert not [e for e in page.elements if int(e.attrs.get("tabindex") or 0) > 0], url
        # The skip link is the first thing to tab to, and lands on the focusable main region.
        focusable = ("a", "button", "input", "select", "textarea")
        first = next(e for e in page.elements if e.tag in focusable and e.attrs.get("type") != "hidden")
        assert first.attrs.get("href") == "#main", url
        assert page.by_id("main").tag == "main" and page.by_id("main").attrs["tabindex"] == "-1"
        viewport = page.find("meta", name="viewport")
        assert "width=device-width" in viewport.attrs["content"], url


def _footer_text(client, url="/") -> str:
    return Page(client.get(url).get_data(as_text=True)).find("footer").all_text()


@pytest.mark.promise("P11")
def test_each_school_sees_its_own_privacy_contact(app, ctx):
    school_a = f.school(name="School A", dpo_email="dpo@a.example", dpo_name="Alex A")
    school_b = f.school(name="School B", dpo_email="dpo@b.example")
    class_a, class_b = f.school_class(school_a), f.school_class(school_b)
    readers = {
        "teacher A": (f.staff(school_a, Role.TEACHER, classes=[class_a]), "/teach/"),
        "teacher B": (f.staff(school_b, Role.TEACHER, classes=[class_b]), "/teach/"),
        "parent A": (f.parent(), "/family/"),
        "parent B": (f.parent(), "/family/"),
    }
    f.pupil(class_a, readers["parent A"][0])
    f.pupil(class_b, readers["parent B"][0])
    for who, (user, url) in readers.items():
        client = app.test_client()
        f.login(client, user)
        footer = _footer_text(client, url)
        mine, theirs = ("a", "b") if who.endswith("A") else ("b", "a")
        assert f"dpo@{mine}.example" in footer, who
        assert f"dpo@{theirs}.example" not in footer, who
    assert "Alex A, the data protection officer for School A" in _footer_text(
        _signed_in(app, readers["teacher A"][0]), "/teach/"
    )


@pytest.mark.promise("P11")
def test_a_new_data_protection_officer_shows_in_the_footer_on_the_next_page(app, ctx):
    """The footer is drawn once per process for what it shows, never kept for a school: a change
    of contact shows at once."""
    from app.core.extensions import db

    school = f.school(name="School A", dpo_email="dpo@a.example", dpo_name="Alex A")
    parent = f.parent()
    f.pupil(f.school_class(school), parent)
    client = _signed_in(app, parent)
    before = _footer_text(client, "/family/")
    assert "Alex A, the data protection officer for School A" in before and "dpo@a.example" in before
    school.dpo_name, school.dpo_email = "Bo B", "privacy@a.example"
    db.session.commit()
    footer = _footer_text(client, "/family/")
    assert "Bo B, the data protection officer for School A" in footer and "privacy@a.example" in footer
    assert "dpo@a.example" not in footer and "Alex A" not in footer


def _signed_in(app, user):
    client = app.test_client()
    f.login(client, user)
    return client


@pytest.mark.promise("P11")
def test_a_parent_with_children_at_two_schools_sees_both_contacts(client, ctx):
    school_a, school_b = f.school(dpo_email="dpo@a.example"), f.school(dpo_email="dpo@b.example")
    parent = f.parent()
    f.pupil(f.school_class(school_a), parent)
    f.pupil(f.school_class(school_b), parent)
    f.login(client, parent)
    footer = _footer_text(client, "/family/")
    assert "dpo@a.example" in footer and "dpo@b.example" in footer


@pytest.mark.promise("P11")
def test_a_stranger_is_not_shown_some_other_schools_contact(client, ctx):
    f.school(dpo_email="dpo@a.example")
    f.school(dpo_email="dpo@b.example")
    footer = _footer_text(client)
    assert "@" not in footer  # neither school's address: we don't know whose visitor this is
    assert "your school" in footer and "Complain to the ICO" in footer


@pytest.mark.promise("P11")
def test_a_schools_own_privacy_notice_is_linked_for_its_people(client, ctx):
    school = f.school(privacy_notice_url="https://oak.example/privacy")
    parent = f.parent()
    f.pupil(f.school_class(school), parent)
    f.login(client, parent)
    html = client.get("/family/").get_data(as_text=True)
    assert 'href="https://oak.example/privacy"' in html


def _notice(org, version: str, summary: str, *, published: bool = True):
    from app.core.extensions import db
    from app.models import PrivacyNotice, utcnow

    db.session.add(
        PrivacyNotice(
            organisation_id=org.id if org else None,
            version=version,
            summary=summary,
            body="First part.\n\nSecond part.",
            published_at=utcnow() if published else None,
        )
    )
    db.session.commit()


def test_privacy_notice_shows_hometimes_and_the_visitors_schools_notice(client, ctx):
    school_a, school_b = f.school(name="School A"), f.school(name="School B")
    _notice(None, "1", "What Hometime does with data.")
    _notice(school_a, "3", "What School A does with data.")
    _notice(school_b, "2", "What School B does with data.")
    parent = f.parent()
    f.pupil(f.school_class(school_a), parent)

    stranger = Page(client.get("/privacy-notice").get_data(as_text=True)).find("main").all_text()
    assert "What Hometime does" in stranger and "School A does" not in stranger
    f.login(client, parent)
    page = Page(client.get("/privacy-notice").get_data(as_text=True))
    main = page.find("main").all_text()
    assert "What Hometime does" in main and "What School A does" in main
    assert "School B does" not in main
    assert [p.text for p in page.find_all("p") if "part." in p.text][:2] == ["First part.", "Second part."]


def test_privacy_notice_shows_the_latest_published_version_of_each_hometimes_first(client, ctx):
    school = f.school(name="School A")
    _notice(None, "1", "Hometime, first version.")
    _notice(school, "1", "School A, first version.")
    _notice(None, "2", "Hometime, second version.")
    _notice(school, "2", "School A, second version.")
    _notice(None, "3", "Hometime, a draft.", published=False)
    parent = f.parent()
    f.pupil(f.school_class(school), parent)
    f.login(client, parent)
    main = Page(client.get("/privacy-notice").get_data(as_text=True)).find("main").all_text()
    assert "Hometime, second version." in main and "School A, second version." in main
    assert main.index("Hometime, second version.") < main.index("School A, second version.")
    for older in ("first version", "a draft"):
        assert older not in main


# --- the stylesheet -----------------------------------------------------------------------------

CSS = (ROOT / "static" / "app.css").read_text()


def _luminance(hex_colour: str) -> float:
    h = hex_colour.lstrip("#")
    h = "".join(c * 2 for c in h) if len(h) == 3 else h
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _contrast(a: str, b: str) -> float:
    high, low = sorted([_luminance(a), _luminance(b)], reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize(
    "text, background, minimum",
    [
        ("ink", "bg", 4.5),
        ("muted", "bg", 4.5),
        ("brand", "bg", 4.5),
        ("brand-ink", "brand", 4.5),
        ("bad", "bg", 4.5),
        ("ok", "bg", 4.5),
        ("muted", "soft", 4.5),
        ("ink", "focus", 4.5),
        ("brand", "soft", 4.5),
    ],
)
def test_colours_meet_wcag_aa_contrast(text, background, minimum):
    palette = dict(re.findall(r"--([a-z-]+):(#[0-9a-fA-F]{3,6})", CSS))
    assert _contrast(palette[text], palette[background]) >= minimum


def test_focus_is_always_visible_with_a_dark_outline():
    """The focus ring must stand out (3:1) against the white page, not only against yellow."""
    rules = re.findall(r"([^{}]*:focus(?:-visible)?[^{}]*)\{([^}]*)\}", CSS)
    outlines = [body for selector, body in rules if "outline:3px solid var(--ink)" in body]
    assert outlines, "no visible focus outline"
    palette = dict(re.findall(r"--([a-z-]+):(#[0-9a-fA-F]{3,6})", CSS))
    assert _contrast(palette["ink"], palette["bg"]) >= 3


def test_nothing_is_wider_than_a_360px_phone():
    base = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^}]*\})*[^}]*\}", "", CSS)  # rules outside @media
    for prop, value, unit in re.findall(r"(?<![-\w])(width|min-width):(\d+(?:\.\d+)?)(px|rem|em)", base):
        pixels = float(value) * (16 if unit in ("rem", "em") else 1)
        assert pixels <= 360, f"{prop}:{value}{unit} overflows a 360 px screen"


def test_templates_have_no_inline_script_style_or_handlers():
    """Also the pages this walk cannot reach (those needing ids): the markup itself is clean."""
    offenders = []
    for path in (ROOT / "templates").rglob("*.html"):
        if "messages" in path.parts:  # e-mail bodies: styled inline for mail clients, not pages
            continue
        text = path.read_text()
        # The copy of a family's data is one file a phone opens offline: its one <style> element
        # is allowed by its hash where it is served (app/dataprotection/exports/viewing.py).
        own_style = path.name == "export_index.html" and text.count("<style>") == 1
        # The layout's loader (app/core/boot.js) is the one inline script, allowed by its hash.
        if path.relative_to(ROOT).as_posix() == "templates/base.html":
            text = re.sub(r"<script data-app=[^>]*>\{\{ boot_script \}\}</script>", "", text, count=1)
        if (
            (re.search(r"<style\b", text) and not own_style)
            or re.search(r"\sstyle\s*=", text)
            or re.search(r"\s(?:data-)?(?:hx-)?on[a-z:-]*\s*=", text)
            or re.search(r"<script\b(?![^>]*\bsrc=)", text)
        ):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


@pytest.mark.promise("P11")
def test_a_visitor_sees_the_contact_of_the_only_school_and_no_school_once_there_are_two(app, ctx):
    from app.core.extensions import db

    f.school(name="School A", dpo_email="dpo@a.example", dpo_name="Alex A")
    db.session.commit()
    footer = _footer_text(app.test_client(), "/privacy/ask")
    assert "Alex A, the data protection officer for School A" in footer and "dpo@a.example" in footer
    f.school(name="School B", dpo_email="dpo@b.example")
    db.session.commit()
    footer = _footer_text(app.test_client(), "/privacy/ask")
    assert "dpo@a.example" not in footer and "dpo@b.example" not in footer  # which school is theirs?
    assert "Complain to the ICO" in footer
