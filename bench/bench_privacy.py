"""Privacy desk budgets (issue 7): the office dashboard with 500 open requests in ≤ 10 SQL
queries, and its p95 server time in-process on PostgreSQL within the 50 ms every staff page has.

    python -m bench privacy
"""

from __future__ import annotations

import os
import statistics
import time

import sqlalchemy as sa

REQUESTS = 500
RUNS = 50
P95_BUDGET_MS = 50.0  # as every staff page (bench_pages)


def _desk(app) -> tuple[int, str]:
    """A school with 20 pupils, its office and 500 open requests in every state."""
    from app.core.extensions import db
    from app.dataprotection.requests.workflow import local_today
    from app.models import Role
    from tests import factories as f
    from tests.dataprotection.test_privacy_desk import add_requests

    with app.app_context():
        org = f.school()
        cls = f.school_class(org)
        pupils = [f.pupil(cls) for _ in range(20)]
        office = f.staff(org, Role.OFFICE)
        add_requests(org, pupils, local_today(org), n=REQUESTS)
        user_id = office.id
        db.session.remove()
    return REQUESTS, user_id


def run(app) -> list[dict]:
    from app.core.extensions import db

    count, user_id = _desk(app)
    client = app.test_client()
    with app.app_context():  # signed in as after a real sign-in (with its sign-in record)
        from app.models import User
        from tests.factories import login

        login(client, db.session.get(User, user_id))
    client.get("/office/requests")  # warm-up: templates compiled, connections opened

    seen: list[str] = []

    def listener(conn, cursor, statement, *args):
        seen.append(statement)

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", listener)
    try:
        status = client.get("/office/requests").status_code
    finally:
        sa.event.remove(engine, "before_cursor_execute", listener)
    if status != 200:
        raise RuntimeError(f"the dashboard answered {status}")

    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        client.get("/office/requests")
        times.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(times, n=20)[-1]
    load = os.getloadavg()[0]
    return [
        {
            "area": "privacy",
            "measure": f"office dashboard, {count} requests: SQL queries",
            "value": len(seen),
            "unit": "queries",
            "budget": 10,
        },
        {
            "area": "privacy",
            "measure": f"office dashboard, {count} requests: p95 ({RUNS} runs, load average {load:.1f})",
            "value": round(p95, 1),
            "unit": "ms",
            "budget": P95_BUDGET_MS,
        },
    ]
