"""The activity library: kinds and their checks, plain-text instructions, search and filter,
printables behind authorisation, the starter library, and videos without tracking (P05, P06)."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.learning.activities import ActivityError, check_pdf, parse_video_url
from app.models import (
    Activity,
    ActivityKind,
    ConsentMethod,
    ConsentPurpose,
    ConsentRecord,
    Role,
    TopicStatus,
    UsageEvent,
    UsageKind,
)
from tests import factories as f
from tests import teaching as t


@pytest.fixture()
def school(ctx):
    org = f.school()
    cls = f.school_class(org, name="Year 1 Robins")
    teacher = f.staff(org, Role.TEACHER, classes=[cls])
    return org, cls, teacher


def _form(**kw):
    data = {
        "kind": "hands_on",
        "title": "Leaf rubbing",
        "instructions": "Find three leaves.",
        "subject": "Outdoors",
        "year_groups": ["1", "2"],
        "minutes": "15",
        "url": "",
    }
    data.update(kw)
    return data


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Activity))


# --- video links ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url,expected",
    [
        ("https://www.youtube.com/watch?v=aBcDeFgHiJk", ("youtube", "aBcDeFgHiJk")),
        ("https://youtube.com/watch?feature=share&v=aBcDeFgHiJk&t=30", ("youtube", "aBcDeFgHiJk")),
        ("https://youtu.be/aBcDeFgHiJk?si=xyz", ("youtube", "aBcDeFgHiJk")),
        ("https://m.youtube.com/shorts/aBcDeFgHiJk", ("youtube", "aBcDeFgHiJk")),
        ("https://www.youtube-nocookie.com/embed/aBcDeFgHiJk", ("youtube", "aBcDeFgHiJk")),
        ("https://vimeo.com/76979871", ("vimeo", "76979871")),
        ("https://player.vimeo.com/video/76979871?h=abc", ("vimeo", "76979871")),
    ],
)
def test_youtube_and_vimeo_links_are_stored_as_provider_and_id(url, expected):
    assert parse_video_url(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "https://www.dailymotion.com/video/x7tgad0",
        "https://www.youtube.com.evil.example/watch?v=aBcDeFgHiJk",
        "https://evil-youtube.com/watch?v=aBcDeFgHiJk",
        "https://www.youtube.com/watch?v=short",
        "https://www.youtube.com/watch?v=aBcDeFgHiJk<script>",
        "https://www.youtube.com/channel/UCabc",
        "https://vimeo.com/about",
        "javascript:alert(1)",
        "ftp://youtube.com/watch?v=aBcDeFgHiJk",
        "https://user:pw@www.youtube.com/watch?v=aBcDeFgHiJk",
        "not a url at all",
        "http://[::1",
        "",
    ],
)
def test_other_hosts_and_malformed_video_links_are_refused(url):
    with pytest.raises(ActivityError):
        parse_video_url(url)


def test_a_video_from_another_host_is_refused_with_the_form_and_nothing_saved(school, client):
    org, cls, teacher = school
    f.login(client, teacher)
    response = client.post(
        "/teach/library/new",
        data=_form(kind="video", title="Volcanoes", url="https://www.dailymotion.com/video/x7tgad0"),
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Only YouTube and Vimeo videos can be added" in page
    assert 'value="Volcanoes"' in page  # what the teacher typed is still there
    assert _count() == 0


def test_a_video_is_saved_as_provider_and_id(school, client):
    org, cls, teacher = school
    f.login(client, teacher)
    response = client.post(
        "/teach/library/new", data=_form(kind="video", title="Volcanoes", url="https://youtu.be/aBcDeFgHiJk")
    )
    assert response.status_code == 303
    saved = db.session.scalar(sa.select(Activity))
    assert (saved.kind, saved.video_provider, saved.video_id, saved.url) == (
        ActivityKind.VIDEO,
        "youtube",
        "aBcDeFgHiJk",
        None,
    )
    assert saved.organisation_id == org.id and saved.created_by_id == teacher.id


def test_a_game_needs_an_https_link(school, client):
    org, cls, teacher = school
    f.login(client, teacher)
    response = client.post("/teach/library/new", data=_form(kind="game", url="http://games.example/maths"))
    assert response.status_code == 422
    assert "starting with https://" in response.get_data(as_text=True)
    response = client.post("/teach/library/new", data=_form(kind="game", url="https://games.example/maths"))
    assert response.status_code == 303
    assert db.session.scalar(sa.select(Activity.url)) == "https://games.example/maths"


# --- length limits and plain text --------------------------------------------------------------


@pytest.mark.parametrize("field_name", ["title", "instructions", "url"])
def test_ten_thousand_character_fields_answer_422_with_the_form(school, client, field_name):
    org, cls, teacher = school
    f.login(client, teacher)
    data = _form(kind="game", url="https://games.example/") if field_name == "url" else _form()
    data[field_name] = "x" * 10_000
    response = client.post("/teach/library/new", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "characters or fewer (it has 10,000)" in page
    assert 'id="activity-form"' in page
    assert _count() == 0


def test_instructions_are_plain_text_with_line_breaks_never_html(school, client):
    org, cls, teacher = school
    a = t.activity(org, instructions="Step one <b>bold</b>\n<script>alert(1)</script>\nStep three")
    f.login(client, teacher)
    page = client.get(f"/teach/library/{a.id}").get_data(as_text=True)
    assert "Step one &lt;b&gt;bold&lt;/b&gt;<br>&lt;script&gt;alert(1)&lt;/script&gt;<br>Step three" in page
    assert "<script>alert" not in page and "<b>bold" not in page


def test_year_groups_are_required(school, client):
    org, cls, teacher = school
    f.login(client, teacher)
    response = client.post("/teach/library/new", data=_form(year_groups=[]))
    assert response.status_code == 422
    assert "Please tick at least one year group" in response.get_data(as_text=True)


# --- printables ----------------------------------------------------------------------------------


def _upload(client, data: bytes, name="sheet.pdf", **kw):
    return client.post(
        "/teach/library/new",
        data=_form(kind="printable", title="Number line", file=(io.BytesIO(data), name), **kw),
        content_type="multipart/form-data",
    )


def test_a_real_pdf_is_stored_encrypted_and_served_only_to_those_allowed(school, client, app):
    org, cls, teacher = school
    f.login(client, teacher)
    pdf = t.pdf_bytes()
    assert _upload(client, pdf).status_code == 303
    saved = db.session.scalar(sa.select(Activity))
    assert saved.kind is ActivityKind.PRINTABLE and saved.file_key.startswith("pdf/")
    from tests.services import bucket_objects

    stored = bucket_objects(app.config)
    assert saved.file_key in stored and b"%PDF" not in stored[saved.file_key]  # encrypted at rest (P16)

    response = client.get(f"/teach/activities/{saved.id}/file")
    assert response.status_code == 200 and response.data == pdf
    assert response.mimetype == "application/pdf"
    assert "private" in response.headers["Cache-Control"]

    # a parent: only once a published topic of their child's class has it
    carer = f.parent()
    f.pupil(cls, carer)
    f.login(client, carer)
    assert client.get(f"/teach/activities/{saved.id}/file").status_code == 404
    draft = t.topic(org, [cls], [saved])
    assert client.get(f"/teach/activities/{saved.id}/file").status_code == 404
    draft.status, draft.published_at = TopicStatus.PUBLISHED, draft.created_at
    db.session.commit()
    assert client.get(f"/teach/activities/{saved.id}/file").data == pdf

    # staff of another school, and a parent of another class: 404
    other = f.school()
    f.login(client, f.staff(other, Role.OFFICE))
    assert client.get(f"/teach/activities/{saved.id}/file").status_code == 404
    stranger = f.parent()
    f.pupil(f.school_class(org, name="Year 2 Owls"), stranger)
    f.login(client, stranger)
    assert client.get(f"/teach/activities/{saved.id}/file").status_code == 404


@pytest.mark.parametrize(
    "data,message",
    [
        (b"MZ\x90\x00\x03" + b"\x00" * 200, "That file is not a PDF"),  # a Windows executable
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 200, "That file is not a PDF"),
        (b"PK\x03\x04\x14\x00" + b"\x00" * 200, "That file is not a PDF"),  # a zip
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "seems damaged or incomplete"),  # cut short
        (b"%PDF-1.4\nnothing else at all %%EOF", "seems damaged or incomplete"),
        (b"", "Please choose"),
    ],
)
def test_a_pdf_that_is_not_really_a_pdf_is_refused(school, client, app, data, message):
    from tests.services import bucket_objects

    org, cls, teacher = school
    f.login(client, teacher)
    before = set(bucket_objects(app.config))
    response = _upload(client, data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count() == 0
    assert set(bucket_objects(app.config)) == before  # nothing stored


def test_an_oversized_pdf_is_refused_with_its_size(school, client):
    org, cls, teacher = school
    f.login(client, teacher)
    big = t.pdf_bytes(pad=5 * 1024 * 1024)
    response = _upload(client, big)
    assert response.status_code == 422
    assert "the limit is 5 MB" in response.get_data(as_text=True)
    assert _count() == 0


def test_check_pdf_accepts_a_real_pdf():
    check_pdf(t.pdf_bytes())  # does not raise


def test_a_printable_needs_a_file(school, client):
    org, cls, teacher = school
    f.login(client, teacher)
    response = client.post(
        "/teach/library/new", data=_form(kind="printable"), content_type="multipart/form-data"
    )
    assert response.status_code == 422
    assert "Please choose the PDF" in response.get_data(as_text=True)


# --- search, filter, scope -----------------------------------------------------------------------


def _titles(client, **query) -> list[str]:
    """The titles the library lists (links to activities), sorted."""
    page = client.get("/teach/library", query_string=query).get_data(as_text=True)
    return sorted(re.findall(r'/teach/library/\d+">([^<]+)</a>', page))


def test_search_and_filter_by_text_kind_subject_and_year_group(school, client):
    org, cls, teacher = school
    t.activity(org, "Leaf rubbing", subject="Outdoors", year_groups="R,1")
    t.activity(
        org, "Times-table snap", subject="Number", year_groups="3,4", instructions="Use playing cards."
    )
    t.video(org, "How plants grow")
    t.activity(f.school(), "Leaf hunt elsewhere", subject="Outdoors", year_groups="1")
    f.login(client, teacher)

    def titles(**query):
        return _titles(client, **query)

    assert titles() == ["How plants grow", "Leaf rubbing", "Times-table snap"]
    assert titles(q="leaf") == ["Leaf rubbing"]
    assert titles(q="playing cards") == ["Times-table snap"]  # words in the instructions
    assert titles(kind="video") == ["How plants grow"]
    assert titles(subject="Outdoors") == ["Leaf rubbing"]
    assert titles(year="3") == ["Times-table snap"]
    assert titles(year="R") == ["Leaf rubbing"]
    assert titles(q="100%_") == []  # wildcards are literal


def test_search_answers_htmx_with_the_results_block_only(school, client):
    org, cls, teacher = school
    t.activity(org, "Leaf rubbing")
    f.login(client, teacher)
    response = client.get("/teach/library?q=leaf", headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith('<section id="results"') and "<html" not in body
    assert "Leaf rubbing" in body and "HX-Request" in response.headers["Vary"]


@pytest.mark.promise("P12")
def test_another_schools_activity_answers_404(school, client):
    org, cls, teacher = school
    theirs = t.activity(f.school(), "Their activity")
    f.login(client, teacher)
    for url in (
        f"/teach/library/{theirs.id}",
        f"/teach/library/{theirs.id}/edit",
        f"/teach/activities/{theirs.id}/video",
        f"/teach/activities/{theirs.id}/file",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/teach/library/{theirs.id}/archive").status_code == 404
    assert client.post(f"/teach/library/{theirs.id}/edit", data=_form()).status_code == 404
    assert db.session.get(Activity, theirs.id).title == "Their activity"


def test_archive_takes_an_activity_out_of_the_library_and_back(school, client):
    org, cls, teacher = school
    a = t.activity(org, "Leaf rubbing")
    f.login(client, teacher)
    client.post(f"/teach/library/{a.id}/archive")
    assert _titles(client) == []
    assert _titles(client, archived="1") == ["Leaf rubbing"]
    client.post(f"/teach/library/{a.id}/archive", data={"restore": "1"})
    assert _titles(client) == ["Leaf rubbing"]


def test_editing_keeps_the_pdf_unless_a_new_one_is_chosen(school, client):
    org, cls, teacher = school
    f.login(client, teacher)
    _upload(client, t.pdf_bytes())
    saved = db.session.scalar(sa.select(Activity))
    key = saved.file_key
    response = client.post(
        f"/teach/library/{saved.id}/edit",
        data=_form(kind="printable", title="Number line (new)"),
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    db.session.refresh(saved)
    assert saved.title == "Number line (new)" and saved.file_key == key


# --- the starter library -----------------------------------------------------------------------


def test_the_starter_library_is_varied_and_seeded_once(ctx):
    from app.learning.starter_library import STARTER, seed_starter_library

    assert len(STARTER) >= 20
    groups = {g for item in STARTER for g in item["year_groups"].split(",")}
    assert {"R", "1", "2", "3", "4", "5", "6"} <= groups
    subjects = {item["subject"] for item in STARTER}
    assert {"Reading", "Phonics", "Number", "Science", "Outdoors"} <= subjects
    for item in STARTER:
        assert item["instructions"].count("\n") >= 1, item["title"]  # real steps
        assert item["kind"] is not ActivityKind.VIDEO  # no made-up video ids
        if item["kind"] is ActivityKind.GAME:
            assert item["url"].startswith("https://")
    org = f.school()
    assert seed_starter_library(org.id) == len(STARTER)
    assert seed_starter_library(org.id) == 0  # idempotent
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(Activity).where(Activity.organisation_id == org.id)
    ) == len(STARTER)


def test_the_demo_school_gets_the_starter_library(ctx):
    from app.demo import SCHOOL, seed
    from app.learning.starter_library import STARTER
    from app.models import Organisation

    seed()
    org_id = db.session.scalar(sa.select(Organisation.id).where(Organisation.name == SCHOOL))
    assert db.session.scalar(
        sa.select(sa.func.count()).select_from(Activity).where(Activity.organisation_id == org_id)
    ) == len(STARTER)


def test_an_empty_library_offers_the_starter_activities(school, client):
    org, cls, teacher = school
    f.login(client, teacher)
    assert "Add the starter activities" in client.get("/teach/library").get_data(as_text=True)
    assert client.post("/teach/library/starter").status_code == 303
    page = client.get("/teach/library").get_data(as_text=True)
    assert "Sound hunt around the house" in page and "Add the starter activities" not in page


# --- videos without tracking (P05, P06) --------------------------------------------------------

PROVIDER_HOSTS = ("youtube.com", "youtube-nocookie.com", "youtu.be", "vimeo.com", "ytimg")


def _published_video(org, cls, provider="youtube", video_id="aBcDeFgHiJk"):
    clip = t.video(org, provider=provider, video_id=video_id)
    t.topic(org, [cls], [clip], status=TopicStatus.PUBLISHED)
    return clip


@pytest.mark.promise("P05")
@pytest.mark.promise("P06")
def test_a_video_makes_no_request_to_the_provider_before_the_tap(school, client):
    org, cls, teacher = school
    clip = _published_video(org, cls)
    f.login(client, teacher)
    page = client.get(f"/teach/library/{clip.id}").get_data(as_text=True)
    assert f"/teach/activities/{clip.id}/video" in page  # the placeholder: our own URL
    for host in PROVIDER_HOSTS:
        assert host not in page
    assert "<iframe" not in page


@pytest.mark.promise("P06")
def test_without_functional_cookies_the_tap_asks_or_offers_a_plain_link(school, client):
    org, cls, teacher = school
    clip = _published_video(org, cls)
    carer = f.parent()
    f.pupil(cls, carer)
    f.login(client, carer)
    page = client.get(f"/teach/activities/{clip.id}/video", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "<iframe" not in page and "youtube-nocookie" not in page  # no embed yet
    assert "cookies and play" in page
    assert 'href="https://www.youtube.com/watch?v=aBcDeFgHiJk"' in page  # a plain link only
    assert "<html" not in page  # the fragment, for htmx

    # the tap on "allow": recorded (P06), and the player comes back in the same fragment
    response = client.post(f"/teach/activities/{clip.id}/video", headers={"HX-Request": "true"})
    page = response.get_data(as_text=True)
    assert 'src="https://www.youtube-nocookie.com/embed/aBcDeFgHiJk?dnt=1' in page
    assert "www.youtube.com/embed" not in page
    record = db.session.scalar(sa.select(ConsentRecord))
    assert (record.user_id, record.purpose, record.granted, record.method) == (
        carer.id,
        ConsentPurpose.COOKIES_FUNCTIONAL,
        True,
        ConsentMethod.WEB_FORM,
    )
    assert db.session.scalar(sa.select(UsageEvent.kind)) is UsageKind.VIDEO_PLAYED  # first-party


@pytest.mark.promise("P06")
def test_the_video_works_without_javascript_and_a_withdrawal_takes_effect(school, client):
    org, cls, teacher = school
    clip = _published_video(org, cls, "vimeo", "76979871")
    f.login(client, teacher)
    page = client.get(f"/teach/activities/{clip.id}/video").get_data(as_text=True)
    assert "<html" in page and "<iframe" not in page
    assert 'href="https://vimeo.com/76979871"' in page
    response = client.post(f"/teach/activities/{clip.id}/video")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'src="https://player.vimeo.com/video/76979871?dnt=1"' in page
    # withdrawn later (append-only history, P08): asked again
    db.session.add(
        ConsentRecord(
            user_id=teacher.id,
            purpose=ConsentPurpose.COOKIES_FUNCTIONAL,
            granted=False,
            method=ConsentMethod.WEB_FORM,
        )
    )
    db.session.commit()
    page = client.get(f"/teach/activities/{clip.id}/video").get_data(as_text=True)
    assert "<iframe" not in page and "cookies and play" in page


@pytest.mark.promise("P12")
def test_a_parent_sees_a_video_only_of_their_childs_published_topic(school, client):
    org, cls, teacher = school
    clip = t.video(org)
    t.topic(org, [cls], [clip])  # a draft
    carer = f.parent()
    f.pupil(cls, carer)
    f.login(client, carer)
    assert client.get(f"/teach/activities/{clip.id}/video").status_code == 404
    assert client.get(f"/teach/library/{clip.id}").status_code == 403  # staff pages


def test_the_next_link_of_the_video_page_stays_on_this_site(school, client):
    org, cls, teacher = school
    clip = _published_video(org, cls)
    f.login(client, teacher)
    page = client.get(f"/teach/activities/{clip.id}/video?next=//evil.example/x").get_data(as_text=True)
    assert 'href="//evil.example' not in page and ">Back</a>" not in page
    assert 'name="next" value="//evil.example' not in page
    page = client.get(f"/teach/activities/{clip.id}/video?next=/teach/library").get_data(as_text=True)
    assert 'href="/teach/library">Back' in page
