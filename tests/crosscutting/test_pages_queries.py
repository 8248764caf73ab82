"""The staff pages stay within the query budget (<= 10 SQL statements a page, the teachers'
issue: each query is time a teacher waits), however many topics a school has, and with the
layout's cookie banner, notice banner and "last active" note all in play.

What the layout reads is read again on every request: a notice acknowledged or a cookie choice
made elsewhere shows on the very next page (P06, P07)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.core.extensions import db
from app.learning.topics import academic_year
from app.models import PrivacyNotice, Role, TopicStatus, User, utcnow
from tests import factories as f
from tests import teaching as t
from tests.queries import statements

QUERY_BUDGET = 10
YEAR = academic_year(date.today())
TOPIC_PAGES = ("/teach/topics", "/teach/topics/new")


@pytest.fixture()
def school(ctx):
    org = f.school(name="Oak Primary")
    robins = f.school_class(org, name="3 Robins", year_group="3", academic_year=YEAR)
    owls = f.school_class(org, name="3 Owls", year_group="3", academic_year=YEAR)
    old = f.school_class(org, name="3 Wrens", year_group="3", academic_year=YEAR - 1)
    teacher = f.staff(org, Role.TEACHER, classes=[robins, owls])
    office = f.staff(org, Role.OFFICE)
    db.session.add(
        PrivacyNotice(
            organisation_id=org.id,
            version="2.0",
            major=True,
            summary="Photos are now kept for one year.",
            body="Full text.",
            published_at=utcnow() - timedelta(days=1),
        )
    )
    db.session.commit()
    return {"org": org, "classes": [robins, owls], "old": old, "teacher": teacher, "office": office}


def _add_topics(school, count: int, start: int) -> None:
    """``count`` topics this year for both classes, and as many last year's to copy."""
    for n in range(start, start + count):
        t.topic(school["org"], school["classes"], title=f"This year {n}", week=t.next_monday(n))
        t.topic(
            school["org"],
            [school["old"]],
            title=f"Last year {n}",
            week=t.next_monday(n) - timedelta(weeks=52),
            status=TopicStatus.PUBLISHED,
        )


def _get(client, path: str):
    """(page text, SQL statements) of one GET that must answer 200."""
    with statements() as seen:
        response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True), seen


def _budget(path: str, seen: list[str]) -> str:
    return f"{path}: {len(seen)} queries, over the budget of {QUERY_BUDGET}:\n\n" + "\n\n".join(seen)


def _main(page: str) -> str:
    return page[page.index("<main") : page.index("</main>")]


@pytest.mark.parametrize("who", ["teacher", "office"])
def test_topic_pages_stay_within_budget_for_2_or_12_topics(client, school, who):
    f.login(client, school[who])
    counts = {}
    for total, start in ((2, 1), (12, 3)):
        _add_topics(school, total - (start - 1), start)
        for path in TOPIC_PAGES:
            client.get(path)  # the first request of the hour also notes "last active"
            page, seen = _get(client, path)
            assert len(seen) <= QUERY_BUDGET, _budget(path, seen)
            counts[total, path] = len(seen)
            # The layout did its work: the cookie banner is on the page; the families' notice
            # banner is not (staff read a new notice on their privacy page).
            assert "has changed its privacy notice" not in _main(page)
            assert 'id="cookie-banner"' in page
        page = client.get("/teach/topics").get_data(as_text=True)
        assert page.count("3 Owls, 3 Robins") == total  # each topic names its classes
        assert page.count(", 3 Wrens)") == total  # last year's, offered to copy
    # No query per topic: twelve topics cost what two do.
    for path in TOPIC_PAGES:
        assert counts[2, path] == counts[12, path], counts


@pytest.mark.parametrize(
    "path", ["/teach/", "/auth/account", "/office/", "/privacy/exports", "/office/retention"]
)
def test_other_staff_pages_stay_within_budget(client, school, path):
    _add_topics(school, 5, 1)
    f.login(client, school["office"])
    client.get(path)
    _, seen = _get(client, path)
    assert len(seen) <= QUERY_BUDGET, _budget(path, seen)


@pytest.mark.promise("P19")
def test_last_active_is_noted_at_most_hourly_and_the_page_stays_within_budget(client, school):
    teacher = school["teacher"]
    _add_topics(school, 5, 1)
    two_hours_ago = utcnow() - timedelta(hours=2)
    db.session.execute(sa.update(User).where(User.id == teacher.id).values(last_active_at=two_hours_ago))
    db.session.commit()
    f.login(client, teacher)
    for path in TOPIC_PAGES:
        _, seen = _get(client, path)
        assert len(seen) <= QUERY_BUDGET, _budget(path, seen)
    db.session.expire_all()
    noted = db.session.get(User, teacher.id).last_active_at
    assert noted > two_hours_ago + timedelta(minutes=110)  # noted by the first page
    _, seen = _get(client, "/teach/topics")
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in seen)  # not again this hour
    db.session.expire_all()
    assert db.session.get(User, teacher.id).last_active_at == noted


@pytest.mark.promise("P07")
def test_a_notice_acknowledged_leaves_the_staff_page_at_once(client, school):
    f.login(client, school["teacher"])
    page, _ = _get(client, "/teach/topics")
    assert "has changed its privacy notice" not in _main(page)  # the families' banner: not here
    page, _ = _get(client, "/privacy/")
    assert "has changed its privacy notice" in _main(page)  # a member of staff reads it here
    notice = db.session.scalar(sa.select(PrivacyNotice))
    response = client.post(f"/privacy/notices/{notice.id}/acknowledge", data={"next": "/privacy/"})
    assert response.status_code == 303
    page, seen = _get(client, "/privacy/")
    assert "has changed its privacy notice" not in _main(page)
    assert len(seen) <= QUERY_BUDGET, _budget("/privacy/", seen)


@pytest.mark.promise("P06")
def test_a_cookie_choice_made_on_another_phone_shows_on_the_very_next_page(app, client, school):
    teacher = school["teacher"]
    other_phone = app.test_client()
    f.login(client, teacher)
    f.login(other_phone, teacher)
    assert 'id="cookie-banner"' in other_phone.get("/teach/topics").get_data(as_text=True)
    response = client.post("/cookies/choice", data={"choice": "necessary", "next": "/teach/topics"})
    assert response.status_code == 303
    # The other phone has no cookie_choice cookie: the choice comes from the account itself.
    assert other_phone.get_cookie("cookie_choice") is None
    page, seen = _get(other_phone, "/teach/topics")
    assert 'id="cookie-banner"' not in page
    assert len(seen) <= QUERY_BUDGET, _budget("/teach/topics", seen)
