"""The pupil page for staff: the child's weeks, ratings, the family's comments and photos (through
the authorised route) and awards; only for the child's teachers and the school office (P12)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from app.core import storage
from app.core.extensions import db
from app.learning.topics import monday_of
from app.models import Award, AwardKind, Role, TopicStatus
from tests import factories as f
from tests import teaching as t
from tests.learning.test_class_view import _jpeg
from tests.queries import statements


@pytest.fixture()
def family(ctx):
    org = f.school()
    cls = f.school_class(org, name="2 Wrens", year_group="2")
    teacher = f.staff(org, Role.TEACHER, classes=[cls])
    carer = f.parent()
    child = f.pupil(cls, carer, first_name="Ella", last_name="Evans")
    this_week = monday_of(date.today())
    now = t.topic(
        org,
        [cls],
        [t.activity(org, "Sound hunt"), t.activity(org, "Sink or float?")],
        week=this_week,
        status=TopicStatus.PUBLISHED,
        title="Sounds",
    )
    before = t.topic(
        org,
        [cls],
        [t.activity(org, "Counting steps")],
        week=this_week - timedelta(days=14),
        status=TopicStatus.PUBLISHED,
        title="Numbers",
    )
    hunt, sink = sorted(now.items, key=lambda i: i.position)
    t.done(child, hunt, rating=4, comment="She found eleven sounds, even the fridge's kindness hum", by=carer)
    photo = t.done(
        child,
        sink,
        photo_key=storage.put(_jpeg(), prefix="photo"),
        thumb_key=storage.put(_jpeg("blue"), prefix="thumb"),
        by=carer,
    )
    t.done(child, before.items[0], rating=2)
    db.session.add(
        Award(pupil_id=child.id, kind=AwardKind.KIND_HELPER, given_by_id=teacher.id, note="Helped Sam")
    )
    db.session.commit()
    return org, cls, teacher, carer, child, photo


def test_the_childs_teacher_sees_weeks_ratings_comments_photos_and_awards(family, client):
    org, cls, teacher, carer, child, photo = family
    f.login(client, teacher)
    response = client.get(f"/teach/pupils/{child.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    weeks = re.findall(r"<h2 id=\"week-[^\"]+\">Week beginning ([^<]+)</h2>", page)
    assert len(weeks) == 2  # newest first; the empty week in between is left out
    this_week = page[: page.index(f"Week beginning {weeks[1]}")]
    assert "Sound hunt" in this_week and "rated 4 out of 5" in this_week
    assert "even the fridge's kindness hum" in this_week.replace("&#39;", "'")
    assert f'src="/teach/contributions/{photo.id}/thumb"' in this_week
    assert "Sink or float?" in this_week and "Kind helper" in this_week and "Helped Sam" in this_week
    assert "Counting steps" in page and "rated 2 out of 5" in page
    assert "premium" not in page.lower()  # P04


def test_the_school_office_sees_the_page_too(family, client):
    org, cls, teacher, carer, child, photo = family
    f.login(client, f.staff(org, Role.OFFICE))
    page = client.get(f"/teach/pupils/{child.id}").get_data(as_text=True)
    assert "Sound hunt" in page and "Kind helper" in page


@pytest.mark.promise("P12")
def test_another_class_another_school_or_a_parent_cannot_see_it(family, client):
    org, cls, teacher, carer, child, photo = family
    for stranger in (
        f.staff(org, Role.TEACHER, classes=[f.school_class(org, name="6 Hawks")]),
        f.staff(f.school(), Role.OFFICE),
        f.staff(f.school(), Role.TEACHER, classes=[]),
    ):
        f.login(client, stranger)
        assert client.get(f"/teach/pupils/{child.id}").status_code == 404
        assert client.get(f"/teach/contributions/{photo.id}/thumb").status_code == 404
    f.login(client, carer)
    assert client.get(f"/teach/pupils/{child.id}").status_code == 403


def test_the_pupil_page_costs_a_few_queries(family, client):
    org, cls, teacher, carer, child, photo = family
    f.login(client, teacher)
    client.get(f"/teach/pupils/{child.id}")
    with statements() as seen:
        assert client.get(f"/teach/pupils/{child.id}").status_code == 200
    assert len(seen) <= 12, "\n".join(s[:120] for s in seen)
    weeks = [s for s in seen if "topic_activities" in s or "FROM awards" in s]
    assert len(weeks) == 3, "the weeks in three queries, however many there are"
