"""The class view: pupils × this week's activities, families' comments and photos (hide one),
awards (P04), no rankings and no Pupil Premium per child, and a fixed number of SQL queries."""

from __future__ import annotations

import io
import os
import re

import pytest
import sqlalchemy as sa
from PIL import Image

from app.core import storage
from app.core.extensions import db
from app.learning import classroom
from app.learning.topics import monday_of
from app.models import (
    ActivityLog,
    Award,
    AwardKind,
    Contribution,
    ContributionKind,
    Engagement,
    NotificationDelivery,
    Role,
    SchoolClass,
    TopicStatus,
    WeeklyTopic,
)
from tests import factories as f
from tests import teaching as t
from tests.html_check import without_tokens
from tests.queries import statements


@pytest.fixture()
def school(ctx):
    org = f.school()
    cls = f.school_class(org, name="2 Wrens", year_group="2")
    teacher = f.staff(org, Role.TEACHER, classes=[cls])
    return org, cls, teacher


def _this_week_topic(org, cls, n=2):
    from datetime import date

    activities = [t.activity(org, f"Activity {i}") for i in range(1, n + 1)]
    return t.topic(
        org, [cls], activities, week=monday_of(date.today()), status=TopicStatus.PUBLISHED, title="This week"
    )


def _jpeg(colour="red") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "JPEG")
    return out.getvalue()


def test_pupils_by_activities_with_done_and_rating_at_a_glance(school, client):
    org, cls, teacher = school
    zoe = f.pupil(cls, f.parent(), first_name="Zoe", last_name="Young")
    aaron = f.pupil(cls, f.parent(), first_name="Aaron", last_name="Adams")
    topic = _this_week_topic(org, cls)
    first, second = sorted(topic.items, key=lambda i: i.position)
    t.done(zoe, first, rating=4)
    t.done(zoe, second)
    f.login(client, teacher)
    page = client.get(f"/teach/classes/{cls.id}").get_data(as_text=True)
    assert "Activity 1" in page and "Activity 2" in page
    rows = dict(re.findall(r'<tr id="pupil-(\d+)">(.*?)</tr>', page, re.S))
    zoe_row, aaron_row = rows[str(zoe.id)], rows[str(aaron.id)]
    assert zoe_row.count("Done") == 2 and "rated 4 out of 5" in zoe_row
    assert "Done" not in aaron_row and aaron_row.count("Not yet") == 2
    # name order, never ordered by how much a child did: no ranking, no leaderboard
    assert page.index(f'id="pupil-{aaron.id}"') < page.index(f'id="pupil-{zoe.id}"')
    assert "1 of 2" in page  # a count per activity, not per child
    for word in ("rank", "leaderboard", "top ", "score"):
        assert word not in page.lower()
    assert (
        db.session.scalar(sa.select(ActivityLog.event).where(ActivityLog.subject == f"class:{cls.id}"))
        == "view_class"
    )  # P15


@pytest.mark.promise("P04")
def test_pupil_premium_status_is_never_shown_per_child(school, client):
    org, cls, teacher = school
    f.pupil(cls, f.parent(), first_name="Priya", pupil_premium=True)
    f.pupil(cls, f.parent(), first_name="Ben", pupil_premium=False)
    _this_week_topic(org, cls)
    f.login(client, teacher)
    for url in (f"/teach/classes/{cls.id}",):
        page = without_tokens(client.get(url).get_data(as_text=True)).lower()
        assert "premium" not in page and "pp" not in re.sub(r"[a-z]pp|pp[a-z]", "", page)


def test_comments_and_photos_lazy_thumbnails_behind_authorisation(school, client):
    org, cls, teacher = school
    carer = f.parent()
    child = f.pupil(cls, carer, first_name="Ella")
    topic = _this_week_topic(org, cls)
    first, second = sorted(topic.items, key=lambda i: i.position)
    t.done(child, first, comment="We loved it!\n<i>Really</i>", by=carer)
    thumb = _jpeg("blue")
    photo = t.done(
        child,
        second,
        photo_key=storage.put(_jpeg(), prefix="photo"),
        thumb_key=storage.put(thumb, prefix="thumb"),
        by=carer,
    )
    f.login(client, teacher)
    page = client.get(f"/teach/classes/{cls.id}").get_data(as_text=True)
    assert "We loved it!<br>&lt;i&gt;Really&lt;/i&gt;" in page
    img = re.search(r'<img src="([^"]+)" loading="lazy"[^>]*alt="([^"]+)"', page)
    assert img and img.group(1) == f"/teach/contributions/{photo.id}/thumb"
    assert "Ella" in img.group(2)
    response = client.get(img.group(1))
    assert response.status_code == 200 and response.data == thumb
    assert response.mimetype == "image/jpeg"
    assert response.headers["Cache-Control"].startswith("private")

    # another class's teacher, another school's office, a parent: no photo
    other_teacher = f.staff(org, Role.TEACHER, classes=[f.school_class(org, name="6 Hawks")])
    f.login(client, other_teacher)
    assert client.get(img.group(1)).status_code == 404
    assert client.get(f"/teach/classes/{cls.id}").status_code == 404
    f.login(client, f.staff(f.school(), Role.OFFICE))
    assert client.get(img.group(1)).status_code == 404
    f.login(client, carer)
    assert client.get(img.group(1)).status_code == 403


def test_a_teacher_hides_a_comment_from_everyone_else_kept_and_recorded(school, client):
    org, cls, teacher = school
    carer = f.parent()
    child = f.pupil(cls, carer)
    topic = _this_week_topic(org, cls)
    comment = t.done(child, topic.items[0], comment="Something unkind about another child")
    f.login(client, teacher)
    response = client.post(f"/teach/contributions/{comment.id}/hide", data={"back": cls.id})
    assert response.status_code == 303
    db.session.expire_all()
    kept = db.session.get(Contribution, comment.id)
    assert kept.body == "Something unkind about another child"  # kept
    assert kept.hidden_at is not None and kept.hidden_by_id == teacher.id  # recorded
    log = db.session.scalar(sa.select(ActivityLog).where(ActivityLog.event == "hide_contribution"))
    assert log.user_id == teacher.id and log.subject == f"contribution:{comment.id}"
    page = client.get(f"/teach/classes/{cls.id}").get_data(as_text=True)
    assert "Hidden from everyone else" in page and "Show it again" in page

    client.post(f"/teach/contributions/{comment.id}/hide", data={"show": "1", "back": cls.id})
    db.session.expire_all()
    assert db.session.get(Contribution, comment.id).hidden_at is None
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(ActivityLog)
            .where(ActivityLog.event == "unhide_contribution")
        )
        == 1
    )


@pytest.mark.promise("P12")
def test_hiding_another_classes_comment_answers_404(school, client):
    org, cls, teacher = school
    other = f.school_class(org, name="5 Kites")
    child = f.pupil(other, f.parent())
    topic = _this_week_topic(org, other)
    comment = t.done(child, topic.items[0], comment="Hello")
    f.login(client, teacher)
    assert client.post(f"/teach/contributions/{comment.id}/hide").status_code == 404
    db.session.expire_all()
    assert db.session.get(Contribution, comment.id).hidden_at is None


@pytest.mark.promise("P04")
def test_an_award_is_given_with_htmx_and_the_parents_are_told(school, client, run_jobs):
    org, cls, teacher = school
    mum, dad = f.parent(), f.parent()
    child = f.pupil(cls, mum, dad, first_name="Noah")
    sibling_carer = f.parent()
    f.pupil(cls, sibling_carer)
    f.login(client, teacher)
    page = client.get(f"/teach/classes/{cls.id}").get_data(as_text=True)
    assert f'href="/teach/pupils/{child.id}/awards" hx-get=' in page
    form = client.get(f"/teach/pupils/{child.id}/awards", headers={"HX-Request": "true"})
    body = form.get_data(as_text=True)
    assert "<html" not in body and f'hx-post="/teach/pupils/{child.id}/awards"' in body
    assert f'action="/teach/pupils/{child.id}/awards"' in body  # and without JavaScript
    assert "<html" in client.get(f"/teach/pupils/{child.id}/awards").get_data(as_text=True)
    response = client.post(
        f"/teach/pupils/{child.id}/awards", data={"kind": "reading_champion"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.lstrip().startswith(f'<div class="award" id="award-{child.id}"')
    assert "Reading champion given to Noah" in body and "<html" not in body
    award = db.session.scalar(sa.select(Award))
    assert (award.pupil_id, award.kind, award.given_by_id) == (
        child.id,
        AwardKind.READING_CHAMPION,
        teacher.id,
    )
    assert run_jobs() == 0
    told = db.session.execute(
        sa.select(NotificationDelivery.user_id, NotificationDelivery.template).where(
            NotificationDelivery.event_key == f"award:{award.id}"
        )
    ).all()
    assert {u for u, _ in told} == {mum.id, dad.id}
    assert {tpl for _, tpl in told} == {"award_given"}
    from app.models import OutboxMessage

    subjects = db.session.scalars(sa.select(OutboxMessage.subject).where(OutboxMessage.to == mum.email)).all()
    assert any("Noah" in s and "Reading champion" in s for s in subjects), subjects
    # the class view shows it in the pupil's row
    page = client.get(f"/teach/classes/{cls.id}").get_data(as_text=True)
    assert "This week: Reading champion" in page


def test_an_award_without_javascript_and_with_bad_input(school, client):
    org, cls, teacher = school
    child = f.pupil(cls, f.parent())
    f.login(client, teacher)
    response = client.post(f"/teach/pupils/{child.id}/awards", data={"kind": "great_effort"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/teach/classes/{cls.id}#pupil-{child.id}")
    response = client.post(f"/teach/pupils/{child.id}/awards", data={"kind": "best_in_class"})
    assert response.status_code == 422
    response = client.post(
        f"/teach/pupils/{child.id}/awards", data={"kind": "great_effort", "note": "z" * 10_000}
    )
    assert response.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Award)) == 1


@pytest.mark.promise("P12")
def test_an_award_for_a_child_of_another_class_answers_404(school, client):
    org, cls, teacher = school
    stranger = f.pupil(f.school_class(org, name="6 Hawks"), f.parent())
    f.login(client, teacher)
    assert (
        client.post(f"/teach/pupils/{stranger.id}/awards", data={"kind": "great_effort"}).status_code == 404
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Award)) == 0


# --- a fixed number of queries, whatever the class size ---------------------------------------


def _class_of(org, pupils: int, activities: int):
    cls = f.school_class(org)
    teacher = f.staff(org, Role.TEACHER, classes=[cls])
    topic = _this_week_topic(org, cls, activities)
    items = sorted(topic.items, key=lambda i: i.position)
    for n in range(pupils):
        carer = f.parent()
        child = f.pupil(cls, carer, first_name=f"Child{n:02d}")
        for i, item in enumerate(items):
            if (n + i) % 2 == 0:
                t.done(
                    child, item, rating=1 + (n % 5), comment=f"Comment {n}-{i}" if i == 0 else None, by=carer
                )
        if n % 3 == 0:
            db.session.add(Award(pupil_id=child.id, kind=AwardKind.GREAT_EFFORT, given_by_id=teacher.id))
            db.session.commit()
    return cls, teacher


def test_the_class_view_costs_the_same_few_queries_for_5_or_35_pupils(app, school, client):
    org, _, _ = school
    counts = {}
    for size in (5, 35):
        cls, teacher = _class_of(org, size, 6)
        f.login(client, teacher)
        client.get(f"/teach/classes/{cls.id}")  # warm-up (caches of templates and assets)
        with statements() as seen:
            status = client.get(f"/teach/classes/{cls.id}").status_code
        if os.environ.get("SHOW_SQL"):
            print("\n---\n".join(s[:160] for s in seen))
        assert status == 200
        counts[size] = len(seen)
        page = client.get(f"/teach/classes/{cls.id}").get_data(as_text=True)
        assert page.count('<tr id="pupil-') == size
    print("class view queries", counts)
    assert counts[5] == counts[35] <= 10, counts


def test_the_award_email_carries_the_teachers_note(school, client, run_jobs):
    from app.models import OutboxMessage

    org, cls, teacher = school
    mum = f.parent()
    child = f.pupil(cls, mum, first_name="Noah")
    f.login(client, teacher)
    response = client.post(
        f"/teach/pupils/{child.id}/awards", data={"kind": "great_effort", "note": "Counted every stair!"}
    )
    assert response.status_code == 303
    run_jobs()
    texts = db.session.scalars(sa.select(OutboxMessage.text).where(OutboxMessage.to == mum.email)).all()
    assert any('wrote: "Counted every stair!"' in text for text in texts), texts


def test_the_class_view_for_35_pupils_and_5_activities_is_under_60_kb_and_10_queries(school, client):
    org, _, _ = school
    cls, teacher = _class_of(org, 35, 5)
    from app.models import Activity

    for activity in db.session.scalars(sa.select(Activity)):  # titles as long as real ones
        activity.title += ": a sound hunt in the house"
    db.session.commit()
    f.login(client, teacher)
    client.get(f"/teach/classes/{cls.id}")
    with statements() as seen:
        response = client.get(f"/teach/classes/{cls.id}")
    page = response.get_data()
    print("class view 35x5:", len(page), "bytes,", len(seen), "queries")
    assert response.status_code == 200 and len(seen) <= 10
    assert len(page) <= 60 * 1024, len(page)
    text = page.decode()
    # the week scrolls in its own focusable, labelled region; every cell names its activity
    assert 'class="grid-region" role="region" aria-labelledby="grid-caption" tabindex="0"' in text
    assert (
        text.count('data-a="1. Activity 1: a sound hunt in the house"') == 35 + 1
    )  # each pupil's card, and the count


def test_after_an_award_without_javascript_the_answer_is_in_the_pupils_row(school, client):
    org, cls, teacher = school
    child = f.pupil(cls, f.parent(), first_name="Noah")
    other = f.pupil(cls, f.parent(), first_name="Ava")
    f.login(client, teacher)
    response = client.post(f"/teach/pupils/{child.id}/awards", data={"kind": "kind_helper"})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    rows = dict(re.findall(r'<tr id="pupil-(\d+)">(.*?)</tr>', page, re.S))
    assert "Kind helper given to Noah" in rows[str(child.id)]
    assert "given to" not in rows[str(other.id)]
    assert "given to" not in page[: page.index("<main")]  # not at the top of the page


def test_an_award_with_htmx_comes_back_with_the_answer_and_focus_on_its_link(school, client):
    org, cls, teacher = school
    child = f.pupil(cls, f.parent(), first_name="Noah")
    f.login(client, teacher)
    form = client.get(f"/teach/pupils/{child.id}/awards", headers={"HX-Request": "true"})
    assert 'name="kind" autofocus' in form.get_data(as_text=True)
    body = client.post(
        f"/teach/pupils/{child.id}/awards", data={"kind": "great_effort"}, headers={"HX-Request": "true"}
    ).get_data(as_text=True)
    assert "This week: Great effort" in body and "autofocus" in body
    assert "Give another award" in body and "<form" not in body


# --- 35 pupils × 5 activities, most families commenting ---------------------------------------

SAID = (
    "We did this together after tea and {name} wanted to do it again at bedtime. "
    "Grandma joined in on the video call and counted too!"
)


def _class_with_comments(org, pupils: int = 35, activities: int = 5):
    """A full class in which most families (all but every seventh) wrote a comment this week."""
    cls, teacher = _class_of(org, pupils, activities)
    items = sorted(
        db.session.scalar(
            sa.select(WeeklyTopic).join(WeeklyTopic.classes).where(SchoolClass.id == cls.id)
        ).items,
        key=lambda i: i.position,
    )
    for n, child in enumerate(sorted(cls.pupils, key=lambda p: p.first_name)):
        if n % 7 == 0:
            continue
        item = items[(n + 1) % len(items)]
        engagement = db.session.scalar(
            sa.select(Engagement).where(
                Engagement.pupil_id == child.id, Engagement.topic_activity_id == item.id
            )
        )
        if engagement is None:
            t.done(child, item, comment=SAID.format(name=child.first_name))
        else:
            db.session.add(
                Contribution(
                    engagement_id=engagement.id,
                    kind=ContributionKind.COMMENT,
                    body=SAID.format(name=child.first_name),
                )
            )
            db.session.commit()
    return cls, teacher


def test_with_most_families_commenting_the_class_view_stays_under_60_kb(school, client):
    org, _, _ = school
    cls, teacher = _class_with_comments(org)
    from app.models import Activity

    for activity in db.session.scalars(sa.select(Activity)):  # titles as long as real ones
        activity.title += ": a sound hunt in the house"
    db.session.commit()
    comments = db.session.scalar(sa.select(sa.func.count()).select_from(Contribution))
    assert comments >= 30  # most of the 35 families wrote something
    f.login(client, teacher)
    client.get(f"/teach/classes/{cls.id}")
    with statements() as seen:
        response = client.get(f"/teach/classes/{cls.id}")
    page = response.get_data()
    if os.environ.get("DUMP_PAGE"):
        open(os.environ["DUMP_PAGE"], "wb").write(page)
    print("class view 35x5 with", comments, "comments:", len(page), "bytes,", len(seen), "queries")
    assert response.status_code == 200 and len(seen) <= 10
    assert len(page) <= 60 * 1024, len(page)
    text = page.decode()
    assert text.count("Grandma joined in") == 30  # every comment shown, once
    assert text.count("Hide from everyone else") == comments
    # one shared form for the page, not one per comment
    grid = text[text.index('<table class="class-grid"') : text.index("</table>")]
    assert "<form" not in grid and grid.count('form="hide"') == comments
    assert text.count('<form id="hide"') == 1


def _hide_form(page: str) -> tuple[str, dict]:
    form = re.search(r'<form id="hide" method="post" action="([^"]+)"[^>]*>(.*?)</form>', page, re.S)
    assert form, "the class view's shared hide form"
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2)))
    return form.group(1), fields


def test_hiding_a_comment_through_the_shared_form_without_javascript(school, client):
    org, cls, teacher = school
    child = f.pupil(cls, f.parent(), first_name="Ella")
    topic = _this_week_topic(org, cls)
    comment = t.done(child, topic.items[0], comment="Something unkind about another child")
    f.login(client, teacher)
    page = client.get(f"/teach/classes/{cls.id}").get_data(as_text=True)
    action, fields = _hide_form(page)
    # the comment sits in its pupil's card (the pupil's tbody), with its button for the shared form
    card = re.search(rf'<tbody>\s*<tr id="pupil-{child.id}">(.*?)</tbody>', page, re.S).group(1)
    assert "Something unkind" in card
    assert f'form="hide" id="hide-{comment.id}" name="hide" value="{comment.id}"' in card
    response = client.post(action, data={**fields, "hide": str(comment.id)})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"#contribution-{comment.id}")
    db.session.expire_all()
    assert db.session.get(Contribution, comment.id).hidden_at is not None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    item = re.search(rf'<li id="contribution-{comment.id}">(.*?)</li>', page, re.S).group(1)
    assert "Hidden: only staff can see it now." in item  # the answer where the teacher is
    assert "Hidden from everyone else (show it to me)" in item and "Show it again" in item
    response = client.post(action, data={**fields, "show": str(comment.id)})
    db.session.expire_all()
    assert db.session.get(Contribution, comment.id).hidden_at is None
    assert client.post(action, data=fields).status_code == 400  # no comment chosen: a clear 400


def test_hiding_a_comment_with_htmx_swaps_only_that_comment(school, client):
    org, cls, teacher = school
    child = f.pupil(cls, f.parent(), first_name="Ella")
    topic = _this_week_topic(org, cls)
    comment = t.done(child, topic.items[0], comment="Something unkind")
    f.login(client, teacher)
    action, fields = _hide_form(client.get(f"/teach/classes/{cls.id}").get_data(as_text=True))
    response = client.post(action, data={**fields, "hide": str(comment.id)}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert response.headers["HX-Retarget"] == f"#contribution-{comment.id}"
    assert response.headers["HX-Reswap"] == "outerHTML"
    body = response.get_data(as_text=True)
    assert body.startswith(f'<li id="contribution-{comment.id}">') and "<html" not in body
    assert "Hidden: only staff can see it now." in body and f'name="show" value="{comment.id}"' in body
    db.session.expire_all()
    assert db.session.get(Contribution, comment.id).hidden_at is not None


@pytest.mark.promise("P12")
def test_the_shared_hide_form_refuses_another_classes_comment(school, client):
    org, cls, teacher = school
    other = f.school_class(org, name="5 Kites")
    comment = t.done(f.pupil(other, f.parent()), _this_week_topic(org, other).items[0], comment="Hello")
    f.login(client, teacher)
    action, fields = _hide_form(client.get(f"/teach/classes/{cls.id}").get_data(as_text=True))
    assert client.post(action, data={**fields, "hide": str(comment.id)}).status_code == 404
    # and another class in the address, even with a comment of the teacher's own class
    own = t.done(f.pupil(cls, f.parent()), _this_week_topic(org, cls).items[0], comment="Mine")
    assert client.post(f"/teach/classes/{other.id}/hide", data={"hide": str(own.id)}).status_code == 404
    db.session.expire_all()
    assert db.session.get(Contribution, comment.id).hidden_at is None
    assert db.session.get(Contribution, own.id).hidden_at is None


def test_each_cell_says_done_with_its_stars_or_not_yet_labelled_with_its_activity_escaped():
    cells = [classroom.Cell(True, 3), classroom.Cell(True, None), classroom.Cell()]
    titles = ['1. Fish & "chips"', "2. <b>bold</b>", "3. Sums"]
    assert str(classroom.grid_cells(cells, titles)) == (
        '<td class="y" data-a="1. Fish &amp; &#34;chips&#34;">Done'
        ' <span role="img" aria-label="rated 3 out of 5">★★★</span></td>'
        '<td class="y" data-a="2. &lt;b&gt;bold&lt;/b&gt;">Done</td>'
        '<td class="n" data-a="3. Sums"><span class="visually-hidden">Not yet</span></td>'
    )


@pytest.mark.promise("P15")
def test_a_class_and_a_pupil_seen_by_staff_are_logged_with_their_school(school, client):
    org, cls, teacher = school
    child = f.pupil(cls, f.parent(), first_name="Lena")
    f.login(client, teacher)
    assert client.get(f"/teach/classes/{cls.id}").status_code == 200
    assert client.get(f"/teach/pupils/{child.id}").status_code == 200
    logged = db.session.execute(
        sa.select(ActivityLog.event, ActivityLog.subject, ActivityLog.user_id, ActivityLog.organisation_id)
        .where(ActivityLog.event.in_(["view_class", "view_pupil"]))
        .order_by(ActivityLog.id)
    ).all()
    assert logged == [
        ("view_class", f"class:{cls.id}", teacher.id, org.id),
        ("view_pupil", f"pupil:{child.id}", teacher.id, org.id),  # kept for this school's period
    ]
