"""Privacy desk budgets (issue 7): the office dashboard with 500 open requests in ≤ 10 SQL
queries, and its p95 server time in-process on PostgreSQL (no budget is set for the time; it is
reported so a regression shows).

    python -m bench privacy
"""

from __future__ import annotations

import statistics
import time

import sqlalchemy as sa

REQUESTS = 500
RUNS = 50


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
        user_id = office.get_id()
        db.session.remove()
    return REQUESTS, user_id


def run(app) -> list[dict]:
    from app.core.extensions import db

    count, user_id = _desk(app)
    client = app.test_client()
    with client.session_transaction() as sess:
        sess["_user_id"], sess["_fresh"], sess["auth_at"] = user_id, True, time.time()
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
            "measure": f"office dashboard, {count} requests: p95 ({RUNS} runs)",
            "value": round(p95, 1),
            "unit": "ms",
            "budget": None,
        },
    ]
