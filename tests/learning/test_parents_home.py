"""The family home: this week's topics for each child, past weeks, awards, scope (P12), first-party
only (P05), and the page's budgets (bytes and SQL queries; timings are in bench/)."""

from __future__ import annotations

import gzip
import html as htmllib
import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
import sqlalchemy as sa

from app.core.assets import SCRIPT_ATTRIBUTES
from app.core.extensions import db
from app.models import TopicStatus
from tests import factories as f
from tests import teaching as t
from tests.html_check import Page
from tests.parents_data import family, family_in, item_of
from tests.queries import statements

FIRST_LOAD_BUDGET = 32 * 1024
REPEAT_BUDGET = 6 * 1024
RATING_BUDGET = 1024
QUERY_BUDGET = 10


def _text(response) -> str:
    plain = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return re.sub(r"\s+", " ", htmllib.unescape(plain))


def test_home_shows_each_childs_topic_note_activities_and_awards(client):
    fam = family()
    f.login(client, fam.parent)
    response = client.get("/family/")
    assert response.status_code == 200
    text = _text(response)
    for words in (
        "Numbers all around",
        "Have fun counting at home!",
        "Count the stairs",
        "How plants grow",
        "Maths game",
        "Nature detectives",
        "Wrap up warm.",
        "Leaf rubbing",
        "Ben Oak",
        "Cara Oak",
        "Star of the week",
        "Brilliant counting",
        "How did Ben like it?",
        "How did Cara like it?",
    ):
        assert words in text, words
    # Not shown: a draft, last week's topic (on the past-weeks page), another school's topic.
    assert "Draft week" not in text and "Last week's leaves" not in text
    assert "Elm task" not in text and "Olly" not in text


def test_siblings_in_one_class_share_one_card_with_controls_for_each(client):
    fam = family(same_class=True)
    f.login(client, fam.parent)
    html = client.get("/family/").get_data(as_text=True)
    assert html.count("Numbers all around") == 1
    assert "for Ben and Cara" in html
    page = Page(html)
    ids = [e.attrs["id"] for e in page.elements if "id" in e.attrs]
    assert len(ids) == len(set(ids)), "duplicate ids on the page"
    item = item_of(fam.numbers, fam.count)
    for child in (fam.ben, fam.cara):
        assert f"/family/children/{child.id}/items/{item.id}/rating" in html


def test_a_child_without_a_topic_this_week_is_told_so(client):
    org = f.school()
    parent = f.parent()
    f.pupil(f.school_class(org), parent, first_name="Dot")
    f.login(client, parent)
    assert "No activities for Dot this week yet" in _text(client.get("/family/"))


def test_past_weeks_show_earlier_topics_and_what_was_done(client):
    fam = family()
    item = fam.last_week.items[0]
    t.done(fam.ben, item, rating=5, comment="We found an oak leaf", by=fam.parent)
    f.login(client, fam.parent)
    text = _text(client.get(f"/family/children/{fam.ben.id}/weeks"))
    assert "Last week's leaves" in text and "5 of 5" in text and "We found an oak leaf" in text
    assert "Numbers all around" not in text  # this week's: on the home page


def test_past_weeks_are_paged(client):
    fam = family()
    for weeks_back in range(2, 8):
        t.topic(
            fam.org,
            [fam.robins],
            [fam.leaves],
            week=fam.monday - timedelta(days=7 * weeks_back),
            status=TopicStatus.PUBLISHED,
            title=f"Old week {weeks_back}",
        )
    f.login(client, fam.parent)
    first = _text(client.get(f"/family/children/{fam.ben.id}/weeks"))
    assert "Old week 2" in first and "Old week 5" not in first and "Older weeks" in first
    second = _text(client.get(f"/family/children/{fam.ben.id}/weeks?page=2"))
    assert "Old week 5" in second and "Newer weeks" in second


def test_child_page_keeps_awards_past_weeks_link_and_unlink_form(client):
    fam = family()
    f.login(client, fam.parent)
    page = client.get(f"/family/children/{fam.ben.id}")
    text = _text(page)
    assert "Star of the week" in text and "past weeks" in text
    assert f'href="/family/children/{fam.ben.id}/unlink"' in page.get_data(as_text=True)


@pytest.mark.promise("P12")
def test_another_familys_child_and_pages_are_404(client):
    fam = family()
    f.login(client, fam.parent)
    other = fam.other_child.id
    assert client.get(f"/family/children/{other}").status_code == 404
    assert client.get(f"/family/children/{other}/weeks").status_code == 404
    other_item = fam.other_topic.items[0]
    r = client.post(f"/family/children/{other}/items/{other_item.id}/rating", data={"rating": "3"})
    assert r.status_code == 404
    assert (
        client.post(
            f"/family/children/{other}/items/{other_item.id}/send", data={"comment": "hello"}
        ).status_code
        == 404
    )
    assert client.get(f"/family/items/{other_item.id}/open").status_code == 404


def test_staff_cannot_open_family_pages(client):
    fam = family()
    f.login(client, fam.teacher)
    assert client.get("/family/").status_code == 403
    assert client.get("/family/settings").status_code == 403


def _same_origin_or_allowed(url: str, app) -> bool:
    if url.startswith("#") or url.startswith("mailto:"):
        return True
    if url.startswith("data:image/svg+xml,"):  # drawn from the page itself: no request at all
        return True
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        return url.startswith("/") and not url.startswith("//")
    if url == app.config["ICO_URL"]:
        return True
    # A plain link to a video provider's own site (never loaded by the page itself).
    return parts.scheme == "https" and parts.hostname in {"www.youtube.com", "vimeo.com"}


@pytest.mark.promise("P05")
def test_parent_pages_make_no_third_party_request(client, app):
    fam = family()
    t.done(fam.ben, fam.last_week.items[0], rating=4, by=fam.parent)
    f.login(client, fam.parent)
    urls = [
        "/family/",
        "/family/settings",
        f"/family/children/{fam.ben.id}",
        f"/family/children/{fam.ben.id}/weeks",
        "/cookies",
        "/cookies/choice",
        f"/teach/activities/{fam.plants.id}/video?next=/family/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        page = Page(response.get_data(as_text=True))
        assert page.inline_scripts == [] and page.style_attributes == [], url
        for element in page.elements:
            for name in ("src", "href", "action", "hx-get", "hx-post", "srcset", "poster"):
                value = element.attrs.get(name)
                if value:
                    assert _same_origin_or_allowed(value, app), f"{url}: <{element.tag} {name}={value}>"
    # The outside game is linked through our own route (which records the opening), never directly.
    assert "games.example" not in client.get("/family/").get_data(as_text=True)


def _assets(client, html: str) -> list[bytes]:
    page = Page(html)
    found = []
    for element in page.elements:
        urls = []
        if element.tag == "link" and element.attrs.get("rel") == "stylesheet":
            urls = [element.attrs["href"]]
        elif element.tag == "script":
            urls = [element.attrs[a] for a in SCRIPT_ATTRIBUTES if element.attrs.get(a)]
        for url in urls:
            response = client.get(url)
            assert response.status_code == 200, url
            assert "immutable" in response.headers["Cache-Control"], url  # cached on repeat visits
            found.append(response.data)
    return found


def _gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def test_two_child_home_fits_the_byte_budgets(client):
    fam = family()
    f.login(client, fam.parent)
    html = client.get("/family/").data
    assets = _assets(client, html.decode())
    assert len(assets) >= 3  # css, htmx, app.js (and photo.js)
    first_load = _gz(html) + sum(_gz(a) for a in assets)
    assert first_load <= FIRST_LOAD_BUDGET, f"first load {first_load} bytes gzip"
    assert _gz(html) <= REPEAT_BUDGET, f"repeat visit {_gz(html)} bytes gzip"
    item = item_of(fam.numbers, fam.count)
    rating = client.post(
        f"/family/children/{fam.ben.id}/items/{item.id}/rating",
        data={"rating": "5"},
        headers={"HX-Request": "true"},
    )
    assert rating.status_code == 200
    assert len(rating.data) <= RATING_BUDGET, f"rating response {len(rating.data)} bytes"


def test_rating_response_stays_under_1kb_with_long_ids(client):
    fam = family()
    db.session.execute(sa.text("ALTER SEQUENCE pupils_id_seq RESTART WITH 9000000"))
    db.session.execute(sa.text("ALTER SEQUENCE topic_activities_id_seq RESTART WITH 9000000"))
    db.session.commit()
    child = f.pupil(fam.robins, fam.parent, first_name="Maximilian")
    topic = t.topic(
        fam.org, [fam.robins], [fam.leaves], week=fam.monday, status=TopicStatus.PUBLISHED, title="Extra"
    )
    f.login(client, fam.parent)
    r = client.post(
        f"/family/children/{child.id}/items/{topic.items[0].id}/rating",
        data={"rating": "3"},
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200 and len(r.data) <= RATING_BUDGET, len(r.data)


def test_home_needs_at_most_ten_queries_however_much_there_is(client, app):
    fam = family()
    for child, topic in ((fam.ben, fam.numbers), (fam.cara, fam.nature)):
        for item in topic.items:
            t.done(child, item, rating=4, comment="Lovely", by=fam.parent)
    f.login(client, fam.parent)
    with statements() as seen:
        response = client.get("/family/")
    assert response.status_code == 200 and "Lovely" in response.get_data(as_text=True)
    assert len(seen) <= QUERY_BUDGET, "\n\n".join(seen)


def test_the_home_reads_the_family_in_one_statement_with_nothing_done_or_everything(client):
    """The signed-in carer with their children, the children's awards and the week's topics
    with what the children did: one statement (the user loader's), whether nothing was done
    yet or every activity was rated and commented on; another family's engagement with the same topic, and
    another family's child, never show."""
    from app.models import Award, AwardKind

    fam = family(same_class=True, awards=False)
    f.login(client, fam.parent)
    client.get("/family/")  # the first page after signing in also notes the sign-in as seen
    with statements() as before:
        empty = _text(client.get("/family/"))
    assert "Lovely" not in empty and "Awards:" not in empty
    sam = f.parent(name="Sam Stranger", email="sam@stranger.example")
    stranger = f.pupil(fam.ben.school_class, sam, first_name="Dev", last_name="Elm")
    t.done(stranger, fam.numbers.items[0], rating=2, comment="Not yours", by=sam)
    for child in (fam.ben, fam.cara):
        for item in fam.numbers.items:
            t.done(child, item, rating=4, comment=f"Lovely, said {child.first_name}", by=fam.parent)
        db.session.add(
            Award(pupil_id=child.id, kind=AwardKind.GREAT_EFFORT, note=f"Well done {child.first_name}")
        )
    db.session.commit()
    with statements() as after:
        full = _text(client.get("/family/"))
    assert len(before) == len(after) == 1, "\n\n".join(after)
    assert full.count("Lovely, said Ben") == full.count("Lovely, said Cara") == len(fam.numbers.items)
    assert "Well done Ben" in full and "Well done Cara" in full and "Not yours" not in full
    assert "Dev" not in full


def test_an_activity_shows_as_the_school_last_wrote_it_in_the_readers_language(client):
    """Each activity of a card is drawn once per process and remembered (for what it shows): an
    edit shows on the next page, and each reader gets their own language's words."""
    fam = family_in(client, "pl")
    first = _text(client.get("/family/"))
    assert "Maths game" in first and "Otwórz grę" in first and "Open the game" not in first

    fam.game.title = "Number bonds game"
    fam.game.instructions = "Play for five minutes, then tell someone what you learnt."
    db.session.commit()
    edited = _text(client.get("/family/"))
    assert "Number bonds game" in edited and "Maths game" not in edited
    assert "tell someone what you learnt" in edited and "Play for ten minutes." not in edited

    fam.parent.language = "en_GB"
    db.session.commit()
    english = _text(client.get("/family/"))
    assert "Open the game" in english and "Otwórz grę" not in english


def test_what_a_family_sent_shows_under_the_activity_in_the_order_it_was_sent(client):
    """Comments and photos are listed oldest first under the activity, for the child they are
    about; one the school hid is not shown."""
    from app.models import Contribution, ContributionKind, utcnow

    fam = family()
    item = item_of(fam.numbers, fam.count)
    first = t.done(fam.ben, item, rating=5, comment="First we counted the stairs", by=fam.parent)
    for body, hidden in (("Then the steps outside", None), ("Hidden by the school", utcnow())):
        db.session.add(
            Contribution(
                engagement_id=first.engagement_id,
                kind=ContributionKind.COMMENT,
                body=body,
                author_id=fam.parent.id,
                hidden_at=hidden,
            )
        )
    db.session.commit()
    f.login(client, fam.parent)
    page = Page(client.get("/family/").get_data(as_text=True))
    sent = page.by_id(f"s-{fam.ben.id}-{item.id}").all_text()
    assert sent.index("First we counted the stairs") < sent.index("Then the steps outside")
    assert "Hidden by the school" not in sent


def test_the_home_shows_each_childs_three_latest_awards_newest_first_and_the_childs_page_all(client):
    from datetime import UTC, datetime

    from app.models import Award, AwardKind

    fam = family(awards=False)
    for day, note in ((3, "Oldest"), (10, "Second"), (17, "Third"), (24, "Newest")):
        db.session.add(
            Award(
                pupil_id=fam.ben.id,
                kind=AwardKind.STAR_OF_THE_WEEK,
                note=note,
                created_at=datetime(2026, 11, day, 12, tzinfo=UTC),
            )
        )
    db.session.commit()
    f.login(client, fam.parent)
    home = Page(client.get("/family/").get_data(as_text=True)).by_id(f"child-{fam.ben.id}").all_text()
    assert home.index("Newest") < home.index("Third") < home.index("Second")
    assert "Oldest" not in home and "24 November" in home
    everything = _text(client.get(f"/family/children/{fam.ben.id}"))
    assert everything.index("Newest") < everything.index("Oldest") and "3 November 2026" in everything


def test_the_controls_under_each_activity_follow_the_name_title_rating_and_language(client):
    """The rating form and the link to send something are put together once per process for
    what they show (app/learning/controls.py): a renamed child, a retitled activity, a rating
    and another language each show on the next page."""
    fam = family_in(client, "en_GB")
    item = item_of(fam.numbers, fam.count)
    first = _text(client.get("/family/"))
    assert "We did this! How did Ben like it?" in first
    assert "Send a comment or photo about Count the stairs for Ben" in first

    fam.ben.first_name = "Benji"
    fam.count.title = "Count the steps"
    db.session.commit()
    renamed = _text(client.get("/family/"))
    assert "How did Benji like it?" in renamed and "How did Ben like it?" not in renamed
    assert "Send a comment or photo about Count the steps for Benji" in renamed
    assert "about Count the stairs" not in renamed

    assert (
        client.post(f"/family/children/{fam.ben.id}/items/{item.id}/rating", data={"rating": "4"}).status_code
        == 303
    )
    rated = _text(client.get("/family/"))
    assert "Done: 4 of 5 (good). Change Benji's rating?" in rated

    fam.parent.language = "pl"
    db.session.commit()
    polish = _text(client.get("/family/"))
    assert "Done: 4 of 5" not in polish and "We did this!" not in polish
    assert "Send a comment or photo" not in polish and "Benji" in polish
