"""Issue 18's journey in a real browser: a Polish and an Urdu carer, on a 360x640 phone with
JavaScript off and on, join from a letter the office printed in their language, see the week,
rate an activity, send a photo, change their settings, and then read the next topic's email and
text message in their language. Also: the four scripts with no Latin fallback (Bengali,
Gurmukhi, Urdu, Arabic) render with the machine's own fonts, never as empty boxes."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.core.extensions import db
from app.core.i18n import LANGUAGES
from app.demo import academic_year
from app.messaging.sms_text import info
from app.models import Channel, OutboxMessage, Role, TopicStatus, User
from tests import factories as f
from tests import teaching as t
from tests.parents_data import this_monday
from tests.photo_files import png
from tests.roster_helpers import csv_bytes, import_file, template_row

NO_SCROLL = "document.documentElement.scrollWidth"
SCHOOL = "Birch Primary"


@dataclass(frozen=True)
class Carer:
    """One family and the words they should see (from the language's catalog, as written)."""

    code: str
    mis: str  # the roster's "Home language" column, as SIMS or Arbor export it
    name: str
    child: str
    email: str
    mobile: str
    letter: str
    office_line: str
    language_label: str
    agree: str
    join: str
    question: str  # the rating's question over the faces
    loved_it: str
    saved: str
    send_link: str
    comment: str
    send: str
    sent: str
    settings: str
    sms_label: str
    turn_on: str
    turn_off: str
    sms_on: str
    quiet_from: str
    quiet_until: str
    save_quiet: str
    quiet_saved: str
    subject: str
    email_words: str
    sms_words: str


POLISH = Carer(
    code="pl",
    mis="POL",
    name="Ewa Nowak",
    child="Łucja",
    email="ewa@family.example",
    mobile="07700 900101",
    letter=f"Dołącz do {SCHOOL} w Hometime",
    office_line="For the office: letter in Polish for Ewa Nowak (Łucja).",
    language_label="Język stron i wiadomości Hometime",
    agree="Zgadzam się",
    join="Dołącz",
    question="Zrobiliśmy to! Jak się podobało (Łucja)?",
    loved_it="Super",
    saved="Zapisane. Dziękujemy!",
    send_link="Wyślij komentarz lub zdjęcie",
    comment="Komentarz (nieobowiązkowy)",
    send="Wyślij",
    sent="Wysłano do szkoły (Łucja). Dziękujemy!",
    settings="Ustawienia",
    sms_label="Przypomnienia SMS",
    turn_on="Włącz",
    turn_off="Wyłącz",
    sms_on="Przypomnienia SMS: włączone.",
    quiet_from="Od",
    quiet_until="Do",
    save_quiet="Zapisz godziny ciszy",
    quiet_saved="Godziny ciszy zapisane: bez SMS-ów od",
    subject="Zadania na ten tydzień dla Łucja",
    email_words=f"{SCHOOL} ustaliła temat nauki w domu na ten tydzień: Shapes at home.",
    sms_words="zadania na ten tydzień dla Łucja są gotowe",
)
URDU = Carer(
    code="ur",
    mis="URD",
    name="Samina Akhtar",
    child="Zara",
    email="samina@family.example",
    mobile="07700 900102",
    letter=f"Hometime پر {SCHOOL} میں شامل ہوں",
    office_line="For the office: letter in Urdu for Samina Akhtar (Zara).",
    language_label="Hometime کے صفحات اور پیغامات کی زبان",
    agree="میں متفق ہوں",
    join="شامل ہوں",
    question="ہم نے یہ کر لیا! Zara کو کیسا لگا؟",
    loved_it="بہت پسند آیا",
    saved="محفوظ ہو گیا۔ شکریہ!",
    send_link="تبصرہ یا تصویر بھیجیں",
    comment="تبصرہ (اختیاری)",
    send="بھیجیں",
    sent="Zara کے اسکول کو بھیج دیا گیا۔ شکریہ!",
    settings="ترتیبات",
    sms_label="ٹیکسٹ میسج یاد دہانیاں",
    turn_on="آن کریں",
    turn_off="بند کریں",
    sms_on="ٹیکسٹ میسج یاد دہانیاں: آن۔",
    quiet_from="سے",
    quiet_until="تک",
    save_quiet="خاموش اوقات محفوظ کریں",
    quiet_saved="خاموش اوقات محفوظ ہو گئے",
    subject="Zara کی اس ہفتے کی سرگرمیاں",
    email_words=f"{SCHOOL} نے اس ہفتے کا گھر پر سیکھنے کا موضوع طے کر دیا ہے: Shapes at home۔",
    sms_words="Zara کی اس ہفتے کی سرگرمیاں تیار ہیں",
)


def _in_view(page, locator) -> bool:
    """Whether the element is wholly inside the 360x640 viewport as the page is scrolled now."""
    return locator.evaluate(
        "e => { const r = e.getBoundingClientRect();"
        " return r.top >= -1 && r.bottom <= window.innerHeight + 1 && r.left >= -1"
        " && r.right <= window.innerWidth + 1 && r.height > 0; }"
    )


def _fits(page) -> None:
    assert page.evaluate(NO_SCROLL) <= 360, f"{page.url} scrolls sideways at 360 px"


def _school(carer: Carer):
    """Birch Primary, its class with this week's topic (published) and next week's (a draft),
    the office and the class teacher; the family comes from the office's roster import."""
    org = f.school(name=SCHOOL)
    cls = f.school_class(org, name="Year 2", year_group="2", academic_year=academic_year())
    office = f.staff(org, Role.OFFICE, email="office@birch.example")
    teacher = f.staff(org, Role.TEACHER, classes=[cls], email="teacher@birch.example")
    monday = this_monday(org)
    stairs = t.activity(org, "Count the stairs", instructions="Count the stairs together.")
    now = t.topic(org, [cls], [stairs], week=monday, status=TopicStatus.PUBLISHED, title="Numbers")
    shapes = t.activity(org, "Find a circle", instructions="Find three round things.")
    after = t.topic(org, [cls], [shapes], week=monday + timedelta(days=7), title="Shapes at home")
    return org, office, teacher, now.items[0], after


def _print_letter(desktop, client, live_server, office, carer: Carer) -> str:
    """The office imports the roster (its home-language column says the family's language) and
    prints the family's letter; returns the code on it, as the family would read it."""
    f.login(client, office)
    row = template_row(
        1,
        "Year 2",
        first=carer.child,
        last="Pupil",
        year="2",
        contacts=[(carer.name, carer.email, carer.mobile, "Mother", "No")],
    )
    import_file(client, csv_bytes([[*row, carer.mis]]))
    # The office's browser shares the test client's sign-in (signing in is not what is tested
    # here, and hashing a password on every run would cost seconds).
    cookie = client.get_cookie("session")
    desktop.context.add_cookies([{"name": "session", "value": cookie.value, "url": live_server}])
    desktop.goto("/office/families")
    desktop.get_by_label(f"Print a letter for {carer.name}").check()
    desktop.get_by_role("button", name="Print invitation letters").click()
    letter = desktop.locator("article.letter")
    letter.wait_for()
    assert letter.get_attribute("lang") == LANGUAGES[carer.code].tag
    assert letter.get_attribute("dir") == LANGUAGES[carer.code].direction
    assert letter.get_by_role("heading", name=carer.letter).is_visible()
    office_line = letter.get_by_text(carer.office_line)
    assert office_line.is_visible() and office_line.get_attribute("lang") == "en-GB"
    return letter.locator(".code").inner_text().strip()


def _quiet_hours_not_now(org) -> tuple[str, str]:
    """Quiet hours that do not cover the next hour (whenever the test runs), so the next
    topic's text goes at once."""
    local = datetime.now(ZoneInfo(org.timezone or "Europe/London"))
    start, end = local + timedelta(hours=2), local + timedelta(hours=3)
    return f"{start:%H}:00", f"{end:%H}:00"


@pytest.mark.parametrize("carer", [POLISH, URDU], ids=["polish", "urdu"])
def test_a_carer_lives_the_week_in_their_own_language(
    ctx, client, live_server, desktop, phone_any, run_jobs, carer, screenshot
):
    page = phone_any
    org, office, teacher, item, after = _school(carer)
    code = _print_letter(desktop, client, live_server, office, carer)
    lang = LANGUAGES[carer.code]

    # Join with the code from the letter. The phone says English (before anyone signs in the
    # browser decides), but the join page speaks the letter's language and preselects it.
    page.goto("/family/join")
    page.get_by_label("Your code from the letter").fill(code)
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("heading", name=carer.letter).wait_for()
    assert page.locator("html").get_attribute("lang") == lang.tag
    assert page.locator("html").get_attribute("dir") == lang.direction
    language = page.get_by_label(carer.language_label)
    assert language.input_value() == carer.code
    assert language.locator("option:checked").inner_text() == lang.native
    _fits(page)
    page.get_by_label(re.compile(carer.agree)).check()
    page.get_by_role("button", name=carer.join, exact=True).click()
    page.wait_for_url("**/family/")

    # The week, in their language, right to left for Urdu; the first activity's question and
    # faces on the first screen.
    assert page.locator("html").get_attribute("lang") == lang.tag
    assert page.locator("html").get_attribute("dir") == lang.direction
    card = page.locator(f"[id$='-{item.id}'].done")
    question = card.get_by_text(carer.question)
    page.screenshot(path="/tmp/home.png")
    assert question.is_visible() and _in_view(page, question)
    face = card.get_by_role("button", name=carer.loved_it, exact=True)
    assert _in_view(page, face)
    # What the school wrote stays as written, marked as English for screen readers.
    assert page.locator(f"#activity-{item.id} .instructions [lang]").first.get_attribute("lang") == "en-GB"
    _fits(page)
    if carer is URDU and page.js:
        screenshot(page, "parent-home-ur-360")

    # Rate it: the answer in their words, in the card, where they are; focus stays on the face.
    face.click()
    status = card.get_by_role("status")
    status.wait_for()
    assert status.inner_text() == carer.saved and _in_view(page, status)
    if page.js:
        # focus comes back once htmx has settled the new card, a moment after the status shows
        expect(page.locator(":focus")).to_have_text(carer.loved_it)
        assert page.evaluate("document.activeElement.getAttribute('aria-pressed')") == "true"
    _fits(page)
    if carer is URDU and page.js:
        screenshot(page, "parent-activity-ur-360", full_page=False)

    # Send a photo.
    page.get_by_role("link", name=re.compile(carer.send_link)).first.click()
    page.get_by_label(carer.comment).wait_for()
    photo = page.locator("input[type=file]")
    page.wait_for_load_state()  # photo.js (deferred) listens by then, as it does by a person's pick
    photo.set_input_files(files=[{"name": "stairs.png", "mimeType": "image/png", "buffer": png(800, 600)}])
    if page.js:  # the phone looks at the photo first (this small one is sent as it is)
        page.wait_for_function(
            "s => ['done', 'original'].includes(document.querySelector(s).dataset.downscaleState)",
            arg="input[type=file]",
        )
    _fits(page)
    if carer is URDU and page.js:
        screenshot(page, "parent-send-ur-360")
    page.get_by_role("button", name=carer.send, exact=True).click()
    sent = page.locator(f"#s-{card.get_attribute('id')[2:]}")
    sent.get_by_role("status").wait_for()
    assert sent.get_by_role("status").inner_text() == carer.sent
    assert _in_view(page, sent.get_by_role("status"))
    assert sent.locator("img[src^='/family/photos/']").count() == 1

    # Settings: text message reminders on, and quiet hours of their own.
    page.get_by_role("link", name=re.compile(carer.settings)).first.click()
    page.get_by_role("heading", name=carer.settings, exact=True).wait_for()
    sms = page.locator("#t-sms")
    assert sms.get_by_text(carer.sms_label, exact=True).is_visible()
    sms.get_by_role("button", name=re.compile(carer.turn_on)).click()
    page.locator("#t-sms").get_by_text(carer.sms_on).wait_for()
    assert _in_view(page, page.locator("#t-sms [role=status]"))
    if page.js:
        assert carer.turn_off in page.evaluate("document.activeElement.textContent")
    start, end = _quiet_hours_not_now(org)
    quiet = page.locator("#quiet")
    quiet.get_by_label(carer.quiet_from, exact=True).fill(start)
    quiet.get_by_label(carer.quiet_until, exact=True).fill(end)
    quiet.get_by_role("button", name=carer.save_quiet).click()
    page.locator("#quiet").get_by_text(re.compile(re.escape(carer.quiet_saved))).wait_for()
    assert _in_view(page, page.locator("#quiet [role=status]"))
    if page.js:  # focus stays on the button that was pressed, not lost to the page
        assert page.evaluate("document.activeElement.textContent") == carer.save_quiet
    _fits(page)
    assert page.problems == []

    # The teacher publishes next week's topic; the real worker sends it, in their language.
    db.session.expire_all()
    user = db.session.scalar(sa.select(User).where(User.email == carer.email))
    assert user.language == carer.code and user.sms_notifications
    f.login(client, teacher)
    response = client.post(
        f"/teach/topics/{after.id}/publish", data={"when": "now", "version": after.version}
    )
    assert response.status_code == 303
    assert run_jobs() == 0
    messages = db.session.scalars(
        sa.select(OutboxMessage).where(OutboxMessage.to.in_([user.email, user.mobile]))
    ).all()
    (mail,) = [m for m in messages if m.channel is Channel.EMAIL and m.subject.startswith(carer.subject)]
    assert carer.email_words in mail.text
    assert f'lang="{lang.tag}"' in mail.html and f'dir="{lang.direction}"' in mail.html
    (text,) = [m for m in messages if m.channel is Channel.SMS]
    assert carer.sms_words in text.text and "/family/" in text.text
    assert info(text.text).segments <= 2


def _families_covering(text: str) -> set[str]:
    """The font families fontconfig (where Chromium on Linux finds its fonts) says have a glyph
    for every character of ``text``."""
    charset = " ".join(sorted({f"{ord(c):x}" for c in text if not c.isspace()}))
    try:
        found = subprocess.run(
            ["fc-list", "--format", "%{family}\n", f":charset={charset}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except FileNotFoundError:
        pytest.fail("fc-list is missing: install fontconfig (Debian's chromium depends on it)")
    return {name.strip() for line in found.splitlines() for name in line.split(",")}


@pytest.mark.parametrize("code", ["bn", "pa", "ur", "ar"])
def test_each_script_is_drawn_with_a_system_font_that_has_its_letters(ctx, phone, code):
    """Bengali, Gurmukhi, Urdu and Arabic are drawn with the phone's own fonts (Hometime sends
    no web fonts), and with real letters, not empty boxes ("tofu").

    How: the footer names every language in its own script. Chromium tells, through the
    DevTools protocol (``CSS.getPlatformFontsForNode``), which fonts actually drew a node's
    text, and whether any is a web font. A character that no installed font has is still
    "drawn with" a font: as that font's .notdef box, the first font of the page's stack. So the
    test also asks fontconfig, which Chromium on Linux uses to find fonts, whether every font
    that drew the name has a glyph for every one of its characters. Measuring widths or
    ``document.fonts.check`` could not tell boxes from letters; this can, and the control
    below (code points no font has) shows the same check failing on boxes.
    Needs ``fonts-noto-core`` on Debian (``.ci/run`` installs it)."""
    page = phone
    lang = LANGUAGES[code]
    page.goto("/auth/signin")  # any page: its footer lists the languages
    assert page.evaluate("document.fonts.size") == 0, "the stylesheet declares a web font"
    link = page.locator(f".foot-langs a[lang='{lang.tag}']")
    assert link.inner_text() == lang.native and link.is_visible()
    page.evaluate(
        """() => { const s = document.createElement('span'); s.id = 'boxes';
        s.textContent = '\\u0378\\u0379\\u0380'; document.querySelector('.foot-langs').append(s); }"""
    )
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument")["root"]["nodeId"]

    def drawn_with(selector: str) -> set[str]:
        node = cdp.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        assert fonts and not [f for f in fonts if f["isCustomFont"]], fonts
        return {f["familyName"] for f in fonts}

    used = drawn_with(f".foot-langs a[lang='{lang.tag}']")
    covering = _families_covering(lang.native)
    assert used <= covering, (
        f"{lang.english} ({lang.native}) drawn with {used}; fonts with its letters: {covering}"
    )
    # The control: unassigned code points are drawn as boxes, and the same check says so.
    assert not drawn_with("#boxes") <= _families_covering("\u0378\u0379\u0380")
