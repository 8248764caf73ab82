"""'We did this' with a rating, comments, per-item promotion opt-ins (P04), first-party usage (P05)."""

from __future__ import annotations

import threading
from html import unescape

import pytest
import sqlalchemy as sa

from app.core import consent
from app.core.extensions import db
from app.models import (
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    Contribution,
    Engagement,
    UsageEvent,
    UsageKind,
)
from tests import factories as f
from tests.parents_data import family, item_of

HX = {"HX-Request": "true"}


def _rate_url(child, item) -> str:
    return f"/family/children/{child.id}/items/{item.id}/rating"


def _send_url(child, item) -> str:
    return f"/family/children/{child.id}/items/{item.id}/send"


def _engagements(child=None):
    query = sa.select(Engagement)
    if child is not None:
        query = query.where(Engagement.pupil_id == child.id)
    return db.session.scalars(query).all()


def test_a_tap_without_javascript_rates_and_reloads_at_the_card(client):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    r = client.post(_rate_url(fam.ben, item), data={"rating": "4"})
    assert r.status_code == 303
    assert r.headers["Location"] == f"/family/#c-{fam.ben.id}-{item.id}"
    [eng] = _engagements(fam.ben)
    assert eng.rating == 4 and eng.topic_activity_id == item.id and eng.done_by_id == fam.parent.id
    page = client.get("/family/").get_data(as_text=True)
    assert "Done: 4 of 5" in page and 'aria-pressed="true"' in page


def test_the_faces_are_in_the_carers_language_with_the_chosen_one_pressed(client):
    """The five face buttons are put together once per language and rating: each page still
    shows its own language's words and this child's rating."""
    import re

    from app.core.extensions import db

    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    client.post(_rate_url(fam.ben, item), data={"rating": "2"})

    def faces():
        page = client.get("/family/").get_data(as_text=True)
        form = page[page.index(f'id="c-{fam.ben.id}-{item.id}"') :]
        buttons = re.findall(
            r'<button class="face" name="rating" value="(\d)"( aria-pressed="true")?>.*?</svg>([^<]+)', form
        )
        return [(value, bool(pressed), word) for value, pressed, word in buttons[:5]]

    english = faces()
    assert [v for v, _p, _w in english] == ["5", "4", "3", "2", "1"]
    assert [v for v, pressed, _w in english if pressed] == ["2"]
    assert english[3][2] == "So-so"
    fam.parent.language = "pl"
    db.session.commit()
    polish = faces()
    assert [v for v, pressed, _w in polish if pressed] == ["2"]
    assert polish[0][2] != "Loved it" and "So-so" not in [w for _v, _p, w in polish]
    client.post(_rate_url(fam.ben, item), data={"rating": "5"})
    assert [v for v, pressed, _w in faces() if pressed] == ["5"]


def test_with_htmx_only_the_rating_form_comes_back(client):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    r = client.post(_rate_url(fam.ben, item), data={"rating": "5"}, headers=HX)
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and body.startswith("<form") and "<html" not in body
    assert "Done: 5 of 5" in body and "Vary" in r.headers
    assert len(r.data) <= 1024


def test_changing_the_rating_updates_the_one_engagement(client):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    client.post(_rate_url(fam.ben, item), data={"rating": "2"})
    client.post(_rate_url(fam.ben, item), data={"rating": "5"})
    [eng] = _engagements(fam.ben)
    assert eng.rating == 5


@pytest.mark.promise("P05")
def test_a_double_tap_makes_one_engagement_and_one_done_event(client):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    for _ in range(2):
        assert client.post(_rate_url(fam.ben, item), data={"rating": "3"}).status_code == 303
    assert len(_engagements(fam.ben)) == 1
    done = db.session.scalars(sa.select(UsageEvent).where(UsageEvent.kind == UsageKind.ACTIVITY_DONE)).all()
    assert [(e.user_id, e.pupil_id, e.activity_id) for e in done] == [
        (fam.parent.id, fam.ben.id, fam.count.id)
    ]


def test_simultaneous_taps_never_make_two_engagements(app, ctx):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    clients = []
    for _ in range(6):
        c = app.test_client()
        f.login(c, fam.parent)
        clients.append(c)
    start = threading.Barrier(len(clients))
    answers = []
    url = _rate_url(fam.ben, item)

    def tap(c, rating):
        start.wait()
        with app.app_context():
            answers.append(c.post(url, data={"rating": str(rating)}, headers=HX).status_code)

    threads = [threading.Thread(target=tap, args=(c, 1 + i % 5)) for i, c in enumerate(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert answers == [200] * len(clients)
    db.session.expire_all()
    assert len(_engagements(fam.ben)) == 1
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(UsageEvent)
            .where(UsageEvent.kind == UsageKind.ACTIVITY_DONE)
        )
        == 1
    )


@pytest.mark.parametrize("rating", ["7", "0", "-1", "five", "", "3.5"])
def test_a_rating_outside_one_to_five_is_a_clear_422(client, rating):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    r = client.post(_rate_url(fam.ben, item), data={"rating": rating}, headers=HX)
    assert r.status_code == 422 and "five faces" in r.get_data(as_text=True)
    plain = client.post(_rate_url(fam.ben, item), data={"rating": rating})
    assert plain.status_code == 422 and "five faces" in plain.get_data(as_text=True)
    assert f'href="#c-{fam.ben.id}-{item.id}"' in plain.get_data(as_text=True)
    # the page drawn after a POST reads the children itself (its loader did not): all still there
    assert f'id="c-{fam.ben.id}-{item.id}"' in plain.get_data(as_text=True)
    assert f'id="child-{fam.cara.id}"' in plain.get_data(as_text=True)
    assert _engagements() == []


def test_an_activity_not_in_the_childs_published_topics_is_refused(client):
    fam = family()
    f.login(client, fam.parent)
    cara_item = item_of(fam.nature, fam.leaves)  # Cara's class's topic, not Ben's
    draft_item = fam.draft.items[0]
    for item in (cara_item, draft_item):
        r = client.post(_rate_url(fam.ben, item), data={"rating": "3"})
        assert r.status_code == 404
        assert "not one of Ben's activities" in unescape(r.get_data(as_text=True))
    r = client.post(_rate_url(fam.ben, draft_item), data={"rating": "3"}, headers=HX)
    assert r.status_code == 404 and r.headers["HX-Retarget"] == "#messages"
    assert (
        client.post(f"/family/children/{fam.ben.id}/items/999999/rating", data={"rating": "3"}).status_code
        == 404
    )
    assert _engagements() == []


def test_a_comment_with_markup_is_stored_as_text_and_shown_escaped(client):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    evil = '<script>alert("hi")</script><img src=x onerror=alert(1)>'
    r = client.post(_send_url(fam.ben, item), data={"comment": evil})
    assert r.status_code == 303
    assert r.headers["Location"] == f"/family/#s-{fam.ben.id}-{item.id}"
    stored = db.session.scalar(sa.select(Contribution))
    assert stored.body == evil and stored.promo_opt_in is False
    page = client.get("/family/").get_data(as_text=True)
    assert evil not in page and "&lt;script&gt;alert(" in page
    assert len(_engagements(fam.ben)) == 1  # sending marks it done (no rating yet)


def test_the_sending_form_is_its_own_small_page_loaded_in_full(client):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    home = client.get("/family/").get_data(as_text=True)
    assert 'name="comment"' not in home  # the forms are not on the home page: it stays light
    assert f'<a class="button secondary" href="{_send_url(fam.ben, item)}" hx-boost="false">' in home
    inline = client.get(_send_url(fam.ben, item), headers=HX).get_data(as_text=True)
    assert inline.lstrip().startswith(f'<div id="s-{fam.ben.id}-{item.id}">')
    assert 'enctype="multipart/form-data"' in inline and "<html" not in inline
    page = client.get(_send_url(fam.ben, item)).get_data(as_text=True)
    assert "<html" in page and 'name="comment"' in page and 'accept="image/*"' in page
    assert 'enctype="multipart/form-data" hx-boost="false"' in page
    assert '<script src="/a/photo.' in page  # the phone shrinks photos before sending


def test_sending_with_htmx_returns_only_the_cards_block(client):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    r = client.post(_send_url(fam.ben, item), data={"comment": "We counted 14 stairs"}, headers=HX)
    body = unescape(r.get_data(as_text=True))
    assert r.status_code == 200 and body.startswith(f'<div id="s-{fam.ben.id}-{item.id}">')
    assert "We counted 14 stairs" in body and "Sent to Ben's school" in body


def test_an_empty_or_overlong_comment_is_a_clear_422_and_nothing_is_stored(client):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    r = client.post(_send_url(fam.ben, item), data={"comment": "   "}, headers=HX)
    assert r.status_code == 422 and "write a comment or choose a photo" in r.get_data(as_text=True)
    long = "word " * 500
    r = client.post(_send_url(fam.ben, item), data={"comment": long})
    text = r.get_data(as_text=True)
    assert r.status_code == 422 and "under 2,000" in text
    assert "word word" in text  # what was typed is kept in the form
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contribution)) == 0
    assert _engagements() == []


@pytest.mark.promise("P04")
def test_each_comment_has_its_own_unticked_opt_in_recorded_as_consent(client):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    page = client.get(_send_url(fam.ben, item)).get_data(as_text=True)
    assert 'name="comment_promo"' not in page  # general promotion consent not given: not offered
    consent.record(fam.parent.id, ConsentPurpose.PROMO_PHOTOS, True, method=ConsentMethod.WEB_FORM)
    db.session.commit()
    page = client.get(_send_url(fam.ben, item)).get_data(as_text=True)
    assert (
        'name="comment_promo" value="y">' in page
        and "checked" not in page.split('name="comment_promo"')[1][:20]
    )
    client.post(_send_url(fam.ben, item), data={"comment": "Not for the newsletter"})
    client.post(_send_url(fam.ben, item), data={"comment": "Happy to share", "comment_promo": "y"})
    rows = {c.body: c for c in db.session.scalars(sa.select(Contribution))}
    assert rows["Not for the newsletter"].promo_opt_in is False
    assert rows["Happy to share"].promo_opt_in is True
    records = db.session.scalars(
        sa.select(ConsentRecord).where(ConsentRecord.purpose == ConsentPurpose.CONTRIBUTION_PROMO)
    ).all()
    assert [(r.contribution_id, r.granted, r.pupil_id) for r in records] == [
        (rows["Happy to share"].id, True, fam.ben.id)
    ]


@pytest.mark.promise("P04")
def test_an_opt_in_without_the_general_consent_is_refused(client):
    fam = family()
    item = item_of(fam.numbers, fam.count)
    f.login(client, fam.parent)
    r = client.post(_send_url(fam.ben, item), data={"comment": "Hi", "comment_promo": "y"}, headers=HX)
    assert r.status_code == 422 and "allow it in Settings" in r.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contribution)) == 0


@pytest.mark.promise("P05")
def test_opening_an_outside_game_goes_through_our_route_and_is_recorded(client):
    fam = family()
    item = item_of(fam.numbers, fam.game)
    f.login(client, fam.parent)
    page = client.get("/family/").get_data(as_text=True)
    assert f'href="/family/items/{item.id}/open"' in page
    r = client.get(f"/family/items/{item.id}/open")
    assert r.status_code == 302 and r.headers["Location"] == "https://games.example/maths"
    [event] = db.session.scalars(sa.select(UsageEvent)).all()
    assert (event.kind, event.user_id, event.activity_id) == (
        UsageKind.ACTIVITY_OPENED,
        fam.parent.id,
        fam.game.id,
    )
    # Only the minimum: no address, no browser details.
    assert set(UsageEvent.__table__.columns.keys()) == {
        "id",
        "user_id",
        "pupil_id",
        "activity_id",
        "kind",
        "at",
    }
    assert client.get(f"/family/items/{fam.draft.items[0].id}/open").status_code == 404


@pytest.mark.promise("P05")
def test_playing_a_video_is_recorded_first_party_after_the_tap(client):
    fam = family()
    f.login(client, fam.parent)
    page = client.get("/family/").get_data(as_text=True)
    assert "youtube" not in page.lower().replace("loads from youtube", "")
    consent.record(fam.parent.id, ConsentPurpose.COOKIES_FUNCTIONAL, True, method=ConsentMethod.WEB_FORM)
    db.session.commit()
    player = client.get(f"/teach/activities/{fam.plants.id}/video?next=/family/", headers=HX)
    assert player.status_code == 200 and "youtube-nocookie.com/embed/" in player.get_data(as_text=True)
    played = db.session.scalars(sa.select(UsageEvent).where(UsageEvent.kind == UsageKind.VIDEO_PLAYED)).all()
    assert [(e.user_id, e.activity_id) for e in played] == [(fam.parent.id, fam.plants.id)]
