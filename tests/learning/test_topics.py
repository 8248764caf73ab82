"""Weekly topics: planning, ordering, two editors, publishing (now and scheduled) through the
real worker, the families' messages and the mid-week reminder, copying, the parent's-eye
preview, and who may see what (P12)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.learning.topic_notices import reminder_at
from app.learning.topics import academic_year
from app.models import NotificationDelivery, Role, TopicActivity, TopicStatus, WeeklyTopic, utcnow
from tests import factories as f
from tests import teaching as t

YEAR = academic_year(date.today())


@pytest.fixture()
def school(ctx):
    org = f.school()
    robins = f.school_class(org, name="3 Robins", year_group="3", academic_year=YEAR)
    owls = f.school_class(org, name="3 Owls", year_group="3", academic_year=YEAR)
    teacher = f.staff(org, Role.TEACHER, classes=[robins])
    return org, robins, owls, teacher


def _deliveries(event_key: str) -> list[tuple[int, str]]:
    return sorted(
        db.session.execute(
            sa.select(NotificationDelivery.user_id, NotificationDelivery.channel).where(
                NotificationDelivery.event_key == event_key
            )
        ).all()
    )


def _order(topic_id: int) -> list[str]:
    db.session.expire_all()
    return [
        i.activity.title
        for i in sorted(db.session.get(WeeklyTopic, topic_id).items, key=lambda i: i.position)
    ]


# --- planning ------------------------------------------------------------------------------------


def test_a_teacher_plans_a_topic_for_their_class(school, client):
    org, robins, owls, teacher = school
    f.login(client, teacher)
    page = client.get("/teach/topics/new").get_data(as_text=True)
    assert "3 Robins" in page and "3 Owls" not in page  # only their own classes
    monday = t.next_monday()
    response = client.post(
        "/teach/topics/new",
        data={
            "title": "Minibeasts",
            "week_start": monday.isoformat(),
            "class_ids": [robins.id],
            "note": "Have fun!\nBring a jar on Friday.",
        },
    )
    assert response.status_code == 303
    topic = db.session.scalar(sa.select(WeeklyTopic))
    assert response.headers["Location"].endswith(f"/teach/topics/{topic.id}")
    assert (topic.title, topic.week_start, topic.status) == ("Minibeasts", monday, TopicStatus.DRAFT)
    assert [c.id for c in topic.classes] == [robins.id]
    assert topic.note == "Have fun!\nBring a jar on Friday."


def test_a_week_that_is_not_a_monday_is_refused_clearly(school, client):
    org, robins, owls, teacher = school
    f.login(client, teacher)
    thursday = t.next_monday() + timedelta(days=3)
    response = client.post(
        "/teach/topics/new",
        data={"title": "Minibeasts", "week_start": thursday.isoformat(), "class_ids": [robins.id]},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert f"{thursday:%A %-d %B %Y} is not a Monday" in page
    assert 'value="Minibeasts"' in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WeeklyTopic)) == 0


@pytest.mark.promise("P12")
def test_a_teacher_cannot_plan_for_a_class_they_do_not_teach(school, client):
    org, robins, owls, teacher = school
    f.login(client, teacher)
    response = client.post(
        "/teach/topics/new",
        data={"title": "Sneaky", "week_start": t.next_monday().isoformat(), "class_ids": [owls.id]},
    )
    assert response.status_code == 422
    assert "Please choose at least one class" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WeeklyTopic)) == 0


def test_office_staff_can_plan_for_a_whole_year_group(school, client):
    org, robins, owls, teacher = school
    f.school_class(org, name="4 Larks", year_group="4", academic_year=YEAR)
    office = f.staff(org, Role.OFFICE)
    f.login(client, office)
    response = client.post(
        "/teach/topics/new",
        data={"title": "Romans", "week_start": t.next_monday().isoformat(), "year_group": "3"},
    )
    assert response.status_code == 303
    topic = db.session.scalar(sa.select(WeeklyTopic))
    assert sorted(c.name for c in topic.classes) == ["3 Owls", "3 Robins"]


@pytest.mark.parametrize("field_name,limit", [("title", 120), ("note", 1000)])
def test_ten_thousand_characters_answer_422_and_nothing_is_saved(school, client, field_name, limit):
    org, robins, owls, teacher = school
    f.login(client, teacher)
    data = {
        "title": "Minibeasts",
        "week_start": t.next_monday().isoformat(),
        "class_ids": [robins.id],
        field_name: "y" * 10_000,
    }
    response = client.post("/teach/topics/new", data=data)
    assert response.status_code == 422
    assert f"to {limit:,} characters or fewer (it has 10,000)" in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WeeklyTopic)) == 0


def test_add_reorder_and_remove_activities_with_plain_forms(school, client):
    org, robins, owls, teacher = school
    a, b, c = (t.activity(org, name) for name in ("Apples", "Bananas", "Cherries"))
    topic = t.topic(org, [robins])
    f.login(client, teacher)
    url = f"/teach/topics/{topic.id}"
    for activity in (a, b, c):
        version = db.session.get(WeeklyTopic, topic.id).version
        response = client.post(f"{url}/items", data={"activity_id": activity.id, "version": version})
        assert response.status_code == 303
        db.session.expire_all()
    assert _order(topic.id) == ["Apples", "Bananas", "Cherries"]
    items = {i.activity.title: i.id for i in db.session.get(WeeklyTopic, topic.id).items}

    def post(path, **data):
        data["version"] = db.session.get(WeeklyTopic, topic.id).version
        response = client.post(f"{url}/items/{path}", data=data)
        db.session.expire_all()
        return response

    assert post(f"{items['Cherries']}/move", direction="up").status_code == 303
    assert _order(topic.id) == ["Apples", "Cherries", "Bananas"]
    post(f"{items['Apples']}/move", direction="down")
    assert _order(topic.id) == ["Cherries", "Apples", "Bananas"]
    post(f"{items['Cherries']}/move", direction="up")  # already first: stays
    assert _order(topic.id) == ["Cherries", "Apples", "Bananas"]
    post(f"{items['Apples']}/remove")
    assert _order(topic.id) == ["Cherries", "Bananas"]
    page = client.get(url).get_data(as_text=True)
    assert page.index("Cherries") < page.index("Bananas")
    # adding one twice is refused
    response = client.post(
        f"{url}/items", data={"activity_id": b.id, "version": db.session.get(WeeklyTopic, topic.id).version}
    )
    assert response.status_code == 409 and "already in this topic" in response.get_data(as_text=True)


def test_search_as_you_type_is_small_and_never_offers_what_is_already_added(school, client):
    from app.learning.starter_library import seed_starter_library

    org, robins, owls, teacher = school
    seed_starter_library(org.id)
    in_topic = db.session.scalar(sa.select(t.Activity).where(t.Activity.title.like("Times%")))
    topic = t.topic(org, [robins], [in_topic])
    f.login(client, teacher)
    for q in ("", "a", "e", "number", "times"):
        response = client.get(
            f"/teach/topics/{topic.id}/search", query_string={"q": q}, headers={"HX-Request": "true"}
        )
        assert response.status_code == 200
        assert len(response.data) <= 2048, (q, len(response.data))
        body = response.get_data(as_text=True)
        assert body.startswith('<div id="results"') and "<html" not in body
        # what is already in the topic is never offered again, but a search still finds it
        assert "Times-table snap" not in body or "Already in this topic:</span> Times-table snap" in body
    body = client.get(f"/teach/topics/{topic.id}/search?q=kitchen", headers={"HX-Request": "true"}).get_data(
        as_text=True
    )
    assert "Kitchen fractions" in body and 'name="activity_id"' in body
    # without JavaScript the same search is a GET of the planner page
    page = client.get(f"/teach/topics/{topic.id}?q=kitchen").get_data(as_text=True)
    assert "<html" in page and "Kitchen fractions" in page
    # the search URL itself, opened without htmx (or boosted), leads to that page, not a 500
    for headers in ({}, {"HX-Request": "true", "HX-Boosted": "true"}):
        response = client.get(f"/teach/topics/{topic.id}/search?q=kitchen", headers=headers)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/teach/topics/{topic.id}?q=kitchen"
        assert "HX-Request" in response.headers["Vary"]
    page = client.get(f"/teach/topics/{topic.id}/search?q=kitchen", follow_redirects=True)
    assert page.status_code == 200 and "Kitchen fractions" in page.get_data(as_text=True)


def test_an_activity_of_another_school_cannot_be_added(school, client):
    org, robins, owls, teacher = school
    theirs = t.activity(f.school(), "Theirs")
    topic = t.topic(org, [robins])
    f.login(client, teacher)
    response = client.post(
        f"/teach/topics/{topic.id}/items", data={"activity_id": theirs.id, "version": topic.version}
    )
    assert response.status_code == 404
    assert _order(topic.id) == []


# --- two editors ---------------------------------------------------------------------------------


def test_a_stale_save_is_refused_with_409_and_nothing_is_overwritten(school, client):
    org, robins, owls, teacher = school
    colleague = f.staff(org, Role.TEACHER, classes=[robins])
    topic = t.topic(org, [robins], title="Minibeasts")
    loaded_version = topic.version
    details = {"week_start": topic.week_start.isoformat(), "class_ids": [robins.id]}

    f.login(client, colleague)  # the colleague saves first
    response = client.post(
        f"/teach/topics/{topic.id}/details",
        data={**details, "title": "Minibeasts and more", "version": loaded_version},
    )
    assert response.status_code == 303

    f.login(client, teacher)  # the teacher's form still carries the old version
    response = client.post(
        f"/teach/topics/{topic.id}/details",
        data={**details, "title": "Bugs", "note": "My long note", "version": loaded_version},
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone else changed this topic" in page
    assert 'value="Minibeasts and more"' in page  # the current state
    assert "My long note" in page  # and what they typed, so nothing is lost
    db.session.expire_all()
    saved = db.session.get(WeeklyTopic, topic.id)
    assert saved.title == "Minibeasts and more" and saved.version == loaded_version + 1

    # the same for the activity list
    a = t.activity(org, "Apples")
    response = client.post(
        f"/teach/topics/{topic.id}/items", data={"activity_id": a.id, "version": loaded_version}
    )
    assert response.status_code == 409
    assert "Someone else changed this topic" in response.get_data(as_text=True)
    assert _order(topic.id) == []
    response = client.post(f"/teach/topics/{topic.id}/items", data={"activity_id": a.id})
    assert response.status_code == 409  # no version at all: never silently applied


# --- publishing ----------------------------------------------------------------------------------


def _families(org, cls, n=2):
    parents = []
    for _ in range(n):
        carer = f.parent()
        f.pupil(cls, carer)
        parents.append(carer)
    return parents


def test_publish_now_tells_every_family_once_through_the_worker(school, client, run_jobs):
    org, robins, owls, teacher = school
    parents = _families(org, robins)
    other = _families(org, owls, 1)
    topic = t.topic(org, [robins], [t.activity(org)])
    f.login(client, teacher)
    response = client.post(
        f"/teach/topics/{topic.id}/publish", data={"when": "now", "version": topic.version}
    )
    assert response.status_code == 303
    db.session.expire_all()
    topic = db.session.get(WeeklyTopic, topic.id)
    assert topic.status is TopicStatus.PUBLISHED and topic.published_at is not None
    assert _deliveries(f"topic:{topic.id}:published") == []  # only after the worker runs
    assert run_jobs() == 0
    sent = _deliveries(f"topic:{topic.id}:published")
    assert {user_id for user_id, _ in sent} == {p.id for p in parents}
    assert other[0].id not in {user_id for user_id, _ in sent}
    template = db.session.scalar(sa.select(NotificationDelivery.template).limit(1))
    assert template == "topic_published"

    # publishing twice never sends twice
    response = client.post(
        f"/teach/topics/{topic.id}/publish", data={"when": "now", "version": topic.version}
    )
    assert response.status_code == 303
    from app.core.jobs import enqueue_now
    from app.learning.jobs import announce_topic

    enqueue_now(announce_topic, topic.id)  # even if the job itself runs again
    assert run_jobs() == 0
    assert _deliveries(f"topic:{topic.id}:published") == sent


def test_the_message_says_this_weeks_activities_for_the_child(school, run_jobs):
    org, robins, owls, teacher = school
    carer = f.parent()
    f.pupil(robins, carer, first_name="Amara")
    topic = t.topic(org, [robins], [t.activity(org)], title="Minibeasts")
    from app.learning.topics import publish_now

    publish_now(topic, topic.version)
    assert run_jobs() == 0
    from app.models import OutboxMessage

    subjects = db.session.scalars(
        sa.select(OutboxMessage.subject).where(OutboxMessage.to == carer.email)
    ).all()
    assert "This week's activities for Amara" in subjects


def test_publishing_needs_activities(school, client):
    org, robins, owls, teacher = school
    topic = t.topic(org, [robins])
    f.login(client, teacher)
    response = client.post(
        f"/teach/topics/{topic.id}/publish", data={"when": "now", "version": topic.version}
    )
    assert response.status_code == 422
    assert "Add at least one activity" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(WeeklyTopic, topic.id).status is TopicStatus.DRAFT


def test_a_scheduled_topic_is_published_by_the_cron_job_when_due(school, client, run_jobs):
    from app.core.jobs import enqueue_now
    from app.learning.jobs import topic_schedule

    org, robins, owls, teacher = school
    parents = _families(org, robins)
    topic = t.topic(org, [robins], [t.activity(org)])
    f.login(client, teacher)
    past = client.post(
        f"/teach/topics/{topic.id}/publish",
        data={"when": "later", "publish_at": "2020-01-06T08:00", "version": topic.version},
    )
    assert past.status_code == 422 and "in the future" in past.get_data(as_text=True)
    when = t.next_monday(2)
    response = client.post(
        f"/teach/topics/{topic.id}/publish",
        data={"when": "later", "publish_at": f"{when.isoformat()}T07:30", "version": topic.version},
    )
    assert response.status_code == 303
    db.session.expire_all()
    topic = db.session.get(WeeklyTopic, topic.id)
    assert topic.status is TopicStatus.SCHEDULED
    local = topic.publish_at.astimezone(__import__("zoneinfo").ZoneInfo("Europe/London"))
    assert (local.date(), local.hour, local.minute) == (when, 7, 30)  # school time

    enqueue_now(topic_schedule)  # the cron job, now: not due yet
    assert run_jobs() == 0
    db.session.expire_all()
    assert db.session.get(WeeklyTopic, topic.id).status is TopicStatus.SCHEDULED

    later = (topic.publish_at + timedelta(minutes=1)).isoformat()
    enqueue_now(topic_schedule, later)
    assert run_jobs() == 0
    db.session.expire_all()
    topic = db.session.get(WeeklyTopic, topic.id)
    assert topic.status is TopicStatus.PUBLISHED
    assert {u for u, _ in _deliveries(f"topic:{topic.id}:published")} == {p.id for p in parents}
    enqueue_now(topic_schedule, later)  # the next minute: nothing again
    assert run_jobs() == 0
    assert len(_deliveries(f"topic:{topic.id}:published")) == len(parents)


def test_a_scheduled_publish_can_be_cancelled(school, client):
    org, robins, owls, teacher = school
    topic = t.topic(
        org,
        [robins],
        [t.activity(org)],
        status=TopicStatus.SCHEDULED,
        publish_at=utcnow() + timedelta(days=2),
    )
    f.login(client, teacher)
    response = client.post(f"/teach/topics/{topic.id}/unschedule", data={"version": topic.version})
    assert response.status_code == 303
    db.session.expire_all()
    topic = db.session.get(WeeklyTopic, topic.id)
    assert topic.status is TopicStatus.DRAFT and topic.publish_at is None


def test_the_mid_week_reminder_goes_only_to_families_who_have_not_started(school, run_jobs):
    from app.core.jobs import enqueue_now
    from app.learning.jobs import topic_schedule
    from app.learning.topics import publish_now

    org, robins, owls, teacher = school
    org.reminder_weekday = 3  # Thursday
    db.session.commit()
    busy, idle = f.parent(), f.parent()
    busy_child = f.pupil(robins, busy)
    f.pupil(robins, idle)
    topic = t.topic(org, [robins], [t.activity(org)], week=t.next_monday())
    publish_now(topic, topic.version)
    assert run_jobs() == 0
    t.done(busy_child, topic.items[0], rating=5)
    due = reminder_at(topic, org)
    assert due.astimezone(__import__("zoneinfo").ZoneInfo("Europe/London")).weekday() == 3

    enqueue_now(topic_schedule, (due - timedelta(minutes=5)).isoformat())  # not yet
    assert run_jobs() == 0
    assert _deliveries(f"topic:{topic.id}:reminder") == []

    enqueue_now(topic_schedule, (due + timedelta(minutes=1)).isoformat())
    assert run_jobs() == 0
    reminded = _deliveries(f"topic:{topic.id}:reminder")
    assert {u for u, _ in reminded} == {idle.id}
    enqueue_now(topic_schedule, (due + timedelta(minutes=6)).isoformat())  # runs again
    assert run_jobs() == 0
    assert _deliveries(f"topic:{topic.id}:reminder") == reminded  # never twice


def test_no_reminder_after_the_week_is_over(school, run_jobs):
    from app.core.jobs import enqueue_now
    from app.learning.jobs import topic_schedule
    from app.learning.topics import publish_now

    org, robins, owls, teacher = school
    f.pupil(robins, f.parent())
    topic = t.topic(org, [robins], [t.activity(org)], week=t.next_monday())
    publish_now(topic, topic.version)
    enqueue_now(topic_schedule, (reminder_at(topic, org) + timedelta(days=6)).isoformat())
    assert run_jobs() == 0
    assert _deliveries(f"topic:{topic.id}:reminder") == []


def test_the_cron_schedule_has_the_topic_job():
    from app.jobs.schedule import SCHEDULE
    from app.learning.jobs import topic_schedule

    assert any(func is topic_schedule and cron == "* * * * *" for func, cron, _ in SCHEDULE)


# --- copying -------------------------------------------------------------------------------------


def test_copy_a_topic_to_a_new_week(school, client):
    org, robins, owls, teacher = school
    a, b = t.activity(org, "Apples"), t.activity(org, "Bananas")
    gone = t.activity(org, "Gone", archived_at=utcnow())
    source = t.topic(org, [robins], [b, a, gone], status=TopicStatus.PUBLISHED, note="Hi")
    f.login(client, teacher)
    week = t.next_monday(3)
    response = client.post(
        f"/teach/topics/{source.id}/copy", data={"week_start": week.isoformat(), "class_ids": [robins.id]}
    )
    assert response.status_code == 303
    copy = db.session.scalar(sa.select(WeeklyTopic).where(WeeklyTopic.id != source.id))
    assert (copy.week_start, copy.status, copy.copied_from_id, copy.note) == (
        week,
        TopicStatus.DRAFT,
        source.id,
        "Hi",
    )
    assert _order(copy.id) == ["Bananas", "Apples"]  # the archived one is left out
    response = client.post(
        f"/teach/topics/{source.id}/copy",
        data={"week_start": (week + timedelta(days=1)).isoformat(), "class_ids": [robins.id]},
    )
    assert response.status_code == 422


def test_copy_last_years_topic_for_the_same_year_group(school, client):
    org, robins, owls, teacher = school
    last_year = f.school_class(org, name="3 Robins", year_group="3", academic_year=YEAR - 1)
    year_five = f.school_class(org, name="5 Kites", year_group="5", academic_year=YEAR - 1)
    old = t.topic(
        org,
        [last_year],
        [t.activity(org, "Romans")],
        title="Romans",
        week=date(YEAR, 2, 2) - timedelta(days=date(YEAR, 2, 2).weekday()),
        status=TopicStatus.PUBLISHED,
    )
    other = t.topic(
        org, [year_five], [t.activity(org, "Tudors")], title="Tudors", status=TopicStatus.PUBLISHED
    )
    f.login(client, teacher)
    page = client.get("/teach/topics").get_data(as_text=True)
    assert "Last year's topics" in page and "Romans" in page and "Tudors" not in page
    assert client.get(f"/teach/topics/{old.id}").status_code == 404  # not theirs to edit
    assert client.get(f"/teach/topics/{other.id}/copy").status_code == 404
    response = client.post(
        f"/teach/topics/{old.id}/copy",
        data={"week_start": t.next_monday().isoformat(), "class_ids": [robins.id]},
    )
    assert response.status_code == 303
    copy = db.session.scalar(sa.select(WeeklyTopic).where(WeeklyTopic.copied_from_id == old.id))
    assert [c.id for c in copy.classes] == [robins.id] and _order(copy.id) == ["Romans"]


# --- preview -------------------------------------------------------------------------------------


@pytest.mark.promise("P05")
def test_the_preview_is_the_parents_card(school, client):
    org, robins, owls, teacher = school
    clip = t.video(org, "How plants grow")
    topic = t.topic(
        org, [robins], [t.activity(org, "Apples"), clip], title="Growing", note="Line one\n<b>Line two</b>"
    )
    f.login(client, teacher)
    page = client.get(f"/teach/topics/{topic.id}/preview").get_data(as_text=True)
    assert 'class="card topic"' in page and "Growing" in page
    assert "Line one<br>&lt;b&gt;Line two&lt;/b&gt;" in page
    assert page.index("Apples") < page.index("How plants grow")
    assert f"/teach/activities/{clip.id}/video" in page
    for host in ("youtube.com", "youtube-nocookie.com", "youtu.be", "vimeo.com", "ytimg"):
        assert host not in page  # no request to the provider before the tap
    assert "<iframe" not in page


# --- scope (P12) ---------------------------------------------------------------------------------


@pytest.mark.promise("P12")
def test_teachers_see_only_their_classes_topics_and_office_sees_the_school(school, client):
    org, robins, owls, teacher = school
    mine = t.topic(org, [robins], title="Mine")
    theirs = t.topic(org, [owls], [t.activity(org)], title="Theirs")
    elsewhere = t.topic(f.school(), [], title="Elsewhere")
    f.login(client, teacher)
    listing = client.get("/teach/topics").get_data(as_text=True)
    assert "Mine" in listing and "Theirs" not in listing and "Elsewhere" not in listing
    for topic in (theirs, elsewhere):
        for path in ("", "/details", "/preview", "/copy", "/search?q=a"):
            assert client.get(f"/teach/topics/{topic.id}{path}").status_code == 404, path
        assert (
            client.post(
                f"/teach/topics/{topic.id}/publish", data={"when": "now", "version": topic.version}
            ).status_code
            == 404
        )
        assert (
            client.post(
                f"/teach/topics/{topic.id}/details",
                data={
                    "title": "Hijack",
                    "week_start": topic.week_start.isoformat(),
                    "version": topic.version,
                },
            ).status_code
            == 404
        )
    db.session.expire_all()
    assert db.session.get(WeeklyTopic, theirs.id).status is TopicStatus.DRAFT
    assert db.session.get(WeeklyTopic, theirs.id).title == "Theirs"

    office = f.staff(org, Role.OFFICE)
    f.login(client, office)
    listing = client.get("/teach/topics").get_data(as_text=True)
    assert "Mine" in listing and "Theirs" in listing and "Elsewhere" not in listing
    assert client.get(f"/teach/topics/{theirs.id}").status_code == 200
    assert client.get(f"/teach/topics/{elsewhere.id}").status_code == 404
    assert mine.id


@pytest.mark.promise("P12")
def test_a_teacher_editing_a_shared_topic_keeps_the_classes_they_cannot_see(school, client):
    org, robins, owls, teacher = school
    topic = t.topic(org, [robins, owls], title="Shared")
    f.login(client, teacher)
    page = client.get(f"/teach/topics/{topic.id}/details").get_data(as_text=True)
    assert "3 Owls" not in page
    response = client.post(
        f"/teach/topics/{topic.id}/details",
        data={
            "title": "Shared, renamed",
            "week_start": topic.week_start.isoformat(),
            "class_ids": [robins.id],
            "version": topic.version,
        },
    )
    assert response.status_code == 303
    db.session.expire_all()
    saved = db.session.get(WeeklyTopic, topic.id)
    assert saved.title == "Shared, renamed"
    assert sorted(c.name for c in saved.classes) == ["3 Owls", "3 Robins"]


def test_the_planner_page_works_without_javascript(school, client):
    org, robins, owls, teacher = school
    topic = t.topic(org, [robins], [t.activity(org, "Apples"), t.activity(org, "Bananas")])
    f.login(client, teacher)
    page = client.get(f"/teach/topics/{topic.id}").get_data(as_text=True)
    forms = re.findall(r'<form method="post" action="([^"]+)"', page)
    assert any(a.endswith("/move") for a in forms) and any(a.endswith("/publish") for a in forms)
    assert re.search(r'formaction="[^"]+/remove"', page)  # a second button of the same form
    assert 'name="direction" value="up"' in page and 'name="direction" value="down"' in page
    versions = re.findall(r'<input[^>]*name="version"[^>]*>', page)
    assert len(versions) >= 3 and all(f'value="{topic.version}"' in v for v in versions)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TopicActivity)) == 2


def test_a_teachers_start_page_lists_their_topics_not_yet_published_soonest_first(school, client):
    org, cls, other_class, teacher = school
    monday = t.next_monday()
    t.topic(org, [cls], title="Later draft", week=monday + timedelta(days=14))
    t.topic(
        org,
        [cls],
        title="Scheduled soon",
        week=monday,
        status=TopicStatus.SCHEDULED,
        publish_at=utcnow() + timedelta(days=2),
    )
    t.topic(org, [cls], title="Already out", week=monday - timedelta(days=7), status=TopicStatus.PUBLISHED)
    t.topic(org, [other_class], title="Not my class")  # the teacher does not teach 3 Owls
    t.topic(f.school(), [f.school_class(f.school())], title="Another school")
    db.session.commit()
    f.login(client, teacher)
    page = client.get("/teach/").get_data(as_text=True)
    listed = page[page.index("Not published yet") :]
    assert listed.index("Scheduled soon") < listed.index("Later draft")
    assert "scheduled)" in listed and "draft)" in listed
    for hidden in ("Already out", "Not my class", "Another school"):
        assert hidden not in listed
