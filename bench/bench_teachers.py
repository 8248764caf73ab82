"""Teachers' budgets (issue 4): the class view for 35 pupils × 6 activities in ≤ 10 SQL queries
(the same count as for 5 pupils) and ≤ 50 ms p95 server time in-process on PostgreSQL; the
planner's search-as-you-type response ≤ 2 KB.

    python -m bench teachers
"""

from __future__ import annotations

import statistics
import time
from datetime import date

import sqlalchemy as sa

REQUESTS = 200


def _class(org, pupils: int, activities: int):
    """A class with a published topic for this week, half the activities done, comments and
    awards: what a real Friday afternoon looks like."""
    from app.core.extensions import db
    from app.learning.topics import monday_of
    from app.models import Award, AwardKind, Role, TopicStatus
    from tests import factories as f
    from tests import teaching as t

    cls = f.school_class(org)
    teacher = f.staff(org, Role.TEACHER, classes=[cls])
    items = [t.activity(org, f"Activity {i}") for i in range(activities)]
    topic = t.topic(org, [cls], items, week=monday_of(date.today()), status=TopicStatus.PUBLISHED)
    ordered = sorted(topic.items, key=lambda i: i.position)
    for n in range(pupils):
        carer = f.parent()
        child = f.pupil(cls, carer, first_name=f"Child{n:02d}")
        for i, item in enumerate(ordered):
            if (n + i) % 2 == 0:
                t.done(
                    child,
                    item,
                    rating=1 + n % 5,
                    by=carer,
                    comment=f"We enjoyed number {i}." if i == 0 else None,
                )
        if n % 3 == 0:
            db.session.add(Award(pupil_id=child.id, kind=AwardKind.GREAT_EFFORT, given_by_id=teacher.id))
    db.session.commit()
    return cls.id, teacher.id


def _login(app, client, user_id: int) -> None:
    """Sign a teacher in the way a real sign-in does (with its server-side sign-in record)."""
    from app.core.extensions import db
    from app.models import User
    from tests.factories import login

    with app.app_context():
        login(client, db.session.get(User, user_id))
        db.session.remove()


def _queries(app, client, url: str) -> int:
    from app.core.extensions import db

    seen = []

    def listener(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def run(app) -> list[dict]:
    """Measure the class view and the planner search on a fresh database."""
    from app.core.extensions import db
    from app.learning.starter_library import seed_starter_library
    from app.models import SchoolClass
    from tests import factories as f
    from tests import teaching as t

    with app.app_context():
        org = f.school()
        big_id, big_teacher = _class(org, 35, 6)
        small_id, small_teacher = _class(org, 5, 6)
        seed_starter_library(org.id)
        topic = t.topic(org, [db.session.get(SchoolClass, big_id)])
        topic_id = topic.id
        db.session.remove()

    client = app.test_client()
    _login(app, client, small_teacher)
    client.get(f"/teach/classes/{small_id}")
    small = _queries(app, client, f"/teach/classes/{small_id}")
    _login(app, client, big_teacher)
    url = f"/teach/classes/{big_id}"
    for _ in range(10):  # warm-up: templates compiled, connections pooled
        client.get(url)
    big = _queries(app, client, url)
    times = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    p95 = statistics.quantiles(times, n=20)[-1]

    sizes = []
    for q in ("", "a", "e", "o", "number", "read", "count"):
        response = client.get(
            f"/teach/topics/{topic_id}/search", query_string={"q": q}, headers={"HX-Request": "true"}
        )
        assert response.status_code == 200
        sizes.append(len(response.data))

    return [
        {
            "area": "teachers",
            "measure": "class view SQL queries, 35 pupils × 6 activities",
            "value": big,
            "unit": "queries",
            "budget": 10,
        },
        {
            "area": "teachers",
            "measure": "class view SQL queries, 5 pupils × 6 (same as 35)",
            "value": small,
            "unit": "queries",
            "budget": big,
        },
        {
            "area": "teachers",
            "measure": "class view p95 server time, 35 × 6",
            "value": round(p95, 1),
            "unit": "ms",
            "budget": 50,
        },
        {
            "area": "teachers",
            "measure": "planner search response (largest of 7 searches)",
            "value": max(sizes),
            "unit": "bytes",
            "budget": 2048,
        },
    ]
