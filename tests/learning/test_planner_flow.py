"""The planner keeps the teacher in it: a new activity made from the planner is added to the
topic and the planner opens again; search finds it at once; copy proposes the next free week;
publishing proposes the school's usual time (Monday 08:00)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.core.extensions import db
from app.models import Role, TopicStatus
from tests import factories as f
from tests import teaching as t


@pytest.fixture()
def planner(ctx):
    org = f.school()
    cls = f.school_class(org, name="1 Robins", year_group="1")
    teacher = f.staff(org, Role.TEACHER, classes=[cls])
    topic = t.topic(org, [cls], [t.activity(org, "Sound hunt")], week=t.next_monday(), title="Sounds")
    return org, cls, teacher, topic


def test_a_new_activity_made_from_the_planner_is_added_and_found(planner, client):
    org, cls, teacher, topic = planner
    f.login(client, teacher)
    page = client.get(f"/teach/topics/{topic.id}").get_data(as_text=True)
    assert f'href="/teach/library/new?topic={topic.id}"' in page
    form = client.get(f"/teach/library/new?topic={topic.id}").get_data(as_text=True)
    assert f'action="/teach/library/new?topic={topic.id}"' in form and "Back to the planner" in form
    response = client.post(
        f"/teach/library/new?topic={topic.id}",
        data={
            "kind": "hands_on",
            "title": "Leaf rubbing",
            "instructions": "Put a leaf under paper and rub with a crayon.",
            "subject": "Outdoors",
            "year_groups": ["1"],
            "minutes": "15",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    assert response.headers["Location"].endswith(f"/teach/topics/{topic.id}#items-heading")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "added it to “Sounds”" in page
    assert re.search(r'class="planner-items".*Leaf rubbing', page, re.S)
    found = client.get(f"/teach/topics/{topic.id}/search?q=leaf", headers={"HX-Request": "true"})
    assert "Leaf rubbing" in found.get_data(as_text=True) and "Already in this topic" in found.get_data(
        as_text=True
    )


def test_a_new_activity_for_another_classes_topic_answers_404(planner, client):
    org, cls, teacher, topic = planner
    f.login(client, f.staff(org, Role.TEACHER, classes=[f.school_class(org, name="6 Hawks")]))
    assert client.get(f"/teach/library/new?topic={topic.id}").status_code == 404


def test_copy_proposes_the_next_week_without_a_topic(planner, client):
    org, cls, teacher, topic = planner
    t.topic(org, [cls], [], week=t.next_monday(2), title="Taken too")
    f.login(client, teacher)
    page = client.get(f"/teach/topics/{topic.id}/copy").get_data(as_text=True)
    assert f'value="{t.next_monday(3).isoformat()}"' in page


def test_publish_proposes_monday_at_eight_school_time(planner, client):
    org, cls, teacher, topic = planner
    f.login(client, teacher)
    page = client.get(f"/teach/topics/{topic.id}").get_data(as_text=True)
    assert f'value="{topic.week_start.isoformat()}T08:00"' in page
    assert re.search(r'<input checked[^>]*value="later"', page)
    assert "Monday at 08:00" in page
    db.session.refresh(topic)
    assert topic.status is TopicStatus.DRAFT


def test_an_item_already_gone_answers_404_and_a_second_add_409(planner, client):
    org, cls, teacher, topic = planner
    f.login(client, teacher)
    gone = client.post(f"/teach/topics/{topic.id}/items/999999/remove", data={"version": topic.version})
    assert gone.status_code == 404 and "no longer in this topic" in gone.get_data(as_text=True)
    db.session.refresh(topic)
    again = client.post(
        f"/teach/topics/{topic.id}/items",
        data={"activity_id": topic.items[0].activity_id, "version": topic.version},
    )
    assert again.status_code == 409 and "already in this topic" in again.get_data(as_text=True)


def test_the_planner_and_preview_take_as_many_queries_for_eight_activities_as_for_one(planner, client):
    """A topic's activities are loaded with its items, not one query each: a teacher planning a
    full week waits no longer than for a one-activity week."""
    from tests.queries import statements

    org, cls, teacher, topic = planner
    busy = t.topic(
        org,
        [cls],
        [t.activity(org, f"Activity {n}") for n in range(8)],
        week=t.next_monday() + timedelta(days=7),
        title="Busy week",
    )
    f.login(client, teacher)
    client.get("/teach/")  # the sign-in's first page notes when it was last seen: not counted
    for path in ("/teach/topics/{}", "/teach/topics/{}/preview"):
        counts = []
        for shown in (topic, busy):
            with statements() as seen:
                page = client.get(path.format(shown.id))
            assert page.status_code == 200
            counts.append(len(seen))
        assert "Activity 7" in page.get_data(as_text=True)
        assert counts[0] == counts[1], (path, counts)
